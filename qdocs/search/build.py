"""Turning committed records into index documents, on every core for big jobs.

Reading a record (YAML, the ``.docx`` XML, PDFs) is most of the cost of
indexing it, so a rebuild reads records in worker processes (each with its own
``git cat-file``) while the parent only feeds the index writer.  At most a few
chunks are in flight, so memory stays flat however many records there are.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
from pathlib import Path
from typing import Any, Iterator

from .documents import ReadBlob, record_document
from .source import BlobReader, RecordSource

#: Below this many records, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400
CHUNK = 32

#: (folder, document or None, problem or None)
Outcome = tuple[str, "dict[str, Any] | None", "str | None"]

_reader: BlobReader | None = None
_date_fields: dict[str, tuple[str, ...]] = {}


def read_documents(root: Path, sources: list[RecordSource], date_fields: dict[str, tuple[str, ...]],
                   workers: int | None = None) -> Iterator[Outcome]:
    """One outcome per source, in order; a record that cannot be read gives its problem."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(sources) < PARALLEL_THRESHOLD:
        with BlobReader(root) as reader:
            for source in sources:
                yield read_one(source, reader.read, date_fields)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with context.Pool(workers, initializer=_start_worker, initargs=(root, date_fields)) as pool:
        pending: collections.deque = collections.deque()
        chunks = (sources[start:start + CHUNK] for start in range(0, len(sources), CHUNK))
        for chunk in chunks:
            pending.append(pool.apply_async(_work, (chunk,)))
            if len(pending) >= workers * 3:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def read_one(source: RecordSource, read: ReadBlob, date_fields: dict[str, tuple[str, ...]]) -> Outcome:
    try:
        return source.folder, record_document(source, read, date_fields), None
    except Exception as error:  # any damaged file of one record must not stop the others
        return source.folder, None, f"{type(error).__name__}: {error}"


def _start_worker(root: Path, date_fields: dict[str, tuple[str, ...]]) -> None:
    global _reader, _date_fields
    _reader, _date_fields = BlobReader(root), date_fields


def _work(chunk: list[RecordSource]) -> list[Outcome]:
    assert _reader is not None
    return [read_one(source, _reader.read, _date_fields) for source in chunk]
