"""The search engine: Whoosh 2.7.4 behind this one package; nothing else in qdocs imports Whoosh.

Another engine replaces this package: what the rest of qdocs uses is here
(``create``, ``Writer``, ``SegmentBuilder``, ``commit_segments``, ``search``,
``indexed_fingerprints``, ``check_readable``, ``ENGINE_ERRORS``).  Whoosh is
pinned (``whoosh==2.7.4``, its last release, 2016): ``whoosh-reloaded`` changes
nothing qdocs relies on and is itself unmaintained, and some of what is here
reads Whoosh internals that only a pin keeps still.  Whoosh allows one writer
at a time; qdocs serialises writers with its own lock (:mod:`qdocs.search.index`).

- :mod:`.schema`: fields, the Chinese/English analysis wrapped for Whoosh, writing;
- :mod:`.parsing`: the query syntax, filters, what a snippet marks;
- :mod:`.evaluation`: matches, BM25F ranking and counts over whole posting lists (NumPy).
"""

from __future__ import annotations

import pickle
import struct
from pathlib import Path
from typing import Any

from whoosh import index

from ..model import Filters, Found, Hit
from ..snippets import snippet
from .evaluation import best, count, count_types, documents, forget_blocks
from .parsing import needles, parse, restriction, widen_single_characters
from .schema import SegmentBuilder, Writer, commit_segments, create, stem

__all__ = ["ENGINE_ERRORS", "SegmentBuilder", "Writer", "check_readable", "commit_segments", "create",
           "indexed_fingerprints", "search"]

#: What reading a damaged index raises (Whoosh has no error type of its own for it).
ENGINE_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, AttributeError, TypeError,
                 ImportError, index.IndexError, pickle.UnpicklingError, struct.error)


def search(directory: Path, text: str, filters: Filters, limit: int) -> Found:
    """The best ``limit`` records, ranked (BM25F), with snippets and counts per type."""
    searcher = _searcher(directory)
    forget_blocks(searcher)
    try:
        parsed = parse(searcher.schema, text)
        spans = needles(parsed).finder(stem)
        parsed = widen_single_characters(parsed, searcher.reader())
        matching = documents(searcher, parsed)
        limits = restriction(filters)
        if limits is not None:
            matching &= documents(searcher, limits)
        hits = []
        for number, score in best(searcher, parsed, matching, limit):
            stored = searcher.stored_fields(number)
            content = stored.pop("content", "")
            hits.append(Hit(stored, score, snippet(content, spans(content))))
        return Found(hits, count(matching), count_types(searcher, matching))
    except ENGINE_ERRORS:
        _forget()
        raise
    finally:
        forget_blocks(searcher)


#: The searcher of the last index searched, kept open while that index is unchanged:
#: opening one reads per-document tables (about 25 ms at 100,000 records), which a
#: process searching many times (a server, the benchmark) then pays once.
_open: dict[str, Any] = {}


def _searcher(directory: Path) -> Any:
    key = str(directory)
    searcher = _open.get(key)
    if searcher is not None:
        try:
            if searcher.up_to_date():
                return searcher
        except ENGINE_ERRORS:
            pass
    _forget()
    searcher = _open[key] = index.open_dir(key).searcher()
    return searcher


def _forget() -> None:
    for searcher in _open.values():
        try:
            searcher.close()
        except ENGINE_ERRORS:
            pass
    _open.clear()


def indexed_fingerprints(directory: Path) -> dict[str, str]:
    """path → fingerprint of every indexed record, from columns (no stored text read)."""
    with index.open_dir(str(directory)).reader() as reader:
        paths, prints = reader.column_reader("path"), reader.column_reader("fingerprint")
        return {paths[number]: prints[number] for number in reader.all_doc_ids()}


def check_readable(directory: Path) -> int:
    """The number of indexed records; raises one of ENGINE_ERRORS when the index is damaged."""
    with index.open_dir(str(directory)).searcher() as searcher:
        return searcher.doc_count()
