"""One writer at a time: an exclusive lock around all git work.

``flock`` is released by the kernel when a process dies, so a killed writer never
leaves the repository locked; what it left half-done is the journal's business
(:mod:`.journal`).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from ..errors import RepositoryBusyError

DEFAULT_TIMEOUT = 120.0
#: the lock files this process holds (a second flock of the same file by the same process
#: would wait for itself: code below a holder asks :func:`held_here` instead)
_HELD: set[str] = set()


def held_here(path: Path) -> bool:
    """Whether this process holds the lock at ``path``."""
    return str(Path(path)) in _HELD


class RepositoryLock:
    def __init__(self, path: Path, timeout: float | None = None) -> None:
        self.path = Path(path)
        self.timeout = float(os.environ.get("QDOCS_LOCK_TIMEOUT", DEFAULT_TIMEOUT)) if timeout is None else timeout
        self._handle: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return False
        self._handle = handle
        _HELD.add(str(self.path))
        return True

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        delay = 0.01
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise RepositoryBusyError(
                    f"the records repository is busy: another qdocs process held its lock for {self.timeout:.0f} s; try again"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None
            _HELD.discard(str(self.path))

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> "RepositoryLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
