"""Evaluating a query over whole posting lists: matches as masks, BM25F scores as arrays.

Whoosh evaluates a query one document at a time through layers of matcher
objects, a few microseconds a document in Python: 300 ms for a word in most of
100,000 records.  Here posting lists are read a block (up to 1,024 postings,
:data:`.schema.BLOCK_POSTINGS`) at a time into NumPy arrays: a query's matches
are a boolean mask over the index's documents (``AND``, ``OR``, ``NOT`` are
element-wise operations), counts per type one ``bincount``, and scores Whoosh's
own BM25F formula, idf and lengths computed for a whole posting list at once, so
the ranking is Whoosh's (a test compares them), but for one thing: a query word
analysed into several terms (a Chinese word of four or more characters, the
parts of PUMP-X200) counts once, by its rarest term, where Whoosh would add up
the scores of overlapping pieces of the same word.  The rarest part of an ``AND``
is read first and the others only in the blocks that can hold its documents.  A
quoted phrase is the records holding all its terms whose stored text has the
words next to each other (the index keeps no positions; see ``TermCounts``),
scored as its terms.  This reads ``W3LeafMatcher`` block internals of the pinned
Whoosh 2.7.4.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any, Iterator

import numpy as np
from whoosh import query
from whoosh.columns import RefBytesColumn
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from ..analysis import GROUP_SEPARATOR, phrase_groups
from .parsing import Word, phrase_pattern

_GROUP = GROUP_SEPARATOR.encode("utf-8")

#: A set of documents: one boolean per document number of the searcher.
Mask = np.ndarray


def documents(searcher: Any, parsed: query.Query, within: Mask | None = None) -> Mask:
    """Every live document matching ``parsed`` (only those of ``within`` when given)."""
    found = _matching(searcher, parsed, within)
    return found & _arrays(searcher).live


def best(searcher: Any, parsed: query.Query, matching: Mask, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best of ``matching`` by Whoosh's BM25F score, best first (equal
    scores in document order, as Whoosh ranks them)."""
    numbers = np.flatnonzero(matching)
    if not len(numbers) or limit <= 0:
        return []
    try:
        values = _scores(searcher, parsed, matching)[numbers]
    except _Unsupported:
        found = searcher.search(parsed, filter=set(numbers.tolist()), limit=limit)
        return [(hit.docnum, hit.score) for hit in found]
    if len(values) > limit:  # only what can be in the best ``limit`` is sorted
        threshold = np.partition(values, len(values) - limit)[len(values) - limit]
        keep = values >= threshold
        numbers, values = numbers[keep], values[keep]
    order = np.lexsort((numbers, -values))[:limit]
    return list(zip(numbers[order].tolist(), values[order].tolist()))


def count(matching: Mask) -> int:
    return int(np.count_nonzero(matching))


def count_types(searcher: Any, matching: Mask) -> dict[str, int]:
    """Matches per record type: one ``bincount`` of the matches' type numbers."""
    names, codes = _arrays(searcher).types(searcher)
    counts = np.bincount(codes[matching], minlength=len(names) + 1)
    return {name: int(counts[number]) for number, name in enumerate(names) if counts[number]}


def forget_blocks(searcher: Any) -> None:
    """Start a new search: posting lists read by the last one are dropped."""
    searcher._qdocs_postings = {}


# -- matching ---------------------------------------------------------------------------


def _matching(searcher: Any, parsed: query.Query, within: Mask | None) -> Mask:
    arrays = _arrays(searcher)
    if isinstance(parsed, query.Term):
        return _term_mask(searcher, parsed.fieldname, parsed.text, within)
    if isinstance(parsed, query.And):
        reader = searcher.reader()
        found = within
        for child in sorted(parsed.subqueries, key=lambda child: child.estimate_size(reader)):
            found = _matching(searcher, child, found)
            if not found.any():
                return found
        return arrays.nothing() if found is None else found
    if isinstance(parsed, query.Or) and not getattr(parsed, "minmatch", 0):
        found = arrays.nothing()
        for child in parsed.subqueries:
            if isinstance(child, query.Term):  # (a widened character: hundreds of terms)
                found[_postings(searcher, child.fieldname, child.text, within)[0]] = True
            else:
                found |= _matching(searcher, child, within)
        return _within(found, within)
    if isinstance(parsed, query.Not):
        return _within(arrays.live & ~_matching(searcher, parsed.query, within), within)
    if isinstance(parsed, query.AndNot):
        found = _matching(searcher, parsed.a, within)
        return found & ~_matching(searcher, parsed.b, found)
    if isinstance(parsed, query.AndMaybe):
        return _matching(searcher, parsed.a, within)
    if isinstance(parsed, query.Every):
        return _within(arrays.live.copy(), within)
    if isinstance(parsed, query.NumericRange):  # dates: an Or of a few prefix-coded terms
        return _matching(searcher, parsed._compile_query(searcher.reader()), within)
    if isinstance(parsed, query.ConstantScoreQuery):
        return _matching(searcher, parsed.child, within)
    if isinstance(parsed, query.MultiTerm):  # prefix, wildcard, range of terms: the terms it covers
        found = arrays.nothing()
        for text in _covered(searcher, parsed):
            found[_postings(searcher, parsed.field(), text, within)[0]] = True
        return _within(found, within)
    if isinstance(parsed, query.Phrase):
        return _phrase(searcher, parsed, within)
    found = arrays.nothing()
    found[list(searcher.docs_for_query(parsed))] = True
    return _within(found, within)


def _within(found: Mask, within: Mask | None) -> Mask:
    if within is not None:
        found &= within
    return found


def _phrase(searcher: Any, parsed: query.Phrase, within: Mask | None) -> Mask:
    """A quoted phrase: of two or three words, the records holding it as a word group
    term; of more, those holding each of its groups of three, checked against the text;
    with Chinese, those holding all its terms, checked against the text."""
    words = list(parsed.words)
    if parsed.fieldname != "content":
        return _matching(searcher, _phrase_terms(parsed), within)
    groups = phrase_groups(words)
    if groups is None:
        return _holding(searcher, _matching(searcher, _phrase_terms(parsed), within), phrase_pattern(words))
    found = _matching(searcher, query.And([query.Term("content", group) for group in groups]), within)
    return found if len(groups) == 1 else _holding(searcher, found, phrase_pattern(words))


def _phrase_terms(parsed: query.Phrase) -> query.And:
    return query.And([query.Term(parsed.fieldname, word) for word in parsed.words], boost=parsed.boost)


def _holding(searcher: Any, candidates: Mask, pattern: Any) -> Mask:
    """Those of ``candidates`` whose stored text matches ``pattern`` (a quoted phrase)."""
    found = _arrays(searcher).nothing()
    for number in np.flatnonzero(candidates).tolist():
        if pattern.search(searcher.stored_fields(number).get("content", "")):
            found[number] = True
    return found


def _term_mask(searcher: Any, fieldname: str, text: Any, within: Mask | None) -> Mask:
    numbers, _ = _postings(searcher, fieldname, text, within)
    found = _arrays(searcher).nothing()
    found[numbers] = True
    return _within(found, within)


# -- reading posting lists -----------------------------------------------------------


def _postings(searcher: Any, fieldname: str, text: Any, within: Mask | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A term's (document numbers, weights) over every segment, deleted documents
    included; read once per search, except that with a sparse ``within`` only the
    blocks that can hold those documents are read (and nothing is kept)."""
    cache = getattr(searcher, "_qdocs_postings", None)
    key = (fieldname, text)
    if cache is not None and key in cache:
        return cache[key]
    arrays = _arrays(searcher)
    numbers: list[int] = []
    values: list[float] = []
    sparse = False
    for reader, offset, matcher in _segment_postings(searcher, fieldname, text):
        candidates = arrays.candidates(within, offset, reader.doc_count_all())
        sparse = sparse or candidates is not None
        start = len(numbers)
        for ids, block_weights in _blocks(matcher, candidates):
            numbers.extend(ids)
            if block_weights is None:
                values.extend(itertools.repeat(1.0, len(ids)))
            elif isinstance(block_weights, float):
                values.extend(itertools.repeat(block_weights, len(ids)))
            else:
                values.extend(block_weights)
        if offset:
            numbers[start:] = [number + offset for number in numbers[start:]]
    result = (np.array(numbers, dtype=np.int64), np.array(values, dtype=np.float64))
    if cache is not None and not sparse:
        cache[key] = result
    return result


def _segment_postings(searcher: Any, fieldname: str, text: Any) -> Iterator[tuple[Any, int, Any]]:
    """Per segment holding the term: its reader, document offset and raw postings
    matcher (Whoosh wraps it to hide deleted documents; the live mask does that)."""
    for subsearcher, offset in _segments(searcher):
        reader = subsearcher.reader()
        try:
            matcher = reader.postings(fieldname, text)
        except TermNotFound:
            continue
        if isinstance(matcher, FilterMatcher):
            matcher = matcher.child
        yield reader, offset, matcher


def _blocks(matcher: Any, candidates: list[int] | None) -> Iterator[tuple[Any, Any]]:
    """(document numbers, weights) of a posting list a block at a time, skipping the
    blocks that hold none of ``candidates`` (sorted, segment-local) without decoding them."""
    if not isinstance(matcher, W3LeafMatcher):
        found = []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight()))
            matcher.next()
        if found:
            yield tuple(number for number, _ in found), tuple(weight for _, weight in found)
        return
    previous_top = -1
    while matcher.is_active():
        top = matcher._maxid
        if candidates is not None:
            index = bisect.bisect_right(candidates, previous_top)
            if index == len(candidates):
                return
            if candidates[index] > top:
                previous_top = top
                matcher._next_block()
                continue
        if matcher._ids is None:
            if matcher._data is None:
                matcher._read_data()
            stored = matcher._data[0]
            matcher._ids = stored if matcher._byteids else tuple(itertools.accumulate(stored))
        if matcher._weights is None:
            matcher._read_weights()
        yield matcher._ids, matcher._weights
        previous_top = top
        matcher._next_block()


def _segments(searcher: Any) -> list[tuple[Any, int]]:
    return searcher.subsearchers or [(searcher, 0)]


def _covered(searcher: Any, parsed: query.MultiTerm) -> list[bytes]:
    """The terms a prefix, wildcard or range covers: in the text, words, not word groups."""
    texts = parsed._btexts(searcher.reader())
    return [text for text in texts if _GROUP not in text] if parsed.field() == "content" else list(texts)


class _Arrays:
    """What every search of one searcher needs, read once: which documents are live,
    each document's record type, each field's encoded lengths."""

    def __init__(self, searcher: Any) -> None:
        self.size = searcher.reader().doc_count_all()
        self.live = np.ones(self.size, dtype=bool)
        for subsearcher, offset in _segments(searcher):
            reader = subsearcher.reader()
            if reader.has_deletions():
                deleted = np.fromiter(_deleted(reader), dtype=np.int64)
                self.live[deleted + offset] = False
        self._types: tuple[list[str], np.ndarray] | None = None
        self._lengths: dict[str, np.ndarray] = {}

    def nothing(self) -> Mask:
        return np.zeros(self.size, dtype=bool)

    def candidates(self, within: Mask | None, offset: int, count: int) -> list[int] | None:
        """``within`` in one segment, sorted, when few enough that skipping blocks pays."""
        if within is None:
            return None
        part = within[offset:offset + count]
        if np.count_nonzero(part) * 8 > count:
            return None
        return np.flatnonzero(part).tolist()

    def types(self, searcher: Any) -> tuple[list[str], np.ndarray]:
        """The record types and each document's type number (``len(types)``: none)."""
        if self._types is None:
            names = [name.decode("utf-8") if isinstance(name, bytes) else name
                     for name in searcher.reader().field_terms("type")]
            codes = np.full(self.size, len(names), dtype=np.int32)
            segments = _segments(searcher)
            if not all(_segment_types(subsearcher.reader(), names, codes, offset) for subsearcher, offset in segments):
                for number, name in enumerate(names):  # no type column: from the type terms
                    codes[_postings(searcher, "type", name)[0]] = number
            self._types = (names, codes)
        return self._types

    def lengths(self, searcher: Any, fieldname: str) -> np.ndarray:
        """Each document's encoded field length (one byte each, as Whoosh stores them)."""
        if fieldname not in self._lengths:
            parts = [_segment_lengths(subsearcher.reader(), fieldname) for subsearcher, _ in _segments(searcher)]
            self._lengths[fieldname] = np.frombuffer(b"".join(parts), dtype=np.uint8)
        return self._lengths[fieldname]


def _arrays(searcher: Any) -> _Arrays:
    arrays = getattr(searcher, "_qdocs_arrays", None)
    if arrays is None:
        arrays = searcher._qdocs_arrays = _Arrays(searcher)
    return arrays


def _deleted(reader: Any) -> Iterator[int]:
    per_document = getattr(reader, "_perdoc", None)
    if per_document is not None and hasattr(per_document, "deleted_docs"):
        return iter(per_document.deleted_docs())
    return (number for number in range(reader.doc_count_all()) if reader.is_deleted(number))


def _segment_types(reader: Any, names: list[str], codes: np.ndarray, offset: int) -> bool:
    """Each document's type number in one segment, from the type column (one byte or
    two a document, read at once); False when the segment has no such column."""
    count = reader.doc_count_all()
    column = reader.column_reader("type", translate=False) if reader.has_column("type") else None
    if not isinstance(column, RefBytesColumn.Reader):
        return False
    dtype = np.dtype(">" + column._typecode.replace("B", "u1").replace("H", "u2").replace("I", "u4"))
    references = np.frombuffer(column._dbfile.get(column._basepos, count * column._itemsize), dtype=dtype)
    numbers = {name: number for number, name in enumerate(names)}
    table = np.array([numbers.get(value.decode("utf-8"), len(names)) for value in column._uniques], dtype=np.int32)
    codes[offset:offset + count] = table[references]
    return True


def _segment_lengths(reader: Any, fieldname: str) -> bytes:
    column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
    if column is None:
        return bytes(reader.doc_count_all())
    stored = column._dbfile.get(column._basepos, column._count)
    return stored[:reader.doc_count_all()] + bytes(max(0, reader.doc_count_all() - len(stored)))


# -- scoring ---------------------------------------------------------------------------


class _Unsupported(Exception):
    """A query part the bulk scorer does not score: Whoosh ranks instead."""


def _scores(searcher: Any, parsed: query.Query, matching: Mask) -> np.ndarray:
    """Scores of ``parsed`` for (at least) the documents of ``matching``, one per document."""
    arrays = _arrays(searcher)
    boost = parsed.boost
    if isinstance(parsed, query.Term):
        if searcher.schema[parsed.fieldname].scorable:
            return _term_scores(searcher, parsed.fieldname, parsed.text, boost, matching)
        return _term_mask(searcher, parsed.fieldname, parsed.text, matching) * boost
    if isinstance(parsed, Word):  # one query word: scored once, by its rarest piece
        reader = searcher.reader()
        return _scores(searcher, min(parsed.subqueries, key=lambda child: child.estimate_size(reader)), matching)
    if isinstance(parsed, (query.And, query.Or, query.AndMaybe)):
        children = parsed.subqueries if isinstance(parsed, (query.And, query.Or)) else (parsed.a, parsed.b)
        total = np.zeros(arrays.size, dtype=np.float64)
        for child in children:  # summed in order, as Whoosh sums them
            total += _scores(searcher, child, matching)
        return total
    if isinstance(parsed, query.AndNot):
        return _scores(searcher, parsed.a, matching)
    if isinstance(parsed, query.Phrase):
        return _scores(searcher, _phrase_terms(parsed), matching)
    if isinstance(parsed, (query.Not, query.Every)):
        return np.full(arrays.size, boost, dtype=np.float64)
    if isinstance(parsed, query.MultiTerm):  # scored as its terms (Whoosh 2.7 ignores ``constantscore``)
        terms = [query.Term(parsed.field(), text) for text in _covered(searcher, parsed)]
        return _scores(searcher, query.Or(terms, boost=boost) if len(terms) != 1 else terms[0], matching)
    if isinstance(parsed, (query.NumericRange, query.ConstantScoreQuery)):  # dates: a constant
        return _matching(searcher, parsed, matching) * boost
    raise _Unsupported(type(parsed).__name__)


def _term_scores(searcher: Any, fieldname: str, text: Any, boost: float, matching: Mask) -> np.ndarray:
    """BM25F (Whoosh's formula and defaults) of one term over its whole posting list."""
    b, k1 = 0.75, 1.2
    arrays = _arrays(searcher)
    average = searcher.avg_field_length(fieldname) or 1
    factor = searcher.idf(fieldname, text) * (k1 + 1) * boost
    norms = np.array([k1 * ((1 - b) + b * (byte_to_length(value) if value else 1) / average) for value in range(256)])
    numbers, weights = _postings(searcher, fieldname, text, matching)
    scores = np.zeros(arrays.size, dtype=np.float64)
    scores[numbers] = factor * (weights / (weights + norms[arrays.lengths(searcher, fieldname)[numbers]]))
    return scores
