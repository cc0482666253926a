"""Where the index lives and how a new one replaces the old without a gap.

Layout (``.qdocs/index/``, ignored by git: a cache rebuilt from the records)::

    CURRENT              the name of the live generation, replaced atomically
    <generation>/        one complete index + state.json {format, commit}
                         (+ BUILDING, with the builder's process id, until complete)

A rebuild writes a new generation beside the live one and switches ``CURRENT``
when it is complete, so a killed rebuild never damages the live index; the
next switch removes what it left.  Every change to a generation happens under
``.git/qdocs/index.lock`` (``flock``: released by the kernel if its holder dies).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Iterator

from ..errors import RepositoryBusyError
from ..locking import RepositoryLock
from . import INDEX_FOLDER

#: Bump when the schema or the analysis changes: older indexes are rebuilt.
FORMAT = 4
NO_INDEX = "no search index"


class IndexUnreadable(Exception):
    """The index is missing, damaged or of an older format."""


class Generations:
    def __init__(self, root: Path) -> None:
        self.folder = root / INDEX_FOLDER
        self.lock_path = root / ".git" / "qdocs" / "index.lock"

    def exists(self) -> bool:
        return (self.folder / "CURRENT").is_file()

    def current(self) -> Path:
        try:
            name = (self.folder / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexUnreadable(NO_INDEX) from None
        generation = self.folder / name
        if not name or "/" in name or not generation.is_dir():
            raise IndexUnreadable(f"{INDEX_FOLDER}/CURRENT names no index")
        return generation

    @staticmethod
    def indexed_commit(generation: Path) -> str:
        try:
            state = json.loads((generation / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise IndexUnreadable(f"unreadable state: {error}") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT or not state.get("commit"):
            raise IndexUnreadable("index of an older format")
        return str(state["commit"])

    @staticmethod
    def record_commit(generation: Path, commit: str | None) -> None:
        """Written only after the records changed up to ``commit`` are in the index."""
        _write_text(generation / "state.json", json.dumps({"format": FORMAT, "commit": commit}))

    def new(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        generation = self.folder / f"{os.getpid()}-{time.time_ns()}"
        generation.mkdir()
        (generation / "BUILDING").write_text(str(os.getpid()), encoding="utf-8")
        return generation

    @staticmethod
    def complete(generation: Path) -> None:
        (generation / "BUILDING").unlink()

    @staticmethod
    def discard(generation: Path) -> None:
        shutil.rmtree(generation, ignore_errors=True)

    def switch(self, generation: Path) -> None:
        """Make ``generation`` the live index; remove every other one not being built."""
        _write_text(self.folder / "CURRENT", generation.name)
        for other in self.folder.iterdir():
            if other.is_dir() and other.name != generation.name and not _being_built(other):
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
