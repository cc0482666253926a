"""A commit checked out where nobody works: a throwaway copy in a temporary folder.

``qdocs sync`` verifies the merge it is about to take, and the server's ``pre-receive`` hook
verifies a pushed commit, before either is accepted.  Verification reads a work tree, so the
commit is checked out into a new repository in a temporary folder that borrows the objects of
the real one (``objects/info/alternates``: nothing is copied but the checked-out files), and
the folder is removed afterwards.  The user's work tree, index and branches are never touched.

Two ways: the whole tree (the server's hook on a first push, or when asked), or only some
paths (``paths``: a sync checks what came in, so it checks out the repository's own files and
the record folders that changed; the rest is never written, and the index holds only what was
checked out).  ``git_files`` are written under the copy's ``.git`` first: the caches of what
was already read of the history (kept per commit and reused while that commit is an ancestor,
so only the new commits are read again).
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
def checkout(object_directories: list[Path], commit: str, paths: list[str] | None = None,
             git_files: dict[str, bytes] | None = None) -> Iterator[Path]:
    """The root of a temporary copy with ``commit`` checked out (detached; only ``paths``,
    files or folders it holds, when given), its objects read from ``object_directories``;
    removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="qdocs-check-"))
    try:
        run(folder, "init", "--quiet")
        alternates = folder / ".git" / "objects" / "info" / "alternates"
        alternates.parent.mkdir(parents=True, exist_ok=True)
        alternates.write_text("".join(f"{Path(directory).resolve()}\n" for directory in object_directories),
                              encoding="utf-8")
        for name, content in (git_files or {}).items():
            target = folder / ".git" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if paths is None:
            run(folder, "checkout", "--quiet", "--detach", commit)
        else:
            run(folder, "update-ref", "--no-deref", "HEAD", commit)
            check_out_paths(folder, commit, paths)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_out_paths(folder: Path, commit: str, paths: list[str]) -> None:
    """Check out ``paths`` (files or folders ``commit`` holds) of ``commit`` into the copy at ``folder``."""
    if paths:
        run(folder, "checkout", "--quiet", "--pathspec-from-file=-", "--pathspec-file-nul", commit,
            input="\0".join(f":(literal){path}" for path in paths).encode("utf-8"))


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
