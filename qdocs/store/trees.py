"""The tree of a commit, built from its parent's trees along the changed paths only.

``git write-tree`` reads the whole index and its cache-tree (one entry per
folder, and every record is a folder) and writes both back: on a 10,000-record
repository that was 17 ms of a 74 ms ``qdocs new``, three times what it costs on
a small one, and it keeps growing with the repository.  What an action changes
is a handful of files in one or two record folders, so the new trees are
exactly the old trees on the way from those files to the root, with those
entries replaced: read them with one ``git cat-file --batch`` and write the new
ones as loose objects (:mod:`.commits`).  The cost no longer depends on
the size of the repository.

The commit holds exactly the action's files on top of its parent, even when
something else happens to be staged in the index (it stays staged).  Anything
this module does not handle (a symbolic link, a file where a folder is
expected) raises :class:`UnsupportedTree` and the caller lets git write the
tree.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from ..errors import StorageError
from .commits import write_object
from .objects import read_once

_TREE_MODE = b"40000"
_ENTRY = re.compile(rb"([0-7]+) ([^\0]+)\0(.{20})", re.S)
_WHOLE_TREE = re.compile(rb"(?:[0-7]+ [^\0]+\0.{20})*", re.S)


class UnsupportedTree(Exception):
    """A change this module leaves to ``git write-tree``."""


def blob_entry(path: Path) -> tuple[bytes, str] | None:
    """(mode, blob id) of a file as git would stage it; None when it is gone."""
    found = _regular_file(path)
    if found is None:
        return None
    mode, content = found
    return mode, hashlib.sha1(f"blob {len(content)}\0".encode("ascii") + content).hexdigest()


def stored_blob(root: Path, path: str) -> tuple[bytes, str] | None:
    """(mode, blob id) of a work-tree file, its blob written to the object database (as
    ``git update-index --add`` would); None when the file is gone."""
    found = _regular_file(Path(root) / path)
    if found is None:
        return None
    mode, content = found
    return mode, write_object(Path(root) / ".git", "blob", content)


def _regular_file(path: Path) -> tuple[bytes, bytes] | None:
    """A file's git mode and content; None when it is gone, :class:`UnsupportedTree` when
    it is not a regular file."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise UnsupportedTree(f"{path} is not a regular file")
    return (b"100755" if status.st_mode & 0o100 else b"100644"), path.read_bytes()


def build_tree(root: Path, parent: str | None, changes: dict[str, tuple[bytes, str] | None]) -> str:
    """The id of the root tree of ``parent`` with ``changes`` applied (path → (mode, blob
    id), or None to remove).  The blobs must already be in the object database."""
    git_dir = root / ".git"
    files_in: dict[str, list[tuple[bytes, tuple[bytes, bytes] | None]]] = {}
    subfolders: dict[str, set[str]] = {}
    for path, change in changes.items():
        parts = path.split("/")
        if any(part in ("", ".", "..", ".git") for part in parts):
            raise UnsupportedTree(f"path {path!r}")
        files_in.setdefault("/".join(parts[:-1]), []).append(
            (parts[-1].encode("utf-8"), None if change is None else (change[0], bytes.fromhex(change[1]))))
        for depth in range(1, len(parts)):
            subfolders.setdefault("/".join(parts[:depth - 1]), set()).add("/".join(parts[:depth]))
    folders = sorted({"", *files_in, *subfolders})
    old = _read_trees(root, parent, folders) if parent else {}
    new_ids: dict[str, str | None] = {}
    for folder in sorted(folders, key=lambda name: name.count("/") + (name != ""), reverse=True):
        entries = old.get(folder) or {}
        in_git_order = bool(entries)  # as read: git's order, kept while no name is added
        for name, change in files_in.get(folder, ()):
            if name not in entries:
                in_git_order = False
            if name in entries and entries[name][0] == _TREE_MODE:
                raise UnsupportedTree(f"{folder}/{name.decode()} replaces a folder")
            if change is None:
                entries.pop(name, None)
            else:
                entries[name] = change
        for child in subfolders.get(folder, ()):
            name, child_id = child.rpartition("/")[2].encode("utf-8"), new_ids[child]
            if name not in entries:
                in_git_order = False
            if name in entries and entries[name][0] != _TREE_MODE:
                raise UnsupportedTree(f"{child} replaces a file")
            if child_id is None:
                entries.pop(name, None)
            else:
                entries[name] = (_TREE_MODE, bytes.fromhex(child_id))
        if not entries and folder:
            new_ids[folder] = None
        else:
            new_ids[folder] = write_object(git_dir, "tree", _tree_body(entries, in_git_order))
    return new_ids[""] or write_object(git_dir, "tree", b"")


def _tree_body(entries: dict[bytes, tuple[bytes, bytes]], in_git_order: bool = False) -> bytes:
    """git's order: by name, a folder's name compared as if it ended in '/' (``in_git_order``:
    the entries are in it already, as read from a tree where only ids changed since)."""
    ordered = entries.items() if in_git_order else sorted(
        entries.items(), key=lambda item: item[0] + (b"/" if item[1][0] == _TREE_MODE else b""))
    return b"".join([mode + b" " + name + b"\0" + object_id for name, (mode, object_id) in ordered])


def _read_trees(root: Path, commit: str, folders: list[str]) -> dict[str, dict[bytes, tuple[bytes, bytes]] | None]:
    """Each folder's entries in ``commit`` (None where it has no such folder)."""
    names = [f"{commit}:{folder}" if folder else f"{commit}^{{tree}}" for folder in folders]
    try:
        found = read_once(root, names)
    except StorageError as error:
        raise UnsupportedTree(str(error)) from None
    trees: dict[str, dict[bytes, tuple[bytes, bytes]] | None] = {}
    for folder, answer in zip(folders, found):
        if answer is None:
            trees[folder] = None
        elif answer[0] != b"tree":
            raise UnsupportedTree(f"{folder or 'the root'} is a {answer[0].decode()} in {commit}")
        else:
            trees[folder] = _parse_tree(answer[1])
    return trees


def _parse_tree(body: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    """A tree's entries, name → (mode, raw object id), read in one pass of the regular
    expression engine (a folder of 10,000 products is 250 KB; a loop here took 10 ms)."""
    if _WHOLE_TREE.fullmatch(body) is None:
        raise UnsupportedTree("a tree that does not read as git writes them")
    return {name: (mode, object_id) for mode, name, object_id in _ENTRY.findall(body)}
