"""Evidence outside the lot: records the release rules used for the pack's lots that are
kept under something other than the product or the lot.

R6 reads incoming inspections (kept under their material lot), supplier evaluations
(under the supplier) and purchase contract reviews (under the contract); R8 the
nonconformance reports on the plan's material lots; R9 equipment maintenance records
(under the machine).  An auditor checking a lot's verdict needs to read them, so the pack
carries them.  Which records they are is the audit's own answer, not a second reading of
the rules here: every record a release rule names as its evidence for one of the pack's
lots (:attr:`qdocs.audit.outcome.Outcome.evidence`, the records on file that the rule
judged, passing or not) and that the pack does not already hold.  A rule added to the
rules file brings its evidence along.  After-sales rules (A1-A4) judge the whole
repository, not the lot, so their records are not packed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from ..queries import get_record

if TYPE_CHECKING:
    from ..audit.evaluation import AuditReport
    from ..records import Record
    from ..repository import Repository


@dataclass
class OutsideRecord:
    """A record outside the lot and the release rules (``R6``, ...) that used it."""

    record: "Record"
    used_by: list[str]


def outside_evidence(repository: "Repository", report: "AuditReport", packed: set[str]) -> list[OutsideRecord]:
    """The evidence of the report's lots not in ``packed`` (record ids), each record once,
    in catalog order of their types, then by subject and id."""
    used: dict[str, list[str]] = {}
    for lot in report.lots:
        for result in lot.results:
            for record_id in result.outcome.evidence:
                if record_id not in packed:
                    rules = used.setdefault(record_id, [])
                    if result.rule.id not in rules:
                        rules.append(result.rule.id)
    order = {type_id: index for index, type_id in enumerate(repository.catalog.types)}
    records = sorted((get_record(repository, record_id) for record_id in used),
                     key=lambda record: (order.get(record.type, len(order)), record.subject.folder(), record.id))
    return [OutsideRecord(record, used[record.id]) for record in records]
