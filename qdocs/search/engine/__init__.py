"""The search engine: tantivy behind this one package; nothing else in qdocs imports it.

Why tantivy (README, Search): a search process must answer in a small fraction
of a second at a million records, and an index rebuild keep up with both cores;
Whoosh, pure Python and unmaintained since 2016, spent most of a search process
importing itself and NumPy, and built at about 300 records a second.  tantivy is
a maintained engine in Rust (the one Paperless-ngx moved to), loads in a few
milliseconds and reads its files through memory maps.  qdocs keeps its own
analysis (Chinese n-grams, stemmed English, word groups), its query syntax and
its snippets; tantivy keeps the terms, ranks them (BM25) and counts.

What the rest of qdocs uses is here: ``create``, ``Writer``, ``prepare``,
``committed_files``, ``repair_bookkeeping``, ``search``, ``indexed_fingerprints``,
``FORMAT_ERRORS``, ``SOURCE``, ``ENGINE_FILES``.  tantivy allows one writer per index; qdocs
serialises writers with its own lock (:mod:`qdocs.search.index`).  Readers open
the commit ``state.json`` names, once its files are checked against it
(:mod:`qdocs.search.manifest`).

- :mod:`.schema`: fields, what a record becomes in the index, writing;
- :mod:`.parsing`: the query syntax;
- :mod:`.querying`: queries for tantivy, phrases, what a snippet marks.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import tantivy

from ..analysis import fold
from ..model import Filters, Found, Hit
from ..snippets import snippet
from .parsing import DateRange, Terms, parse
from .querying import Compiler, needles
from .schema import ORDER_FIELD, Writer, create, microseconds, prepare, shown_fields, stem

__all__ = ["ENGINE_FILES", "FORMAT_ERRORS", "SOURCE", "VERSION", "EngineFailure", "Writer", "committed_files", "create",
           "indexed_fingerprints", "prepare", "repair_bookkeeping", "search", "stem"]


class EngineFailure(ValueError):
    """tantivy stopped on what it read (a panic in its code): the files are not as written."""


#: What reading files that are not as written raises (see :mod:`qdocs.search.damage`):
#: the binding reports tantivy's errors as ``ValueError``; a panic becomes :class:`EngineFailure`.
FORMAT_ERRORS = (ValueError, EngineFailure)
#: Where the engine's Python code is (tantivy's is compiled: its errors carry no frames).
SOURCE = os.path.dirname(tantivy.__file__) + os.sep
#: Which engine wrote an index (``state.json``): an index another version wrote is rebuilt.
VERSION = tantivy.__version__  # e.g. "tantivy v0.27.0, index_format v7"
#: tantivy's own bookkeeping files in an index folder: kept, never named in ``state.json``.
ENGINE_FILES = frozenset({".managed.json", ".tantivy-meta.lock", ".tantivy-writer.lock"})
_META = "meta.json"
_MANAGED = ".managed.json"


def search(directory: Path, toc: int, text: str, filters: Filters, limit: int) -> Found:
    """The best ``limit`` records (BM25), with snippets and counts per type."""
    parsed = parse(text)
    with _panics_as_failures():
        return _search(directory, toc, parsed, filters, limit)


@contextlib.contextmanager
def _panics_as_failures() -> Iterator[None]:
    """A panic of tantivy (pyo3's ``PanicException``, a BaseException) as :class:`EngineFailure`."""
    try:
        yield
    except BaseException as error:
        if type(error).__name__ == "PanicException":
            raise EngineFailure(str(error)) from None
        raise


def _search(directory: Path, toc: int, parsed: Any, filters: Filters, limit: int) -> Found:
    index, searcher = _searcher(directory, toc)
    schema = index.schema

    def check(found: Any, pattern: re.Pattern) -> list[str]:
        total = searcher.search(found, 1, count=True).count
        paths = []
        for _, address in searcher.search(found, max(total, 1), count=False).hits:
            fields = json.loads(searcher.doc(address).get_first("stored"))
            if pattern.search(fields.get("content", "")):
                paths.append(fields["path"])
        return paths

    compiler = Compiler(tantivy, schema, check)
    query = compiler.query(parsed)
    limits = _restriction(compiler, filters)
    if limits:
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                             *((tantivy.Occur.Must, part) for part in limits)])
    total = searcher.search(query, 1, count=True).count
    spans = needles(parsed).finder(stem)
    hits = []
    for score, address in _best(searcher, query, limit, total):
        fields = shown_fields(searcher.doc(address).get_first("stored"))
        content = fields.pop("content", "")
        hits.append(Hit(fields, score, snippet(content, spans(content))))
    per_type: dict[str, int] = {}
    if total:
        answer = searcher.aggregate(query, {"types": {"terms": {"field": "type", "size": 65_000}}})
        per_type = {bucket["key"]: int(bucket["doc_count"]) for bucket in answer["types"]["buckets"]
                    if bucket["doc_count"]}
    return Found(hits, total, per_type)


#: Most hits read to put a group of equal scores in order (see :func:`_best`).
TIE_WINDOW = 65_536


def _best(searcher: Any, query: Any, limit: int, total: int) -> list[tuple[float, Any]]:
    """The best ``limit`` hits by score (BM25), equal scores newest first (``order``), the
    same whatever the index's segments.  tantivy breaks ties by where a record sits in
    the index, which changes as segments merge; so enough hits are read to hold the
    whole group of equal scores at the cut, and ordered here.  When even the best hit
    ties with the one at the cut (``*``, a field or a date range alone, where every
    score is the same), tantivy orders them by ``order`` itself.  A tie group larger
    than :data:`TIE_WINDOW` that does not start at the top is cut where tantivy cuts it."""
    if not total or limit <= 0:
        return []
    fetch = min(total, max(2 * limit + 1, 64))
    while True:
        hits = searcher.search(query, fetch, count=False).hits
        if len(hits) <= limit or hits[limit - 1][0] > hits[-1][0] or fetch >= total:
            break
        if hits[0][0] == hits[limit - 1][0]:
            ordered = searcher.search(query, limit, count=False, order_by_field=ORDER_FIELD,
                                      order=tantivy.Order.Desc).hits
            return [(hits[0][0], address) for _, address in ordered]
        if fetch >= TIE_WINDOW:
            break
        fetch = min(total, fetch * 4)
    keys = searcher.fast_field_values(ORDER_FIELD, [address for _, address in hits])
    ranked = sorted(zip(hits, keys), key=lambda pair: (-pair[0][0], -(pair[1] or 0)))
    return [hit for hit, _ in ranked[:limit]]


def _restriction(compiler: Compiler, filters: Filters) -> list[Any]:
    """The command's filter options (--type, --product, --lot, --status, --from, --to) as queries."""
    nodes: list[Any] = [Terms(name, (value,)) for name, value in (
        ("type", filters.type), ("status", filters.status),
        ("product", fold(filters.product or "")), ("lot", fold(filters.lot or ""))) if value]
    if filters.date_from or filters.date_to:
        low = microseconds(_dt.datetime.combine(filters.date_from, _dt.time.min)) if filters.date_from else None
        high = microseconds(_dt.datetime.combine(filters.date_to, _dt.time.max)) if filters.date_to else None
        nodes.append(DateRange("date", low, high))
    return [compiler.query(node) for node in nodes]


def indexed_fingerprints(directory: Path, toc: int) -> dict[str, str]:
    """path → fingerprint of every indexed record, from the term dictionary (no stored text read)."""
    with _panics_as_failures():
        _, searcher = _searcher(directory, toc)
        pairs = searcher.terms_with_prefix("pathprint", "", filter_query=tantivy.Query.all_query())
    found = {}
    for term, count in pairs:
        if count:
            path, _, fingerprint = term.partition("\t")
            found[path] = fingerprint
    return found


def repair_bookkeeping(directory: Path) -> None:
    """tantivy's list of the files it manages (``.managed.json``), when it no longer reads
    as one, is removed: tantivy starts a new one, and ``state.json`` (not this list)
    says which files are the index.  Only under the index lock."""
    path = directory / _MANAGED
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(listed, list) and all(isinstance(name, str) for name in listed):
            return
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        pass
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def committed_files(directory: Path) -> tuple[int, list[str], str]:
    """The latest tantivy commit of the index in ``directory`` (its operation stamp),
    the files it is made of (``meta.json`` and its segments' files), and the one of
    them tantivy rewrites in place at each commit (``meta.json``).  Asked by the writer
    that made it."""
    meta = json.loads((directory / _META).read_text(encoding="utf-8"))
    names = [_META]
    for segment in meta.get("segments", []):
        prefix = segment["segment_id"].replace("-", "")
        deletes = segment.get("deletes")
        for name in os.listdir(directory):
            stem_, _, extension = name.partition(".")
            if stem_ != prefix:
                continue
            if extension.endswith("del"):
                if deletes and name == f"{prefix}.{deletes['opstamp']}.del":
                    names.append(name)
            else:
                names.append(name)
    return int(meta.get("opstamp", 0)), sorted(names), _META


def _searcher(directory: Path, toc: int) -> tuple[Any, Any]:
    """The index and a searcher of it, opened for one read and let go after it.  Not kept
    open between reads: tantivy maps its files into memory, and a process holding the
    map of a file that something outside qdocs then cuts short dies of SIGBUS at its
    next read, where a file checked against ``state.json`` just before opening it is
    damage found and healed.  Opening costs milliseconds (a few small files read)."""
    index = tantivy.Index.open(str(directory))
    return index, index.searcher()
