"""Reading ``record.yaml`` blobs out of git and extracting their facts.

Parsing YAML costs about a millisecond per record, so a repository seen for the
first time (150,000 records: minutes) is parsed by two worker processes while
this one streams the blobs out of one ``git cat-file --batch``.  Small batches
are parsed here.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import yamlio
from .facts import Projection, extract

PARALLEL_FROM = 2000
_CHUNK = 256
_projection: Projection = {}


def extract_blobs(root: Path, missing: list[tuple[bytes, str]], projection: Projection, env: dict[str, str],
                  progress: Callable[[int, int], None] | None = None) -> Iterator[tuple[bytes, str, tuple | None]]:
    """(blob, path, fact or None when unreadable) for every (blob, path) given."""
    workers = min(2, os.cpu_count() or 1)
    pool = None
    if len(missing) >= PARALLEL_FROM and workers > 1:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        pool = context.Pool(workers, initializer=_set_projection, initargs=(projection,))
    _set_projection(projection)
    try:
        chunks = _chunks(_blob_contents(root, missing, env))
        results = pool.imap(_parse_chunk, chunks) if pool else map(_parse_chunk, chunks)
        done = 0
        for chunk in results:
            for item in chunk:
                yield item
            done += len(chunk)
            if progress:
                progress(done, len(missing))
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _set_projection(projection: Projection) -> None:
    global _projection
    _projection = projection


def _parse_chunk(chunk: list[tuple[bytes, str, bytes | None]]) -> list[tuple[bytes, str, tuple | None]]:
    parsed = []
    for blob, path, content in chunk:
        fact = None
        if content is not None:
            try:
                fact = extract(yamlio.load(content.decode("utf-8")), _projection)
            except (yamlio.YAMLError, UnicodeDecodeError, KeyError, TypeError, AttributeError, ValueError):
                fact = None  # hand-damaged: reported as unreadable (qdocs verify says more)
        parsed.append((blob, path, fact))
    return parsed


def _chunks(items: Iterator[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _blob_contents(root: Path, missing: list[tuple[bytes, str]], env: dict[str, str]
                   ) -> Iterator[tuple[bytes, str, bytes | None]]:
    """Stream the blobs through one ``git cat-file --batch`` (fed from a thread)."""
    process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root, env={**os.environ, **env},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    requests = process.stdin

    def feed() -> None:
        try:
            for start in range(0, len(missing), 1000):
                requests.write(b"".join(blob + b"\n" for blob, _ in missing[start:start + 1000]))
            requests.close()
        except (BrokenPipeError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    output = process.stdout
    try:
        for blob, path in missing:
            header = output.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                yield blob, path, None
                continue
            content = output.read(int(header[2]))
            output.read(1)
            yield blob, path, content
    finally:
        output.close()
        process.wait()
        feeder.join()
