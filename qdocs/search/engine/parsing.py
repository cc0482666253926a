"""Queries: Whoosh's query syntax, made strict, and what a query marks in a snippet."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterable

from whoosh import fields, qparser, query

from ..analysis import CJK_CLASS, STOP_WORDS, cjk_text, single_cjk_character
from ..model import Filters, QuerySyntaxError
from ..snippets import Needles


class Word(query.And):
    """The terms one query word was analysed into (a Chinese word's n-grams, PUMP-X200's parts)."""


class _Parser(qparser.QueryParser):
    def multitoken_query(self, spec: str, texts: list[str], fieldname: str, termclass: Any,
                         boost: float) -> query.Query:
        return Word([termclass(fieldname, text) for text in texts], boost=boost)


def parse(schema: fields.Schema, text: str) -> query.Query:
    """Whoosh query syntax; the default field is the record's text; unknown fields are errors."""
    parser = _Parser("content", schema)
    parser.replace_plugin(qparser.FieldsPlugin(remove_unknown=False))
    parser.add_plugin(qparser.GtLtPlugin())
    try:
        parsed = parser.parse(text)
    except QuerySyntaxError:
        raise
    except Exception as error:  # the parser raises bare exceptions
        raise QuerySyntaxError(str(error)) from None
    for part in walk(parsed):
        if getattr(part, "error", None):
            raise QuerySyntaxError(str(part.error))
        name = getattr(part, "fieldname", None)
        if name and name not in schema.names():
            fields_list = ", ".join(sorted(name for name, field in schema.items()
                                           if field.indexed and name != "fingerprint"))
            raise QuerySyntaxError(f"unknown field {name!r}; fields: {fields_list}")
    return parsed


def widen_single_characters(parsed: query.Query, reader: Any) -> query.Query:
    """A one-character CJK term finds the character anywhere: it becomes the terms of
    up to two characters starting with it (see :mod:`qdocs.search.analysis`)."""
    if isinstance(parsed, query.Term) and parsed.fieldname == "content" and single_cjk_character(parsed.text):
        words = (raw.decode("utf-8") for raw in reader.expand_prefix("content", parsed.text))
        found = [query.Term("content", word, boost=parsed.boost) for word in words if len(word) <= 2]
        return query.Or(found) if found else query.NullQuery
    return parsed if parsed.is_leaf() else parsed.apply(lambda child: widen_single_characters(child, reader))


def restriction(filters: Filters) -> query.Query | None:
    """The command's filter options (--type, --product, --lot, --status, --from, --to) as a query."""
    parts: list[query.Query] = [query.Term(name, value) for name, value in (
        ("type", filters.type), ("status", filters.status),
        ("product", (filters.product or "").lower()), ("lot", (filters.lot or "").lower())) if value]
    if filters.date_from or filters.date_to:
        start = _dt.datetime.combine(filters.date_from, _dt.time.min) if filters.date_from else None
        end = _dt.datetime.combine(filters.date_to, _dt.time.max) if filters.date_to else None
        parts.append(query.DateRange("date", start, end))
    return query.And(parts) if parts else None


def walk(parsed: query.Query) -> Iterable[query.Query]:
    yield parsed
    if not parsed.is_leaf():
        for child in parsed.children():
            yield from walk(child)


def needles(parsed: query.Query) -> Needles:
    """What the query asks of the text field, for marking in snippets (not what it excludes)."""
    found = Needles()
    if isinstance(parsed, query.Not):
        return found
    if isinstance(parsed, Word):
        if all(child.fieldname == "content" for child in parsed.subqueries):
            _add_words(found, [child.text for child in parsed.subqueries])
        return found
    if isinstance(parsed, query.Phrase):
        if parsed.fieldname == "content":
            _add_words(found, list(parsed.words))
        return found
    if getattr(parsed, "fieldname", None) == "content":
        if isinstance(parsed, (query.Prefix, query.Wildcard)) and not single_cjk_character(parsed.text):
            found.wildcards.add(parsed.text + ("*" if isinstance(parsed, query.Prefix) else ""))
        elif isinstance(parsed, (query.Term, query.Prefix)):
            _add_words(found, [parsed.text])
    if not parsed.is_leaf():
        for child in parsed.children():
            inner = needles(child)
            found.exact |= inner.exact
            found.stems |= inner.stems
            found.wildcards |= inner.wildcards
    return found


def phrase_pattern(words: list[str]) -> re.Pattern:
    """A quoted phrase as a pattern over the stored text: its words in order, next to
    each other (only spaces, punctuation or dropped stop words between them); Chinese
    n-grams joined back into the characters typed, English words by their stem."""
    pieces: list[str] = []
    for part in _joined(words):
        if cjk_text(part):
            pieces.append(re.escape(part))
        else:
            stem = part[:-1] if part.endswith("i") and len(part) > 2 else part
            pieces.append(rf"(?<![A-Za-z0-9]){re.escape(stem)}[A-Za-z0-9]*")
    return re.compile(_GAP.join(pieces), re.IGNORECASE)


_SEPARATOR = rf"[^A-Za-z0-9{CJK_CLASS}]*"
_GAP = rf"{_SEPARATOR}(?:(?:{'|'.join(sorted(STOP_WORDS))}){_SEPARATOR}){{0,2}}?"


def _joined(words: list[str]) -> list[str]:
    """Chinese n-grams of one word joined back into the word; other words as they are."""
    parts: list[str] = []
    for word in words:
        if cjk_text(word) and parts and cjk_text(parts[-1]):
            if parts[-1].endswith(word[:-1]):
                parts[-1] += word[-1]
                continue
            if word in parts[-1]:
                continue
        parts.append(word)
    return parts


def _add_words(found: Needles, words: list[str]) -> None:
    for part in _joined(words):
        (found.exact if cjk_text(part) else found.stems).add(part)
