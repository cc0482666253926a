"""Whether a git operation that joins histories is unfinished in a copy: a merge
(``MERGE_HEAD``), a cherry-pick, a revert, a rebase, or files left in conflict.

While one is unfinished the work tree is neither HEAD nor a committed state: files may hold
conflict markers, and a commit qdocs wrote on top of HEAD would drop the merge half done.
So nothing is committed then (:meth:`qdocs.store.repository.Repository.locked` refuses), and a
command that fails while one is unfinished says so in one line instead of failing on the
markers (:class:`qdocs.commands.shared.QdocsGroup`).

The check that a merge is in progress is a few ``stat`` calls (every command can afford it);
the list of conflicted files reads the index (one git process), done before a write only.
"""

from __future__ import annotations

from pathlib import Path

from .runner import Git

#: files and folders in ``.git`` that git leaves while an operation is unfinished, and its name
_IN_PROGRESS = (("MERGE_HEAD", "merge"), ("CHERRY_PICK_HEAD", "cherry-pick"), ("REVERT_HEAD", "revert"),
                ("rebase-merge", "rebase"), ("rebase-apply", "rebase"))


def operation_in_progress(root: Path) -> str | None:
    """The git operation left unfinished in the copy at ``root`` ("merge", "rebase"...), or None."""
    git_dir = Path(root) / ".git"
    for name, operation in _IN_PROGRESS:
        if (git_dir / name).exists():
            return operation
    return None


def conflicted_paths(git: Git) -> list[str]:
    """Files the index holds in conflict (unmerged), each once."""
    output = git.run("ls-files", "-u", "-z", check=False).decode("utf-8", "replace")
    paths: list[str] = []
    for entry in output.split("\0"):
        if "\t" in entry:
            path = entry.split("\t", 1)[1]
            if not paths or paths[-1] != path:
                paths.append(path)
    return paths


def unfinished_merge(root: Path, thorough: bool = False) -> str | None:
    """One sentence saying what is unfinished and what to do, or None when nothing is.
    ``thorough`` also lists conflicted files left without an operation in progress (a
    conflicted ``git stash pop``), at the cost of reading the index."""
    operation = operation_in_progress(root)
    conflicts = conflicted_paths(Git(root)) if operation or thorough else []
    if operation is None and not conflicts:
        return None
    where = f" ({len(conflicts)} file{'s' if len(conflicts) != 1 else ''} in conflict, e.g. {conflicts[0]})" \
        if conflicts else ""
    if operation in ("merge", "cherry-pick", "revert"):
        advice = (f"finish it (resolve, git add, git {operation} --continue) or undo it "
                  f"(git {operation} --abort)")
    elif operation == "rebase":
        advice = "undo it (git rebase --abort): qdocs history is merged, never rebased"
    else:
        advice = "resolve the files (or git checkout HEAD -- FILE) and git add them"
    name = operation or "conflict resolution"
    return (f"a git {name} is unfinished in {root}{where}: {advice}, then run the qdocs command again; "
            "nothing was written")
