"""A commit checked out where nobody works: a throwaway copy in a temporary folder.

``qdocs sync`` verifies the merge it is about to take, and the server's ``pre-receive`` hook
verifies a pushed commit, before either is accepted.  Verification reads a work tree, so the
commit is checked out into a new repository in a temporary folder that borrows the objects of
the real one (``objects/info/alternates``: nothing is copied but the checked-out files), and
the folder is removed afterwards.  The user's work tree, index and branches are never touched.

Cost: one checkout of the whole tree (every record's files) and a full verification, in
proportion to the size of the repository, not to what changed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .runner import run

#: what git sets for a hook and must not reach the git processes run in the scratch copy
_HOOK_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                   "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH", "GIT_PREFIX")


@contextlib.contextmanager
def checkout(object_directories: list[Path], commit: str) -> Iterator[Path]:
    """The root of a temporary copy with ``commit`` checked out (detached), its objects read
    from ``object_directories``; removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="qdocs-check-"))
    try:
        run(folder, "init", "--quiet")
        alternates = folder / ".git" / "objects" / "info" / "alternates"
        alternates.parent.mkdir(parents=True, exist_ok=True)
        alternates.write_text("".join(f"{Path(directory).resolve()}\n" for directory in object_directories),
                              encoding="utf-8")
        run(folder, "checkout", "--quiet", "--detach", commit)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def objects_of(git_dir: Path) -> Path:
    return Path(git_dir) / "objects"


def take_hook_environment() -> tuple[Path, list[Path]]:
    """In a git hook: the repository's git directory and every object directory the pushed
    commits may be in (the quarantine of a push in progress, then the repository's own),
    with git's hook variables removed from this process's environment so that the git
    processes started afterwards work on the scratch copy only."""
    git_dir = Path(os.environ.get("GIT_DIR") or ".").resolve()
    directories: list[Path] = []
    for value in (os.environ.get("GIT_OBJECT_DIRECTORY"), os.environ.get("GIT_QUARANTINE_PATH"),
                  *(os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES") or "").split(os.pathsep)):
        if value:
            directories.append(Path(value).resolve())
    directories.append(objects_of(git_dir))
    for name in _HOOK_VARIABLES:
        os.environ.pop(name, None)
    unique: list[Path] = []
    for directory in directories:
        if directory not in unique and directory.is_dir():
            unique.append(directory)
    return git_dir, unique
