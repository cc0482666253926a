"""The search engine: Whoosh 2.7.4, and the only module that imports it.

Everything Whoosh-specific is here (schema, analyzer wrapper, writer, query
parser, highlighting), so another engine replaces this one module.  Whoosh is
pinned (``whoosh==2.7.4``, its last release): ``whoosh-reloaded`` changes
nothing qdocs relies on and is itself unmaintained.

Whoosh allows one writer at a time; qdocs serialises writers with its own lock
(:mod:`qdocs.search.index`), so the writer here never waits on Whoosh's.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import pickle
import struct

from whoosh import fields, index, qparser, query, sorting
from whoosh.qparser.dateparse import DateParserPlugin
from whoosh.analysis import IDTokenizer, LowercaseFilter, Token, Tokenizer
from whoosh.highlight import ContextFragmenter, Formatter, Highlighter
from whoosh.lang.porter import stem

from ..subjects import SUBJECT_KEYS
from .analysis import single_cjk_character, terms

#: Raised by everything here when the files of an index cannot be read.
ENGINE_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, TypeError,
                 ImportError, index.IndexError, pickle.UnpicklingError, struct.error)
MARK_START, MARK_END = "\x02", "\x03"
_stem = functools.lru_cache(maxsize=100_000)(stem)


class MixedTokenizer(Tokenizer):
    """Whoosh wrapper of :func:`qdocs.search.analysis.terms` (CJK bigrams + stemmed English)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in terms(value, _stem, query=mode == "query"):
            token.text, token.boost, token.stopped = term.text, 1.0, False
            if keeporiginal:
                token.original = value[term.start:term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar, token.endchar = start_char + term.start, start_char + term.end
            yield token


def _schema() -> fields.Schema:
    keyword = functools.partial(fields.ID, stored=True)
    subject_fields = {key: fields.ID(stored=True, analyzer=IDTokenizer() | LowercaseFilter()) for key in SUBJECT_KEYS}
    return fields.Schema(
        path=fields.ID(stored=True, unique=True), id=fields.ID(stored=True, analyzer=IDTokenizer() | LowercaseFilter()),
        type=keyword(sortable=True), scope=keyword(), status=keyword(), revision=keyword(),
        conclusion=keyword(), fingerprint=fields.STORED(), subject=fields.STORED(),
        signers=fields.KEYWORD(stored=True, lowercase=True, commas=True, scorable=False),
        created=fields.DATETIME(stored=True), changed=fields.DATETIME(stored=True),
        signed=fields.DATETIME(stored=True), date=fields.DATETIME(stored=True),
        content=fields.TEXT(analyzer=MixedTokenizer(), stored=True, multitoken_query="phrase"),
        **subject_fields,
    )


def create(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    index.create_in(str(directory), _schema())


class Writer:
    """Adds, replaces and deletes records in one Whoosh commit."""

    def __init__(self, directory: Path, bulk: bool = False) -> None:
        self._index = index.open_dir(str(directory))
        self._writer = self._index.writer(limitmb=128 if bulk else 32)
        self._bulk = bulk

    def put(self, document: dict[str, Any]) -> None:
        values = {key: value for key, value in document.items() if value not in (None, "", [])}
        values["signers"] = ",".join(document.get("signers") or [])
        if self._bulk:
            self._writer.add_document(**values)
        else:
            self._writer.update_document(**values)

    def delete(self, path: str) -> None:
        self._writer.delete_by_term("path", path)

    def commit(self) -> None:
        self._writer.commit(merge=not self._bulk, optimize=self._bulk)
        self._index.close()

    def cancel(self) -> None:
        self._writer.cancel()
        self._index.close()


@dataclass
class Filters:
    type: str | None = None
    product: str | None = None
    lot: str | None = None
    status: str | None = None
    date_from: _dt.date | None = None
    date_to: _dt.date | None = None


@dataclass
class Hit:
    fields: dict[str, Any]
    score: float
    snippet: str  # matches between MARK_START and MARK_END


@dataclass
class Found:
    hits: list[Hit]
    total: int
    per_type: dict[str, int]


class QuerySyntaxError(Exception):
    """The query text does not parse; the message names the problem."""


def search(directory: Path, text: str, filters: Filters, limit: int) -> Found:
    opened = index.open_dir(str(directory))
    with opened.searcher() as searcher:
        parsed = _parse(opened.schema, text)
        found = searcher.search(parsed, filter=_filter(filters), limit=limit, terms=True,
                                groupedby=sorting.FieldFacet("type", maptype=sorting.Count))
        found.fragmenter = ContextFragmenter(maxchars=160, surround=40)
        found.formatter = _Marks()
        hits = [Hit(dict(hit), hit.score, hit.highlights("content", top=2) or _opening(hit)) for hit in found]
        for hit in hits:
            hit.fields.pop("content", None)
        return Found(hits, len(found), dict(found.groups("type")))


def indexed_fingerprints(directory: Path) -> dict[str, str]:
    """path → fingerprint of every indexed record (for ``qdocs index status``)."""
    with index.open_dir(str(directory)).reader() as reader:
        return {stored["path"]: stored.get("fingerprint", "") for _, stored in reader.iter_docs()}


def check_readable(directory: Path) -> int:
    """Open the index and read its document count; raises one of ENGINE_ERRORS if it cannot."""
    with index.open_dir(str(directory)).searcher() as searcher:
        return searcher.doc_count()


def _parse(schema: fields.Schema, text: str) -> query.Query:
    parser = qparser.QueryParser("content", schema)
    parser.replace_plugin(qparser.FieldsPlugin(remove_unknown=False))
    parser.add_plugin(DateParserPlugin(free=False))
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        parsed = parser.parse(text)
    except Exception as error:  # Whoosh raises bare Exception for e.g. an unparseable date
        raise QuerySyntaxError(str(error)) from None
    for part in _walk(parsed):
        if getattr(part, "error", None):
            raise QuerySyntaxError(str(part.error))
        name = getattr(part, "fieldname", None)
        if name and name not in schema.names():
            raise QuerySyntaxError(f"unknown field {name!r}")
    return _expand_single_characters(parsed)


def _expand_single_characters(parsed: query.Query) -> query.Query:
    """A one-character CJK term matches the character anywhere (see analysis)."""
    if isinstance(parsed, query.Term) and parsed.fieldname == "content" and single_cjk_character(parsed.text):
        return query.Prefix("content", parsed.text, boost=parsed.boost)
    if parsed.is_leaf():
        return parsed
    return parsed.apply(_expand_single_characters)


def _walk(parsed: query.Query) -> Iterable[query.Query]:
    yield parsed
    if not parsed.is_leaf():
        for child in parsed.children():
            yield from _walk(child)


def _filter(filters: Filters) -> query.Query | None:
    parts: list[query.Query] = []
    for name in ("type", "status"):
        if getattr(filters, name):
            parts.append(query.Term(name, getattr(filters, name)))
    for name in ("product", "lot"):
        if getattr(filters, name):
            parts.append(query.Term(name, getattr(filters, name).lower()))
    if filters.date_from or filters.date_to:
        start = _dt.datetime.combine(filters.date_from, _dt.time.min) if filters.date_from else None
        end = _dt.datetime.combine(filters.date_to, _dt.time.max) if filters.date_to else None
        parts.append(query.DateRange("date", start, end))
    return query.And(parts) if parts else None


def _opening(hit: Any) -> str:
    content = hit.get("content") or ""
    return " ".join(content[:120].split())


class _Marks(Formatter):
    between = " … "

    def format_token(self, text: str, token: Token, replace: bool = False) -> str:
        return MARK_START + text[token.startchar:token.endchar] + MARK_END

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        return " ".join(super().format_fragment(fragment, replace).split())
