"""Turning committed records into index documents, on every core for big jobs.

A rebuild runs one worker process per core; each reads records (YAML, the
``.docx`` XML, PDFs: most of the cost) through its own git object reader and
writes its own index segment, and the parent commits the segments together.
Smaller jobs (a catch-up after ``git pull``) read in a process pool and feed
one writer.  Work is handed out in small chunks, so memory stays flat however
many records there are.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import StorageError
from ..store.crashpoints import crash_point
from .documents import ReadBlob, record_document
from ..store.listing import RecordFiles
from ..store.objects import ObjectReader
from ..store.recordcache import RecordCache

#: Below this many records, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400
CHUNK = 32
DateFields = dict[str, tuple[str, ...]]
#: (folder, document or None, problem or None)
Outcome = tuple[str, "dict[str, Any] | None", "str | None"]

_reader: ObjectReader | None = None
_cache: RecordCache | None = None
_date_fields: DateFields = {}


def workers_for(count: int) -> int:
    return 1 if count < PARALLEL_THRESHOLD else max(1, os.cpu_count() or 1)


def read_chunk(chunk: list[RecordFiles], reader: ObjectReader, cache: RecordCache,
               date_fields: DateFields) -> list[Outcome]:
    """The records of a chunk, their files fetched from git in one exchange, their
    ``record.yaml`` parsed once per content ever (:mod:`qdocs.store.recordcache`)."""
    parsed = cache.bodies(source.yaml_blob for source in chunk)
    fetched = reader.read_many([blob for source in chunk for blob in source.blobs
                                if blob != source.yaml_blob or blob not in parsed])
    outcomes = [read_one(source, fetched.__getitem__, cache, parsed, date_fields) for source in chunk]
    cache.flush()
    return outcomes


def read_one(source: RecordFiles, read: ReadBlob, cache: RecordCache, parsed: dict[str, Any],
             date_fields: DateFields) -> Outcome:
    try:
        raw = parsed.get(source.yaml_blob)
        if raw is None:
            raw = cache.add(source.yaml_blob, read(source.yaml_blob), f"{source.folder}/record.yaml")
        return source.folder, record_document(source, raw, read, date_fields), None
    except Exception as error:  # any damaged file of one record must not stop the others
        return source.folder, None, f"{type(error).__name__}: {error}"


def read_documents(root: Path, sources: list[RecordFiles], date_fields: DateFields) -> Iterator[Outcome]:
    """One outcome per source, in order."""
    workers = workers_for(len(sources))
    if workers < 2:
        cache = RecordCache(root)
        try:
            with ObjectReader(root) as reader:
                for start in range(0, len(sources), CHUNK):
                    yield from read_chunk(sources[start:start + CHUNK], reader, cache, date_fields)
        finally:
            cache.close()
        return
    with _context().Pool(workers, initializer=_start_reader, initargs=(root, date_fields)) as pool:
        pending: collections.deque = collections.deque()
        for start in range(0, len(sources), CHUNK):
            pending.append(pool.apply_async(_read_chunk, (sources[start:start + CHUNK],)))
            if len(pending) >= workers * 3:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def build_segments(root: Path, directory: Path, sources: list[RecordFiles], date_fields: DateFields,
                   progress: Callable[[int], None]) -> tuple[list[Any], list[str]]:
    """Index ``sources`` into new segments of the index in ``directory``, one per worker.

    Returns the segments (for :func:`engine.commit_segments`) and the records
    that could not be read.
    """
    context = _context()
    tasks, results = context.Queue(), context.Queue()
    for start in range(0, len(sources), CHUNK):
        tasks.put(sources[start:start + CHUNK])
    workers = [context.Process(target=_segment_worker, args=(root, directory, date_fields, tasks, results))
               for _ in range(workers_for(len(sources)))]
    for worker in workers:
        tasks.put(None)
        worker.start()
    segments: list[Any] = []
    problems: list[str] = []
    done = 0
    try:
        while len(segments) < len(workers):
            try:
                kind, payload = results.get(timeout=1.0)
            except queue.Empty:
                dead = [worker.exitcode for worker in workers if worker.exitcode not in (None, 0)]
                if dead:
                    raise StorageError(f"an indexing process died (exit status {dead[0]}); nothing was changed")
                continue
            if kind == "error":
                raise StorageError(f"indexing failed: {payload}; nothing was changed")
            if kind == "segment":
                segments.append(payload)
                continue
            done += payload[0]
            problems.extend(payload[1])
            progress(done)
            crash_point("index-write")
    finally:
        for worker in workers:
            if worker.is_alive() and len(segments) < len(workers):
                worker.terminate()
            worker.join()
        # chunks no worker took (it failed, say on a full disk) stay behind: without this the
        # process waited for ever, at the queue's end, to hand them to nobody
        tasks.cancel_join_thread()
        tasks.close()
    return segments, problems


def _segment_worker(root: Path, directory: Path, date_fields: DateFields, tasks: Any, results: Any) -> None:
    from . import engine

    try:
        builder = engine.SegmentBuilder(directory)
        cache = RecordCache(root)
        with ObjectReader(root) as reader:
            for chunk in iter(tasks.get, None):
                problems = []
                for folder, document, problem in read_chunk(chunk, reader, cache, date_fields):
                    if document is None:
                        problems.append(f"{folder} ({problem})")
                    else:
                        builder.put(document)
                results.put(("progress", (len(chunk), problems)))
        cache.close()
        results.put(("segment", builder.finish()))
    except BaseException as error:  # reported to the parent, which stops the build
        results.put(("error", f"{type(error).__name__}: {error}"))


def _context() -> Any:
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)


def _start_reader(root: Path, date_fields: DateFields) -> None:
    global _reader, _cache, _date_fields
    _reader, _cache, _date_fields = ObjectReader(root), RecordCache(root), date_fields


def _read_chunk(chunk: list[RecordFiles]) -> list[Outcome]:
    assert _reader is not None and _cache is not None
    return read_chunk(chunk, _reader, _cache, _date_fields)
