"""The inbox, the first page: records waiting for a signature I may give now, my drafts,
and what is due under the after-sales rules."""

from __future__ import annotations

import heapq
from typing import Any

from flask import Blueprint, g, redirect

from ... import clock
from ...audit.facts import Fact
from ...subjects import SCOPES
from ..due import due_items
from ..identity import Identity
from ..listing import Listing, current_listing
from ..auditing import audit_here
from ..responses import page, respond

blueprint = Blueprint("inbox", __name__)

#: most waiting records and drafts listed (the rest are counted)
SHOWN = 200


@blueprint.get("/")
def home() -> Any:
    return redirect("/inbox", 303)


@page(blueprint, "/inbox")
def inbox() -> Any:
    workspace, identity = g.web.workspace, g.identity
    repository = workspace.reader()
    listing = workspace.derived("listing", current_listing)
    total, waiting = waiting_for(listing, repository, identity)
    drafts = listing.authors_of_drafts().get(identity.name, [])
    audit, current = workspace.latest("audit", audit_here, g.web.settings.audit_wait, workspace.audit_worker)
    now = clock.now(repository.time_zone).replace(second=0, microsecond=0)
    # what is due, to the minute, made once per audit, listing and minute (it reads every inquiry)
    due = listing.remembered(("due", audit.commit, now), lambda: due_items(audit, listing, now)) \
        if audit.problem is None else []
    data = {
        "user": identity.to_json(),
        "commit": listing.commit,
        "waiting": {"total": total, "records": waiting},
        "drafts": {"total": len(drafts), "records": [fact_summary(fact) for fact in drafts[:SHOWN]]},
        "due": due[:SHOWN], "due_total": len(due),
        "after_sales": audit.after_sales,
        "audit_problem": audit.problem,
        # of which commit the after-sales part speaks: not ``current`` while a newer commit
        # (``head``) is being audited (the page says so)
        "audit": {"commit": audit.commit, "current": current, "head": workspace.head()},
    }
    return respond("inbox.html", data)


def waiting_for(listing: Listing, repository: Any, identity: Identity) -> tuple[int, list[dict[str, Any]]]:
    """How many records wait for a signature ``identity`` may give now, and the oldest
    :data:`SHOWN` of them with those meanings; made once per commit and user."""
    key = (identity.name, identity.roles, identity.auditor)
    known = listing.inboxes.get(key)
    if known is not None:
        return known
    lists: list[tuple[str, list[Any]]] = []
    if not identity.auditor:
        for (type_id, meaning), facts in listing.waiting.items():
            record_type = repository.catalog.types.get(type_id)
            requirement = next((item for item in record_type.signatures if item.meaning == meaning), None) \
                if record_type else None
            if requirement is not None and any(role in identity.roles for role in requirement.roles):
                lists.append((meaning, facts))
    me = identity.name

    def mine(fact: Any) -> bool:
        return bool(fact.signatures) and any(signature[1] == me for signature in fact.signatures)

    # each list is oldest first: merged lazily, the first SHOWN distinct records are the oldest of
    # all; a record waiting for two of my meanings comes twice in a row (same age, same id)
    meanings: dict[str, list[str]] = {}
    oldest: list[Any] = []
    merged = heapq.merge(*(((fact, meaning) for fact in facts) for meaning, facts in lists),
                         key=lambda pair: (pair[0].created, pair[0].id))
    for fact, meaning in merged:
        if mine(fact):
            continue
        if fact.id not in meanings:
            if len(oldest) == SHOWN:
                break
            oldest.append(fact)
            meanings[fact.id] = []
        meanings[fact.id].append(meaning)
    waiting_ids: set[str] = set()
    for _, facts in lists:
        waiting_ids.update(fact.id for fact in facts if not mine(fact))
    shown = [{**fact_summary(fact), "meanings": meanings[fact.id]} for fact in oldest]
    answer = (len(waiting_ids), shown)
    listing.inboxes[key] = answer
    return answer


def fact_summary(fact: Fact) -> dict[str, Any]:
    """A record as lists show it (from the listing, without reading its file)."""
    scope, *values = fact.subject
    return {"id": fact.id, "type": fact.type, "status": fact.status, "created": fact.created,
            "subject": {"scope": scope, **dict(zip(SCOPES.get(scope, ()), values))},
            "subject_label": " / ".join(values),
            "signed": [{"meaning": signature[0], "signer": signature[1]} for signature in fact.signatures]}
