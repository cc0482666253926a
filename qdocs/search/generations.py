"""Where the index lives and how a new one replaces the old without a gap.

Layout (``.qdocs/index/``, ignored by git: a cache rebuilt from the records)::

    CURRENT              the name of the live generation, replaced atomically
    <generation>/        one complete index + state.json (its commit and files,
                         see :mod:`.manifest`) (+ BUILDING, with the builder's
                         process id, until complete)

A rebuild writes a new generation beside the live one and switches ``CURRENT``
when it is complete, so a killed rebuild never damages the live index; the
next switch removes what it left.  Every change to a generation happens under
``.git/qdocs/index.lock`` (``flock``: released by the kernel if its holder
dies), and in this order: the engine writes new files beside the old ones,
``state.json`` is replaced to name the new files, and only then are the files
it no longer names removed.  A writer killed at any point leaves the files
``state.json`` names intact; the next writer removes what it left (:meth:`tidy`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import replace
import shutil
import time
from pathlib import Path
from typing import Iterator

from ..errors import RepositoryBusyError
from ..store.locking import RepositoryLock
from . import INDEX_FOLDER
from .damage import IndexDamaged, IndexMissing, IndexOutdated, IndexUnreadable
from .manifest import STATE_FILE, FileEntry, State, check, describe, read_state, write_atomically, write_state

_BUILDING = "BUILDING"


class Generations:
    def __init__(self, root: Path) -> None:
        self.folder = root / INDEX_FOLDER
        self.lock_path = root / ".git" / "qdocs" / "index.lock"

    def present(self) -> bool:
        """Whether anything (even something damaged) is where the index lives."""
        return os.path.lexists(self.folder)

    def current(self) -> Path:
        """The live generation's folder; :class:`IndexMissing` when there is no index,
        :class:`IndexDamaged` when ``CURRENT`` or the folder is not what it should be."""
        pointer = self.folder / "CURRENT"
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            if self.folder.is_dir() and any(_generation_folders(self.folder)):
                raise IndexDamaged(f"damaged ({INDEX_FOLDER}/CURRENT is missing)") from None
            raise IndexMissing("missing") from None
        except NotADirectoryError:
            raise IndexDamaged(f"damaged ({INDEX_FOLDER} is a file, not a folder)") from None
        except (OSError, ValueError) as error:
            raise IndexDamaged(f"damaged ({INDEX_FOLDER}/CURRENT is unreadable: {error})") from None
        generation = self.folder / name
        if not name or "/" in name or name.startswith(".") or not generation.is_dir():
            raise IndexDamaged(f"damaged ({INDEX_FOLDER}/CURRENT names no index)")
        return generation

    def verified(self, generation: Path, thorough: bool = False) -> State:
        """The state of ``generation`` once its files are checked against it (see
        :mod:`.manifest`).  Files found intact under a new stamp (a copied or
        restored index) get it recorded when the lock is free, so that they are
        not hashed again at every search."""
        from .engine import VERSION

        state = read_state(generation)
        if state.engine != VERSION:
            raise IndexOutdated(f"written by another version of the search engine ({state.engine or 'unknown'})")
        renewed = check(generation, state, thorough)
        if renewed:
            self._renew(generation, state, renewed)
        return state

    def _renew(self, generation: Path, state: State, renewed: dict[str, FileEntry]) -> None:
        """Record new stamps of intact files if nobody holds the lock: a saving, so
        skipped when the lock is busy or the index cannot be written (a search
        of a read-only copy still answers)."""
        lock = RepositoryLock(self.lock_path, timeout=0)
        with contextlib.suppress(OSError, IndexUnreadable):
            if not lock.try_acquire():
                return
            try:
                latest = read_state(generation)
                if _contents(latest) == _contents(state):
                    write_state(generation, replace(latest, files={**latest.files, **renewed}))
            finally:
                lock.release()

    @staticmethod
    def record(generation: Path, commit: str | None, toc: int, names: list[str], pointer: str | None = None) -> None:
        """Name ``names`` (the engine's files of its commit ``toc``; ``pointer`` the one of
        them the engine rewrites in place) as the content of ``generation``, holding
        ``commit``; then remove the files no longer named.  Written only after the
        records changed up to ``commit`` are in the index."""
        try:
            known = read_state(generation).files
        except IndexUnreadable:
            known = {}
        text = (generation / pointer).read_text(encoding="utf-8") if pointer else None
        from .engine import VERSION

        state = State(commit, toc, describe(generation, names, known), (pointer, text) if pointer and text else None,
                      VERSION)
        write_state(generation, state)
        Generations.tidy(generation, state)

    @staticmethod
    def roll_back(generation: Path) -> str | None:
        """Undo an engine commit that ``state.json`` does not name (its writer was killed
        in between): the engine's pointer file is put back as the state has it, and
        the files of the undone commit go at the next :meth:`tidy`.  Only under the
        lock; a state that cannot be read is left to the check that follows.  The
        engine's own bookkeeping beside the index is put right here too.  Returns the
        name of the file put back, if one was."""
        from .engine import repair_bookkeeping

        repair_bookkeeping(generation)
        try:
            state = read_state(generation)
        except IndexUnreadable:
            return None
        if state.pointer is None:
            return None
        name, text = state.pointer
        path = generation / name
        try:
            if path.read_text(encoding="utf-8") == text:
                return None
        except (OSError, ValueError):
            pass
        write_atomically(path, text)
        return name

    @staticmethod
    def tidy(generation: Path, state: State) -> None:
        """Remove what ``state`` does not name: files a replaced commit used, or an
        interrupted writer left.  Only under the lock."""
        from .engine import ENGINE_FILES  # the engine's own bookkeeping, which it rewrites itself

        keep = {*state.files, STATE_FILE, _BUILDING, *ENGINE_FILES}
        for entry in generation.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

    def new(self) -> Path:
        if self.present() and not self.folder.is_dir():  # damage: a file where the folder belongs
            with contextlib.suppress(FileNotFoundError):
                self.folder.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = self.folder / f"{os.getpid()}-{time.time_ns()}"
        generation.mkdir()
        (generation / _BUILDING).write_text(str(os.getpid()), encoding="utf-8")
        return generation

    @staticmethod
    def complete(generation: Path) -> None:
        (generation / _BUILDING).unlink()

    @staticmethod
    def discard(generation: Path) -> None:
        shutil.rmtree(generation, ignore_errors=True)

    def switch(self, generation: Path) -> None:
        """Make ``generation`` the live index; remove every other one not being built."""
        pointer = self.folder / "CURRENT"
        if pointer.is_dir() and not pointer.is_symlink():  # damage: a folder where the pointer belongs
            shutil.rmtree(pointer)
        write_atomically(pointer, generation.name)
        for other in _generation_folders(self.folder):
            if other.name != generation.name and not _being_built(other):
                shutil.rmtree(other, ignore_errors=True)

    @contextlib.contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        """Hold the index lock (``wait`` seconds at most; default: as the repository lock)."""
        lock = RepositoryLock(self.lock_path, timeout=wait)
        try:
            lock.acquire()
        except RepositoryBusyError:
            raise RepositoryBusyError("the search index is busy: another qdocs process is writing it; try again") \
                from None
        try:
            yield
        finally:
            lock.release()


def _generation_folders(folder: Path) -> Iterator[Path]:
    return (entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))


def _contents(state: State) -> tuple:
    """What a state says, without the stamps."""
    return state.commit, state.toc, {name: (entry.size, entry.digest) for name, entry in state.files.items()}


def _being_built(folder: Path) -> bool:
    try:
        pid = int((folder / _BUILDING).read_text(encoding="utf-8"))
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
