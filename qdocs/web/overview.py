"""What the pages read of a whole commit, made once per commit (:meth:`.workspace.Workspace.derived`).

The list of records, the inbox and the counts come from the audit's snapshot: the facts
of every ``record.yaml`` of HEAD (id, type, status, subject, creation time, signatures),
listed from git's index and parsed once per content ever (:mod:`qdocs.audit.snapshot`),
so no page reads every record file.  The release board and what is due come from the
audit itself (:func:`qdocs.audit.evaluation.run_audit`), as ``qdocs audit`` runs it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..audit.evaluation import AuditReport, run_audit
from ..audit.facts import Fact, projection_for
from ..audit.rules import load_rules
from ..audit.snapshot import read_snapshot
from ..errors import QdocsError

if TYPE_CHECKING:
    from ..repository import Repository


@dataclass
class Listing:
    """Every record of one commit, and the indexes the pages ask."""

    commit: str
    facts: list[Fact]
    by_id: dict[str, Fact]
    #: (type, meaning) -> records waiting for that signature now (earlier stages signed, not void or approved)
    waiting: dict[tuple[str, str], list[Fact]] = field(default_factory=dict)
    drafts: list[Fact] = field(default_factory=list)
    _authors: dict[str, list[Fact]] | None = None

    def folder(self, fact: Fact) -> str:
        return "/".join((*fact.subject, fact.id))

    def products(self) -> list[str]:
        return sorted({fact.subject[1] for fact in self.facts if fact.subject[0] in ("product", "lot")})

    def lots(self) -> list[str]:
        return sorted({fact.subject[2] for fact in self.facts if fact.subject[0] == "lot"})

    def authors_of_drafts(self, repository: "Repository") -> dict[str, list[Fact]]:
        """Who made or last revised each draft: user name -> drafts (read once per commit)."""
        if self._authors is None:
            authors: dict[str, list[Fact]] = {}
            cache = repository.record_cache
            try:
                for fact in self.drafts:
                    try:
                        raw, _ = cache.read(f"{self.folder(fact)}/record.yaml")
                    except OSError:
                        continue  # gone from the work tree since the listing: the next commit's listing knows
                    names = {str((raw.get("created") or {}).get("actor"))}
                    names.update(str(entry.get("actor")) for entry in (raw.get("revisions") or [])[-1:])
                    for name in names:
                        authors.setdefault(name, []).append(fact)
            finally:
                cache.flush()
            self._authors = authors
        return self._authors


def record_listing(repository: "Repository") -> Listing:
    """The listing of HEAD (signature statuses as the records say; the audit judges them)."""
    rules = load_rules(repository, notify=False)
    snapshot = read_snapshot(repository.root, projection_for([rules]))
    facts = sorted(snapshot.facts, key=lambda fact: fact.id)
    listing = Listing(snapshot.commit, facts, {fact.id: fact for fact in facts})
    catalog = repository.catalog
    for fact in facts:
        if fact.status not in ("draft", "in-review"):
            continue
        if fact.status == "draft":
            listing.drafts.append(fact)
        record_type = catalog.types.get(fact.type)
        if record_type is None:
            continue
        signed = {signature[0] for signature in fact.signatures}
        for requirement in record_type.signatures:
            stage = catalog.meanings[requirement.meaning].stage
            if requirement.meaning not in signed and all(
                    other.meaning in signed for other in record_type.signatures
                    if catalog.meanings[other.meaning].stage < stage):
                listing.waiting.setdefault((fact.type, requirement.meaning), []).append(fact)
    return listing


@dataclass
class RecordFilters:
    type: str | None = None
    product: str | None = None
    lot: str | None = None
    status: str | None = None
    date_from: _dt.date | None = None
    date_to: _dt.date | None = None

    def matches(self, fact: Fact) -> bool:
        if self.type and fact.type != self.type:
            return False
        if self.status and fact.status != self.status:
            return False
        if self.product and (fact.subject[0] not in ("product", "lot") or fact.subject[1] != self.product):
            return False
        if self.lot and (fact.subject[0] != "lot" or fact.subject[2] != self.lot):
            return False
        day = fact.created[:10]  # the day it was made, in the company's time zone (as stored)
        if self.date_from and day < self.date_from.isoformat():
            return False
        if self.date_to and day > self.date_to.isoformat():
            return False
        return True


def filtered(listing: Listing, filters: RecordFilters) -> list[Fact]:
    return [fact for fact in listing.facts if filters.matches(fact)]


def audit_report(repository: "Repository") -> AuditReport | str:
    """The audit of HEAD (every lot, and the after-sales rules), or why it could not run."""
    try:
        return run_audit(repository)
    except QdocsError as error:
        return str(error)
