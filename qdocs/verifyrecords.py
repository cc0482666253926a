"""Checking every record of the work tree for ``qdocs verify``, on every core when there are many.

Each record is checked alone (:func:`qdocs.verification.check_record`: its files'
hashes, its signatures under the keys and roles of their time, the chain's events
for it), so the records can be split between processes.  From
:data:`PARALLEL_FROM` records on, the folders are split into one contiguous share
per core; the parent forks a process for each share but its own (each inherits
the loaded event chain, trust state and cached ``record.yaml`` contents, read
once), checks its share, and collects the others' results in folder order, so
the report is the same, finding for finding, as one process would make it.
A child gets a record cache of its own (a database connection must not cross a
``fork``) and ends with ``os._exit``, so nothing the parent owns is closed twice.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .errors import StorageError
from .findings import Finding
from .queries import record_folders_with_names
from .records import Record
from .store.recordcache import Known, RecordCache

if TYPE_CHECKING:
    from .repository import Repository

#: From this many records, one process per core (below, forking costs more than it saves).
PARALLEL_FROM = 2_000
Check = Callable[[Record, list[str]], list[Finding]]


@dataclass
class Checked:
    """What checking one record found."""

    record_id: str
    path: str
    signatures: int
    findings: list[Finding]


def check_every_record(repository: "Repository", check: Check,
                       progress: Callable[[int], None] | None = None) -> list[Checked]:
    """Every record folder of the work tree checked with ``check``, in folder order."""
    folders = list(record_folders_with_names(repository))
    known = repository.record_cache.known()
    workers = _workers(len(folders))
    if workers < 2:
        return _check_share(repository, repository.record_cache, folders, known, check, progress, 1)
    size = -(-len(folders) // workers)
    shares = [folders[start:start + size] for start in range(0, len(folders), size)]
    context = multiprocessing.get_context("fork")
    children = []
    for share in shares[1:]:
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(repository, share, known, check, sending), daemon=True)
        child.start()
        sending.close()
        children.append((child, receiving))
    try:
        results = _check_share(repository, repository.record_cache, shares[0], known, check, progress, len(shares))
        for child, receiving in children:
            results.extend(_received(child, receiving))
    finally:
        for child, receiving in children:
            if child.is_alive():
                child.terminate()
            child.join()
            receiving.close()
    if progress:
        progress(len(folders))
    return results


def _check_share(repository: "Repository", cache: RecordCache, folders: list[tuple[str, list[str]]], known: Known,
                 check: Check, progress: Callable[[int], None] | None, scale: int) -> list[Checked]:
    """The records of ``folders`` (parsed through ``cache``, with the sha256 of each
    ``record.yaml``) checked; ``progress`` told of the whole job's estimated count."""
    root = str(repository.root)
    results = []
    try:
        for number, (folder, names) in enumerate(folders, start=1):
            with open(f"{root}/{folder}/record.yaml", "rb") as handle:
                raw, digest = cache.parse(f"{folder}/record.yaml", handle.read(), known)
            record = Record.from_dict(raw, folder)
            record.yaml_sha256 = digest
            results.append(Checked(record.id, record.path, len(record.signatures), check(record, names)))
            if progress:
                progress(number * scale)
    finally:
        cache.flush()
    return results


def _child(repository: "Repository", folders: list[tuple[str, list[str]]], known: Known, check: Check,
           sending: Any) -> None:
    code = 0
    try:
        cache = RecordCache(repository.root)  # its own connection; the inherited one is left alone
        payload = ("done", _check_share(repository, cache, folders, known, check, None, 1))
        cache.close()
    except BaseException as error:  # reported to the parent, which stops the command
        payload, code = ("error", f"{type(error).__name__}: {error}"), 1
    try:
        sending.send_bytes(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(code)


def _received(child: Any, receiving: Any) -> list[Checked]:
    try:
        kind, payload = pickle.loads(receiving.recv_bytes())
    except EOFError:
        child.join()
        raise StorageError(f"a process checking records ended unexpectedly (exit status {child.exitcode}); "
                           "nothing was changed: run qdocs verify again") from None
    if kind == "error":
        raise StorageError(f"a process checking records failed: {payload}; nothing was changed")
    return payload


def _workers(count: int) -> int:
    if count < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, os.cpu_count() or 1)
