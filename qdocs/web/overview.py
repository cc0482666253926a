"""What the pages read of a whole commit: the record list's filters over the listing
(:mod:`.listing`), and the audit.

The release board and what is due come from the audit itself
(:func:`qdocs.audit.evaluation.run_audit`), as ``qdocs audit`` runs it, made once per
commit in the background (:meth:`.workspace.Workspace.latest`).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..audit.evaluation import AuditReport, LotReport, run_audit
from ..audit.facts import Fact
from ..errors import QdocsError
from .due import rule_states

if TYPE_CHECKING:
    from ..repository import Repository
    from .listing import Listing

#: the lot part of the address of a product's own records (a product audited without a lot)
NO_LOT = "-"


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


def filtered(listing: "Listing", filters: RecordFilters) -> list[Fact]:
    if not any(value is not None for value in filters.__dict__.values()):
        return listing.facts
    return [fact for fact in listing.facts if filters.matches(fact)]


@dataclass
class Audit:
    """The audit of one commit as the pages use it: the report (None, with ``problem`` saying
    why, when the audit could not run), the board's rows made once, the lots by their names."""

    commit: str | None
    report: AuditReport | None
    problem: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    by_lot: dict[tuple[str, str | None], LotReport] = field(default_factory=dict)
    after_sales: list[dict[str, Any]] = field(default_factory=list)  # :func:`.due.rule_states`
    #: how long the audit took (seconds): whether a page waits for the next one (:meth:`.workspace.Workspace.latest`)
    seconds: float = 0.0


def audit_report(repository: "Repository", previous: object = None) -> Audit:
    """The audit of HEAD (every lot, and the after-sales rules), or why it could not run
    (made whole each time: ``previous`` is not used)."""
    started = time.monotonic()
    try:
        report = run_audit(repository)
    except QdocsError as error:
        return Audit(None, None, str(error), seconds=time.monotonic() - started)
    rows = [lot_row(lot) for lot in report.lots]
    return Audit(report.commit, report, None, rows, {(lot.product, lot.lot): lot for lot in report.lots},
                 rule_states(report), time.monotonic() - started)


def lot_row(lot: LotReport) -> dict[str, Any]:
    """A lot as the board shows it: may it ship, and each release rule's outcome."""
    return {"product": lot.product, "lot": lot.lot, "may_ship": not lot.blocked,
            "link": f"/board/{lot.product}/{lot.lot or NO_LOT}",
            "results": [{"rule": result.rule.id, "status": result.status, "blocks": result.rule.blocks}
                        for result in lot.results]}
