"""The inbox, the first page: records waiting for a signature I may give now, my drafts,
and what is due under the after-sales rules."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect

from ... import clock
from ...audit.facts import Fact
from ...subjects import SCOPES
from ..due import due_items, rule_states
from ..overview import audit_report, record_listing
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
    listing = workspace.derived("listing", record_listing)
    waiting: dict[str, dict[str, Any]] = {}
    if not identity.auditor:
        for (type_id, meaning), facts in listing.waiting.items():
            record_type = repository.catalog.types.get(type_id)
            requirement = next((item for item in record_type.signatures if item.meaning == meaning), None) \
                if record_type else None
            if requirement is None or not any(role in identity.roles for role in requirement.roles):
                continue
            for fact in facts:
                if any(signature[1] == identity.name for signature in fact.signatures):
                    continue
                entry = waiting.setdefault(fact.id, {**fact_summary(fact), "meanings": []})
                entry["meanings"].append(meaning)
    ordered = sorted(waiting.values(), key=lambda entry: entry["created"])
    drafts = listing.authors_of_drafts(repository).get(identity.name, [])
    report = workspace.derived("audit", audit_report)
    audited = not isinstance(report, str)
    data = {
        "user": identity.to_json(),
        "commit": listing.commit,
        "waiting": {"total": len(ordered), "records": ordered[:SHOWN]},
        "drafts": {"total": len(drafts), "records": [fact_summary(fact) for fact in drafts[:SHOWN]]},
        "due": due_items(report, listing, clock.now(repository.time_zone)) if audited else [],
        "after_sales": rule_states(report) if audited else [],
        "audit_problem": None if audited else report,
    }
    return respond("inbox.html", data)


def fact_summary(fact: Fact) -> dict[str, Any]:
    """A record as lists show it (from the listing, without reading its file)."""
    scope, *values = fact.subject
    return {"id": fact.id, "type": fact.type, "status": fact.status, "created": fact.created,
            "subject": {"scope": scope, **dict(zip(SCOPES.get(scope, ()), values))},
            "subject_label": " / ".join(values),
            "signed": [{"meaning": signature[0], "signer": signature[1]} for signature in fact.signatures]}
