"""The records repository as storage: a git repository, its lock, its all-or-nothing
transactions, its document-number sequences and the plain configuration it keeps.

Layout (committed)::

    .qdocs/config.yaml              format, company name, time zone (see qdocs.timezones)
    .qdocs/sites/<SITE>.yaml        one file per site that creates records
    .qdocs/sequences/<SITE>.yaml    last document number per type and year, per site
    lot/PUMP-X200/L2026-031/FIR-S1-2026-0001/record.yaml + record.docx

Local to one copy (inside ``.git/qdocs/``, never committed): ``site`` (the site
code this copy numbers its records with), ``lock``, ``journal.json`` and
``last-commit`` (:mod:`qdocs.store.lastcommit`).

Document numbers are gap-free per type, site and year because the next number is
taken under the lock and committed in the same commit as the record; copies of
one repository that create records independently and later merge never clash
because each copy registers its own site code, and each site only ever writes
its own sequence file.

What the records mean (the catalog in force, the templates) is the records layer's
(:class:`qdocs.repository.Repository` adds it); what runs after a commit to keep
derived caches current (the search index) is registered from above, in
:attr:`Repository.after_commit`, so that the store imports nothing above it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import timezones, yamlio
from ..errors import MergeUnfinishedError, NotARepositoryError, StorageError, UsageError
from ..events import EventWriter
from . import staging, trailers
from .crashpoints import crash_point
from .journal import Journal, clear_journal, recover, write_journal
from .lastcommit import remember_commit
from .locking import RepositoryLock
from .merging import operation_in_progress, unfinished_merge
from .recordcache import RecordCache
from .remotes import commit_merge, fast_forward
from .runner import Git
from .writer import commit_files

FORMAT_VERSION = 1
SITE_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
DEFAULT_SITE = "S1"
CONFIG_PATH = ".qdocs/config.yaml"

#: called after each committed transaction with the repository and the ids of the records it changed
AfterCommit = Callable[["Repository", list[str]], None]


class Repository:
    """One records repository on disk, as storage.  Open it with :meth:`open`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.git = Git(self.root)
        self.notices: list[str] = []
        self.local = self.root / ".git" / "qdocs"
        self.lock = RepositoryLock(self.local / "lock")
        self.journal_path = self.local / "journal.json"
        #: what runs after each committed transaction (keeping derived caches current); a
        #: failure becomes a notice and never undoes the committed action
        self.after_commit: list[AfterCommit] = []
        self._config: dict[str, Any] | None = None
        self._time_zone: _dt.tzinfo | None = None
        self._record_cache: RecordCache | None = None

    @classmethod
    def open(cls, path: str | Path, during_merge: bool = False, **options: Any) -> "Repository":
        """The repository at ``path`` (``options`` go to the constructor); finishes or undoes
        what a dead writer left when nobody holds the lock.

        While a git merge is unfinished in the copy its work tree is no committed state (files
        may hold conflict markers), so opening it is refused with one sentence saying what to
        do (:class:`MergeUnfinishedError`), unless ``during_merge`` (``qdocs status``, which
        reports it).  The check is a few ``stat`` calls."""
        root = Path(path)
        if not (root / CONFIG_PATH).is_file() or not (root / ".git").exists():
            raise NotARepositoryError(
                f"{path} is not a qdocs records repository (create one with: qdocs init {path})"
            )
        if not during_merge and operation_in_progress(root):
            raise MergeUnfinishedError(unfinished_merge(root) or "a git merge is unfinished")
        repository = cls(root, **options)
        repository._recover_if_abandoned()
        return repository

    # -- configuration -------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = yamlio.load((self.root / CONFIG_PATH).read_text(encoding="utf-8")) or {}
        return self._config

    @property
    def time_zone(self) -> _dt.tzinfo:
        """The company's time zone (``time_zone`` in the configuration); the machine's
        zone for a repository made before the setting existed."""
        if self._time_zone is None:
            setting = self.config.get(timezones.SETTING)
            self._time_zone = (timezones.machine_zone() if setting is None
                               else timezones.parse_zone(setting, f"{self.root / CONFIG_PATH}: {timezones.SETTING}"))
        return self._time_zone

    @time_zone.setter
    def time_zone(self, zone: _dt.tzinfo) -> None:
        self._time_zone = zone

    @property
    def company(self) -> str:
        company = self.config.get("company") or {}
        return " ".join(part for part in (company.get("zh"), company.get("en")) if part)

    @property
    def record_cache(self) -> RecordCache:
        """Parsed record.yaml files, cached by content (see :mod:`qdocs.store.recordcache`)."""
        if self._record_cache is None:
            self._record_cache = RecordCache(self.root)
        return self._record_cache

    def local_site(self) -> str | None:
        try:
            return (self.local / "site").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def site(self) -> str:
        site = self.local_site()
        if site is None:
            raise UsageError(
                f"this copy of {self.root} has no site code, so it cannot number records; run: qdocs init --site CODE"
            )
        return site

    def registered_sites(self) -> list[str]:
        folder = self.root / ".qdocs" / "sites"
        return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []

    def set_local_site(self, site: str) -> None:
        """Number this copy's records as ``site`` (local, never committed)."""
        self.local.mkdir(parents=True, exist_ok=True)
        (self.local / "site").write_text(site + "\n", encoding="utf-8")

    @staticmethod
    def site_file(site: str) -> str:
        return f".qdocs/sites/{site}.yaml"

    # -- sequences -----------------------------------------------------------

    def sequence_path(self, site: str) -> str:
        return f".qdocs/sequences/{site}.yaml"

    def read_sequences(self, site: str) -> dict[str, int]:
        path = self.root / self.sequence_path(site)
        if not path.is_file():
            return {}
        return {str(key): int(value) for key, value in (yamlio.load(path.read_text(encoding="utf-8")) or {}).items()}

    # -- writing -------------------------------------------------------------

    def unfinished_merge(self, thorough: bool = False) -> str | None:
        """What git operation is unfinished in this copy, as a sentence (None: nothing is);
        see :mod:`qdocs.store.merging`."""
        return unfinished_merge(self.root, thorough)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the repository lock; finish or undo anything a dead process left.  Nothing
        is written while a git merge is unfinished (:class:`MergeUnfinishedError`)."""
        if self.lock.held:
            yield
            return
        self.lock.acquire()
        try:
            self._recover()
            unfinished = self.unfinished_merge()  # stat calls; the index is read only mid-merge
            if unfinished:
                raise MergeUnfinishedError(unfinished)
            yield
        finally:
            self.lock.release()
            staging.start_catch_up(self.root)  # git's index, if actions left it behind

    @contextlib.contextmanager
    def transaction(self, action: str, paths: list[str], records: list[str]) -> Iterator["Change"]:
        """All-or-nothing change of ``paths`` (and of ``.qdocs``, the repository's own
        state): journal first, roll back on any failure.  The body writes through the
        yielded :class:`Change` and ends with ``change.commit(...)``."""
        self.git.require()
        with self.locked():
            paths = [*paths, ".qdocs"]
            journal = Journal.start(action, self.git.head(), paths, records)
            try:
                write_journal(self.journal_path, journal)
                yield Change(self, journal, paths)
            except BaseException as error:
                recover(self.git, self.journal_path)
                if isinstance(error, OSError):
                    raise _storage_error(error, action) from None
                raise
            else:
                clear_journal(self.journal_path)
            self._after_commit(records)

    def _after_commit(self, record_ids: list[str]) -> None:
        """Keep derived caches current; the committed action stands whatever happens here."""
        for listener in list(self.after_commit):
            try:
                listener(self, record_ids)
            except Exception as error:  # a cache must never undo or fail a committed action
                self.notices.append(f"warning: {error}; derived caches will catch up on their next use")

    # -- recovery ------------------------------------------------------------

    def _recover(self) -> None:
        message = recover(self.git, self.journal_path)
        if message:
            self.notices.append(message)

    def _recover_if_abandoned(self) -> None:
        """A reader that finds a journal checks whether its writer is gone."""
        if self.journal_path.exists() and self.lock.try_acquire():
            try:
                self._recover()
            finally:
                self.lock.release()

    def close(self) -> None:
        self.lock.release()
        if self._record_cache is not None:
            self._record_cache.close()


class Change:
    """The writes of one action inside a :meth:`Repository.transaction`."""

    def __init__(self, repository: Repository, journal: Journal, paths: list[str]) -> None:
        self.repository = repository
        self.journal = journal
        self.paths = paths
        self._events: EventWriter | None = None
        self.written: list[str] = []

    @property
    def events(self) -> EventWriter:
        """The site's event chain, opened on first use."""
        if self._events is None:
            self._events = EventWriter(self.repository.root, self.repository.site(), self.journal.head, self.write)
        return self._events

    def remove(self, relative: str) -> None:
        """Delete one file as part of the action (the journal restores it on failure)."""
        (self.repository.root / relative).unlink(missing_ok=True)
        self.written.append(relative)

    def write(self, relative: str, content: str | bytes) -> None:
        """Write one file atomically (temporary file, fsync, rename)."""
        path = self.repository.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        self.written.append(relative)
        crash_point("after-write")

    def commit(self, subject: str, actor: str, trailer_values: dict[str, Any]) -> str:
        """Stage the action's paths and commit them as one commit authored by ``actor``, its
        message ``subject`` and ``trailer_values`` (:mod:`qdocs.store.trailers`)."""
        if self._events is not None:
            self._events.finish()
        message = trailers.message(subject, trailer_values, self.journal.operation)
        crash_point("before-commit")
        commit = commit_files(self.repository.git, sorted(set(self.written)), message, actor, _email(actor),
                              self.journal.head)
        crash_point("after-commit")
        remember_commit(self.repository.git, self.repository.local, self.journal.head, commit)
        return commit


    def merge(self, tree: str, other: str, subject: str, actor: str, trailer_values: dict[str, Any]) -> str:
        """A merge commit of ``tree`` on this action's HEAD and ``other``, authored by ``actor``,
        that no branch names yet: check it, then :meth:`adopt` it."""
        assert self.journal.head is not None
        message = trailers.message(subject, trailer_values, self.journal.operation)
        return commit_merge(self.repository.git, tree, [self.journal.head, other], message, actor, _email(actor))

    def adopt(self, commit: str) -> None:
        """Move the branch, index and work tree forward to ``commit`` (a descendant of HEAD:
        a merge from :meth:`merge`, or another copy's commits taken as they are)."""
        crash_point("before-commit")
        fast_forward(self.repository.git, commit)
        crash_point("after-commit")
        remember_commit(self.repository.git, self.repository.local, self.journal.head, commit)


def tune_index(git: Git) -> None:
    """Index settings for large repositories (local to each copy): a split index
    rewrites only its small part per action, version 4 compresses paths."""
    git.run("config", "core.splitIndex", "true")
    git.run("config", "index.version", "4")
    git.run("update-index", "--split-index", check=False)


def _email(actor: str) -> str:
    local = re.sub(r"[^A-Za-z0-9._-]", "_", actor) or "qdocs"
    return f"{local}@qdocs.local"


def _storage_error(error: OSError, action: str) -> StorageError:
    if error.errno == errno.ENOSPC:
        return StorageError(f"disk full during {action}: nothing was kept; free some space and try again")
    return StorageError(f"cannot write during {action}: {error.strerror or error}; nothing was kept")
