"""The repository as the web application uses it from many threads at once.

- Reading: each thread has its own :class:`~qdocs.repository.Repository` (its record cache
  holds an SQLite connection, which belongs to the thread that opened it), opened again
  whenever HEAD has moved, so a commit made by another process (the command line, a
  sync) is seen at the next request with the catalog and the trust state in force then.
  Reading HEAD is two small file reads (:meth:`qdocs.store.runner.Git.head`).
- Writing: one writer at a time in this process (:attr:`Workspace.write_lock`; the
  repository's own file lock keeps out other processes), on a repository opened for that
  write with the hook that keeps the search index current.
- What is derived from a whole commit (the list of records, the inbox, the audit) is made
  once per commit and shared by every thread (:meth:`Workspace.derived`).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from ..demo import demo_keys
from ..hooks import keep_caches_current
from ..keys import qdocs_home
from ..repository import Repository
from ..store.runner import Git
from .settings import Settings

Value = TypeVar("Value")


class Workspace:
    def __init__(self, path: str | Path, settings: Settings) -> None:
        first = Repository.open(path)  # refuses what is not a records repository, now
        self.root = first.root
        self.settings = settings
        self.keys_home = keys_home(first, settings)
        first.close()
        self.git = Git(self.root)
        self.write_lock = threading.Lock()
        #: the search engine keeps one open searcher per process; searches take turns on it
        self.search_lock = threading.Lock()
        self._local = threading.local()
        self._derived: dict[str, tuple[str | None, Any]] = {}
        self._derived_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def head(self) -> str | None:
        return self.git.head()

    def reader(self) -> Repository:
        """This thread's repository, as of the current HEAD."""
        head = self.head()
        repository = getattr(self._local, "repository", None)
        if repository is None or self._local.head != head:
            if repository is not None:
                repository.close()
            repository = Repository.open(self.root)
            self._local.repository, self._local.head = repository, head
        return repository

    @contextlib.contextmanager
    def writer(self) -> Iterator[Repository]:
        """A repository to write with, one writer of this process at a time."""
        with self.write_lock:
            repository = keep_caches_current(Repository.open(self.root))
            try:
                yield repository
            finally:
                repository.close()

    def derived(self, name: str, make: Callable[[Repository], Value]) -> Value:
        """``make(repository)`` for the current HEAD, made once per commit: the first thread
        to ask makes it while others asking for the same wait for it."""
        head = self.head()
        known = self._derived.get(name)
        if known is not None and known[0] == head:
            return known[1]
        with self._guard:
            lock = self._derived_locks.setdefault(name, threading.Lock())
        with lock:
            known = self._derived.get(name)
            if known is not None and known[0] == head:
                return known[1]
            value = make(self.reader())
            self._derived[name] = (head, value)
            return value


def keys_home(repository: Repository, settings: Settings) -> Path:
    """Where the users' private keys are: the setting, else ``QDOCS_HOME`` (as for the
    command line), except that the demo repository's users sign with its own demo keys."""
    if settings.keys_home is not None:
        return Path(settings.keys_home)
    demo = demo_keys(repository)
    if demo.is_dir():
        return demo
    return qdocs_home()
