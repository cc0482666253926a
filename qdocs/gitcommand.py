"""The git command, called directly on the write path.

Why not GitPython's index here: measured on a 5,000-file repository, its
``index.add`` + commit cost 0.65 s per record against 0.04 s through the git
command, and importing GitPython costs about 0.13 s per process.  Writes go
through ``git`` itself (the same program GitPython wraps); history reading uses
GitPython (see :mod:`qdocs.history`).  Every call is a short-lived process, so
nothing stays open.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from . import clock
from .errors import StorageError, ToolMissingError

GIT_MISSING = "git is not installed: install git (e.g. apt-get install git)"

_BASE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


_IDENTITY_CRUD = " .,:;<>\"\\'"


def _plain_identity(text: str) -> bool:
    """A name or e-mail that git would store unchanged (it strips these characters at
    either end and refuses ``<``, ``>`` and line breaks inside)."""
    return bool(text) and text[0] not in _IDENTITY_CRUD and text[-1] not in _IDENTITY_CRUD and not any(
        character in text for character in "<>\n\r\0")


#: see Git._tree_in_process
REFRESH_EVERY = 64


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


class Git:
    """Run git in one repository."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def require() -> None:
        """Refuse before anything is written when git cannot be run: an action that wrote its
        files and then found no git could neither commit them nor roll them back."""
        if shutil.which("git") is None:
            raise ToolMissingError(GIT_MISSING)

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None, check: bool = True,
            status_only: bool = False) -> Any:
        """git's output (bytes); with ``status_only`` its exit status instead."""
        full_env = {**os.environ, **_BASE_ENV, **clock.git_dates(), **(env or {})}
        try:
            completed = subprocess.run(
                ["git", *args], cwd=self.root, input=input, env=full_env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
            )
        except FileNotFoundError:
            raise ToolMissingError(GIT_MISSING) from None
        if status_only:
            return completed.returncode
        if check and completed.returncode != 0:
            message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = message[-1] if message else f"exit {completed.returncode}"
            if "No space left" in completed.stderr.decode("utf-8", "replace"):
                raise StorageError(f"disk full while running git {args[0]}: {detail}")
            raise StorageError(f"git {args[0]} failed: {detail}")
        return completed.stdout

    def text(self, *args: str, check: bool = True) -> str:
        return self.run(*args, check=check).decode("utf-8", "replace").strip()

    def head(self) -> str | None:
        """The commit HEAD names, read from the ref files (no process); git itself
        answers when the layout is unusual (detached HEAD, packed or odd refs)."""
        git_dir = self.root / ".git"
        try:
            head = (git_dir / "HEAD").read_text(encoding="ascii").strip()
            if head.startswith("ref: refs/heads/") and ".." not in head:
                reference = git_dir / head[5:]
                if reference.is_file():
                    value = reference.read_text(encoding="ascii").strip()
                    if len(value) == 40:
                        return value
                elif not (git_dir / "packed-refs").exists():
                    return None  # a branch with no commit yet
        except (OSError, UnicodeDecodeError):
            pass
        output = self.run("rev-parse", "--verify", "-q", "HEAD", check=False).decode().strip()
        return output or None

    def is_ancestor(self, commit: str, descendant: str = "HEAD") -> bool:
        """Whether ``commit`` is in the history of ``descendant``."""
        return self.run("merge-base", "--is-ancestor", commit, descendant, check=False, status_only=True) == 0

    def commit_files(self, files: list[str], message: str, author: str, email: str, parent: str | None) -> str:
        """Commit exactly ``files`` (as they are on disk) on top of ``parent``, with plumbing.

        ``git add`` + ``git commit`` refresh the stat data of every tracked file:
        on a 10,000-record repository that alone was 100 ms per action.  Here only
        what changed is touched: ``git update-index`` of the written files (which
        also stores their blobs), the new trees along their paths
        (:mod:`qdocs.gittrees`), the commit object and the move of HEAD from
        ``parent`` to it (:mod:`qdocs.gitobjects`; HEAD moves only if it still is
        ``parent``).  Where those modules decline, ``git write-tree``,
        ``commit-tree`` and ``update-ref`` do the same.
        """
        env = {
            "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email,
        }
        self.run("update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(files).encode("utf-8"))
        tree = self._tree_in_process(files, parent) or self.text("write-tree")
        reason = "qdocs: " + message.splitlines()[0][:200]
        commit = self._commit_in_process(tree, parent, author, email, message, reason)
        if commit is None:
            arguments = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
            commit = self.run(*arguments, input=message.encode("utf-8"), env=env).decode().strip()
            self.run("update-ref", "-m", reason, "HEAD", commit, parent or "0" * 40)
        self._collect_garbage_now_and_then()
        return commit

    def _tree_in_process(self, files: list[str], parent: str | None) -> str | None:
        """The commit's tree from the parent's trees along the changed paths
        (:mod:`qdocs.gittrees`), None when git must write it.  Every
        ``REFRESH_EVERY``-th action also runs ``git write-tree`` for its side effect:
        it brings the index's cache-tree up to date, which ``git status`` and
        ``git diff-index`` (the audit's check of the index against HEAD) use to skip
        unchanged folders."""
        from .gittrees import UnsupportedTree, blob_entry, build_tree

        if parent is None or _git_environment_set():
            return None
        counter = self.root / ".git" / "qdocs" / "trees-since-refresh"
        try:
            count = int(counter.read_text(encoding="ascii") or 0) + 1
        except (OSError, ValueError):
            count = 1
        if count >= REFRESH_EVERY:
            _write_quietly(counter, "0")
            return None
        try:
            changes = {path: blob_entry(self.root / path) for path in files}
            tree = build_tree(self.root, parent, changes, _BASE_ENV)
        except (UnsupportedTree, OSError, ValueError):
            return None
        _write_quietly(counter, str(count))
        return tree

    def _commit_in_process(self, tree: str, parent: str | None, author: str, email: str, message: str,
                           reason: str) -> str | None:
        """The commit object and the branch move written directly (:mod:`qdocs.gitobjects`):
        two git processes fewer per action.  None when the repository's layout or the
        names need git itself."""
        from . import gitobjects

        git_dir = self.root / ".git"
        branch = gitobjects.branch_of_head(git_dir)
        if branch is None or not _plain_identity(author) or not _plain_identity(email) or _git_environment_set():
            return None
        when = gitobjects.now()
        commit = gitobjects.write_commit(git_dir, tree, parent, author, email, message, when)
        try:
            moved = gitobjects.move_branch(git_dir, branch, commit, parent, f"{author} <{email}>", reason, when)
        except RuntimeError as error:
            raise StorageError(f"git update-ref failed: {error}") from None
        return commit if moved else None

    def _collect_garbage_now_and_then(self) -> None:
        """Plumbing does not start git's automatic housekeeping; start it (detached)
        when loose objects pile up, estimated as git does from one fan-out folder."""
        try:
            loose = len(os.listdir(self.root / ".git" / "objects" / "17"))
        except OSError:
            return
        if loose > 27:
            subprocess.Popen(["git", "gc", "--auto", "--quiet"], cwd=self.root, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def show_bytes(self, revision: str, path: str) -> bytes | None:
        completed = self.run("cat-file", "blob", f"{revision}:{path}", check=False)
        return completed if completed else None

    def existing_in_head(self, paths: list[str]) -> list[str]:
        """Those of ``paths`` (files or folders) that HEAD has."""
        found: list[str] = []
        for start in range(0, len(paths), 500):
            output = self.run("ls-tree", "-z", "--name-only", "HEAD", "--", *paths[start:start + 500], check=False)
            found.extend(item for item in output.decode("utf-8").split("\0") if item)
        return found

    def find_files(self, pattern: str) -> list[str]:
        """Tracked files matching a glob pathspec (reads the index, not the disk)."""
        output = self.run("ls-files", "-z", "--", f":(glob){pattern}")
        return [item for item in output.decode("utf-8").split("\0") if item]
