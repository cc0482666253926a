"""Searches as the search page makes them: in the request's thread, or in processes of their own.

A search of a large index is some tens of milliseconds of Python (ranking, counting per
type, reading stored fields, cutting snippets).  In a thread of the server it holds the
interpreter's lock meanwhile, and the engine's open searcher serves one search at a time,
so with twenty people clicking, searches queue behind each other and behind every other
page.  So in a repository of at least :data:`PROCESSES_FROM` records, searches are made by
a small pool of worker processes (:data:`PROCESSES`, started with ``spawn`` on the first
such search: fresh interpreters, nothing of the server's threads copied), each keeping its
own open searcher; the server's threads go on serving meanwhile and the machine's other
cores get used.  A smaller repository is searched in the request's own thread (a search
there takes a few milliseconds; two idle interpreters would cost more than they save).
The decision goes by the number of records, not by timing searches, so that the same
repository is always searched the same way.

A worker searches as the request's thread would: it brings the index up to HEAD first only
while the server's writer keeps it current and nobody else is indexing (waiting at most
:data:`CATCH_UP_WAIT`); otherwise it reads the index as it is, the index worker
(:mod:`.auditing`) brings it up to date, and the page says of which commit it speaks.
"""

from __future__ import annotations

import threading
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ..repository import Repository
from ..search.index import SearchIndex
from ..search.model import Filters, Found
from .auditing import WorkerPool

#: worker processes searching at once (each holds its own open searcher)
PROCESSES = 2
#: a repository of at least this many records is searched by the worker processes
PROCESSES_FROM = 20_000
#: how long a search waits for another process indexing a new commit (seconds)
CATCH_UP_WAIT = 0.05


@dataclass
class Answer:
    """What a search found, and of which commit the index was when it answered."""

    found: Found
    indexed: str | None


class Searcher:
    """Searches of one repository, here or in the worker processes (see the module's description)."""

    def __init__(self, root: Path, processes: int = PROCESSES, processes_from: int = PROCESSES_FROM) -> None:
        self.root = root
        self.processes = processes
        self.processes_from = processes_from
        #: the engine keeps one open searcher per process: searches made here take turns on it
        self.lock = threading.Lock()
        self.workers = WorkerPool(processes)

    def search(self, repository: Repository, records: int, text: str, filters: Filters, limit: int,
               catch_up: bool) -> Answer:
        """The records matching ``text`` in a repository of ``records`` records; with
        ``catch_up`` the index first catches up with HEAD when nobody else is indexing (the
        writer of this process keeps it current)."""
        wait = CATCH_UP_WAIT if catch_up else -1
        if self.processes <= 0 or records < self.processes_from:
            with self.lock:
                return search_here(repository, text, filters, limit, wait)
        try:
            return self.workers.get().submit(search_in_worker, str(self.root), text, filters, limit, wait).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): start new ones, search once more
            self.close()
            return self.workers.get().submit(search_in_worker, str(self.root), text, filters, limit, wait).result()

    def close(self) -> None:
        self.workers.close()


def search_here(repository: Repository, text: str, filters: Filters, limit: int, catch_up_wait: float) -> Answer:
    index = SearchIndex(repository)
    found = index.search(text, filters, limit, catch_up_wait=catch_up_wait)
    return Answer(found, index.indexed_commit())


#: the worker's repository, opened again when HEAD moves (a search reads HEAD's catalog)
_opened: dict[str, tuple[str | None, Repository]] = {}


def search_in_worker(root: str, text: str, filters: Filters, limit: int, catch_up_wait: float) -> Answer:
    """A search made in a worker process, as :func:`search_here` makes it."""
    return search_here(_repository(root), text, filters, limit, catch_up_wait)


def _repository(root: str) -> Repository:
    known = _opened.get(root)
    if known is not None:
        head = known[1].git.head()
        if head == known[0]:
            return known[1]
        known[1].close()
    repository = Repository.open(Path(root))
    _opened[root] = (repository.git.head(), repository)
    return repository
