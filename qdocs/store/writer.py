"""An action's commit: exactly its files, on top of the commit it started from.

``git add`` + ``git commit`` refresh the stat data of every tracked file: on a
10,000-record repository that alone was 100 ms per action.  Here only what
changed is touched: the written files' blobs, the new trees along their paths
(:mod:`.trees`), the commit object and the move of the branch from the parent to
it, with its reflog lines (:mod:`.commits`; the branch moves only if it still
names the parent), all written directly.  git's index is not read or written by
the action: its paths are noted and the index caught up in batches
(:mod:`.staging`), since reading and writing the whole index cost more than the
rest of the commit in a large repository.  Where those modules decline (an
unusual layout, names git would rewrite, git settings in the environment) and
every ``REFRESH_EVERY``-th action, ``git update-index``, ``write-tree``,
``commit-tree`` and ``update-ref`` do the same.  The result is tested byte for
byte against git (tests/test_gitobjects.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import StorageError
from . import commits, staging
from .runner import Git, start_detached
from .trees import UnsupportedTree, blob_entry, build_tree, stored_blob

#: see :func:`_tree_in_process`
REFRESH_EVERY = 64

_IDENTITY_CRUD = " .,:;<>\"\\'"


def commit_files(git: Git, files: list[str], message: str, author: str, email: str, parent: str | None) -> str:
    """Commit exactly ``files`` (as they are on disk) on top of ``parent`` and move HEAD's
    branch to the new commit (only if it still is ``parent``); returns the commit's id."""
    env = {
        "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
    }
    deferred = staging.deferred(git.root) and not _git_environment_set()
    if not deferred:
        _stage(git, files)
    tree = _tree_in_process(git.root, files, parent, deferred)
    if tree is None:
        if deferred:
            _stage(git, files)
        tree = git.text("write-tree")
        deferred = False
    reason = "qdocs: " + message.splitlines()[0][:200]
    commit = _commit_in_process(git.root, tree, parent, author, email, message, reason)
    if commit is None:
        arguments = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
        commit = git.run(*arguments, input=message.encode("utf-8"), env=env).decode().strip()
        git.run("update-ref", "-m", reason, "HEAD", commit, parent or "0" * 40)
    if deferred:
        _note_for_the_index(git, files)
    _collect_garbage_now_and_then(git.root)
    return commit


def _stage(git: Git, files: list[str]) -> None:
    """``files`` into git's index as they are on disk (their blobs stored), the index first
    brought up to date with every earlier action (:mod:`.staging`): ``git write-tree``
    must see every record, or the commit would drop the ones the index had not caught."""
    if staging.behind(git.root) and not git.catch_up_index():
        raise StorageError("git's index could not be brought up to date (is another git process running "
                           "in the repository?); nothing was written; try again")
    git.run("update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(files).encode("utf-8"))


def _note_for_the_index(git: Git, files: list[str]) -> None:
    """After the branch moved: the files the index lacks, for the next catch-up; if they
    cannot be noted (a full disk), the index takes them now."""
    try:
        staging.note(git.root, files)
    except OSError:
        git.run("update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(files).encode("utf-8"),
                check=False)


def _tree_in_process(root: Path, files: list[str], parent: str | None, deferred: bool) -> str | None:
    """The commit's tree from the parent's trees along the changed paths (:mod:`.trees`);
    None when git must write it.  ``deferred``: the index is left behind (:mod:`.staging`),
    so the blobs are stored here.  Otherwise every ``REFRESH_EVERY``-th action lets git
    write it for the side effect: the index's cache-tree brought up to date, which ``git
    status`` and ``git diff-index`` (the listing's check of the index against HEAD) use
    to skip unchanged folders."""
    if parent is None or _git_environment_set():
        return None
    if deferred:  # the catch-up process refreshes the cache-tree (:mod:`.catchup`)
        try:
            return build_tree(root, parent, {path: stored_blob(root, path) for path in files})
        except (UnsupportedTree, OSError, ValueError):
            return None
    counter = root / ".git" / "qdocs" / "trees-since-refresh"
    try:
        count = int(counter.read_text(encoding="ascii") or 0) + 1
    except (OSError, ValueError):
        count = 1
    if count >= REFRESH_EVERY:
        _write_quietly(counter, "0")
        return None
    try:
        tree = build_tree(root, parent, {path: blob_entry(root / path) for path in files})  # update-index stored them
    except (UnsupportedTree, OSError, ValueError):
        return None
    _write_quietly(counter, str(count))
    return tree


def _commit_in_process(root: Path, tree: str, parent: str | None, author: str, email: str, message: str,
                       reason: str) -> str | None:
    """The commit object and the branch move written directly (:mod:`.commits`): two git
    processes fewer per action.  None when the repository's layout or the names need git."""
    git_dir = root / ".git"
    branch = commits.branch_of_head(git_dir)
    if branch is None or not _plain_identity(author) or not _plain_identity(email) or _git_environment_set():
        return None
    when = commits.now()
    commit = commits.write_commit(git_dir, tree, parent, author, email, message, when)
    try:
        moved = commits.move_branch(git_dir, branch, commit, parent, f"{author} <{email}>", reason, when)
    except RuntimeError as error:
        raise StorageError(f"git update-ref failed: {error}") from None
    return commit if moved else None


def _collect_garbage_now_and_then(root: Path) -> None:
    """Plumbing does not start git's automatic housekeeping; start it (detached) when
    loose objects pile up, estimated as git does from one fan-out folder."""
    try:
        loose = len(os.listdir(root / ".git" / "objects" / "17"))
    except OSError:
        return
    if loose > 27:
        start_detached(root, "gc", "--auto", "--quiet")


def _plain_identity(text: str) -> bool:
    """A name or e-mail that git would store unchanged (it strips these characters at
    either end and refuses ``<``, ``>`` and line breaks inside)."""
    return bool(text) and text[0] not in _IDENTITY_CRUD and text[-1] not in _IDENTITY_CRUD and not any(
        character in text for character in "<>\n\r\0")


def _git_environment_set() -> bool:
    """Dates or places set for git in the environment: git reads them itself."""
    return any(name in os.environ for name in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GIT_INDEX_FILE",
                                               "GIT_DIR", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG_PARAMETERS",
                                               "GIT_ALTERNATE_OBJECT_DIRECTORIES"))


def _write_quietly(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="ascii")
    except OSError:
        pass
