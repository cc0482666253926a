"""Checking a rule's parameters against its kind of check and the catalog.

Lists of values are checked against the choices of the enum field they are
compared with (``in: [passs]`` is refused, naming the allowed values), and the
fields a check reads must still exist in the catalog.
"""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog
from ..suggestions import unknown
from .kinds import FINDING_STATUSES, Kind, Parameter
from .located import Where


def parse_parameters(raw: Any, kind: Kind, name: str, where: Where, catalog: Catalog) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise where.fail(f"{name}: parameters must be a mapping")
    for key in raw:
        if key not in kind.parameters:
            known = ", ".join(kind.parameters) or "none"
            raise where.error(raw, key, f"{name}: unknown parameter {key!r}; parameters: {known}")
    result: dict[str, Any] = {}
    for key, spec in kind.parameters.items():
        if key not in raw:
            if spec.required:
                raise where.fail(f"{name}: parameter '{key}' is required")
            result[key] = spec.default
            continue
        result[key] = _parameter(raw[key], spec, f"{name}: {key}", where.at(raw, key), catalog,
                                 kind.choices.get(key), result)
    return result


def _parameter(value: Any, spec: Parameter, name: str, where: Where, catalog: Catalog,
               choices_of: tuple[str, str] | None, earlier: dict[str, Any]) -> Any:
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise where.fail(f"{name}: expected a positive number, got {value!r}")
        return value
    if spec.kind == "flag":
        if not isinstance(value, bool):
            raise where.fail(f"{name}: expected true or false, got {value!r}")
        return value
    if spec.kind == "level":
        if value not in ("product", "lot"):
            raise where.fail(f"{name}: expected product or lot, got {value!r}")
        return value
    if spec.kind == "type":
        if value not in catalog.types:
            raise where.fail(f"{name}: {unknown('record type', value, catalog.types)}")
        scopes = catalog.types[value].scopes
        if earlier.get("level") not in scopes:
            raise where.fail(f"{name}: {value} records belong to a {' or '.join(scopes)}, not a {earlier.get('level')}")
        return value
    if spec.kind == "values":
        values = _words(value, name, where)
        if choices_of:
            _check_choices(values, choices_of[0], choices_of[1], name, where, catalog)
        return values
    return _conditions(value, name, where, catalog, earlier.get("type"))


def _words(value: Any, name: str, where: Where) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise where.fail(f"{name}: expected a list of values, e.g. [pass]")
    return list(value)


def _check_choices(values: list[str], type_id: str, key: str, name: str, where: Where, catalog: Catalog,
                   column: str | None = None) -> None:
    record_type = catalog.types.get(type_id)
    item = record_type.field(key) if record_type else None
    if item is not None and column:
        item = next((entry for entry in item.columns if entry.key == column), None)
    if item is None or item.type != "enum":
        return
    allowed = [choice.value for choice in item.choices]
    for value in values:
        if value not in allowed:
            target = f"{type_id}.{key}" + (f".{column}" if column else "")
            raise where.fail(f"{name}: {value!r} is not a value of {target} ({', '.join(allowed)})")


def _conditions(value: Any, name: str, where: Where, catalog: Catalog, type_id: str | None) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise where.fail(f"{name}: expected a list of conditions, e.g. [{{field: conclusion, in: [pass]}}]")
    record_type = catalog.types[type_id] if type_id else None
    conditions = []
    for index, raw in enumerate(value):
        here = where.at(value, index)
        if not isinstance(raw, dict) or ("field" in raw) == ("table" in raw):
            raise here.fail(f"{name}: a condition is {{field: F, in: [...]}} or {{table: T, column: C, in: [...]}}")
        extra = set(raw) - {"field", "table", "column", "in", "otherwise"}
        if extra:
            raise here.fail(f"{name}: unknown key {sorted(extra)[0]!r} in a condition")
        key = raw.get("field") or raw.get("table")
        item = record_type.field(key) if record_type else None
        if item is None or (item.type == "table") != ("table" in raw):
            raise here.fail(f"{name}: {type_id} has no {'table' if 'table' in raw else 'field'} {key!r}")
        column = raw.get("column")
        if "table" in raw and column not in {entry.key for entry in item.columns}:
            raise here.fail(f"{name}: table {type_id}.{key} has no column {column!r}")
        values = _words(raw.get("in"), f"{name}: in", here)
        _check_choices(values, type_id or "", key, name, here, catalog, column)
        otherwise = raw.get("otherwise", "failed")
        if otherwise not in FINDING_STATUSES:
            raise here.fail(f"{name}: otherwise {otherwise!r} must be one of {', '.join(FINDING_STATUSES)}")
        conditions.append({"field": raw.get("field"), "table": raw.get("table"), "column": column,
                           "in": values, "otherwise": otherwise})
    return conditions


def check_reads(reads: dict[str, dict[str, Any]], name: str, where: Where, catalog: Catalog) -> None:
    """The catalog still has every type and field this kind of check reads."""
    for type_id, fields in reads.items():
        record_type = catalog.types.get(type_id)
        if record_type is None:
            raise where.fail(f"{name} reads {type_id} records, a type the catalog does not have")
        for key, columns in fields.items():
            item = record_type.field(key)
            if item is None:
                raise where.fail(f"{name} reads field {type_id}.{key}, which the catalog does not have")
            missing = set(columns or ()) - {column.key for column in item.columns}
            if missing:
                raise where.fail(f"{name} reads column {type_id}.{key}.{sorted(missing)[0]}, "
                                 "which the catalog does not have")
