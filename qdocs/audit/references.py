"""References between records, as the rules file lists them (checked when a record is
created: :mod:`.referencecheck`).

A production plan names the material lots and machines it uses, an incoming
inspection its supplier, a nonconformance report its lot or material lot, a
customer case its product and lot, a service record its case and who performed
it.  The rules file lists these references, each with what to do when it names
nothing on file (``unknown: refuse`` or ``warn``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog, RecordType
from ..suggestions import unknown
from .located import Where
from .lookup import QUALIFIER, REFERENTS


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
