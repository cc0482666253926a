"""Describe a record type: its fields as rows, and a complete example data file.

The example is YAML a user edits and passes to ``qdocs new``: every field
(mandatory or not) with the catalog's example, each preceded by a comment giving
its label, type and what it accepts.  Its data fields are concrete and valid; its
subject keys are placeholders (``lot: <lot id, e.g. L2026-031>``) that ``qdocs new``
refuses until they are replaced or given as options, because a concrete example
lot would quietly receive the record of a user who forgot ``--lot``.

The demonstration, the tests and the benchmarks file the examples on a real
subject: :func:`example_values` gives the same data with the subject filled in
(the demo's ids unless told otherwise).
"""

from __future__ import annotations

from typing import Any

from . import yamlio
from .catalog import Catalog, Field, RecordType
from .subjects import SCOPES, placeholder

#: the demo's subject ids: shown in the placeholders, filled in by :func:`example_values`
SUBJECT_EXAMPLES = {
    "product": "PUMP-X200", "lot": "L2026-031", "supplier": "SUP-HUATAI", "contract": "PC-2026-015",
    "material_lot": "ML-88", "equipment": "EQ-CNC-07", "staff": "zhang.san", "case": "C-2026-001",
}


def describe_type(catalog: Catalog, record_type: RecordType) -> dict[str, Any]:
    """A JSON-ready description of a type and its fields."""
    return {
        "id": record_type.id,
        "prefix": record_type.prefix,
        "name": {"zh": record_type.name.zh, "en": record_type.name.en},
        "clause": record_type.clause,
        "scope": list(record_type.scopes),
        "subject_keys": list(record_type.subject_keys),
        "template": record_type.template,
        "retention_years": record_type.retention_years,
        "signatures": [
            {"meaning": requirement.meaning, "roles": list(requirement.roles)} for requirement in record_type.signatures
        ],
        "fields": [describe_field(item) for item in record_type.fields],
    }


def describe_field(item: Field) -> dict[str, Any]:
    result: dict[str, Any] = {
        "key": item.key, "type": item.type, "mandatory": item.mandatory,
        "label": {"zh": item.label.zh, "en": item.label.en},
    }
    if item.choices:
        result["choices"] = [choice.value for choice in item.choices]
    if item.unit:
        result["unit"] = item.unit
    if item.columns:
        result["columns"] = [describe_field(column) for column in item.columns]
    return result


def field_hint(item: Field) -> str:
    """``mandatory, date YYYY-MM-DD`` and the like."""
    kind = {
        "date": "date YYYY-MM-DD", "datetime": "date-time YYYY-MM-DD HH:MM[+08:00]", "yes-no": "yes or no",
        "long-text": "text, several lines allowed", "text": "text",
    }.get(item.type, item.type)
    if item.type == "enum":
        kind = "one of: " + " | ".join(choice.value for choice in item.choices)
    if item.type == "number":
        kind = "whole number" if item.integer else "number"
        bounds = [f"min {item.minimum}" if item.minimum is not None else "", f"max {item.maximum}" if item.maximum is not None else ""]
        kind += "".join(f", {bound}" for bound in bounds if bound)
        if item.unit:
            kind += f", in {item.unit}"
    if item.type == "table":
        kind = "list of rows: " + ", ".join(
            f"{column.key}{'*' if column.mandatory else ''}" for column in item.columns
        )
    return ("mandatory, " if item.mandatory else "optional, ") + kind


def example_yaml(catalog: Catalog, record_type: RecordType, subject: dict[str, str] | None = None) -> str:
    """The commented example data file; its subject keys are placeholders unless ``subject`` gives them."""
    keys = SCOPES[record_type.scopes[0]]
    options = " ".join(f"--{key.replace('_', '-')} ID" for key in keys)
    lines = [
        f"# {record_type.name.zh} {record_type.name.en} ({record_type.id}, {record_type.clause})",
        f"# Edit the values, then: qdocs new {record_type.id} --data THIS-FILE.yaml",
        "# Subject: " + " or ".join(" + ".join(SCOPES[scope]) for scope in record_type.scopes)
        + ("" if subject else f": replace the placeholders, or give {options} to qdocs new"),
    ]
    given = subject or {key: placeholder(key, SUBJECT_EXAMPLES[key]) for key in keys}
    lines.append(yamlio.dump({key: given[key] for key in keys}).rstrip())
    lines.append("")
    for item in record_type.fields:
        lines.append(f"# {item.label.zh} {item.label.en} ({field_hint(item)})")
        if item.help:
            lines.append(f"#   {item.help.zh} {item.help.en}")
        lines.append(yamlio.dump({item.key: _example_value(item)}).rstrip())
    return "\n".join(lines) + "\n"


def example_values(catalog: Catalog, record_type: RecordType, subject: dict[str, str] | None = None) -> dict[str, Any]:
    """The example's values as a user's file gives them (text as typed), filed on ``subject``
    (keys of the type's first scope; default: the demo's ids)."""
    keys = SCOPES[record_type.scopes[0]]
    filled = {key: (subject or SUBJECT_EXAMPLES)[key] for key in keys}
    return yamlio.load_as_text(example_yaml(catalog, record_type, filled))


def _example_value(item: Field) -> Any:
    value = item.example
    if value is None:
        return [] if item.type == "table" else ""
    if item.type == "table":
        return [{key: _text(cell) for key, cell in row.items()} for row in value]
    return _text(value)


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
