"""The record catalog: record types, their fields and signatures, as data.

Loaded from ``catalog.yaml`` beside the Word templates.  A company edits that
file (and the templates) without touching Python; a malformed entry gives a
:class:`CatalogError` naming the type and field.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import CatalogError, TemplateError, UnknownTypeError
from .subjects import SCOPES, SUBJECT_KEYS
from .suggestions import unknown
from .usercache import cache_directory

FIELD_TYPES = ("text", "long-text", "date", "datetime", "number", "enum", "yes-no", "table")
RESERVED_NAMES = frozenset({"doc", "subject", "signatures", *SUBJECT_KEYS})
_TYPE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_PREFIX = re.compile(r"^[A-Z]{2,5}$")
_KEY = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Label:
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}"


@dataclass(frozen=True)
class Choice:
    value: str
    label: Label


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: Label
    mandatory: bool = False
    example: Any = None
    choices: tuple[Choice, ...] = ()
    columns: tuple["Field", ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    unit: str = ""
    help: Label | None = None
    #: a table's rows must together hold each of these values in that column: ((column, values), ...)
    must_cover: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: a table may be given as the word ``none`` (or 无): "there were none", said on purpose
    allow_none: bool = False

    def choice(self, value: str) -> Choice | None:
        for choice in self.choices:
            if choice.value == value:
                return choice
        return None


@dataclass(frozen=True)
class SignatureRequirement:
    meaning: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Meaning:
    key: str
    label: Label
    stage: int


@dataclass(frozen=True)
class RecordType:
    id: str
    prefix: str
    name: Label
    clause: str
    scopes: tuple[str, ...]
    template: str
    retention_years: int
    retention_note: Label | None
    signatures: tuple[SignatureRequirement, ...]
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field | None:
        for candidate in self.fields:
            if candidate.key == key:
                return candidate
        return None

    @property
    def subject_keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        for scope in self.scopes:
            keys.extend(key for key in SCOPES[scope] if key not in keys)
        return tuple(keys)


@dataclass
class Catalog:
    path: Path
    company: Label
    roles: dict[str, Label]
    meanings: dict[str, Meaning]
    types: dict[str, RecordType] = field(default_factory=dict)
    #: roles that may approve a change of the forms (``forms: {approve: [...]}``)
    form_approvers: tuple[str, ...] = ()
    #: where the templates' bytes come from: a records repository's approved forms
    #: (:mod:`qdocs.forms`); None reads the files beside the catalog
    template_reader: Callable[[RecordType], bytes] | None = None
    #: sha256 of the catalog's own text
    sha256: str = ""

    @property
    def template_dir(self) -> Path:
        return self.path.parent

    def get(self, type_id: str) -> RecordType:
        try:
            return self.types[type_id]
        except (KeyError, TypeError):
            pass
        by_prefix = self.by_prefix(type_id.strip().upper()) if isinstance(type_id, str) else None
        if by_prefix is not None:  # the letters of its record numbers: FIR-S1-2026-0001
            raise UnknownTypeError(f"unknown record type {type_id!r}; did you mean {by_prefix.id} "
                                   f"(numbered {by_prefix.prefix}-...)?")
        raise UnknownTypeError(unknown("record type", type_id, self.types))

    def by_prefix(self, prefix: str) -> RecordType | None:
        for record_type in self.types.values():
            if record_type.prefix == prefix:
                return record_type
        return None

    def template_path(self, record_type: RecordType) -> Path:
        return self.template_dir / record_type.template

    def template_bytes(self, record_type: RecordType) -> bytes:
        """The template in force for ``record_type``."""
        if self.template_reader is not None:
            return self.template_reader(record_type)
        path = self.template_path(record_type)
        try:
            return path.read_bytes()
        except OSError as error:
            raise TemplateError(f"template for {record_type.id} cannot be read: {path}: {error.strerror}") from None


def default_template_dir() -> Path:
    """The templates shipped with qdocs: package data when installed, else the source tree's."""
    installed = Path(__file__).resolve().parent / "templates"
    if (installed / "catalog.yaml").is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "templates"


_LOADED: dict[tuple[str, int, int], Catalog] = {}


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and check a catalog file (default: the shipped one); once per process
    while the file is unchanged."""
    path = Path(path) if path else default_template_dir() / "catalog.yaml"
    try:
        status = path.stat()
        key = (str(path.resolve()), status.st_mtime_ns, status.st_size)
    except OSError:
        key = None
    if key in _LOADED:
        return _LOADED[key]
    catalog = _read_catalog(path)
    if key is not None:
        _LOADED[key] = catalog
    return catalog


def _read_catalog(path: Path) -> Catalog:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"cannot read catalog {path}: {error.strerror}") from None
    return catalog_from_text(text, path)


_FROM_TEXT: dict[tuple[str, str], Catalog] = {}


def catalog_from_text(text: str, path: Path) -> Catalog:
    """A catalog from its text (a records repository's approved version, read from git);
    ``path`` names it in messages and places its templates.  Parsed once per process."""
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    key = (digest, str(path))
    if key in _FROM_TEXT:
        return _FROM_TEXT[key]
    raw = _cached_raw(text)
    if raw is None:
        try:
            raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as error:
            raise CatalogError(f"catalog {path} is not valid YAML: {error}".replace("\n", " ")) from None
        _store_raw(text, raw)
    catalog = _parse_catalog(raw, path)
    catalog.sha256 = digest
    _FROM_TEXT[key] = catalog
    return catalog


def _cache_file(text: str) -> Path:
    """Where the parsed form of a catalog text is kept: building Python objects from
    the YAML costs about 30 ms per command, reading the same data as JSON about 2 ms."""
    import hashlib


    return cache_directory() / f"catalog-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}.json"


def _cached_raw(text: str) -> Any:
    import json

    try:
        return json.loads(_cache_file(text).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _store_raw(text: str, raw: Any) -> None:
    import json
    import os

    target = _cache_file(text)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        temporary.write_text(json.dumps(_plain(raw), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
    except (OSError, TypeError, ValueError):
        pass


def _parse_catalog(raw: Any, path: Path) -> Catalog:
    where = str(path)
    mapping = _mapping(raw, where)
    roles = {str(key): _label(value, f"{where}: role {key}") for key, value in _mapping(mapping.get("roles"), f"{where}: roles").items()}
    meanings: dict[str, Meaning] = {}
    for key, value in _mapping(mapping.get("meanings"), f"{where}: meanings").items():
        entry = _mapping(value, f"{where}: meaning {key}")
        meanings[str(key)] = Meaning(str(key), _label(entry, f"{where}: meaning {key}"), int(entry.get("stage", 1)))
    company = _label(mapping.get("company") or {"zh": "", "en": ""}, f"{where}: company")
    forms = _mapping(mapping.get("forms") or {}, f"{where}: forms")
    approvers = tuple(str(role) for role in forms.get("approve") or [])
    for role in approvers:
        if role not in roles:
            raise CatalogError(f"{where}: forms: approve names unknown role {role!r}")
    catalog = Catalog(path=path, company=company, roles=roles, meanings=meanings, form_approvers=approvers)
    types = mapping.get("types")
    if not isinstance(types, list) or not types:
        raise CatalogError(f"{where}: 'types' must be a non-empty list")
    prefixes: set[str] = set()
    for entry in types:
        record_type = _parse_type(entry, catalog, where)
        if record_type.id in catalog.types:
            raise CatalogError(f"{where}: type {record_type.id!r} is defined twice")
        if record_type.prefix in prefixes:
            raise CatalogError(f"{where}: prefix {record_type.prefix!r} of {record_type.id} is used twice")
        prefixes.add(record_type.prefix)
        catalog.types[record_type.id] = record_type
    return catalog


def _parse_type(raw: Any, catalog: Catalog, where: str) -> RecordType:
    entry = _mapping(raw, f"{where}: type entry")
    type_id = str(entry.get("id", ""))
    here = f"{where}: type {type_id or '?'}"
    if not _TYPE_ID.match(type_id):
        raise CatalogError(f"{here}: id must be lower-case words joined by '-'")
    prefix = str(entry.get("prefix", ""))
    if not _PREFIX.match(prefix):
        raise CatalogError(f"{here}: prefix {prefix!r} must be 2 to 5 capital letters")
    scopes = entry.get("scope")
    scopes = tuple(scopes) if isinstance(scopes, list) else (scopes,)
    for scope in scopes:
        if scope not in SCOPES:
            raise CatalogError(f"{here}: unknown scope {scope!r}; scopes: {', '.join(SCOPES)}")
    signatures = []
    for item in entry.get("signatures") or []:
        item = _mapping(item, f"{here}: signature")
        meaning = str(item.get("meaning"))
        if meaning not in catalog.meanings:
            raise CatalogError(f"{here}: unknown signature meaning {meaning!r}")
        roles = tuple(str(role) for role in item.get("roles") or [])
        for role in roles:
            if role not in catalog.roles:
                raise CatalogError(f"{here}: signature {meaning} names unknown role {role!r}")
        if not roles:
            raise CatalogError(f"{here}: signature {meaning} names no role")
        signatures.append(SignatureRequirement(meaning, roles))
    retention = _mapping(entry.get("retention") or {}, f"{here}: retention")
    note = retention.get("note")
    fields = tuple(_parse_field(item, here, allow_table=True) for item in entry.get("fields") or [])
    keys = [item.key for item in fields]
    if len(set(keys)) != len(keys):
        raise CatalogError(f"{here}: a field key is used twice")
    if not fields:
        raise CatalogError(f"{here}: no fields")
    return RecordType(
        id=type_id,
        prefix=prefix,
        name=_label(entry.get("name"), f"{here}: name"),
        clause=str(entry.get("clause", "")),
        scopes=scopes,
        template=str(entry.get("template") or f"{type_id}.docx"),
        retention_years=int(retention.get("years", 0)),
        retention_note=_label(note, f"{here}: retention note") if note else None,
        signatures=tuple(signatures),
        fields=fields,
    )


def _parse_field(raw: Any, where: str, allow_table: bool) -> Field:
    entry = _mapping(raw, f"{where}: field")
    key = str(entry.get("key", ""))
    here = f"{where}: field {key or '?'}"
    if not _KEY.match(key):
        raise CatalogError(f"{here}: key must be a lower-case identifier")
    if key in RESERVED_NAMES and allow_table:
        raise CatalogError(f"{here}: {key!r} is reserved (subject keys, doc, subject, signatures)")
    kind = entry.get("type")
    if kind not in FIELD_TYPES or (kind == "table" and not allow_table):
        raise CatalogError(f"{here}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
    choices = tuple(
        Choice(str(item["value"]), _label(item, f"{here}: choice"))
        for item in (_mapping(choice, f"{here}: choice") for choice in entry.get("choices") or [])
    )
    if kind == "enum" and not choices:
        raise CatalogError(f"{here}: an enum needs choices")
    columns: tuple[Field, ...] = ()
    if kind == "table":
        columns = tuple(_parse_field(item, here, allow_table=False) for item in entry.get("columns") or [])
        if not columns:
            raise CatalogError(f"{here}: a table needs columns")
    elif "must_cover" in entry or "allow_none" in entry:
        raise CatalogError(f"{here}: must_cover and allow_none are for table fields")
    must_cover = _must_cover(entry.get("must_cover"), columns, here)
    allow_none = entry.get("allow_none", False)
    if not isinstance(allow_none, bool):
        raise CatalogError(f"{here}: allow_none must be true or false")
    if allow_none and must_cover:
        raise CatalogError(f"{here}: a table whose rows must cover values cannot also be none")
    help_text = entry.get("help")
    return Field(
        key=key,
        type=kind,
        label=_label(entry.get("label"), f"{here}: label"),
        mandatory=bool(entry.get("mandatory", False)),
        example=_plain(entry.get("example")),
        choices=choices,
        columns=columns,
        minimum=entry.get("min"),
        maximum=entry.get("max"),
        integer=bool(entry.get("integer", False)),
        unit=str(entry.get("unit") or ""),
        help=_label(help_text, f"{here}: help") if help_text else None,
        must_cover=must_cover,
        allow_none=allow_none,
    )


def _must_cover(raw: Any, columns: tuple[Field, ...], where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``{column: [values]}``: each value must appear in that column of at least one row."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise CatalogError(f"{where}: must_cover must map a column to the values its rows must cover, "
                           "e.g. {topic: [product-knowledge, service-skills]}")
    result = []
    for key, values in raw.items():
        column = next((item for item in columns if item.key == key), None)
        if column is None:
            raise CatalogError(f"{where}: must_cover names column {key!r}, which the table does not have")
        if not isinstance(values, list) or not values or not all(isinstance(value, str) and value for value in values):
            raise CatalogError(f"{where}: must_cover {key}: expected a list of values")
        for value in values:
            if column.choices and column.choice(value) is None:
                allowed = ", ".join(choice.value for choice in column.choices)
                raise CatalogError(f"{where}: must_cover {key}: {value!r} is not one of {allowed}")
        result.append((str(key), tuple(values)))
    return tuple(result)


def _plain(value: Any) -> Any:
    """Dates read by YAML become the text a user would type."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: expected a mapping")
    return value


def _label(value: Any, where: str) -> Label:
    if isinstance(value, dict) and "zh" in value and "en" in value:
        return Label(str(value["zh"]), str(value["en"]))
    raise CatalogError(f"{where}: expected {{zh: ..., en: ...}}")
