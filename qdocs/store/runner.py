"""The one way qdocs runs git: one environment, one mapping of failures to errors.

Why the git command and not a library: measured on a 5,000-file repository,
GitPython's ``index.add`` + commit cost 0.65 s per record against 0.04 s through
the git command, and importing GitPython costs about 0.13 s per process.  Every
call here is a short-lived process (a long-lived ``cat-file --batch`` reader is
in :mod:`.objects`), so nothing stays open between commands.

Every git process gets the same environment: no terminal prompt, no system-wide
configuration, the C locale (messages parsed here are git's English ones), and
the clock's dates when the clock is set (:func:`qdocs.clock.git_dates`), so that
commits carry the same moment as the records.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import IO, Any, Iterator

from .. import clock
from ..errors import StorageError, ToolMissingError
from . import staging

GIT_MISSING = "git is not installed: install git (e.g. apt-get install git)"

BASE_ENVIRONMENT = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
#: housekeeping processes started by :func:`start_detached`, not yet seen end
_detached: list[subprocess.Popen] = []


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every git process: this process's, with :data:`BASE_ENVIRONMENT`,
    the clock's dates and ``extra`` on top."""
    return {**os.environ, **BASE_ENVIRONMENT, **clock.git_dates(), **(extra or {})}


def require() -> None:
    """Refuse before anything is written when git cannot be run: an action that wrote its
    files and then found no git could neither commit them nor roll them back."""
    if shutil.which("git") is None:
        raise ToolMissingError(GIT_MISSING)


def run(root: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
        check: bool = True) -> bytes:
    """git's output; a failure raises :class:`StorageError` unless ``check`` is False."""
    completed = _completed(root, args, input, env)
    if check and completed.returncode != 0:
        raise failure(args, completed.returncode, completed.stderr)
    return completed.stdout


def status(root: Path, *args: str, input: bytes | None = None) -> int:
    """git's exit status (its output is dropped)."""
    return _completed(root, args, input, None).returncode


def outcome(root: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float | None = None) -> tuple[int, bytes, bytes]:
    """git's exit status, output and complaints, for a caller that reads a failure itself
    (a push refused, a merge with conflicts); ``timeout`` (seconds): a git still running
    then is stopped and :class:`subprocess.TimeoutExpired` raised."""
    completed = _completed(root, args, None, env, timeout)
    return completed.returncode, completed.stdout, completed.stderr


def start(root: Path, args: list[str], stdin: Any = DEVNULL, stdout: Any = PIPE,
          stderr: Any = DEVNULL) -> subprocess.Popen:
    """A git process left running (a reader fed through a pipe, or a lister writing to a file)."""
    with _index_current(root, args, None):  # the index is only read by such a process
        pass
    try:
        return subprocess.Popen(["git", *args], cwd=root, env=environment(), stdin=stdin, stdout=stdout,
                                stderr=stderr)
    except FileNotFoundError:
        raise ToolMissingError(GIT_MISSING) from None


def finish(process: subprocess.Popen, errors: IO[bytes] | None, what: str) -> None:
    """Wait for a process from :func:`start`; a failure raises :class:`StorageError`
    (``errors``: the file its standard error went to)."""
    if process.wait() != 0:
        message = b""
        if errors is not None:
            errors.seek(0)
            message = errors.read()
        lines = message.decode("utf-8", "replace").strip().splitlines()
        raise StorageError(f"git could not {what}: {lines[-1] if lines else 'exit ' + str(process.returncode)}")


def start_detached(root: Path, *args: str) -> None:
    """A git process that outlives this one (housekeeping), its output dropped; a long-lived
    process (the server) reaps the ones that ended at its next call."""
    _detached[:] = [process for process in _detached if process.poll() is None]
    try:
        _detached.append(subprocess.Popen(["git", *args], cwd=root, env=environment(), stdin=DEVNULL, stdout=DEVNULL,
                                          stderr=DEVNULL, start_new_session=True))
    except OSError:
        pass


def failure(args: tuple[str, ...] | list[str], returncode: int, stderr: bytes) -> StorageError:
    """The error for a git command that failed: its last line of complaint, and whether the disk is full."""
    text = stderr.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    detail = lines[-1] if lines else f"exit {returncode}"
    command = _subcommand(args) or "command"
    if "No space left" in text:
        return StorageError(f"disk full while running git {command}: {detail}")
    return StorageError(f"git {command} failed: {detail}")


def _completed(root: Path, args: tuple[str, ...], input: bytes | None,
               env: dict[str, str] | None, timeout: float | None = None) -> subprocess.CompletedProcess:
    with _index_current(root, args, env):
        try:
            return subprocess.run(["git", *args], cwd=root, input=input, env=environment(env),
                                  stdout=PIPE, stderr=PIPE, check=False, timeout=timeout)
        except FileNotFoundError:
            raise ToolMissingError(GIT_MISSING) from None


@contextlib.contextmanager
def _index_current(root: Path, args: tuple[str, ...] | list[str], env: dict[str, str] | None) -> Iterator[None]:
    """Around a git command that uses the index: qdocs' index lock held (a catch-up never
    writes the index beside it), and first the paths qdocs committed without the index
    brought into it (:mod:`.staging`).  Not for a command given an index file of its own."""
    command = _subcommand(args)
    if (env and "GIT_INDEX_FILE" in env) or "GIT_INDEX_FILE" in os.environ or command not in staging.INDEX_COMMANDS \
            or not (Path(root) / ".git" / "qdocs").is_dir():
        yield
        return
    if command in staging.READING_COMMANDS:  # reads it: caught up if the lock is free, else HEAD is read meanwhile
        if staging.behind(root):
            staging.catch_up_when_free(root, _unhooked)
        yield
        return
    with staging.index_locked(root):
        if staging.behind(root):
            staging.catch_up(root, _unhooked)
        yield


def _subcommand(args: tuple[str, ...] | list[str]) -> str | None:
    position = 0
    while position < len(args) and args[position].startswith("-"):
        position += 2 if args[position] in ("-c", "-C") else 1
    return args[position] if position < len(args) else None


def catch_up_runner(root: Path, *args: str, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """The git runner :func:`qdocs.store.staging.catch_up` is given (it must not come back to it)."""
    return _unhooked(root, *args, input=input)


def _unhooked(root: Path, *args: str, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """git run directly (for :mod:`.staging` itself): exit status, output, complaints."""
    try:
        completed = subprocess.run(["git", *args], cwd=root, input=input, env=environment(), stdout=PIPE,
                                   stderr=PIPE, check=False)
    except FileNotFoundError:
        raise ToolMissingError(GIT_MISSING) from None
    return completed.returncode, completed.stdout, completed.stderr


class Git:
    """git run in one repository (its work tree's root)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    require = staticmethod(require)

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> bytes:
        """git's output (bytes)."""
        return run(self.root, *args, input=input, env=env, check=check)

    def status(self, *args: str, input: bytes | None = None) -> int:
        """git's exit status."""
        return status(self.root, *args, input=input)

    def text(self, *args: str, check: bool = True) -> str:
        return self.run(*args, check=check).decode("utf-8", "replace").strip()

    def head(self) -> str | None:
        """The commit HEAD names, read from the ref files (no process: a search checks it
        every time, 50 µs against 3-5 ms for ``git rev-parse``); git itself answers when
        the layout is unusual (detached HEAD, packed or odd refs, a linked work tree)."""
        git_dir = self.root / ".git"
        try:
            head = (git_dir / "HEAD").read_text(encoding="ascii").strip()
            if head.startswith("ref: refs/heads/") and ".." not in head:
                reference = git_dir / head[5:]
                if reference.is_file():
                    value = reference.read_text(encoding="ascii").strip()
                    if len(value) == 40 and all(character in _HEX for character in value):
                        return value
                elif not (git_dir / "packed-refs").exists():
                    return None  # a branch with no commit yet
                else:  # packed by git gc: "<id> <ref>" lines (after a "# pack-refs" header)
                    value = _packed_ref(git_dir / "packed-refs", head[5:])
                    if value is not None:
                        return value
        except (OSError, UnicodeDecodeError):
            pass
        output = self.run("rev-parse", "--verify", "-q", "HEAD", check=False).decode().strip()
        return output or None

    def catch_up_index(self) -> bool:
        """Bring git's index up to date with what qdocs committed without it (:mod:`.staging`),
        so that plain ``git status`` shows a clean tree; True when nothing is left behind
        (it waits for a catch-up at work)."""
        return staging.catch_up_when_free(self.root, _unhooked, wait=staging.INDEX_WAIT)

    def commit_exists(self, commit: str) -> bool:
        return self.status("cat-file", "-e", f"{commit}^{{commit}}") == 0

    def show_bytes(self, revision: str, path: str) -> bytes | None:
        """A file as it is in ``revision`` (None when it has no such file)."""
        return self.run("cat-file", "blob", f"{revision}:{path}", check=False) or None

    def blob(self, blob: str) -> bytes:
        """A blob by its id (empty when git has no such blob)."""
        return self.run("cat-file", "blob", blob, check=False)

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


_HEX = frozenset("0123456789abcdef")


def _packed_ref(path: Path, name: str) -> str | None:
    """The commit id ``packed-refs`` gives the ref ``name``, or None (then git answers)."""
    wanted = f" {name}"
    with open(path, encoding="ascii") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.endswith(wanted) and not line.startswith(("#", "^")):
                value = line[:-len(wanted)]
                if len(value) == 40 and all(character in _HEX for character in value):
                    return value
                return None
    return None
