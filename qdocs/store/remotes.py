"""Talking to other copies of the repository through git: remotes, fetch, push, and the
plumbing of a merge that is checked before it is taken (``qdocs sync``).

A merge is computed without touching the work tree (``git merge-tree --write-tree``, git
2.38 or later), written as a commit object that no branch names yet (``commit-tree``), and
taken by a fast-forward of the branch to it (``git merge --ff-only``) once it has been
checked, so the commit checked is exactly the commit kept.  Nothing here rebases or
forces: history is evidence.  Where the merge left files in conflict, the layer above
computes their merged content (:mod:`qdocs.mergeoutcomes`: the store knows no record) and
:func:`tree_with_files` writes the tree with those files replaced, again without the work
tree or the index.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RemoteUnreachableError, StorageError, UsageError
from .objects import read_once
from .runner import Git, outcome, run

#: the branch of every records repository (``qdocs init`` names it)
BRANCH = "main"

REMOTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NO_COMMIT = "0" * 40
#: seconds a fetch or push may take by default (:func:`network_timeout`)
NETWORK_TIMEOUT = 300.0


@dataclass
class PushResult:
    """What a push came to: ``accepted``; else ``behind`` (the remote has commits this copy
    has not taken in yet) or refused by the server (its ``messages``, e.g. a hook's findings)."""

    accepted: bool
    behind: bool = False
    messages: list[str] = field(default_factory=list)


def remotes(git: Git) -> dict[str, str]:
    """Every remote of the copy and its address."""
    output = git.text("config", "--get-regexp", r"^remote\..*\.url$", check=False)
    found: dict[str, str] = {}
    for line in output.splitlines():
        key, _, url = line.partition(" ")
        found[key[len("remote."):-len(".url")]] = url
    return found


def add_remote(git: Git, name: str, url: str) -> None:
    if not REMOTE_NAME.match(name):
        raise UsageError(f"remote name {name!r}: use letters, digits, '.', '_' or '-', e.g. origin")
    if not url.strip():
        raise UsageError("the remote's address is empty: give a git URL, e.g. ssh://git.example.com/records.git")
    if name in remotes(git):
        raise UsageError(f"remote {name} already exists ({remotes(git)[name]}); "
                         f"change it with: git remote set-url {name} URL")
    git.run("remote", "add", name, url)


def require_remote(git: Git, name: str) -> str:
    """The address of remote ``name``; a remote the copy does not have is bad input."""
    known = remotes(git)
    if name not in known:
        hint = f"known remotes: {', '.join(sorted(known))}" if known else "this copy has no remote yet"
        raise UsageError(f"no remote named {name} ({hint}); add one with: qdocs remote add {name} URL")
    return known[name]


def current_branch(git: Git) -> str:
    branch = git.text("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if not branch:
        raise UsageError(f"{git.root} is not on a branch (detached HEAD): check out the branch to sync, "
                         "e.g. git checkout main")
    return branch


def network_timeout() -> float:
    """Seconds a fetch or push may take before it is given up (``QDOCS_NETWORK_TIMEOUT``,
    default :data:`NETWORK_TIMEOUT`): a server that accepts the connection and then never
    answers must not hang a scheduled sync for ever.  A first fetch of a large repository
    over a slow line may need more: raise it then."""
    text = os.environ.get("QDOCS_NETWORK_TIMEOUT", "").strip()
    try:
        value = float(text) if text else NETWORK_TIMEOUT
    except ValueError:
        raise UsageError(f"QDOCS_NETWORK_TIMEOUT={text!r} is not a number of seconds") from None
    if value <= 0:
        raise UsageError(f"QDOCS_NETWORK_TIMEOUT={text!r} must be more than 0 seconds")
    return value


def _network(git: Git, remote: str, what: str, *args: str) -> tuple[int, bytes, bytes]:
    """A fetch or push, stopped after :func:`network_timeout`; over http(s) a transfer slower
    than 1 kB/s for a minute, and over ssh a connection not made in 30 s, fail sooner (git's
    own settings, where the user has not set them)."""
    limit = network_timeout()
    options = ["-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60"]
    env = {}
    if not os.environ.get("GIT_SSH_COMMAND") and not git.text("config", "core.sshCommand", check=False):
        env["GIT_SSH_COMMAND"] = "ssh -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
    try:
        return outcome(git.root, *options, *args, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        raise RemoteUnreachableError(f"cannot {what} remote {remote}: no answer within {limit:g} s "
                                     "(QDOCS_NETWORK_TIMEOUT); nothing was changed, run qdocs sync again "
                                     "later") from None


def fetch(git: Git, remote: str) -> None:
    """Bring the remote's branches into ``refs/remotes/<remote>/``; an unreachable server
    raises :class:`RemoteUnreachableError`."""
    completed = _network(git, remote, "fetch from", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                         remote, f"+refs/heads/*:refs/remotes/{remote}/*")
    if completed[0] != 0:
        raise RemoteUnreachableError(f"cannot fetch from remote {remote}: {_git_reason(completed[2])}")


def tracking_head(git: Git, remote: str, branch: str) -> str | None:
    """The commit the remote's branch had when it was last fetched (None: never fetched, or the
    remote has no such branch yet)."""
    return git.text("rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{branch}^{{commit}}",
                    check=False) or None


def merge_base(git: Git, one: str, other: str) -> str | None:
    return git.text("merge-base", one, other, check=False) or None


def merge_tree(git: Git, ours: str, theirs: str) -> tuple[str, list[str]]:
    """The tree of merging ``theirs`` into ``ours`` and the paths that conflict (none: the
    tree is the merge).  Nothing of the work tree, the index or the branches is touched."""
    status, output, errors = outcome(git.root, "merge-tree", "--write-tree", "--name-only", "--no-messages",
                                          ours, theirs)
    lines = output.decode("utf-8", "replace").splitlines()
    if status not in (0, 1) or not lines:
        raise StorageError(f"git merge-tree failed (qdocs sync needs git 2.38 or later): {_git_reason(errors)}")
    conflicts = [line for line in lines[1:] if line.strip()]
    return lines[0].strip(), conflicts if status == 1 else []


def files_at(git: Git, commit: str, paths: list[str]) -> dict[str, bytes]:
    """The content of each of ``paths`` at ``commit`` (those it does not have are left out)."""
    if not paths:
        return {}
    answers = read_once(git.root, [f"{commit}:{path}" for path in paths])
    return {path: answer[1] for path, answer in zip(paths, answers) if answer is not None and answer[0] == b"blob"}


def files_under(git: Git, commit: str, folder: str) -> dict[str, bytes]:
    """Every file under ``folder`` at ``commit`` (a commit or a tree), by its path."""
    output = git.run("ls-tree", "-r", "-z", "--name-only", commit, "--", folder)
    return files_at(git, commit, [path for path in output.decode("utf-8", "replace").split("\0") if path])


#: the folders of a records repository that are not records: its own files and its forms
REPOSITORY_FOLDERS = (".qdocs", "forms")


def repository_files(git: Git, commit: str) -> list[str]:
    """What of ``commit`` is not a record: the files at its top and the folders
    :data:`REPOSITORY_FOLDERS` (those it holds)."""
    output = git.run("ls-tree", "-z", commit).decode("utf-8", "replace")
    found = []
    for line in output.split("\0"):
        if not line:
            continue
        kind, name = line.split(" ", 2)[1], line.partition("\t")[2]
        if kind == "blob" or name in REPOSITORY_FOLDERS:
            found.append(name)
    return found


def record_folders_of(git: Git, commit: str, record_ids: list[str]) -> list[str]:
    """The folders of ``commit`` that hold a ``record.yaml`` of one of ``record_ids`` (one
    listing of the whole tree: asked only for the records a new trust entry may affect)."""
    if not record_ids:
        return []
    wanted = set(record_ids)
    output = git.run("ls-tree", "-r", "-z", "--name-only", commit).decode("utf-8", "replace")
    found = []
    for path in output.split("\0"):
        if path.endswith("/record.yaml"):
            folder = path[:-len("/record.yaml")]
            if folder.rpartition("/")[2] in wanted:
                found.append(folder)
    return found


def tree_with_files(git: Git, tree: str, files: dict[str, bytes]) -> str:
    """The tree ``tree`` with each of ``files`` (path: content) written in; through an index
    file of its own, so the copy's index and work tree stay as they are."""
    with tempfile.TemporaryDirectory(prefix="qdocs-merge-") as folder:
        env = {"GIT_INDEX_FILE": str(Path(folder) / "index")}
        git.run("read-tree", tree, env=env)
        lines = []
        for path, content in sorted(files.items()):
            blob = git.run("hash-object", "-w", "--stdin", input=content).decode().strip()
            lines.append(f"100644 {blob}\t{path}")
        git.run("update-index", "--index-info", input=("\n".join(lines) + "\n").encode("utf-8"), env=env)
        return git.run("write-tree", env=env).decode().strip()


def changed_paths(git: Git, old: str | None, new: str, added_only: bool = False,
                  under: list[str] | None = None) -> list[str]:
    """Files that differ between the commits (or trees) ``old`` and ``new`` (every file of
    ``new`` when ``old`` is None); ``added_only``: files ``new`` has and ``old`` had not;
    ``under``: only these paths or folders."""
    options = ["--diff-filter=A"] if added_only else []
    limit = ["--", *under] if under else []
    if old is None:
        output = git.run("ls-tree", "-r", "-z", "--name-only", new, *limit)
    else:
        output = git.run("diff", "--name-only", "-z", "--no-renames", *options, old, new, *limit)
    return [path for path in output.decode("utf-8", "replace").split("\0") if path]


def commit_merge(git: Git, tree: str, parents: list[str], message: str, author: str, email: str) -> str:
    """A merge commit of ``tree`` on ``parents`` that no branch names yet."""
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email}
    arguments = ["commit-tree", tree, "-F", "-"]
    for parent in parents:
        arguments += ["-p", parent]
    return git.run(*arguments, input=message.encode("utf-8"), env=env).decode().strip()


def fast_forward(git: Git, commit: str) -> None:
    """Move the branch, the index and the work tree to ``commit``, a descendant of HEAD."""
    git.run("merge", "--ff-only", "--quiet", "--no-stat", commit)


def push(git: Git, remote: str, branch: str) -> PushResult:
    """Offer HEAD as the remote's ``branch`` (never forced)."""
    status, output, errors = _network(git, remote, "push to", "push", "--porcelain", remote,
                                      f"HEAD:refs/heads/{branch}")
    if status == 0:
        return PushResult(True)
    text = output.decode("utf-8", "replace")
    rejected = [line for line in text.splitlines() if line.startswith("!")]
    complaint = errors.decode("utf-8", "replace")
    if not rejected:
        raise RemoteUnreachableError(f"cannot push to remote {remote}: {_git_reason(errors)}")
    if any("[rejected]" in line for line in rejected):
        return PushResult(False, behind=True)
    messages = [line[len("remote:"):].strip() for line in complaint.splitlines()
                if line.startswith("remote:") and line[len("remote:"):].strip()]
    return PushResult(False, messages=messages or [line.split("\t")[-1] for line in rejected])


def bare_repository(path: Path) -> Path:
    """The git directory of the bare repository at ``path``; anything else is bad input."""
    if not Path(path).is_dir():
        raise UsageError(f"{path} is not a directory: give the bare repository on the server "
                         "(create one with: git init --bare records.git)")
    status, output, _ = outcome(Path(path), "rev-parse", "--is-bare-repository")
    if status != 0 or output.decode().strip() != "true":
        raise UsageError(f"{path} is not a bare git repository (create one with: git init --bare {path})")
    status, output, _ = outcome(Path(path), "rev-parse", "--absolute-git-dir")
    return Path(output.decode().strip())


def configure_server(git_dir: Path) -> None:
    """A shared repository keeps its history: no forced push, no deleted branch.  A new,
    empty one also names qdocs' branch as its default (``git init --bare`` may have named
    another), so that a plain ``git clone`` of it checks out the records."""
    for key in ("receive.denyNonFastForwards", "receive.denyDeletes"):
        run(git_dir, "config", key, "true")
    status, branches, _ = outcome(git_dir, "for-each-ref", "--count=1", "refs/heads/")
    if status == 0 and not branches.strip():
        run(git_dir, "symbolic-ref", "HEAD", f"refs/heads/{BRANCH}")


def _git_reason(errors: bytes) -> str:
    """What git said went wrong, on one line: its ``fatal:``/``error:`` lines (the advice it
    adds after them, "Please make sure you have the correct access rights / and the
    repository exists.", says nothing), else its last line."""
    lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines() if line.strip()]
    reasons = [line.split(":", 1)[1].strip() for line in lines if line.startswith(("fatal:", "error:"))]
    if reasons:
        return "; ".join(dict.fromkeys(reasons))
    return lines[-1] if lines else "git gave no reason"
