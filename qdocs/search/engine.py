"""The search engine: Whoosh 2.7.4, and the only module that imports it.

Everything Whoosh-specific is here (schema, analyzer wrapper, writer, query
parser, highlighting), so another engine replaces this one module.  Whoosh is
pinned (``whoosh==2.7.4``, its last release): ``whoosh-reloaded`` changes
nothing qdocs relies on and is itself unmaintained.  Whoosh allows one writer at
a time; qdocs serialises writers with its own lock (:mod:`qdocs.search.index`).
"""

from __future__ import annotations

import collections
import datetime as _dt
import functools
import pickle
import struct
from pathlib import Path
from typing import Any, Iterable, Iterator

from whoosh import fields, index, qparser, query
from whoosh.analysis import IDTokenizer, LowercaseFilter, Token, Tokenizer
from whoosh.highlight import ContextFragmenter, Formatter
from whoosh.lang.porter import stem
from whoosh.util.times import datetime_to_long

from ..subjects import SUBJECT_KEYS
from .analysis import fold, single_cjk_character, terms
from .model import MARK_END, MARK_START, Filters, Found, Hit, QuerySyntaxError

#: What reading a damaged index raises (Whoosh has no error type of its own for it).
ENGINE_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, TypeError,
                 ImportError, index.IndexError, pickle.UnpicklingError, struct.error)
_stem = functools.lru_cache(maxsize=100_000)(stem)
_MICROSECOND = _dt.timedelta(microseconds=1)


class MixedTokenizer(Tokenizer):
    """Whoosh wrapper of :func:`qdocs.search.analysis.terms` (CJK bigrams, stemmed English)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixedTokenizer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, mode: str = "",
                 tokenize: bool = True, **kwargs: Any) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.boost, token.stopped = 1.0, False
        if not tokenize:  # wildcard and range texts: one term, case-folded
            token.text, token.pos, token.startchar, token.endchar = fold(value), start_pos, start_char, start_char + len(value)
            yield token
            return
        for term in terms(value, _stem, query=mode == "query"):
            token.text = term.text
            if keeporiginal:
                token.original = value[term.start:term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar, token.endchar = start_char + term.start, start_char + term.end
            yield token


class DateField(fields.DATETIME):
    """Dates typed as YYYY, YYYY-MM or YYYY-MM-DD; ``<`` and ``>`` exclude the bound."""

    def _parse_datestring(self, qstring: str) -> Any:
        try:
            return super()._parse_datestring(qstring)
        except Exception:
            raise QuerySyntaxError(f"{qstring.strip()!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD, "
                                   "e.g. date:[2026-03-01 TO 2026-03-31]") from None

    def parse_range(self, fieldname: str, start: str | None, end: str | None, startexcl: bool, endexcl: bool,
                    boost: float = 1.0) -> query.Query:
        if start is None and end is None:
            return query.Every(fieldname, boost=boost)
        low = high = None
        if start is not None:
            at = self._parse_datestring(start)
            low = datetime_to_long(at.ceil() + _MICROSECOND if startexcl else at.floor())
        if end is not None:
            at = self._parse_datestring(end)
            high = datetime_to_long(at.floor() - _MICROSECOND if endexcl else at.ceil())
        return query.NumericRange(fieldname, low, high, boost=boost)


def _schema() -> fields.Schema:
    def exact(**options: Any) -> fields.ID:
        return fields.ID(stored=True, analyzer=IDTokenizer() | LowercaseFilter(), **options)

    return fields.Schema(
        path=fields.ID(stored=True, unique=True, sortable=True), fingerprint=fields.ID(sortable=True),
        id=exact(), type=fields.ID(stored=True, sortable=True), scope=exact(), status=exact(), revision=exact(),
        conclusion=exact(), subject=fields.STORED(),
        signers=fields.KEYWORD(stored=True, lowercase=True, commas=True, scorable=False),
        created=DateField(stored=True), changed=DateField(stored=True), signed=DateField(stored=True),
        date=DateField(stored=True),
        content=fields.TEXT(analyzer=MixedTokenizer(), stored=True, multitoken_query="phrase"),
        **{key: exact() for key in SUBJECT_KEYS},
    )


def create(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    index.create_in(str(directory), _schema())


class Writer:
    """Adds, replaces and deletes records, all in one Whoosh commit."""

    def __init__(self, directory: Path, bulk: bool = False) -> None:
        self._index = index.open_dir(str(directory))
        self._writer = self._index.writer(limitmb=96 if bulk else 32)
        self._bulk = bulk

    def put(self, document: dict[str, Any]) -> None:
        values = {key: value for key, value in document.items() if value not in (None, "", [])}
        values["signers"] = ",".join(document.get("signers") or [])
        (self._writer.add_document if self._bulk else self._writer.update_document)(**values)

    def delete(self, path: str) -> None:
        self._writer.delete_by_term("path", path)

    def commit(self) -> None:
        self._writer.commit(optimize=self._bulk)
        self._index.close()

    def cancel(self) -> None:
        self._writer.cancel()
        self._index.close()


def search(directory: Path, text: str, filters: Filters, limit: int) -> Found:
    """The best ``limit`` records, ranked (BM25F), with snippets and counts per type."""
    opened = index.open_dir(str(directory))
    with opened.searcher() as searcher:
        parsed = parse(opened.schema, text)
        restriction = _filter(filters)
        found = searcher.search(parsed, filter=restriction, limit=limit)
        found.fragmenter = ContextFragmenter(maxchars=160, surround=40)
        found.formatter = _Marks({part.text for part in _walk(parsed) if isinstance(part, query.Prefix)
                                  and part.fieldname == "content" and single_cjk_character(part.text)})
        hits = []
        for hit in found:
            stored = dict(hit)
            content = stored.pop("content", "")
            snippet = hit.highlights("content", text=content, top=2) or " ".join(content[:120].split())
            hits.append(Hit(stored, hit.score, snippet))
        per_type = _count_types(searcher, parsed if restriction is None else query.And([parsed, restriction]))
        return Found(hits, sum(per_type.values()), per_type)


def _count_types(searcher: Any, matching: query.Query) -> dict[str, int]:
    """Every match counted by type, unscored: cheaper than scoring all of them."""
    types = searcher.reader().column_reader("type")
    return dict(collections.Counter(types[docnum] for docnum in searcher.docs_for_query(matching.normalize())))


def parse(schema: fields.Schema, text: str) -> query.Query:
    """Whoosh query syntax; the default field is the record's text."""
    parser = qparser.QueryParser("content", schema)
    parser.replace_plugin(qparser.FieldsPlugin(remove_unknown=False))
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        parsed = parser.parse(text)
    except QuerySyntaxError:
        raise
    except Exception as error:  # the parser raises bare exceptions
        raise QuerySyntaxError(str(error)) from None
    for part in _walk(parsed):
        if getattr(part, "error", None):
            raise QuerySyntaxError(str(part.error))
        name = getattr(part, "fieldname", None)
        if name and name not in schema.names():
            raise QuerySyntaxError(f"unknown field {name!r}; fields: {', '.join(sorted(searchable_fields(schema)))}")
    return _expand_single_characters(parsed)


def searchable_fields(schema: fields.Schema) -> list[str]:
    return [name for name, field in schema.items() if field.indexed and name != "fingerprint"]


def indexed_fingerprints(directory: Path) -> dict[str, str]:
    """path → fingerprint of every indexed record, from columns (no stored text read)."""
    with index.open_dir(str(directory)).reader() as reader:
        paths, prints = reader.column_reader("path"), reader.column_reader("fingerprint")
        return {paths[docnum]: prints[docnum] for docnum in reader.all_doc_ids()}


def check_readable(directory: Path) -> int:
    """The number of indexed records; raises one of ENGINE_ERRORS when the index is damaged."""
    with index.open_dir(str(directory)).searcher() as searcher:
        return searcher.doc_count()


def _expand_single_characters(parsed: query.Query) -> query.Query:
    """A one-character CJK term finds the character anywhere (see :mod:`.analysis`)."""
    if isinstance(parsed, query.Term) and parsed.fieldname == "content" and single_cjk_character(parsed.text):
        return query.Prefix("content", parsed.text, boost=parsed.boost)
    return parsed if parsed.is_leaf() else parsed.apply(_expand_single_characters)


def _walk(parsed: query.Query) -> Iterable[query.Query]:
    yield parsed
    if not parsed.is_leaf():
        for child in parsed.children():
            yield from _walk(child)


def _filter(filters: Filters) -> query.Query | None:
    parts: list[query.Query] = [query.Term(name, value) for name, value in (
        ("type", filters.type), ("status", filters.status),
        ("product", (filters.product or "").lower()), ("lot", (filters.lot or "").lower())) if value]
    if filters.date_from or filters.date_to:
        start = _dt.datetime.combine(filters.date_from, _dt.time.min) if filters.date_from else None
        end = _dt.datetime.combine(filters.date_to, _dt.time.max) if filters.date_to else None
        parts.append(query.DateRange("date", start, end))
    return query.And(parts) if parts else None


class _Marks(Formatter):
    """Marks matches; a one-character CJK query marks that character, not the bigram it matched in."""

    between = " … "

    def __init__(self, single_characters: set[str]) -> None:
        self.single_characters = single_characters

    def format_token(self, text: str, token: Token, replace: bool = False) -> str:
        piece = text[token.startchar:token.endchar]
        if len(piece) == 2 and piece[0] in self.single_characters and piece[1] not in self.single_characters:
            return MARK_START + piece[0] + MARK_END + piece[1]
        return MARK_START + piece + MARK_END

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        return " ".join(super().format_fragment(fragment, replace).split())
