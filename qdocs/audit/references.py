"""References between records, checked when a record is created.

A production plan names the material lots and machines it uses, an incoming
inspection its supplier, a nonconformance report its lot or material lot, a
customer case its product and lot, a service record its case and who performed
it.  The rules file lists these references; :func:`check_references` refuses a
new record whose reference names nothing on file (``unknown: refuse``) or returns
a warning (``unknown: warn``).  A reference is known when a record of what it
names is on file and not void.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import Catalog, RecordType
from ..errors import ValidationError
from ..subjects import Subject
from ..suggestions import unknown
from .located import Where
from .lookup import QUALIFIER, REFERENTS, Lookup

if TYPE_CHECKING:
    from ..repository import Repository


@dataclass(frozen=True)
class Reference:
    type: str
    place: str  # "field", "table" or "subject"
    key: str  # the field, table or subject key
    column: str | None
    refers_to: str
    record_type: str | None
    qualifier: str | None  # the field naming the lot's product or the contract's supplier
    unknown: str  # "refuse" or "warn"

    def describe(self) -> str:
        return f"{self.key}.{self.column}" if self.place == "table" else self.key


def parse_references(items: Any, where: Where, catalog: Catalog) -> list[Reference]:
    if not isinstance(items, list):
        raise where.fail("'references' must be a list")
    return [_parse_reference(raw, where.at(items, index), catalog) for index, raw in enumerate(items)]


def _parse_reference(raw: Any, where: Where, catalog: Catalog) -> Reference:
    allowed = {"type", "field", "table", "column", "subject", "refers_to", "record_type", "product", "supplier",
               "unknown"}
    if not isinstance(raw, dict) or set(raw) - allowed:
        extra = sorted(set(raw) - allowed)[0] if isinstance(raw, dict) else None
        raise where.fail(f"a reference is a mapping of {', '.join(sorted(allowed))}"
                         + (f"; unknown key {extra!r}" if extra else ""))
    record_type = catalog.types.get(raw.get("type"))
    if record_type is None:
        raise where.fail(f"reference: {unknown('record type', raw.get('type'), catalog.types)}")
    places = [place for place in ("field", "table", "subject") if place in raw]
    if len(places) != 1:
        raise where.fail(f"reference of {record_type.id}: give exactly one of field, table (with column), subject")
    place, key = places[0], raw[places[0]]
    _check_place(record_type, place, key, raw.get("column"), where)
    refers_to = raw.get("refers_to")
    if refers_to not in REFERENTS:
        raise where.fail(f"reference {record_type.id}.{key}: refers_to {refers_to!r} must be one of "
                         f"{', '.join(REFERENTS)}")
    target_type = raw.get("record_type")
    if target_type is not None and target_type not in catalog.types:
        raise where.fail(f"reference {record_type.id}.{key}: unknown record_type {target_type!r}")
    qualifier = raw.get(QUALIFIER.get(refers_to, "")) if refers_to in QUALIFIER else None
    if qualifier is not None and record_type.field(qualifier) is None:
        raise where.fail(f"reference {record_type.id}.{key}: {record_type.id} has no field {qualifier!r}")
    if raw.get("unknown") not in ("refuse", "warn"):
        raise where.fail(f"reference {record_type.id}.{key}: unknown must be refuse or warn")
    return Reference(record_type.id, place, key, raw.get("column"), refers_to, target_type, qualifier, raw["unknown"])


def _check_place(record_type: RecordType, place: str, key: Any, column: Any, where: Where) -> None:
    if place == "subject":
        if key not in record_type.subject_keys:
            raise where.fail(f"reference: {record_type.id} has no subject key {key!r}")
        return
    item = record_type.field(key)
    if item is None or (item.type == "table") != (place == "table"):
        raise where.fail(f"reference: {record_type.id} has no {place} {key!r}")
    if place == "table" and column not in {entry.key for entry in item.columns}:
        raise where.fail(f"reference: table {record_type.id}.{key} has no column {column!r}")


def check_references(repository: "Repository", record_type: RecordType,
                     prepared: list[tuple[Subject, dict[str, Any]]]) -> list[str]:
    """Refuse (``ValidationError``, every problem listed) or warn about unknown references of
    new records; returns the warnings.  Called after validation, before anything is written."""
    from .rules import load_rules

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
