"""The process that catches git's index up after an action (:func:`.staging.start_catch_up`).

    python -m qdocs.store.catchup ROOT

One at a time (``.git/qdocs/index-catch-up.lock``), it catches up (holding the index
lock, :func:`.staging.index_locked`) until nothing is noted, and looks once more after it
lets go, for what an action noted while it was ending; every ``REFRESH_EVERY``-th time
it also brings the index's cache-tree up to date (``git write-tree``).  It prints
nothing; a failure leaves the paths noted for the next catch-up.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from .runner import catch_up_runner
from .staging import CHILD_WAIT, RUNNING, behind, catch_up_when_free, index_locked, try_lock

#: every this many catch-up processes, one refreshes the cache-tree
REFRESH_EVERY = 16


def catch_up_process(root: Path) -> int:
    """Catch up until nothing is noted; 0 when done (or another process is at it), 1 when
    a catch-up failed."""
    local = root / ".git" / "qdocs"
    while behind(root):
        running = try_lock(local / RUNNING)
        if running is None:
            return 0  # another one is at work, and looks again before it ends
        try:
            while behind(root):
                if not catch_up_when_free(root, catch_up_runner, wait=CHILD_WAIT):
                    return 1
            _refresh_now_and_then(root)
        finally:
            fcntl.flock(running, fcntl.LOCK_UN)
            os.close(running)
    return 0


def _refresh_now_and_then(root: Path) -> None:
    counter = root / ".git" / "qdocs" / "catch-ups-since-refresh"
    try:
        count = int(counter.read_text(encoding="ascii") or 0) + 1
    except (OSError, ValueError):
        count = 1
    try:
        if count >= REFRESH_EVERY:
            with index_locked(root, CHILD_WAIT):
                catch_up_runner(root, "write-tree")
            count = 0
        counter.write_text(str(count), encoding="ascii")
    except Exception:  # noqa: BLE001 (a failed refresh never fails the catch-up)
        pass  # the cache-tree only speeds git up; the next refresh brings it


if __name__ == "__main__":
    sys.exit(catch_up_process(Path(sys.argv[1])))
