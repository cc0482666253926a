"""What git's history says: the commits that touched a path, ancestry, the files
an append-only log gained.

Read with ``git log`` through :mod:`.runner` (GitPython did this before: its
import alone cost 0.13 s per process), commit messages' trailers with
:mod:`.trailers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from . import trailers
from .runner import Git

_FORMAT = "--format=%H%n%aI%n%an%n%B"


@dataclass
class LogEntry:
    """One commit as the history of a path shows it."""

    commit: str
    time: str  # the author's date, ISO 8601 with its offset
    author: str
    message: str

    @property
    def summary(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    @cached_property
    def trailers(self) -> dict[str, str]:
        return trailers.parse(self.message)


def log(git: Git, paths: list[str], revision: str = "HEAD") -> list[LogEntry]:
    """Every commit in the history of ``revision`` that changed something under ``paths``, newest first."""
    if git.head() is None:
        return []
    output = git.run("log", "-z", _FORMAT, revision, "--", *paths).decode("utf-8", "replace")
    entries = []
    for block in output.split("\0"):
        if block:
            commit, time, author, message = (block.split("\n", 3) + ["", "", ""])[:4]
            entries.append(LogEntry(commit, time, author, message))
    return entries


def is_ancestor(git: Git, commit: str, descendant: str = "HEAD") -> bool:
    """Whether ``commit`` is in the history of ``descendant``."""
    return git.status("merge-base", "--is-ancestor", commit, descendant) == 0


def added_and_changed(git: Git, folder: str, since: str | None) -> tuple[dict[str, list[str]], list[str]]:
    """For an append-only log kept as files in ``folder``: each file added since the commit
    ``since`` (every one when None) with the parents of the commit that added it, and the
    files changed or deleted since then.  A merge commit counts with what it holds that
    none of its parents had (``-c``): the event a sync's merge writes (:mod:`qdocs.mergeoutcomes`),
    not the files it brings in from the other side."""
    revisions = [f"{since}..HEAD"] if since else ["HEAD"]
    added: dict[str, list[str]] = {}
    output = git.run("log", "--format=%x00%H %P", "--name-only", "--diff-filter=A", "--no-renames", "-c",
                     *revisions, "--", folder, check=False).decode("utf-8", "replace")
    for block in output.split("\0")[1:]:
        lines = [line for line in block.splitlines() if line]
        _, *parents = lines[0].split(" ")
        for path in lines[1:]:
            added.setdefault(path, parents)
    changed = git.run("log", "--format=", "--name-only", "--diff-filter=MD", "--no-renames", "-c", *revisions,
                      "--", f"{folder}/*/*", check=False).decode("utf-8", "replace").split()
    return added, changed
