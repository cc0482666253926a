"""The write-ahead note that makes every action all-or-nothing.

Before an action touches a file it writes a journal naming the paths it will
change and the HEAD it starts from.  The action's commit carries an
``Operation:`` trailer with the journal's id (:mod:`.trailers`).  If the process dies, the next
qdocs command that takes the lock finds the journal and either

* sees the commit landed (HEAD carries the operation id): it only removes the
  journal, or
* rolls the paths back to HEAD (unstages them, restores tracked files, removes
  new ones): nothing of the unfinished action is kept.

Either way it reports what it did.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RepositoryBusyError
from . import staging, trailers
from .runner import Git


@dataclass
class Journal:
    operation: str
    action: str
    head: str | None
    paths: list[str]
    records: list[str] = field(default_factory=list)
    pid: int = 0

    @classmethod
    def start(cls, action: str, head: str | None, paths: list[str], records: list[str]) -> "Journal":
        return cls(uuid.uuid4().hex, action, head, list(paths), list(records), os.getpid())

    def describe(self) -> str:
        shown = ", ".join(self.records[:3]) + (f" and {len(self.records) - 3} more" if len(self.records) > 3 else "")
        return f"{self.action} of {shown or 'repository settings'}"


def write_journal(path: Path, journal: Journal) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(journal.__dict__, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_journal(path: Path) -> Journal | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Journal(**raw)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return Journal("unknown", "unreadable journal", None, [], [], 0)


def clear_journal(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def recover(git: Git, journal_path: Path) -> str | None:
    """Finish or undo an interrupted action. Call only while holding the lock.

    Returns a sentence for the user, or None when there was nothing to do.
    """
    _remove_stale_git_locks(git.root)
    journal = read_journal(journal_path)
    if journal is None:
        return None
    head = git.head()
    if head and head != journal.head and _head_has_operation(git, journal.operation):
        if journal.paths:  # git's index may not have caught up with it (:mod:`.staging`)
            git.run("reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul",
                    input="\0".join(journal.paths).encode(), check=False)
        clear_journal(journal_path)
        return f"recovered: the interrupted {journal.describe()} had been committed; finished it"
    if journal.paths:
        git.run("reset", "-q", "--pathspec-from-file=-", "--pathspec-file-nul",
                input="\0".join(journal.paths).encode(), check=False)
        if head:
            tracked = git.existing_in_head(journal.paths)
            if tracked:
                git.run("checkout", "-q", "HEAD", "--pathspec-from-file=-", "--pathspec-file-nul",
                        input="\0".join(tracked).encode(), check=False)
        for start in range(0, len(journal.paths), 500):
            git.run("clean", "-fdq", "--", *journal.paths[start:start + 500], check=False)
        _remove_empty_parents(git.root, journal.paths)
    clear_journal(journal_path)
    return f"recovered: rolled back the unfinished {journal.describe()} (process {journal.pid} stopped before committing); nothing of it was kept"


def _remove_empty_parents(root: Path, paths: list[str]) -> None:
    """Folders made for a rolled-back record (``lot/P/L/``) go too, when empty."""
    for path in paths:
        folder = (root / path).parent
        while folder != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


def _head_has_operation(git: Git, operation: str) -> bool:
    message = git.run("log", "-1", "--format=%B", "HEAD", check=False).decode("utf-8", "replace")
    return trailers.operation(message) == operation


def _remove_stale_git_locks(root: Path) -> None:
    """git's own lock files left by a killed git; safe while we hold the repository lock,
    since every qdocs git write happens under it, but for git's index, which a catch-up
    process may be writing (:mod:`.staging`): its ``index.lock`` is removed only under the
    index lock, when no catch-up is at work."""
    git_dir = root / ".git"
    if (git_dir / "index.lock").exists():
        try:
            with staging.index_locked(root, wait=0):  # a catch-up at work: that index.lock is its own
                try:
                    os.unlink(git_dir / "index.lock")
                except FileNotFoundError:
                    pass
        except RepositoryBusyError:
            pass
    try:
        os.unlink(git_dir / "HEAD.lock")
    except FileNotFoundError:
        pass
    heads = git_dir / "refs" / "heads"
    if heads.is_dir():
        for stale in heads.rglob("*.lock"):
            try:
                stale.unlink()
            except FileNotFoundError:
                pass
