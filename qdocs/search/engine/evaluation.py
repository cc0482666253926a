"""Evaluating a query over whole posting lists: matches as sets, BM25F scores, counts.

Whoosh evaluates a query one document at a time through layers of matcher
objects, a few microseconds a document in Python: 300 ms for a word in most of
100,000 records.  Here posting lists are read a block (up to 128 postings) at a
time: boolean structure becomes set operations, counts per type are set
intersections, and scores are Whoosh's own BM25F formula, idf and lengths, so
the ranking is Whoosh's (a test compares them).  A quoted phrase, which needs
positions, is still left to Whoosh.  This reads ``W3LeafMatcher`` block
internals of the pinned Whoosh 2.7.4.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from typing import Any, Iterator

from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

def documents(searcher: Any, parsed: query.Query) -> set[int]:
    """Every live document matching ``parsed``, as a set of document numbers.

    Boolean structure is evaluated with set operations on whole posting lists
    read block by block, which is several times faster than Whoosh walking its
    matchers one document at a time; anything else (a quoted phrase) goes
    through Whoosh.
    """
    if isinstance(parsed, query.Term):
        return _term_documents(searcher, parsed.fieldname, parsed.text)
    if isinstance(parsed, query.And):
        parts = sorted((documents(searcher, child) for child in parsed.subqueries), key=len)
        return set.intersection(*parts) if parts else set()
    if isinstance(parsed, query.Or) and not getattr(parsed, "minmatch", 0):
        return set().union(*(documents(searcher, child) for child in parsed.subqueries))
    if isinstance(parsed, query.Not):
        return _live(searcher) - documents(searcher, parsed.query)
    if isinstance(parsed, query.AndNot):
        return documents(searcher, parsed.a) - documents(searcher, parsed.b)
    if isinstance(parsed, query.AndMaybe):
        return documents(searcher, parsed.a)
    if isinstance(parsed, query.Every):
        return _live(searcher)
    if isinstance(parsed, query.NumericRange):  # dates: an Or of a few prefix-coded terms
        return documents(searcher, parsed._compile_query(searcher.reader()))
    if isinstance(parsed, query.ConstantScoreQuery):
        return documents(searcher, parsed.child)
    if isinstance(parsed, query.MultiTerm):  # prefix, wildcard, range of terms: the terms it covers
        return set().union(*(_term_documents(searcher, parsed.field(), text) for text in _covered(searcher, parsed)))
    return set(searcher.docs_for_query(parsed))


def _covered(searcher: Any, parsed: query.MultiTerm) -> list[bytes]:
    return list(parsed._btexts(searcher.reader()))


def _term_documents(searcher: Any, fieldname: str, text: Any) -> set[int]:
    found: set[int] = set()
    for subsearcher, offset in _segments(searcher):
        try:
            matcher = subsearcher.reader().postings(fieldname, text)
        except TermNotFound:
            continue
        deleted: frozenset = frozenset()
        if isinstance(matcher, FilterMatcher):
            matcher, deleted = matcher.child, matcher._ids
        ids = _posting_ids(matcher)
        found.update((number + offset for number in ids) if offset else ids)
        found.difference_update(number + offset for number in deleted)
    return found


def _posting_ids(matcher: Any) -> list[int]:
    """The document numbers of a posting list, a block (up to 128) at a time."""
    if not isinstance(matcher, W3LeafMatcher):
        return list(matcher.all_ids())
    ids: list[int] = []
    while matcher.is_active():
        ids.extend(_block_ids(matcher)[matcher._i:])
        matcher._next_block()
    return ids


def _block_ids(matcher: W3LeafMatcher) -> tuple[int, ...]:
    """The current block's document numbers (Whoosh's ``_read_ids``, decoded in C)."""
    if matcher._ids is None:
        if matcher._data is None:
            matcher._read_data()
        stored = matcher._data[0]
        matcher._ids = stored if matcher._byteids else tuple(itertools.accumulate(stored))
    return matcher._ids


def _segments(searcher: Any) -> list[tuple[Any, int]]:
    return searcher.subsearchers or [(searcher, 0)]


def _live(searcher: Any) -> set[int]:
    found: set[int] = set()
    for subsearcher, offset in _segments(searcher):
        found.update(number + offset for number in subsearcher.reader().all_doc_ids())
    return found


class _Unsupported(Exception):
    """A query part the bulk scorer does not score (a quoted phrase): Whoosh ranks instead."""


def best(searcher: Any, parsed: query.Query, matching: set[int], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best of ``matching`` by Whoosh's BM25F score, best first.

    Scored a posting block at a time (the same formula, idf and lengths as Whoosh's
    ``BM25F``): Whoosh's collector scores one document at a time through several
    layers of matchers, about ten times slower on a query matching thousands.
    """
    if not matching:
        return []
    try:
        scores = _scores(searcher, parsed, matching)
    except _Unsupported:
        found = searcher.search(parsed, filter=matching, limit=limit)
        return [(hit.docnum, hit.score) for hit in found]
    return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))


def _scores(searcher: Any, parsed: query.Query, matching: set[int]) -> dict[int, float]:
    """Score of each document of ``matching`` for ``parsed`` (which every one of them matches in part)."""
    boost = parsed.boost
    if isinstance(parsed, query.Term):
        if searcher.schema[parsed.fieldname].scorable:
            return _term_scores(searcher, parsed.fieldname, parsed.text, boost, matching)
        return dict.fromkeys(matching & _term_documents(searcher, parsed.fieldname, parsed.text), boost)
    if isinstance(parsed, (query.And, query.Or, query.AndMaybe)):
        total: dict[int, float] = {}
        children = parsed.subqueries if isinstance(parsed, (query.And, query.Or)) else (parsed.a, parsed.b)
        for child in children:
            for number, score in _scores(searcher, child, matching).items():
                total[number] = total.get(number, 0.0) + score
        return total
    if isinstance(parsed, query.AndNot):
        return _scores(searcher, parsed.a, matching)
    if isinstance(parsed, (query.Not, query.Every)):
        return dict.fromkeys(matching, boost)
    if isinstance(parsed, query.MultiTerm):  # scored as its terms (Whoosh 2.7 ignores ``constantscore``)
        terms = [query.Term(parsed.field(), text) for text in _covered(searcher, parsed)]
        return _scores(searcher, query.Or(terms, boost=boost) if len(terms) != 1 else terms[0], matching)
    if isinstance(parsed, (query.NumericRange, query.ConstantScoreQuery)):  # dates: a constant
        return dict.fromkeys(matching & documents(searcher, parsed), boost)
    raise _Unsupported(type(parsed).__name__)


def _term_scores(searcher: Any, fieldname: str, text: str, boost: float, matching: set[int]) -> dict[int, float]:
    b, k1 = 0.75, 1.2  # Whoosh's BM25F defaults
    average = searcher.avg_field_length(fieldname) or 1
    factor = searcher.idf(fieldname, text) * (k1 + 1) * boost
    norms = [k1 * ((1 - b) + b * (byte_to_length(value) if value else 1) / average) for value in range(256)]
    scores: dict[int, float] = {}
    for subsearcher, offset in _segments(searcher):
        reader = subsearcher.reader()
        try:
            matcher = reader.postings(fieldname, text)
        except TermNotFound:
            continue
        if isinstance(matcher, FilterMatcher):
            matcher = matcher.child
        lengths = _lengths(reader, fieldname)
        for number, frequency in _posting_weights(matcher):
            if number + offset in matching:
                scores[number + offset] = factor * frequency / (frequency + norms[lengths[number]])
    return scores


def _posting_weights(matcher: Any) -> Iterator[tuple[int, float]]:
    if not isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            yield matcher.id(), matcher.weight()
            matcher.next()
        return
    while matcher.is_active():
        ids = _block_ids(matcher)
        if matcher._weights is None:
            matcher._read_weights()
        yield from zip(ids[matcher._i:], matcher._weights[matcher._i:])
        matcher._next_block()


def _lengths(reader: Any, fieldname: str) -> bytes:
    """Each document's encoded field length (one byte each, as Whoosh stores them)."""
    column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return bytes(reader.doc_count_all())
    stored = column._dbfile.get(column._basepos, column._count)
    return stored + bytes(max(0, reader.doc_count_all() - len(stored)))


def count_types(searcher: Any, matching: set[int]) -> dict[str, int]:
    if len(matching) < 2000:
        types = searcher.reader().column_reader("type")
        return dict(collections.Counter(types[number] for number in matching))
    counts = {}
    for type_id in searcher.reader().field_terms("type"):
        count = len(matching.intersection(_term_documents(searcher, "type", type_id)))
        if count:
            counts[type_id] = count
    return counts
