"""The search index of a records repository: where it lives, and keeping it current.

Layout (``.qdocs/index/``, ignored by git: a cache rebuilt from the records)::

    CURRENT              the name of the live generation, replaced atomically
    <generation>/        one complete Whoosh index + state.json {format, commit}

The index holds exactly the records of the commit named in ``state.json``.  A
rebuild writes a new generation beside the live one and switches ``CURRENT``
when it is complete, so a killed rebuild never damages the live index.  Every
change to a generation happens under ``.git/qdocs/index.lock``; the indexed
commit moves only after the records changed up to it are committed to the
index, so however processes interleave no update is lost: at worst a change is
indexed twice.  Searches read without the lock and retry once if a writer
replaced files under them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import RepositoryBusyError, StorageError, UsageError
from ..locking import RepositoryLock
from . import INDEX_FOLDER
from .model import Filters, Found, QuerySyntaxError
from .source import changed_folders, commit_exists, list_records

from ..repository import crash_point

if TYPE_CHECKING:
    from ..repository import Repository

#: Bump when the schema or the analysis changes: older indexes are rebuilt.
FORMAT = 1
Progress = Callable[[int, int], None]
_NO_INDEX = "no search index"


class IndexUnreadable(Exception):
    """The index is missing, damaged or of an older format."""


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
        self.folder = repository.root / INDEX_FOLDER
        self.lock = RepositoryLock(repository.root / ".git" / "qdocs" / "index.lock")

    # -- reading ---------------------------------------------------------------

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
                    return engine.search(self._generation(), text, filters, limit)
                except QuerySyntaxError as error:
                    raise UsageError(f"malformed query: {error}") from None
                except (IndexUnreadable, *engine.ENGINE_ERRORS) as error:
                    damage: BaseException = error
                    time.sleep(0.05)
            self._rebuild_damaged(damage)
            return engine.search(self._generation(), text, filters, limit)
        except OSError as error:
            raise StorageError(f"cannot write the search index in {self.folder}: {error.strerror or error}") from None

    def status(self) -> IndexStatus:
        """What the index lacks against HEAD; changes nothing."""
        from . import engine

        head = self.repository.git.head()
        records = {folder: source.fingerprint for folder, source in list_records(self.repository.root, head).items()} \
            if head else {}
        try:
            generation = self._generation()
            commit = self._state(generation)["commit"]
            indexed = engine.indexed_fingerprints(generation)
        except (IndexUnreadable, *engine.ENGINE_ERRORS):
            return IndexStatus(False, None, head, 0, missing=sorted(records))
        return IndexStatus(
            True, commit, head, len(indexed),
            missing=sorted(folder for folder in records if folder not in indexed),
            stale=sorted(folder for folder, value in records.items() if folder in indexed and indexed[folder] != value),
            removed=sorted(folder for folder in indexed if folder not in records),
        )

    # -- keeping current -------------------------------------------------------

    def ensure_current(self) -> None:
        """Catch up with HEAD; rebuild a missing or damaged index (with a notice)."""
        try:
            self.catch_up()
        except IndexUnreadable as error:
            self._rebuild_damaged(error)

    def update_after_commit(self) -> None:
        """The after-commit hook: index what the action changed, if there is an index."""
        try:
            self.catch_up(wait=10.0)
        except IndexUnreadable as error:
            self.repository.notices.append(f"the search index is unreadable ({error}); the next search rebuilds it")
        except RepositoryBusyError:
            self.repository.notices.append("the search index is busy; it catches up with this change on the next search")

    def catch_up(self, wait: float | None = None) -> int:
        """Index the records changed between the indexed commit and HEAD; returns how many."""
        from . import engine

        head = self.repository.git.head()
        if head is None or self._state(self._generation())["commit"] == head:
            return 0
        with self._locked(wait):
            generation = self._generation()
            indexed = self._state(generation)["commit"]
            head = self.repository.git.head() or indexed
            if indexed == head:
                return 0
            if not commit_exists(self.repository.root, indexed):
                raise IndexUnreadable(f"indexed commit {indexed[:10]} is no longer in the repository")
            folders = changed_folders(self.repository.root, indexed, head)
            try:
                self._write(generation, head, folders)
            except engine.ENGINE_ERRORS as error:
                raise IndexUnreadable(f"damaged ({type(error).__name__}: {error})") from None
            return len(folders)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Index every record of HEAD into a new generation, then switch to it."""
        generation, count = self._build(progress)
        with self._locked(None):
            self._switch(generation)
        self.catch_up()
        return count

    # -- internals -------------------------------------------------------------

    def _rebuild_damaged(self, error: BaseException) -> None:
        from . import engine

        with self._locked(None):
            with contextlib.suppress(IndexUnreadable, *engine.ENGINE_ERRORS):
                generation = self._generation()
                self._state(generation)
                engine.check_readable(generation)
                return  # another process rebuilt it meanwhile
            started = time.monotonic()
            generation, count = self._build(None)
            self._switch(generation)
        what = "not found" if str(error) == _NO_INDEX else f"unreadable ({error})"
        self.repository.notices.append(f"search index {what}: built it from {count} record(s) "
                                       f"in {time.monotonic() - started:.1f} s")
        self.catch_up()

    def _build(self, progress: Progress | None) -> tuple[Path, int]:
        from . import engine

        head = self.repository.git.head()
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = self.folder / f"{os.getpid()}-{time.time_ns()}"
        engine.create(generation)
        (generation / "BUILDING").write_text(str(os.getpid()), encoding="utf-8")
        try:
            count = self._write(generation, head, None, progress) if head else 0
            (generation / "BUILDING").unlink()
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        return generation, count

    def _write(self, generation: Path, commit: str | None, folders: set[str] | None,
               progress: Progress | None = None) -> int:
        """Index ``folders`` (all records when None) as they are in ``commit``, then record the commit."""
        from . import engine
        from .build import read_documents

        sources = list_records(self.repository.root, commit, folders) if commit else {}
        writer = engine.Writer(generation, bulk=folders is None)
        problems: list[str] = []
        try:
            for done, (folder, document, problem) in enumerate(
                    read_documents(self.repository.root, list(sources.values()), self._date_fields()), start=1):
                if document is None:
                    problems.append(f"{folder} ({problem})")
                    writer.delete(folder)
                else:
                    writer.put(document)
                crash_point("index-write")
                if progress and (done % 50 == 0 or done == len(sources)):
                    progress(done, len(sources))
            for folder in sorted((folders or set()) - set(sources)):
                writer.delete(folder)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        crash_point("index-commit")
        if problems:
            self.repository.notices.append(
                f"not searchable, cannot be read: {'; '.join(problems[:5])}"
                + (f" and {len(problems) - 5} more" if len(problems) > 5 else ""))
        _write_json(generation / "state.json", {"format": FORMAT, "commit": commit})
        return len(sources) - len(problems)

    def _switch(self, generation: Path) -> None:
        _write_text(self.folder / "CURRENT", generation.name)
        for other in self.folder.iterdir():
            if other.is_dir() and other.name != generation.name and not _being_built(other):
                shutil.rmtree(other, ignore_errors=True)

    def _generation(self) -> Path:
        try:
            name = (self.folder / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexUnreadable(_NO_INDEX) from None
        generation = self.folder / name
        if not name or "/" in name or not generation.is_dir():
            raise IndexUnreadable(f"{INDEX_FOLDER}/CURRENT names no index")
        return generation

    @staticmethod
    def _state(generation: Path) -> dict[str, Any]:
        try:
            state = json.loads((generation / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexUnreadable(f"unreadable state: {error}") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT or not state.get("commit"):
            raise IndexUnreadable("index of an older format")
        return state

    def _date_fields(self) -> dict[str, tuple[str, ...]]:
        return {record_type.id: tuple(item.key for item in record_type.fields if item.type in ("date", "datetime"))
                for record_type in self.repository.catalog.types.values()}

    @contextlib.contextmanager
    def _locked(self, wait: float | None) -> Iterator[None]:
        lock = self.lock if wait is None else RepositoryLock(self.lock.path, timeout=wait)
        try:
            lock.acquire()
        except RepositoryBusyError:
            raise RepositoryBusyError("the search index is busy: another qdocs process is writing it; try again") \
                from None
        try:
            yield
        finally:
            lock.release()


def _being_built(folder: Path) -> bool:
    try:
        pid = int((folder / "BUILDING").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _write_json(path: Path, value: Any) -> None:
    _write_text(path, json.dumps(value))
