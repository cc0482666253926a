"""git's index in a large repository: brought up to date just after an action, not in it.

An action's commit needs nothing of git's index: its blobs, trees and commit object
are written directly (:mod:`.writer`).  Updating the index as well costs a whole
read and write of it: a few milliseconds in a small repository, but at 100,000
records 70-110 ms per action (a 15 MB shared index and a cache-tree entry for
every record folder), more than the rest of the commit, and it grows with the
repository.  So once the index is large (:data:`DEFER_FROM_BYTES`, about 20,000
records) an action only notes the paths it committed (``.git/qdocs/index-behind``)
and the index is caught up for all of them at once:

* right after the action, by a process of its own (:func:`start_catch_up`; one at a
  time, taking whatever was noted meanwhile), so the action does not wait for it:
  the index is current a fraction of a second after the command ends;
* before any git command qdocs runs that reads or writes the index
  (:data:`INDEX_COMMANDS`, checked by :mod:`.runner`, the one way qdocs runs git):
  listing the records, ``status``, a recovery's ``reset``/``checkout``/``clean``, a
  sync's merge; and by ``qdocs status``; a reader that finds the lock taken reads the index as
  it is, except a lookup of one record by its id that the index does not have, which waits for
  the catch-up at work (``qdocs new`` then at once ``qdocs sign`` of the record it made);

In a smaller repository the action updates the index itself, as git would.

Catching up sets each noted path's entry to HEAD's (``git ls-tree HEAD`` fed to
``git update-index --index-info``; a path HEAD does not have is removed), whatever
happened in between (an action rolled back by recovery, the same record written
again), so the index then equals HEAD for those paths; git takes the entries'
file times on its next ``status``.  Until then (a fraction of a second), plain
``git status`` would show the action's files as staged deletions and untracked
files; a script that runs plain git right after a qdocs action in a large
repository runs ``qdocs status`` first.

An action notes its paths after its commit has moved the branch (a crash in between
leaves the journal, whose recovery resets those paths in the index to HEAD), so a
noted path is always one HEAD already has.  git's index is written by qdocs only under
its index lock (:func:`index_locked`): a catch-up, and every git command qdocs runs
that uses the index, hold it, so they never meet at git's own ``index.lock``; an
action in a large repository does not touch the index and never waits for a catch-up.
A catch-up that fails (git's ``index.lock`` held by a git process that is not qdocs',
a full disk) keeps the paths for the next one; the commits it followed stand.  The
catch-up process also brings the index's cache-tree up to date now and then
(``git write-tree``), which ``git status`` and the listing's check of the index against
HEAD use to skip unchanged folders.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

from ..errors import RepositoryBusyError
from .locking import RepositoryLock, held_here

#: git commands that read or write the index (a command with its own ``GIT_INDEX_FILE`` excepted)
INDEX_COMMANDS = frozenset({
    "add", "am", "apply", "checkout", "checkout-index", "cherry-pick", "clean", "commit", "diff-files",
    "diff-index", "ls-files", "merge", "mv", "read-tree", "rebase", "reset", "restore", "revert", "rm",
    "stash", "status", "switch", "update-index", "write-tree",
})
#: of those, the ones that only read it (``status`` writes it only when it can, and skips it otherwise)
READING_COMMANDS = frozenset({"diff-files", "diff-index", "ls-files", "status"})
PENDING = "index-behind"
#: an index (with its shared part) at least this large is caught up after the action, not in it
DEFER_FROM_BYTES = 4 * 2 ** 20
RUNNING = "index-catch-up.lock"
INDEX_LOCK = "index-lock"
#: how long a git command that uses the index waits for a catch-up at work (seconds: one takes
#: about a second at 1,000,000 records)
INDEX_WAIT = 120.0
#: how long the catch-up process waits for another holder of the index lock
CHILD_WAIT = 30.0
_CHUNK = 2000
#: catch-up processes this process started and has not yet seen end
_children: list[subprocess.Popen] = []

Runner = Callable[..., "tuple[int, bytes, bytes]"]


def deferred(root: Path) -> bool:
    """Whether an action in this repository leaves git's index to :func:`catch_up` (its
    index files, the split index's shared part included, reach :data:`DEFER_FROM_BYTES`)."""
    git_dir = Path(root) / ".git"
    try:
        size = (git_dir / "index").stat().st_size
        if size >= DEFER_FROM_BYTES:
            return True
        shared = [entry.stat().st_size for entry in os.scandir(git_dir) if entry.name.startswith("sharedindex.")]
    except OSError:
        return False
    return size + max(shared, default=0) >= DEFER_FROM_BYTES


def note(root: Path, paths: list[str]) -> None:
    """Remember ``paths``, which the commit HEAD now names holds but git's index may not."""
    if not paths:
        return
    local = Path(root) / ".git" / "qdocs"
    local.mkdir(parents=True, exist_ok=True)
    with _locked(local):
        with open(local / PENDING, "ab") as handle:
            handle.write(b"".join(path.encode("utf-8") + b"\0" for path in paths))
            handle.flush()
            os.fsync(handle.fileno())


def start_catch_up(root: Path) -> None:
    """Catch git's index up in a process of its own, unless one is at work already (it
    takes what was noted meanwhile before it ends).  Called when an action has released
    the repository's lock."""
    local = Path(root) / ".git" / "qdocs"
    if not behind(root) or try_lock(local / RUNNING, release=True) is None:
        return
    _children[:] = [child for child in _children if child.poll() is None]  # a server reaps those that ended
    try:
        package_parent = str(Path(__file__).resolve().parents[2])  # qdocs importable, installed or not
        path = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH", "")]))
        _children.append(subprocess.Popen(
            [sys.executable, "-m", "qdocs.store.catchup", str(root)], cwd=root, env={**os.environ, "PYTHONPATH": path},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    except OSError:
        pass  # the next index command or the next catch-up takes these paths


@contextlib.contextmanager
def index_locked(root: Path, wait: float = INDEX_WAIT) -> Iterator[None]:
    """Hold qdocs' lock on git's index (``.git/qdocs/index-lock``): every qdocs process that
    writes git's index holds it, a catch-up as well as a git command that uses the index
    (:mod:`.runner`), so that they never meet at git's own ``index.lock``.  An action in a
    large repository does not write the index and never waits for it.  Re-entrant within a
    process; :class:`RepositoryBusyError` after ``wait`` seconds."""
    path = Path(root) / ".git" / "qdocs" / INDEX_LOCK
    if held_here(path):
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = RepositoryLock(path, timeout=wait)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def catch_up_when_free(root: Path, git: Runner, wait: float = 0.0) -> bool:
    """:func:`catch_up` holding the index lock (:func:`index_locked`), once it is free
    within ``wait`` seconds.  False when it was not, or the catch-up failed."""
    try:
        with index_locked(root, wait):
            return catch_up(root, git)
    except RepositoryBusyError:
        return False


def behind(root: Path) -> bool:
    """Whether some committed paths are not in git's index yet."""
    try:
        return (Path(root) / ".git" / "qdocs" / PENDING).stat().st_size > 0
    except OSError:
        return False


def catch_up(root: Path, git: Runner) -> bool:
    """Bring git's index to HEAD for every noted path; True when nothing is left behind.
    The caller holds the index lock (:func:`index_locked`); ``git(root, *args, input=...)``
    runs git without coming back here (:func:`.runner.catch_up_runner`).  The list of noted
    paths is locked only while it is read and while what was taken in is cut from its
    front, so an action noting its paths never waits for git."""
    local = Path(root) / ".git" / "qdocs"
    pending = local / PENDING
    if not behind(root):
        return True
    with _locked(local):
        try:
            noted = pending.read_bytes()
        except OSError:
            return True
    paths = list(dict.fromkeys(item.decode("utf-8", "surrogateescape") for item in noted.split(b"\0") if item))
    if paths:
        entries = bytearray()
        for start in range(0, len(paths), _CHUNK):
            chunk = paths[start:start + _CHUNK]
            code, output, _ = git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", *chunk)
            if code != 0:
                return False
            listed = {line.split(b"\t", 1)[1] for line in output.split(b"\0") if b"\t" in line}
            entries += output
            for path in chunk:
                encoded = path.encode("utf-8", "surrogateescape")
                if encoded not in listed:
                    entries += b"0 " + b"0" * 40 + b"\t" + encoded + b"\0"
        code, _, _ = git(root, "update-index", "-z", "--index-info", input=bytes(entries))
        if code != 0:
            return False
    with _locked(local):
        try:
            with open(pending, "r+b") as handle:
                rest = handle.read()[len(noted):]  # what actions noted meanwhile stays
                handle.seek(0)
                handle.write(rest)
                handle.truncate(len(rest))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError:
            return False
    return True


def try_lock(path: Path, release: bool = False) -> int | None:
    """A held exclusive flock on ``path`` (its descriptor), or None when another holds it;
    with ``release``, only whether it was free (released at once)."""
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        return None
    if release:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)
    return handle


class _locked:
    """The small lock around the list of noted paths (flock: released if the process dies)."""

    def __init__(self, local: Path) -> None:
        self.path = local / (PENDING + ".lock")

    def __enter__(self) -> None:
        self.handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        os.close(self.handle)
