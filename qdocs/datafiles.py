"""Reading the data files users write: YAML, JSON, and CSV for batches.

Scalars are read as the text the user typed (YAML without type guessing, JSON
numbers as their literal), so ``12.50`` or ``0012`` reach the document unchanged.

"No value" is what each format itself says it is: YAML's plain ``null`` / ``~`` /
nothing, JSON's ``null``, an empty CSV cell, an empty ``--set KEY=``.  It is
stored as no value (a mandatory field is refused).  A command-line or CSV value
is plain text with no quoting to tell a word from a null, so ``--set KEY=null``
is the four letters "null", exactly as typed.  A key given twice in one mapping
(or a CSV column twice in the header) is refused with both places, never
silently resolved in favour of the last.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Callable

from .catalog import RecordType
from .errors import DataFileError, DuplicateKeyError
from .subjects import SUBJECT_KEYS
from . import jsonio, yamlio

SUBJECT_ALIASES = {"material-lot": "material_lot"}


def read_data_file(path: str | Path) -> dict[str, Any]:
    """One record's data: a mapping of field and subject keys."""
    content = _read(path)
    suffix = Path(path).suffix.lower()
    data = _parse_json(content, path) if suffix == ".json" else _parse_yaml(content, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a mapping of field names to values, got a {type(data).__name__}")
    return _normalise_keys(data, path)


def read_batch_file(path: str | Path, record_type: RecordType) -> list[dict[str, Any]]:
    """Many records' data: a CSV with one row per record, or a YAML/JSON list."""
    content = _read(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return _parse_csv(content, path, record_type)
    data = _parse_json(content, path) if suffix == ".json" else _parse_yaml(content, path, yamlio.load_list_as_text)
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise DataFileError(f"{path}: a batch file must hold a list of records (mappings)")
    if not data:
        raise DataFileError(f"{path}: the batch holds no records")
    return [_normalise_keys(item, f"{path}: record {number}") for number, item in enumerate(data, start=1)]


def parse_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` from ``--set``: the value is the text after ``=``, as typed (``KEY=`` is
    empty, so no value; ``KEY=null`` is the text "null", see the module's docstring)."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise DataFileError(f"--set {text!r}: write KEY=VALUE")
    return SUBJECT_ALIASES.get(key.strip(), key.strip()), value


def split_subject(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate subject keys (product, lot, ...) from field values."""
    subject = {key: data[key] for key in SUBJECT_KEYS if key in data}
    fields = {key: value for key, value in data.items() if key not in SUBJECT_KEYS}
    return subject, fields


def _read(path: str | Path) -> str:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFileError(f"{path}: is a directory, not a data file") from None
    except OSError as error:
        raise DataFileError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: not UTF-8 text (save it as UTF-8)") from None


def _parse_yaml(content: str, path: str | Path, load: Callable[[str], Any] = yamlio.load_as_text) -> Any:
    try:
        return load(content)
    except DuplicateKeyError as error:
        raise DataFileError(f"{path}: {error}") from None
    except yamlio.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "malformed YAML"
        raise DataFileError(f"{path}: not valid YAML{where}: {problem}") from None


def _parse_json(content: str, path: str | Path) -> Any:
    try:
        return jsonio.load_as_text(content)
    except DuplicateKeyError as error:
        raise DataFileError(f"{path}: {error}") from None
    except jsonio.JSONDecodeError as error:
        raise DataFileError(f"{path}: not valid JSON at line {error.lineno}: {error.msg}") from None


def _parse_csv(content: str, path: str | Path, record_type: RecordType) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(content))
    if not reader.fieldnames:
        raise DataFileError(f"{path}: the CSV has no header row")
    columns: dict[str, int] = {}
    for number, name in enumerate(reader.fieldnames, start=1):
        name = SUBJECT_ALIASES.get(name, name)
        if name in columns:
            raise DataFileError(f"{path}: column {name!r} appears twice in the header "
                                f"(columns {columns[name]} and {number}); keep one")
        columns[name] = number
    tables = {item.key for item in record_type.fields if item.type == "table"}
    rows: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise DataFileError(f"{path}: line {number} has more cells than the header")
        record: dict[str, Any] = {}
        for key, value in row.items():
            key = SUBJECT_ALIASES.get(key, key)
            if key in tables and value and value.strip():
                try:
                    value = yamlio.load_as_text(value)
                except DuplicateKeyError as error:
                    raise DataFileError(f"{path}: line {number}, column {key}: key {error.key!r} appears twice "
                                        f"in the cell{error.places('its ')}; keep one") from None
                except yamlio.YAMLError:
                    raise DataFileError(f"{path}: line {number}, column {key}: a table cell must be a YAML list of rows") from None
            record[key] = value
        rows.append(record)
    if not rows:
        raise DataFileError(f"{path}: the CSV holds no records")
    return rows


def _normalise_keys(data: dict[Any, Any], where: str | Path) -> dict[str, Any]:
    """Keys as text, subject aliases (``material-lot``) under their key; both spellings at once
    would be a key given twice."""
    result: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in data.items():
        name = SUBJECT_ALIASES.get(str(key), str(key))
        if name in result:
            raise DataFileError(f"{where}: {name!r} is given twice (as {spelled[name]} and {key}); keep one")
        result[name], spelled[name] = value, str(key)
    return result
