"""The repository as the web application uses it from many threads at once.

- Reading: each thread has its own :class:`~qdocs.repository.Repository` (its record cache
  holds an SQLite connection, which belongs to the thread that opened it), opened again
  whenever HEAD has moved, so a commit made by another process (the command line, a
  sync) is seen at the next request with the catalog and the trust state in force then.
  Reading HEAD is two small file reads (:meth:`qdocs.store.runner.Git.head`).
- Writing: one writer at a time in this process (:attr:`Workspace.write_lock`; the
  repository's own file lock keeps out other processes), on a repository opened for that
  write with the hook that keeps the search index current.
- A request reads one commit: HEAD is read once when it begins (:meth:`Workspace.begin_request`).
- What is derived from a whole commit is made once per commit and shared by every thread:
  the list of records brought up to date from the previous commit's
  (:meth:`Workspace.derived`, :mod:`.listing`); the audit, which reads every record, made
  in the background while the pages show the last one finished and say of which commit
  (:meth:`Workspace.latest`), so that writers committing every second do not make every
  reader wait for a new audit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ..demo import demo_keys
from ..hooks import run_after_commit
from ..keys import qdocs_home
from ..repository import Repository
from ..store.runner import Git
from ..trust.credentials import adopt_trust_state, trust_state
from .auditing import WorkerProcess, audit_in_worker, index_in_worker
from .searching import Searcher
from .settings import Settings

Value = TypeVar("Value")
#: the longest the search index may take to catch up inside a request (seconds)
INDEX_HERE_MOST = 0.25
#: the longest a background maker rests between two makings (seconds)
MOST_REST = 10.0
log = logging.getLogger("qdocs.web")


class Workspace:
    def __init__(self, path: str | Path, settings: Settings) -> None:
        first = Repository.open(path)  # refuses what is not a records repository, now
        self.root = first.root
        self.settings = settings
        self.keys_home = keys_home(first, settings)
        first.close()
        self.git = Git(self.root)
        self.write_lock = threading.Lock()
        #: searches, in the request's thread or in worker processes (:mod:`.searching`)
        self.searcher = Searcher(self.root, settings.search_processes, settings.search_processes_from)
        self._local = threading.local()
        self._derived: dict[str, tuple[str | None, Any]] = {}
        self._derived_locks: dict[str, threading.Lock] = {}
        self._workers: dict[str, threading.Thread] = {}
        self._seconds: dict[str, float] = {}  # how long each was last made
        self._shared: dict[str | None, tuple[Any, Any]] = {}  # head -> (catalog, trust state)
        #: the processes that audit a large repository and keep its search index current in the
        #: background (each started when first needed)
        self.audit_worker = WorkerProcess(audit_in_worker)
        self.index_worker = WorkerProcess(index_in_worker)
        #: the search index is kept current by the request that changed the repository, until
        #: that is seen to take long (then by :attr:`index_worker`)
        self.index_here = True
        self._guard = threading.Lock()

    def close(self) -> None:
        """Stop the worker processes (the server is stopping)."""
        self.searcher.close()
        self.audit_worker.close()
        self.index_worker.close()

    def begin_request(self) -> None:
        """Read HEAD once for this request: every read of the request sees the same commit."""
        self._local.pinned = False
        self.reader()
        self._local.pinned = True

    def end_request(self) -> None:
        self._local.pinned = False

    def head(self) -> str | None:
        """The commit this request reads (HEAD when it began), else HEAD now."""
        if getattr(self._local, "pinned", False):
            return self._local.head
        return self.git.head()

    def reader(self) -> Repository:
        """This thread's repository, as of the current HEAD (of the request's HEAD, within one)."""
        repository = getattr(self._local, "repository", None)
        if repository is not None and getattr(self._local, "pinned", False):
            return repository
        head = self.git.head()
        if repository is None or self._local.head != head:
            if repository is not None:
                repository.close()
            repository = self._open(head)
            self._local.repository, self._local.head = repository, head
        return repository

    def _open(self, head: str | None) -> Repository:
        """A repository for ``head``, with the catalog and the trust state every thread reading
        that commit shares (read once per commit, not once per thread: 25-30 ms each time)."""
        shared = self._shared.get(head)
        if shared is None:
            repository = Repository.open(self.root)
            repository.known_folder = self.known_folder
            shared = (repository.catalog, trust_state(repository))
            with self._guard:
                self._shared = {**{key: value for key, value in self._shared.items() if key != head}, head: shared}
                if len(self._shared) > 2:
                    self._shared.pop(next(iter(self._shared)))
            return repository
        repository = Repository.open(self.root, catalog=shared[0])
        repository.known_folder = self.known_folder
        adopt_trust_state(repository, shared[1])
        return repository

    def known_folder(self, record_id: str) -> str | None:
        """A record's folder as the last listing made knows it (a record never moves; the
        library checks the answer against the work tree): the library's own search by id
        reads all of git's index, a quarter of a second at 100,000 records."""
        known = self._derived.get("listing")
        fact = known[1].by_id.get(record_id) if known is not None else None
        return None if fact is None else known[1].folder(fact)

    @contextlib.contextmanager
    def writer(self) -> Iterator[Repository]:
        """A repository to write with, one writer of this process at a time."""
        with self.write_lock:
            repository = Repository.open(self.root)
            repository.known_folder = self.known_folder
            indexing = self.index_here
            if indexing:
                repository.after_commit.append(self._index_here)
            try:
                yield repository
            finally:
                repository.close()
                if not indexing:
                    self.index_worker.nudge(self.root)

    def _index_here(self, repository: Repository, record_ids: list[str]) -> None:
        """The after-commit hook (the search index catching up), timed: once it takes longer
        than :data:`INDEX_HERE_MOST`, later writes leave it to :attr:`index_worker`."""
        started = time.monotonic()
        run_after_commit(repository, record_ids)
        if time.monotonic() - started > INDEX_HERE_MOST:
            self.index_here = False

    def derived(self, name: str, make: Callable[[Repository, Any], Value]) -> Value:
        """What ``make(repository, previous)`` makes of the request's commit, made once per
        commit (``previous``: what it made of an earlier commit, or None, for makers that
        bring it up to date rather than start again); the first thread to ask makes it
        while others asking for the same wait for it."""
        head = self.head()
        known = self._derived.get(name)
        if known is not None and known[0] == head:
            return known[1]
        with self._lock(name):
            known = self._derived.get(name)
            if known is not None and known[0] == head:
                return known[1]
            started = time.monotonic()
            value = make(self.reader(), None if known is None else known[1])
            self._seconds[name] = time.monotonic() - started
            self._derived[name] = (head, value)
            return value

    def latest(self, name: str, make: Callable[[Repository, Any], Value], wait_under: float,
               elsewhere: Callable[[Repository, Any], Value] | None = None) -> tuple[Value, bool]:
        """What ``make`` made of the request's commit, or of the newest commit it has
        finished, and whether that is the request's commit.  A request waits for the new
        one (as :meth:`derived`) when the last one took at most ``wait_under`` seconds (a
        small repository: its pages are always current); otherwise the new one is made in
        the background and the request answers at once with the last one finished, whose
        page says of which commit it speaks.  The first ever is always waited for.  In the
        background it is made by ``elsewhere`` when given (another process: see
        :mod:`.auditing`), and it rests twice as long as it worked before it looks for a newer
        commit, so that writers committing all the time do not keep a core busy with it."""
        head = self.head()
        known = self._derived.get(name)
        if known is None or known[0] == head or self._seconds.get(name, 0.0) <= wait_under:
            return self.derived(name, make), True
        self._make_in_background(name, elsewhere or make)
        return known[1], False

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._derived_locks.setdefault(name, threading.Lock())

    def _make_in_background(self, name: str, make: Callable[[Repository, Any], Value]) -> None:
        with self._guard:
            worker = self._workers.get(name)
            if worker is not None and worker.is_alive():
                return
            worker = threading.Thread(target=self._keep_up, args=(name, make), name=f"qdocs-{name}", daemon=True)
            self._workers[name] = worker
            worker.start()

    def _keep_up(self, name: str, make: Callable[[Repository, Any], Value]) -> None:
        """Make ``name`` of HEAD until it is of the newest commit (writers may commit meanwhile)."""
        while True:
            if self._seconds.get(name):
                time.sleep(min(2 * self._seconds[name], MOST_REST))
            head = self.git.head()
            with self._lock(name):
                known = self._derived.get(name)
                if known is not None and known[0] == head:
                    return
                repository = Repository.open(self.root)
                started = time.monotonic()
                try:
                    value = make(repository, None if known is None else known[1])
                except Exception:  # noqa: BLE001 - the next request that waits for it sees the failure
                    log.exception("making %s in the background failed", name)
                    return
                finally:
                    repository.close()
                self._seconds[name] = time.monotonic() - started
                self._derived[name] = (head, value)


def keys_home(repository: Repository, settings: Settings) -> Path:
    """Where the users' private keys are: the setting, else ``QDOCS_HOME`` (as for the
    command line), except that the demo repository's users sign with its own demo keys."""
    if settings.keys_home is not None:
        return Path(settings.keys_home)
    demo = demo_keys(repository)
    if demo.is_dir():
        return demo
    return qdocs_home()
