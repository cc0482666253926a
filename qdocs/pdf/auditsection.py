"""The audit result printed in the audit pack, for one product or one lot.

This is the one place the pack asks "what does an audit say about these records?".
Until the ``qdocs audit`` library (``qdocs.audit``) offers a function for it, the
answer is made here from what qdocs already checks: ``verify`` findings on the
records of the pack (documents, signatures, trail, attachments), records not yet
approved, and the lot record types of the catalog that have no record for the lot.
Switching over means making :func:`audit_result` call the audit library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..rendering import STATUS_LABELS

if TYPE_CHECKING:
    from ..records import Record
    from ..repository import Repository


@dataclass
class AuditResult:
    source: str
    findings: list[tuple[str, str]] = field(default_factory=list)  # (record or subject, what)
    checked: list[str] = field(default_factory=list)  # what was checked, one line each

    @property
    def clean(self) -> bool:
        return not self.findings


def audit_result(repository: "Repository", product: str, lot: str | None, records: list["Record"]) -> AuditResult:
    """Findings about ``records`` (the current records of ``product`` / ``lot``)."""
    from ..verification import verify_repository

    result = AuditResult(source="qdocs verify and record completeness (the qdocs audit rules are not yet wired in)")
    report = verify_repository(repository, [record.id for record in records]) if records else None
    if report is not None:
        result.findings.extend((finding.record, finding.message) for finding in report.findings)
        result.checked.append(f"verify: {report.records_checked} record(s), {report.signatures_checked} signature(s), "
                              f"{report.events_checked} event(s) of the trail")
    for record in records:
        if record.status != "approved":
            result.findings.append((record.id, f"status {STATUS_LABELS.get(record.status, record.status)}: "
                                               "not an approved record"))
    result.checked.append(f"status: {len(records)} record(s) approved or not")
    if lot:
        present = {record.type for record in records}
        lot_types = [record_type for record_type in repository.catalog.types.values()
                     if list(record_type.scopes) == ["lot"]]
        for record_type in lot_types:
            if record_type.id not in present:
                result.findings.append((f"{product} / {lot}", f"no {record_type.name.zh} {record_type.name.en} "
                                                              f"({record_type.id}, {record_type.clause}) for this lot"))
        result.checked.append(f"completeness: {len(lot_types)} lot record type(s) of the catalog")
    return result
