"""Turning committed records into index documents, on every core for big jobs.

Reading a record (YAML, the ``.docx`` XML, PDFs) and analysing its text is most of
the cost of indexing, and it is Python.  For big jobs (a rebuild, a catch-up after
a large ``git pull``) one worker process per core does it, each through its own
git object reader, and hands back documents ready for the engine
(:func:`engine.prepare`); the parent only adds them to the one writer, whose own
threads do the rest.  Work is handed out in small chunks through bounded queues,
so memory stays flat however many records there are; a worker that fails or dies
stops the job with one message and nothing changed.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import queue
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import StorageError
from .documents import ReadBlob, record_document
from ..store.listing import RecordFiles
from ..store.objects import ObjectReader
from ..store.recordcache import RecordCache

#: Below this many records, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400
CHUNK = 32
DateFields = dict[str, tuple[str, ...]]
#: (folder, document prepared for the engine or None, problem or None)
Outcome = tuple[str, "dict[str, Any] | None", "str | None"]


def workers_for(count: int) -> int:
    return 1 if count < PARALLEL_THRESHOLD else max(1, os.cpu_count() or 1)


def read_documents(root: Path, sources: Iterable[RecordFiles], date_fields: DateFields,
                   count: int) -> Iterator[Outcome]:
    """One outcome per source (``count`` of them; in the order of the sources when read
    here, in the order the workers finish when read in worker processes), its document
    prepared for the engine.  ``sources`` is read as the work goes (a listing of a million
    records need never be held whole)."""
    chunks = _chunks(sources)
    workers = workers_for(count)
    if workers < 2:
        cache = RecordCache(root)
        try:
            with ObjectReader(root) as reader:
                for chunk in chunks:
                    yield from read_chunk(chunk, reader, cache, date_fields)
        finally:
            cache.close()
        return
    yield from _in_workers(root, chunks, date_fields, workers)


def _chunks(sources: Iterable[RecordFiles]) -> Iterator[list[RecordFiles]]:
    iterator = iter(sources)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk


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
    from . import engine

    try:
        raw = parsed.get(source.yaml_blob)
        if raw is None:
            raw = cache.add(source.yaml_blob, read(source.yaml_blob), f"{source.folder}/record.yaml")
        return source.folder, engine.prepare(record_document(source, raw, read, date_fields)), None
    except Exception as error:  # any damaged file of one record must not stop the others
        return source.folder, None, f"{type(error).__name__}: {error}"


def _in_workers(root: Path, chunks: Iterator[list[RecordFiles]], date_fields: DateFields,
                count: int) -> Iterator[Outcome]:
    """The chunks read by ``count`` worker processes, handed out as they ask for more: a few
    chunks ahead per worker, never the whole job (its listing stays where it is)."""
    context = _context()
    tasks, results = context.Queue(), context.Queue(maxsize=count * 4)
    gc.freeze()  # the parent's objects as they are: a worker's collector does not copy their pages
    workers = [context.Process(target=_worker, args=(root, date_fields, tasks, results)) for _ in range(count)]
    for worker in workers:
        worker.start()
    gc.unfreeze()
    ahead, finished, exhausted = 0, 0, False

    def hand_out() -> None:
        nonlocal ahead, exhausted
        while not exhausted and ahead < count * 3:
            chunk = next(chunks, None)
            if chunk is None:
                exhausted = True
                for _ in workers:
                    tasks.put(None)  # no more work: each worker ends
                return
            tasks.put(chunk)
            ahead += 1

    try:
        hand_out()
        while finished < len(workers):
            try:
                kind, payload = results.get(timeout=1.0)
            except queue.Empty:
                dead = [worker.exitcode for worker in workers if worker.exitcode not in (None, 0)]
                if dead:
                    raise StorageError(f"an indexing process died (exit status {dead[0]}); nothing was changed")
                continue
            if kind == "error":
                raise StorageError(f"indexing failed: {payload}; nothing was changed")
            if kind == "done":
                finished += 1
                continue
            ahead -= 1
            hand_out()
            yield from payload
    finally:
        for worker in workers:
            if worker.is_alive() and finished < len(workers):
                worker.terminate()
        while any(worker.is_alive() for worker in workers):  # a worker blocked on a full queue
            try:
                results.get(timeout=0.1)
            except queue.Empty:
                pass
        for worker in workers:
            worker.join()
        # chunks no worker took (it failed, say on a full disk) stay behind: without this the
        # process waited for ever, at the queue's end, to hand them to nobody
        tasks.cancel_join_thread()
        tasks.close()


def _worker(root: Path, date_fields: DateFields, tasks: Any, results: Any) -> None:
    try:
        cache = RecordCache(root)
        with ObjectReader(root) as reader:
            for chunk in iter(tasks.get, None):
                results.put(("chunk", read_chunk(chunk, reader, cache, date_fields)))
        cache.close()
        results.put(("done", None))
    except BaseException as error:  # reported to the parent, which stops the job
        results.put(("error", f"{type(error).__name__}: {error}"))


def _context() -> Any:
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
