"""The search index of a records repository: searching it and keeping it current.

The index holds exactly the records of the commit it names (see
:mod:`.generations`).  After each action the after-commit hook, and before each
search a cheap comparison of that commit with HEAD, index the record folders
changed in between (``git diff --name-only``).  The indexed commit moves only
after those records are in the index, and only under the index lock, so however
processes interleave no update is lost: at worst a change is indexed twice.

Searches read without the lock.  Before anything is read, the files are checked
against the manifest written with them; a missing index is built and a damaged
one rebuilt in the same command, with one notice, and the command answered
(:mod:`.damage` decides what counts as damaged).  ``index status`` heals the
same way; the after-commit hook only leaves a notice, because the committed
action stands whatever the index's state, and the next search rebuilds it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterator, TypeVar

from . import damage
from ..errors import RepositoryBusyError, StorageError, UsageError
from .damage import IndexMissing, IndexOutdated, IndexUnreadable
from .generations import Generations
from .manifest import STATE_FILE, State, read_state
from .model import Filters, Found, QuerySyntaxError
from .source import changed_folders, list_records
from .syntax import query_problem

if TYPE_CHECKING:
    from .writing import Progress
    from ..repository import Repository

#: How long an action's after-commit hook waits for the index lock before leaving
#: its change to the next search.
HOOK_WAIT = 10.0
#: How many times a read is tried again on a newer index put in place under it.
MOST_RETRIES = 5
Result = TypeVar("Result")


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

    def search(self, text: str, filters: Filters, limit: int, catch_up_wait: float | None = None) -> Found:
        """The records matching ``text``, the index first brought up to HEAD.  With
        ``catch_up_wait`` (seconds), a server that must answer at once waits no longer than
        that for another process indexing meanwhile, and reads the index as it is when that
        one is still at work (:meth:`indexed_commit` says of which commit); a negative wait
        reads the index as it is, another process bringing it up to date."""
        from . import engine
        problem = query_problem(text)
        if problem:
            raise UsageError(f"malformed query: {problem}")
        with self._storage_errors():
            try:
                if catch_up_wait is None:
                    self.ensure_current()
                elif catch_up_wait < 0:
                    pass  # read what is indexed: another process keeps the index current
                else:
                    try:
                        self.catch_up(wait=catch_up_wait)
                    except RepositoryBusyError:
                        pass  # another process is indexing the newest commit: read what is indexed
                    except IndexUnreadable:
                        self._heal()
                return self._reading(lambda generation, state: engine.search(generation, state.toc, text, filters,
                                                                             limit))
            except QuerySyntaxError as error:
                raise UsageError(f"malformed query: {error}") from None

    def indexed_commit(self) -> str | None:
        """The commit the index holds (None: no index yet)."""
        try:
            return read_state(self.generations.current()).commit
        except (IndexUnreadable, OSError):
            return None

    def status(self) -> IndexStatus:
        """What the index lacks against HEAD; changes nothing, except that a damaged
        index is rebuilt first (with a notice)."""
        from . import engine

        head = self.repository.git.head()
        records = {folder: source.fingerprint for folder, source in list_records(self.repository.root, head).items()} \
            if head else {}
        with self._storage_errors():
            try:
                commit, indexed = self._reading(
                    lambda generation, state: (state.commit, engine.indexed_fingerprints(generation, state.toc)),
                    build_missing=False)
            except IndexMissing:
                return IndexStatus(False, None, head, 0, missing=sorted(records))
        return IndexStatus(
            True, commit, head, len(indexed),
            missing=sorted(folder for folder in records if folder not in indexed),
            stale=sorted(folder for folder, value in records.items() if folder in indexed and indexed[folder] != value),
            removed=sorted(folder for folder in indexed if folder not in records),
        )

    def ensure_current(self) -> None:
        """Catch up with HEAD; build a missing index and rebuild a damaged one (with a notice)."""
        try:
            self.catch_up()
        except IndexUnreadable:
            self._heal()

    def update(self, progress: Progress | None = None) -> int:
        """``qdocs index update``: catch up with HEAD now, waiting for another process
        indexing meanwhile; a missing index is built and a damaged one rebuilt (with a
        notice).  Returns how many records were indexed."""
        with self._storage_errors():
            try:
                return self._catch_up(None, damage.reading, progress)
            except IndexUnreadable:
                return self._heal(progress)  # built or rebuilt whole, with its notice

    def update_after_commit(self) -> None:
        """The after-commit hook: index what the action changed."""
        try:
            self.catch_up(wait=HOOK_WAIT)
        except IndexUnreadable as error:
            self.repository.notices.append(f"the search index is {error}; the next search rebuilds it")
        except RepositoryBusyError:
            self.repository.notices.append(
                "the search index is busy; it catches up with this change on the next search")

    def catch_up(self, wait: float | None = None) -> int:
        """Index the records changed between the indexed commit and HEAD; returns how many."""
        return self._catch_up(wait, damage.reading)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Index every record of HEAD into a new generation, then switch to it and catch up."""
        with self._storage_errors():
            generation, count = self._build(progress)
            with self.generations.locked():
                self.generations.switch(generation)
            self.catch_up()
        return count

    # -- reading and healing ---------------------------------------------------------

    def _reading(self, read: Callable[[Path, State], Result], build_missing: bool = True) -> Result:
        """``read`` the live generation once its files are checked.  When they are
        damaged, or the read fails as damaged files make it fail, it is tried once
        more (a writer may have been replacing files), then the index is healed and
        read again, this time letting every error through: files found intact by the
        thorough check mean the error is not damage.  A read that fails while another
        process put a newer commit of the index in place (its files replaced under
        the reader) is no sign of anything: it is tried again on the newer one."""
        retried = 0
        while True:
            generation, state = None, None
            try:
                generation = self.generations.current()
                state = self.generations.verified(generation)
                with damage.reading():
                    return read(generation, state)
            except IndexMissing:
                if not build_missing:
                    raise
                break
            except IndexOutdated:
                break
            except IndexUnreadable:
                if retried < MOST_RETRIES and (retried == 0 or self._moved(generation, state)):
                    retried += 1
                    time.sleep(0.05 if retried == 1 else 0.0)
                    continue
                break
        self._heal()
        for _ in range(MOST_RETRIES):
            generation = self.generations.current()
            state = self.generations.verified(generation)
            try:
                return read(generation, state)
            except Exception:
                if not self._moved(generation, state):
                    raise
        generation = self.generations.current()
        return read(generation, self.generations.verified(generation))

    def _moved(self, generation: Path | None, state: State | None) -> bool:
        """Whether the live index is no longer ``generation`` at ``state``'s commit: a
        writer has put a newer one in place since it was read."""
        if generation is None or state is None:
            return False
        try:
            now = self.generations.current()
            latest = read_state(now)
        except (IndexUnreadable, OSError):
            return False
        return now != generation or (latest.commit, latest.toc) != (state.commit, state.toc)

    def _heal(self, progress: Progress | None = None) -> int:
        """Under the lock, check the index thoroughly (every file hashed); rebuild it if
        it is missing, damaged or outdated, then catch up with HEAD.  The check under
        the lock also finds the index already rebuilt by another process that met the
        same damage, or whole again once a writer that was replacing files is done.
        Returns how many records were indexed (all of them after a rebuild)."""
        count, restored = 0, None
        with self.generations.locked():
            try:
                generation = self.generations.current()
                restored = self.generations.roll_back(generation)  # damaged, or a killed writer's commit
                state = self.generations.verified(generation, thorough=True)
                self._check_commit(state)
            except IndexUnreadable as found:
                started = time.monotonic()
                generation, count = self._build(progress)
                self.generations.switch(generation)
                seconds = time.monotonic() - started
                self.repository.notices.append(
                    f"search index not found: built it from {count} record(s) in {seconds:.1f} s"
                    if isinstance(found, IndexMissing) else
                    f"the search index was {found}; rebuilt it from {count} record(s) in {seconds:.1f} s")
            else:
                if restored:  # the engine's pointer, its copy in state.json checked by its checksum
                    self.repository.notices.append(
                        f"the search index was damaged ({restored} was not as {STATE_FILE} records it); put it back")
        return count + self._catch_up(None, contextlib.nullcontext, progress)

    def _catch_up(self, wait: float | None, guard: Callable[[], ContextManager[Any]],
                  progress: Progress | None = None) -> int:
        head = self.repository.git.head()
        if head is None or read_state(self.generations.current()).commit == head:
            return 0
        with self.generations.locked(wait):
            generation = self.generations.current()
            self.generations.roll_back(generation)  # an engine commit its killed writer left unnamed
            state = self.generations.verified(generation)  # never write onto damaged files
            head = self.repository.git.head() or state.commit
            if state.commit == head:
                return 0
            self._check_commit(state)
            self.generations.tidy(generation, state)  # what an interrupted writer left
            folders = set(list_records(self.repository.root, head)) if state.commit is None \
                else changed_folders(self.repository.root, state.commit, head)
            with guard():
                from .writing import index_commit

                index_commit(self.repository, generation, head, folders, progress)
            return len(folders)

    def _check_commit(self, state: State) -> None:
        if state.commit is not None and not self.repository.git.commit_exists(state.commit):
            raise IndexOutdated(f"of commit {state.commit[:10]}, which the repository no longer has")

    def _build(self, progress: Progress | None) -> tuple[Path, int]:
        head = self.repository.git.head()
        generation = self.generations.new()
        try:
            from . import engine

            engine.create(generation)
            from .writing import index_commit

            count = index_commit(self.repository, generation, head, None, progress)
            self.generations.complete(generation)
        except BaseException:
            self.generations.discard(generation)
            raise
        return generation, count

    @contextlib.contextmanager
    def _storage_errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            raise StorageError(f"cannot write the search index in {self.generations.folder}: "
                               f"{error.strerror or error}") from None
