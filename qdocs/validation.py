"""Check input data against a record type and bring it to its stored form.

Values are kept exactly as the user typed them: dates, date-times and numbers
are checked but stored as the text given (``12.50`` stays ``12.50``), text is
kept verbatim (``\\r\\n`` becomes ``\\n``).  Only yes/no becomes a boolean.
Every problem is collected, so one run tells the user everything to fix.

No value (``None`` from a YAML or JSON null, empty text, an empty list) in a
mandatory field or a mandatory column of a table is refused.  A table the
catalog marks ``allow_none`` may instead be the word ``none`` (or ``无``): a user
saying "there were none" on purpose, stored as :data:`NONE`, which a left-out
field never is.  A table with ``must_cover`` must have, among its rows, each of
the listed values in that column (a training covering all three topics).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from .catalog import Field, RecordType

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_YES = {"yes", "y", "true", "是", "1"}
_NO = {"no", "n", "false", "否", "0"}
MAX_TEXT_LENGTH = 1_000_000
#: the stored value of a table given as none (allow_none); the words a user may write for it
NONE = "none"
NONE_WORDS = frozenset({"none", "无"})
NONE_DISPLAY = "无 None"  # how documents and `qdocs show` print it


def validate_data(record_type: RecordType, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return (stored data in catalog order, problems)."""
    problems: list[str] = []
    known = {item.key for item in record_type.fields}
    for key in data:
        if key not in known:
            problems.append(f"unknown field '{key}' (see: qdocs types show {record_type.id})")
    result: dict[str, Any] = {}
    for item in record_type.fields:
        value, found = _check_field(item, data.get(item.key), item.key)
        problems.extend(found)
        result[item.key] = value
    return result, problems


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def says_none(item: Field, value: Any) -> bool:
    """A table that may be none, given as ``none`` / ``无`` (any case, spaces around)."""
    return item.allow_none and isinstance(value, str) and value.strip().casefold() in NONE_WORDS


def _check_field(item: Field, value: Any, where: str) -> tuple[Any, list[str]]:
    if item.type == "table" and says_none(item, value):
        return NONE, []
    if is_empty(value):
        if item.mandatory:
            return None, [f"missing mandatory field '{where}' ({item.label.en} {item.label.zh})"]
        return ([] if item.type == "table" else None), []
    if item.type == "table":
        return _check_table(item, value, where)
    if isinstance(value, (list, dict)):
        return None, [f"field '{where}' must be a single value, not a {'list' if isinstance(value, list) else 'mapping'}"]
    checker = _CHECKERS[item.type]
    return checker(item, _as_text(value), where)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    return str(value)


def _check_text(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT_LENGTH:
        return None, [f"field '{where}' is longer than {MAX_TEXT_LENGTH} characters"]
    for character in text:
        if character in "\n\t":
            continue
        category = unicodedata.category(character)
        if category in ("Cc", "Cs"):
            return None, [f"field '{where}' contains control character U+{ord(character):04X}, which a Word document cannot hold"]
    return text, []


def _check_date(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    text = text.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        _dt.date.fromisoformat(text)
    except ValueError:
        return None, [f"field '{where}': {text!r} is not a date (write YYYY-MM-DD, e.g. 2026-03-25)"]
    return text, []


def _check_datetime(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    text = text.strip()
    try:
        if not _DATETIME.match(text):
            raise ValueError
        _dt.datetime.fromisoformat(text)
    except ValueError:
        return None, [f"field '{where}': {text!r} is not a date and time (write YYYY-MM-DD HH:MM, optionally with +08:00)"]
    return text, []


def _check_number(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    text = text.strip()
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        return None, [f"field '{where}': {text!r} is not a number"]
    if item.integer and number != number.to_integral_value():
        return None, [f"field '{where}': {text!r} must be a whole number"]
    if item.minimum is not None and number < Decimal(str(item.minimum)):
        return None, [f"field '{where}': {text} is below the minimum {item.minimum}"]
    if item.maximum is not None and number > Decimal(str(item.maximum)):
        return None, [f"field '{where}': {text} is above the maximum {item.maximum}"]
    return text, []


def _check_enum(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    text = text.strip()
    if item.choice(text) is None:
        allowed = ", ".join(choice.value for choice in item.choices)
        return None, [f"field '{where}': {text!r} is not one of {allowed}"]
    return text, []


def _check_yes_no(item: Field, text: str, where: str) -> tuple[Any, list[str]]:
    folded = text.strip().lower()
    if folded in _YES:
        return True, []
    if folded in _NO:
        return False, []
    return None, [f"field '{where}': {text!r} is not yes or no"]


def _check_table(item: Field, value: Any, where: str) -> tuple[Any, list[str]]:
    if not isinstance(value, list):
        none = f", or {NONE} when there were none" if item.allow_none else ""
        return None, [f"field '{where}' must be a list of rows (each a mapping of "
                      f"{', '.join(c.key for c in item.columns)}){none}"]
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    known = {column.key for column in item.columns}
    for number, row in enumerate(value, start=1):
        here = f"{where}[{number}]"
        if not isinstance(row, dict):
            problems.append(f"field '{here}' must be a mapping of {', '.join(sorted(known))}")
            continue
        for key in row:
            if key not in known:
                problems.append(f"unknown column '{here}.{key}' (columns: {', '.join(c.key for c in item.columns)})")
        stored: dict[str, Any] = {}
        for column in item.columns:
            cell, found = _check_field(column, row.get(column.key), f"{here}.{column.key}")
            problems.extend(found)
            stored[column.key] = cell
        rows.append(stored)
    problems.extend(_coverage_problems(item, rows, where))
    return rows, problems


def _coverage_problems(item: Field, rows: list[dict[str, Any]], where: str) -> list[str]:
    """``must_cover``: the values no row holds, named with their labels."""
    problems = []
    for key, required in item.must_cover:
        column = next(entry for entry in item.columns if entry.key == key)
        present = {row.get(key) for row in rows}
        missing = [value for value in required if value not in present]
        if missing:
            named = ", ".join(f"{value} ({choice.label})" if (choice := column.choice(value)) else value
                              for value in missing)
            problems.append(f"field '{where}' ({item.label.zh} {item.label.en}) must have a row for each "
                            f"{key} of {', '.join(required)}; missing: {named}")
    return problems


_CHECKERS = {
    "text": _check_text,
    "long-text": _check_text,
    "date": _check_date,
    "datetime": _check_datetime,
    "number": _check_number,
    "enum": _check_enum,
    "yes-no": _check_yes_no,
}
