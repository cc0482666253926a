"""The search engine: Whoosh 2.7.4 behind this one package; nothing else in qdocs imports Whoosh.

Another engine replaces this package: what the rest of qdocs uses is here
(``create``, ``Writer``, ``SegmentBuilder``, ``commit_segments``,
``committed_files``, ``search``, ``indexed_fingerprints``, ``FORMAT_ERRORS``,
``SOURCE``).  Whoosh is pinned (``whoosh==2.7.4``, its last release, 2016):
``whoosh-reloaded`` changes nothing qdocs relies on and is itself unmaintained,
and some of what is here reads Whoosh internals that only a pin keeps still.
Whoosh allows one writer at a time; qdocs serialises writers with its own lock
(:mod:`qdocs.search.index`).  Readers open the index as of one Whoosh commit
(its *table of contents*, ``toc``), the one ``state.json`` names, never a newer
one a writer may be putting in place (:mod:`qdocs.search.manifest`).

- :mod:`.schema`: fields, the Chinese/English analysis wrapped for Whoosh, writing;
- :mod:`.parsing`: the query syntax, filters, what a snippet marks;
- :mod:`.evaluation`: matches, BM25F ranking and counts over whole posting lists (NumPy).
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import whoosh
from whoosh import index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import FileFormatError

from ..model import Filters, Found, Hit
from ..snippets import snippet
from .evaluation import best, count, count_types, documents, forget_blocks
from .parsing import needles, parse, restriction, widen_single_characters
from .schema import SegmentBuilder, Writer, commit_segments, create, stem

__all__ = ["FORMAT_ERRORS", "SOURCE", "SegmentBuilder", "Writer", "commit_segments", "committed_files", "create",
           "indexed_fingerprints", "search"]

#: What decoding a file that is not in the format written raises, wherever it is
#: raised (see :mod:`qdocs.search.damage` for the rest of that decision).
FORMAT_ERRORS = (EOFError, struct.error, zlib.error, pickle.UnpicklingError, index.IndexError, FileFormatError)
#: Where the engine's code is: a KeyError raised there is its decoder's, not a bug of qdocs.
SOURCE = os.path.dirname(whoosh.__file__) + os.sep
_NAME = index._DEF_INDEX_NAME


def search(directory: Path, toc: int, text: str, filters: Filters, limit: int) -> Found:
    """The best ``limit`` records, ranked (BM25F), with snippets and counts per type."""
    searcher = _searcher(directory, toc)
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
    except Exception:
        _forget()
        raise
    finally:
        forget_blocks(searcher)


def indexed_fingerprints(directory: Path, toc: int) -> dict[str, str]:
    """path → fingerprint of every indexed record, from columns (no stored text read)."""
    with _Pinned(directory, toc).reader() as reader:
        if not reader.doc_count_all():  # an index without segments has no columns at all
            return {}
        paths, prints = reader.column_reader("path"), reader.column_reader("fingerprint")
        return {paths[number]: prints[number] for number in reader.all_doc_ids()}


def committed_files(directory: Path) -> tuple[int, list[str]]:
    """The latest Whoosh commit of the index in ``directory`` and the files it uses
    (its table of contents and its segments' files).  Asked by the writer that made it."""
    contents = index.TOC.read(FileStorage(str(directory)), _NAME)
    segments = {segment.segment_id() for segment in contents.segments}
    names = [name for name in os.listdir(directory) if name.split(".", 1)[0] in segments]
    return contents.generation, [index.TOC._filename(_NAME, contents.generation), *sorted(names)]


class _Pinned(index.FileIndex):
    """The index as of Whoosh commit ``toc``, read once: Whoosh's own reader would
    open the latest commit and wait half a second for a file that is gone."""

    def __init__(self, directory: Path, toc: int) -> None:
        self.storage, self._schema, self.indexname, self._toc = FileStorage(str(directory)), None, _NAME, toc

    def _read_toc(self) -> Any:
        return index.TOC.read(self.storage, self.indexname, gen=self._toc)

    def latest_generation(self) -> int:
        return self._toc

    def reader(self, reuse: Any = None) -> Any:
        contents = self._read_toc()
        return self._reader(self.storage, contents.schema, contents.segments, contents.generation, reuse=reuse)


#: The searcher of the last index searched, kept open while that index is unchanged:
#: opening one reads per-document tables (about 25 ms at 100,000 records), which a
#: process searching many times (a server, the benchmark) then pays once.
_open: dict[tuple[str, int], Any] = {}


def _searcher(directory: Path, toc: int) -> Any:
    key = (str(directory), toc)
    searcher = _open.get(key)
    if searcher is None:
        _forget()
        searcher = _open[key] = _Pinned(directory, toc).searcher()
    return searcher


def _forget() -> None:
    for searcher in _open.values():
        try:
            searcher.close()
        except Exception:  # closing what may be damaged: nothing more to learn from it
            pass
    _open.clear()
