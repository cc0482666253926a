"""Checking the references of records being created (:mod:`.references` says what the
rules file lists): refuse a new record whose reference names nothing on file
(``unknown: refuse``) or warn about it (``unknown: warn``).  A reference is known when a
record of what it names is on file and not void (:mod:`.lookup`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog import RecordType
from ..errors import ValidationError
from ..subjects import Subject
from .lookup import Lookup
from .references import Reference
from .rules import load_rules

if TYPE_CHECKING:
    from ..repository import Repository


def check_references(repository: "Repository", record_type: RecordType,
                     prepared: list[tuple[Subject, dict[str, Any]]]) -> list[str]:
    """Refuse (``ValidationError``, every problem listed) or warn about unknown references of
    new records; returns the warnings.  Called after validation, before anything is written."""
    rules = load_rules(repository, notify=False)
    references = [reference for reference in rules.references if reference.type == record_type.id]
    if not references:
        return []
    lookup = Lookup(repository, always=rules.check_references == "always")
    problems: list[str] = []
    warnings: list[str] = []
    for number, (subject, data) in enumerate(prepared, start=1):
        where = f"record {number}: " if len(prepared) > 1 else ""
        for reference in references:
            for place, value, qualifier in _values(reference, subject, data):
                message = lookup.problem(reference, value, qualifier)
                if message is None:
                    continue
                text = f"{where}{place} {value!r}: {message}"
                if reference.unknown == "refuse":
                    problems.append(text + "; create that record first or correct the reference")
                else:
                    warnings.append(f"warning: {record_type.id}: {text}")
    if problems:
        raise ValidationError(record_type.id, problems, "unknown reference" + ("s" if len(problems) > 1 else ""))
    return warnings


def _values(reference: Reference, subject: Subject, data: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(where, value, qualifier) for every non-empty value the reference finds in one record."""
    subject_values = subject.as_dict()
    if reference.place == "subject":
        value = subject_values.get(reference.key)
        qualifier = subject_values.get("product") if reference.refers_to == "lot" else None
        return [(f"subject {reference.key}", value, qualifier)] if value else []
    qualifier = data.get(reference.qualifier) if reference.qualifier else None
    if reference.place == "field":
        value = data.get(reference.key)
        return [(reference.key, str(value), qualifier)] if value not in (None, "") else []
    found = []
    for row_number, row in enumerate(data.get(reference.key) or [], start=1):
        value = row.get(reference.column) if isinstance(row, dict) else None
        if value not in (None, ""):
            found.append((f"{reference.key} row {row_number} {reference.column}", str(value), None))
    return found
