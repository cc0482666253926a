"""The search index of a records repository: searching it and keeping it current.

The index holds exactly the records of the commit it names (see
:mod:`.generations`).  After each action the after-commit hook, and before each
search a cheap comparison of that commit with HEAD, index the record folders
changed in between (``git diff --name-only``).  The indexed commit moves only
after those records are in the index, and only under the index lock, so however
processes interleave no update is lost: at worst a change is indexed twice.
Searches read without the lock and try again once if a writer replaced files
under them; a missing or damaged index is rebuilt, with a notice.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RepositoryBusyError, StorageError, UsageError
from .generations import NO_INDEX, Generations, IndexUnreadable
from .model import Filters, Found, QuerySyntaxError
from .source import changed_folders, commit_exists, head_commit, list_records
from .writing import Progress, index_commit

if TYPE_CHECKING:
    from ..repository import Repository

#: How long an action's after-commit hook waits for the index lock before leaving
#: its change to the next search.
HOOK_WAIT = 10.0


@dataclass
class IndexStatus:
    exists: bool
    indexed_commit: str | None
    head: str | None
    records: int
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.exists and not (self.missing or self.stale or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "current": self.current}


class SearchIndex:
    def __init__(self, repository: "Repository") -> None:
        self.repository = repository
        self.generations = Generations(repository.root)

    def search(self, text: str, filters: Filters, limit: int) -> Found:
        from . import engine
        from .syntax import query_problem

        problem = query_problem(text)
        if problem:
            raise UsageError(f"malformed query: {problem}")
        try:
            self.ensure_current()
            for _ in range(2):  # a second try when a writer replaced files under us
                try:
                    return engine.search(self.generations.current(), text, filters, limit)
                except QuerySyntaxError as error:
                    raise UsageError(f"malformed query: {error}") from None
                except (IndexUnreadable, *engine.ENGINE_ERRORS) as error:
                    damage: BaseException = error
                    time.sleep(0.05)
            self._rebuild_damaged(damage)
            return engine.search(self.generations.current(), text, filters, limit)
        except OSError as error:
            raise StorageError(f"cannot write the search index in {self.generations.folder}: "
                               f"{error.strerror or error}") from None

    def status(self) -> IndexStatus:
        """What the index lacks against HEAD; changes nothing."""
        from . import engine

        head = self.repository.git.head()
        records = {folder: source.fingerprint for folder, source in list_records(self.repository.root, head).items()} \
            if head else {}
        try:
            generation = self.generations.current()
            commit = self.generations.indexed_commit(generation)
            indexed = engine.indexed_fingerprints(generation)
        except (IndexUnreadable, *engine.ENGINE_ERRORS):
            return IndexStatus(False, None, head, 0, missing=sorted(records))
        return IndexStatus(
            True, commit, head, len(indexed),
            missing=sorted(folder for folder in records if folder not in indexed),
            stale=sorted(folder for folder, value in records.items() if folder in indexed and indexed[folder] != value),
            removed=sorted(folder for folder in indexed if folder not in records),
        )

    def ensure_current(self) -> None:
        """Catch up with HEAD; rebuild a missing or damaged index (with a notice)."""
        try:
            self.catch_up()
        except IndexUnreadable as error:
            self._rebuild_damaged(error)

    def update_after_commit(self) -> None:
        """The after-commit hook: index what the action changed."""
        try:
            self.catch_up(wait=HOOK_WAIT)
        except IndexUnreadable as error:
            self.repository.notices.append(f"the search index is unreadable ({error}); the next search rebuilds it")
        except RepositoryBusyError:
            self.repository.notices.append(
                "the search index is busy; it catches up with this change on the next search")

    def catch_up(self, wait: float | None = None) -> int:
        """Index the records changed between the indexed commit and HEAD; returns how many."""
        from . import engine

        head = head_commit(self.repository.root)
        if head is None or self.generations.indexed_commit(self.generations.current()) == head:
            return 0
        with self.generations.locked(wait):
            generation = self.generations.current()
            indexed = self.generations.indexed_commit(generation)
            head = self.repository.git.head() or indexed
            if indexed == head:
                return 0
            if not commit_exists(self.repository.root, indexed):
                raise IndexUnreadable(f"indexed commit {indexed[:10]} is no longer in the repository")
            folders = changed_folders(self.repository.root, indexed, head)
            try:
                index_commit(self.repository, generation, head, folders)
            except engine.ENGINE_ERRORS as error:
                raise IndexUnreadable(f"damaged ({type(error).__name__}: {error})") from None
            return len(folders)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Index every record of HEAD into a new generation, then switch to it and catch up."""
        generation, count = self._build(progress)
        with self.generations.locked():
            self.generations.switch(generation)
        self.catch_up()
        return count

    def _rebuild_damaged(self, error: BaseException) -> None:
        from . import engine

        with self.generations.locked():
            with contextlib.suppress(IndexUnreadable, *engine.ENGINE_ERRORS):
                generation = self.generations.current()
                self.generations.indexed_commit(generation)
                engine.check_readable(generation)
                return  # another process rebuilt it meanwhile
            started = time.monotonic()
            generation, count = self._build(None)
            self.generations.switch(generation)
        what = "not found" if str(error) == NO_INDEX else f"unreadable ({error})"
        self.repository.notices.append(f"search index {what}: built it from {count} record(s) "
                                       f"in {time.monotonic() - started:.1f} s")
        self.catch_up()

    def _build(self, progress: Progress | None) -> tuple[Any, int]:
        from . import engine

        head = self.repository.git.head()
        generation = self.generations.new()
        try:
            engine.create(generation)
            count = index_commit(self.repository, generation, head, None, progress) if head else 0
            self.generations.complete(generation)
        except BaseException:
            self.generations.discard(generation)
            raise
        return generation, count
