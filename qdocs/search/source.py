"""The records the index covers: those of one commit, read from git's object store.

The index is a function of a commit: it indexes what HEAD holds, never a work
tree another process may be writing to at that moment.  The listing itself is
the store's (:mod:`qdocs.store.listing`); here are the scopes it covers and how
a changed path maps to the record it belongs to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..records import RECORD_ID
from ..store.listing import RecordFiles, RecordListing, changed_paths
from ..store.listing import list_records as _list_records
from ..subjects import SCOPES

__all__ = ["RecordFiles", "RecordListing", "changed_folders", "list_records", "record_folder", "record_listing"]


def list_records(git_root: Path, commit: str, folders: Iterable[str] | None = None) -> dict[str, RecordFiles]:
    """Record folder → files, for every record in ``commit`` (or only under ``folders``)."""
    return _list_records(git_root, commit, list(SCOPES), folders)


def record_listing(git_root: Path, commit: str) -> RecordListing:
    """Every record in ``commit``, a record at a time (see :class:`RecordListing`)."""
    return RecordListing(git_root, commit, list(SCOPES))


def record_folder(path: str) -> str | None:
    """The record folder a repository path belongs to, or None."""
    parts = path.split("/")
    for index in range(len(parts) - 2, -1, -1):
        if RECORD_ID.match(parts[index]):
            return "/".join(parts[:index + 1])
    return None


def changed_folders(git_root: Path, old: str, new: str) -> set[str]:
    """Record folders with any file added, changed or removed between two commits."""
    folders = {record_folder(path) for path in changed_paths(git_root, old, new)}
    return {folder for folder in folders if folder}
