"""The records of a commit: their folders and the blob ids of their files.

A record is a folder holding ``record.yaml``, beside it ``record.docx`` and,
when present, PDFs under ``attachments/`` listed with their titles in
``attachments.yaml``.  Records live under the scope folders (``lot/``,
``product/``, ...), which callers name (``under``): the store knows git, not
what a record's subject is.  Two listings, one per need:

* :func:`list_records`: every file of every record of a commit, with blob ids
  (``git ls-tree``): what the search index reads, and its fingerprint of each
  record tells a stale index entry without reading any document;
  :class:`RecordListing` gives the same a record at a time, for a reader of every
  record (an index rebuild), which then never holds them all;
* :func:`list_record_yamls`: only the ``record.yaml`` blobs, of HEAD read from
  git's index (one file, checked against HEAD by ``git diff-index`` at the same
  time) or of any commit (``git ls-tree``): what the audit reads, 150,000 records
  in well under a second.

The parsed form of a ``record.yaml`` is cached by its blob id in
:mod:`.recordcache`.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from . import runner
from .objects import LISTING_OPTIONS
from .runner import Git

_CHUNK = 500


@dataclass(slots=True)
class RecordFiles:
    """Where one record's files are in a commit."""

    folder: str
    yaml_blob: str = ""
    docx_blob: str = ""
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (file name, blob id)
    attachment_list: str = ""  # blob of attachments.yaml (titles), when the record has one

    @property
    def record_id(self) -> str:
        return self.folder.rsplit("/", 1)[-1]

    @property
    def blobs(self) -> list[str]:
        return [self.yaml_blob, self.docx_blob, self.attachment_list, *(blob for _, blob in self.attachments)]

    @property
    def fingerprint(self) -> str:
        """One id of all the record's files' contents."""
        parts = [self.yaml_blob, self.docx_blob, self.attachment_list,
                 *(f"{name}:{blob}" for name, blob in sorted(self.attachments))]
        return hashlib.sha1(" ".join(parts).encode("utf-8")).hexdigest()


def list_records(root: Path, commit: str, under: Sequence[str],
                 folders: Iterable[str] | None = None) -> dict[str, RecordFiles]:
    """Record folder → its files, for every record of ``commit`` under the folders ``under``
    (or only the record folders ``folders``), in git's order."""
    wanted = None if folders is None else sorted(set(folders))
    chunks = [list(under)] if wanted is None else [wanted[start:start + _CHUNK]
                                                   for start in range(0, len(wanted), _CHUNK)]
    records: dict[str, RecordFiles] = {}
    for chunk in chunks:
        if chunk:
            output = runner.run(root, *LISTING_OPTIONS, "ls-tree", "-r", "-z", commit, "--", *chunk)
            records.update((record.folder, record) for record in _grouped(_blob_entries(output.split(b"\0"))))
    return records


class RecordListing:
    """Every record of ``commit`` under ``under``, as :func:`list_records` gives them, read a
    record at a time from git's listing kept in a temporary file: at 1,000,000 records the
    listing is 2,000,000 entries, about a gigabyte as Python objects.  :attr:`count` is known
    at once (one pass over the listing's bytes).  Close it (or use ``with``)."""

    _BLOCK = 1 << 20
    _END = b"/record.yaml\0"

    def __init__(self, root: Path, commit: str, under: Sequence[str]) -> None:
        self._file = tempfile.TemporaryFile()
        try:
            with tempfile.TemporaryFile() as errors:
                lister = runner.start(Path(root), [*LISTING_OPTIONS, "ls-tree", "-r", "-z", commit, "--", *under],
                                      stdout=self._file,
                                      stderr=errors)
                runner.finish(lister, errors, "list the records")
            self.count = self._count()
        except BaseException:
            self._file.close()
            raise

    def _count(self) -> int:
        """How many ``record.yaml`` entries the listing holds (an entry may span two blocks)."""
        self._file.seek(0)
        count, tail = 0, b""
        while block := self._file.read(self._BLOCK):
            joined = tail + block
            count += joined.count(self._END)
            tail = joined[-(len(self._END) - 1):]  # too short to hold a whole entry's end again
        return count

    def __iter__(self) -> Iterator[RecordFiles]:
        return _grouped(self._entries())

    def _entries(self) -> Iterator[tuple[str, str]]:
        """(path, blob id) of every blob listed, in git's order (all of a folder together)."""
        self._file.seek(0)
        rest = b""
        while True:
            block = self._file.read(self._BLOCK)
            entries = (rest + block).split(b"\0")
            rest = entries.pop() if block else b""
            yield from _blob_entries(entries)
            if not block:
                return

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "RecordListing":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _blob_entries(entries: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """(path, blob id) of each ``git ls-tree -z`` entry that is a blob."""
    for entry in entries:
        meta, _, raw_path = entry.partition(b"\t")
        if meta[7:11] == b"blob":  # "100644 blob <id>"
            yield raw_path.decode("utf-8"), meta[12:].decode("ascii")


def _grouped(entries: Iterable[tuple[str, str]]) -> Iterator[RecordFiles]:
    """The records among ``entries`` (in git's order, where a folder's files are together):
    a folder holding ``record.yaml``, with its document, attachment list and PDFs under
    ``attachments/``, in the order of their ``record.yaml``.  Other files neither start nor
    end a record; folders inside one another are gathered together until the listing
    leaves them (a stray folder inside a record may be listed before its files)."""
    pending: dict[str, RecordFiles] = {}
    order: list[RecordFiles] = []  # those with a record.yaml, as it was met
    top = ""
    for path, blob in entries:
        place, _, name = path.rpartition("/")
        if name in ("record.yaml", "record.docx", "attachments.yaml"):
            owner = place
        elif place.endswith("/attachments") and name.lower().endswith(".pdf"):
            owner = place[:-len("/attachments")]
        else:
            continue
        if not (owner == top or owner.startswith(top + "/") or top.startswith(owner + "/")):
            yield from order
            pending, order, top = {}, [], owner
        elif top.startswith(owner + "/"):
            top = owner
        current = pending.get(owner)
        if current is None:
            current = pending[owner] = RecordFiles(owner)
        if owner != place:
            current.attachments.append((name, blob))
        elif name == "record.yaml":
            current.yaml_blob = blob
            order.append(current)
        elif name == "record.docx":
            current.docx_blob = blob
        else:
            current.attachment_list = blob
    yield from order


def list_record_yamls(root: Path, under: Sequence[str], commit: str | None = None,
                      meanwhile: Callable[[], None] | None = None) -> tuple[str, list[tuple[bytes, bytes]]]:
    """The commit listed (HEAD when ``commit`` is None) and (blob id, path) of every
    ``record.yaml`` under ``under`` in it.  HEAD is listed from git's index when the
    index matches it (no writer at work); ``meanwhile`` runs while git lists."""
    root = Path(root)
    with tempfile.TemporaryFile() as listing, tempfile.TemporaryFile() as errors:
        if commit is None:
            head = Git(root).text("rev-parse", "--verify", "HEAD")
            lister = runner.start(root, ["ls-files", "-s", "-z", "--", *under], stdout=listing, stderr=errors)
            same = runner.start(root, [*LISTING_OPTIONS, "diff-index", "--cached", "--quiet", "HEAD", "--", *under],
                                stdout=runner.DEVNULL)
        else:
            head, same = commit, None
            lister = runner.start(root, [*LISTING_OPTIONS, "ls-tree", "-r", "-z", commit, "--", *under],
                                  stdout=listing, stderr=errors)
        if meanwhile is not None:
            meanwhile()
        index_matches = same is None or same.wait() == 0
        runner.finish(lister, errors, "list the records")
        listing.seek(0)
        content = listing.read()
    if not index_matches:  # staged but uncommitted changes (a writer at work): read HEAD itself
        return list_record_yamls(root, under, head)
    return head, _RECORD_YAML.findall(content)


def changed_record_yamls(root: Path, old: str, new: str, under: Sequence[str]) -> list[tuple[bytes | None, bytes]]:
    """(blob id, path) of every ``record.yaml`` under ``under`` that differs between two
    commits: its blob in ``new``, or None where ``new`` has none (one ``git diff-tree``,
    which walks only the trees that differ).  What a listing of ``old`` needs to become
    the listing of ``new``, whatever lies between them (commits, a reset, a merge)."""
    # diff-tree compares two trees and has no use for the index, yet reads it (0.15 s at
    # 100,000 records): it is pointed at an index file that does not exist
    output = runner.run(root, "diff-tree", "-r", "-z", "--no-renames", old, new, "--", *under,
                        env={"GIT_INDEX_FILE": str(Path(root) / ".qdocs-no-index")})
    fields = output.split(b"\0")
    changed: list[tuple[bytes | None, bytes]] = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if not path.endswith(b"/record.yaml"):
            continue
        parts = meta.split(b" ")  # ":OLDMODE NEWMODE OLDBLOB NEWBLOB STATUS"
        changed.append((None if parts[4].startswith(b"D") or parts[1] == b"000000" else parts[3], path))
    return changed


def changed_paths(root: Path, old: str, new: str) -> list[str]:
    """The files added, changed or removed between two commits."""
    output = runner.run(root, "diff", "--name-only", "--no-renames", "-z", old, new)
    return [path for path in output.decode("utf-8").split("\0") if path]


#: one ``record.yaml`` entry of ``git ls-files -s -z`` ("MODE BLOB STAGE\tPATH") or ``git ls-tree -r -z``
#: ("MODE blob BLOB\tPATH"): (blob id, path)
_RECORD_YAML = re.compile(rb"(?:^|\0)\d{6} (?:blob )?([0-9a-f]{40,64})(?: \d)?\t([^\0]*/record\.yaml)(?=\0|$)")
