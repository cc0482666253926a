"""The records of one commit, read from git's object store.

The index is a function of a commit: it indexes what HEAD holds, never a work
tree another process may be writing to at that moment.  A record is a folder
named by its id holding ``record.yaml``, ``record.docx`` and, when present,
PDFs under ``attachments/`` listed with their titles in ``attachments.yaml``.
Its *fingerprint* is the list of blob ids of those files, so ``qdocs index
status`` can tell a stale entry without reading any document.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import StorageError
from ..gitcommand import Git
from ..records import RECORD_ID

_GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
_CHUNK = 500
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class RecordSource:
    """Where one record's files are in a commit."""

    folder: str
    record_id: str
    yaml_blob: str = ""
    docx_blob: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (file name, blob id)
    attachment_list: str = ""  # blob of attachments.yaml (titles), when the record has one

    @property
    def complete(self) -> bool:
        return bool(self.yaml_blob)

    @property
    def blobs(self) -> list[str]:
        return [self.yaml_blob, self.docx_blob, self.attachment_list, *(blob for _, blob in self.attachments)]

    @property
    def fingerprint(self) -> str:
        parts = [self.yaml_blob, self.docx_blob, self.attachment_list,
                 *(f"{name}:{blob}" for name, blob in sorted(self.attachments))]
        return hashlib.sha1(" ".join(parts).encode("utf-8")).hexdigest()


def record_folder(path: str) -> str | None:
    """The record folder a repository path belongs to, or None."""
    parts = path.split("/")
    for index in range(len(parts) - 2, -1, -1):
        if RECORD_ID.match(parts[index]):
            return "/".join(parts[:index + 1])
    return None


def list_records(git_root: Path, commit: str, folders: Iterable[str] | None = None) -> dict[str, RecordSource]:
    """Record folder → source, for every record in ``commit`` (or only under ``folders``)."""
    sources: dict[str, RecordSource] = {}
    wanted = None if folders is None else sorted(set(folders))
    chunks = [None] if wanted is None else [wanted[start:start + _CHUNK] for start in range(0, len(wanted), _CHUNK)]
    for chunk in chunks:
        arguments = ["ls-tree", "-r", "-z", commit]
        if chunk is not None:
            if not chunk:
                continue
            arguments += ["--", *chunk]
        for entry in _git(git_root, *arguments).split(b"\0"):
            if not entry:
                continue
            meta, _, raw_path = entry.partition(b"\t")
            _, kind, blob = meta.decode("ascii").split(" ")
            path = raw_path.decode("utf-8")
            folder = record_folder(path) if kind == "blob" else None
            if folder is None:
                continue
            source = sources.get(folder)
            if source is None:
                source = sources[folder] = RecordSource(folder, folder.rsplit("/", 1)[-1])
            name = path[len(folder) + 1:]
            if name == "record.yaml":
                source.yaml_blob = blob
            elif name == "record.docx":
                source.docx_blob = blob
            elif name == "attachments.yaml":
                source.attachment_list = blob
            elif name.startswith("attachments/") and name.lower().endswith(".pdf"):
                source.attachments.append((name.removeprefix("attachments/"), blob))
    return {folder: source for folder, source in sources.items() if source.complete}


def changed_folders(git_root: Path, old: str, new: str) -> set[str]:
    """Record folders with any file added, changed or removed between two commits."""
    output = _git(git_root, "diff", "--name-only", "--no-renames", "-z", old, new)
    folders = {record_folder(path) for path in output.decode("utf-8").split("\0") if path}
    return {folder for folder in folders if folder}


def head_commit(git_root: Path) -> str | None:
    """HEAD's commit, read from ``.git`` directly (a search checks it every time:
    50 µs against 3-5 ms for ``git rev-parse``); anything unusual (a linked
    work tree, a ref only in packed-refs, a detached HEAD) asks git itself."""
    git_folder = git_root / ".git"
    try:
        head = (git_folder / "HEAD").read_text(encoding="ascii").strip()
        if head.startswith("ref: refs/"):
            commit = (git_folder / head[5:]).read_text(encoding="ascii").strip()
            if _HEX40.match(commit):
                return commit
    except (OSError, UnicodeDecodeError):
        pass
    return Git(git_root).head()


def commit_exists(git_root: Path, commit: str) -> bool:
    completed = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=git_root,
                               env={**os.environ, **_GIT_ENVIRONMENT}, capture_output=True, check=False)
    return completed.returncode == 0


class BlobReader:
    """Reads blobs through one ``git cat-file --batch`` process."""

    def __init__(self, git_root: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=git_root, env={**os.environ, **_GIT_ENVIRONMENT},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def read(self, blob: str) -> bytes:
        found = self.read_many([blob])
        if blob not in found:
            raise StorageError(f"git has no object {blob}")
        return found[blob]

    def read_many(self, blobs: list[str]) -> dict[str, bytes]:
        """Several blobs in one exchange: all requests are written before any answer
        is read (a few kilobytes, well inside the pipe's buffer), so git never waits."""
        assert self._process.stdin is not None and self._process.stdout is not None
        wanted = list(dict.fromkeys(blob for blob in blobs if blob))
        self._process.stdin.write(b"".join(blob.encode("ascii") + b"\n" for blob in wanted))
        self._process.stdin.flush()
        found: dict[str, bytes] = {}
        for blob in wanted:
            header = self._process.stdout.readline().split()
            if len(header) == 2 and header[1] == b"missing":
                continue  # the record that needs it is reported as unreadable
            if len(header) != 3:
                raise StorageError(f"git cannot read object {blob}: {b' '.join(header).decode('ascii', 'replace')}")
            found[blob] = self._process.stdout.read(int(header[2]))
            self._process.stdout.read(1)
        return found

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def __enter__(self) -> "BlobReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _git(git_root: Path, *arguments: str) -> bytes:
    completed = subprocess.run(["git", *arguments], cwd=git_root, env={**os.environ, **_GIT_ENVIRONMENT},
                               capture_output=True, check=False)
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StorageError(f"git {arguments[0]} failed: {detail[-1] if detail else completed.returncode}")
    return completed.stdout


def iter_chunks(items: list[RecordSource], size: int) -> Iterator[list[RecordSource]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
