"""``state.json``: what a generation of the index holds, and whether its files are intact.

Written whenever the index is committed (under the index lock)::

    {"format": 6, "commit": "<records commit indexed>", "toc": 3,
     "files": {"meta.json": [size, "<sha256>", [inode, mtime_ns, ctime_ns]], ...},
     "checksum": "<sha256 of the above>"}

``toc`` is the number of the engine's own commit (tantivy's operation stamp)
the files make up; readers open that one once its files are checked, never a
newer one a writer is putting in place.  Hashing every byte at every search would cost about a
third of a second at 100,000 records (350 MB), so each entry also keeps the
file's *stamp* when it was hashed: inode, modification time and change time.
The kernel sets the change time on every write and no tool sets it back, so a
file with its stamp unchanged is as it was hashed, and only a changed stamp (a
copy, a restore, an edit, damage) costs hashing that one file again.  Damage
that leaves the stamp alone (a disk returning bad sectors) makes reads fail
instead, and the thorough check that follows hashes everything
(:mod:`.damage`).  On file systems whose inodes or times are not stable the
check stays correct and only hashes more.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from .damage import IndexDamaged, IndexOutdated

#: Bump when the schema, the analysis or this file changes: older indexes are rebuilt.
FORMAT = 6
STATE_FILE = "state.json"

Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class FileEntry:
    size: int
    digest: str
    stamp: Stamp  # when the digest was taken


@dataclass(frozen=True)
class State:
    commit: str | None  # the records' commit the index holds (None: a repository without commits)
    toc: int
    files: dict[str, FileEntry]
    #: The engine's file naming its current commit (tantivy's ``meta.json``), which the
    #: engine replaces in place when it commits, and its text as of ``toc``: a writer
    #: killed after the engine's commit but before ``state.json`` is rolled back to it.
    pointer: tuple[str, str] | None = None
    #: The engine and version that wrote the files (another version's files are rebuilt).
    engine: str = ""


def read_state(generation: Path) -> State:
    """The state of ``generation``; :class:`IndexDamaged` when it is unreadable or
    does not match its checksum, :class:`IndexOutdated` when of an older format."""
    try:
        data = json.loads((generation / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexDamaged(f"damaged ({STATE_FILE} is missing)") from None
    except (OSError, ValueError) as error:
        raise IndexDamaged(f"damaged ({STATE_FILE} is unreadable: {error})") from None
    if not isinstance(data, dict):
        raise IndexDamaged(f"damaged ({STATE_FILE} holds no state)")
    if "checksum" not in data and data.get("format") != FORMAT:
        raise IndexOutdated("of an older format")
    if data.pop("checksum", None) != _checksum(data):
        raise IndexDamaged(f"damaged ({STATE_FILE} does not match its checksum)")
    if data.get("format") != FORMAT:
        raise IndexOutdated("of an older format")
    files = {name: FileEntry(size, digest, tuple(stamp)) for name, (size, digest, stamp) in data["files"].items()}
    pointer = data.get("pointer")
    return State(data["commit"], data["toc"], files, (pointer["name"], pointer["text"]) if pointer else None,
                 str(data.get("engine", "")))


def write_state(generation: Path, state: State) -> None:
    data = {"format": FORMAT, "commit": state.commit, "toc": state.toc,
            "files": {name: [entry.size, entry.digest, list(entry.stamp)]
                      for name, entry in sorted(state.files.items())}}
    if state.engine:
        data["engine"] = state.engine
    if state.pointer:
        data["pointer"] = {"name": state.pointer[0], "text": state.pointer[1]}
    data["checksum"] = _checksum(data)
    write_atomically(generation / STATE_FILE, json.dumps(data, indent=1))


def describe(generation: Path, names: list[str], known: dict[str, FileEntry]) -> dict[str, FileEntry]:
    """Entries for the files ``names`` of ``generation``: hashed, except those whose
    stamp is still the one in ``known`` (files checked or written before)."""
    entries = {}
    for name in names:
        path = generation / name
        status = os.stat(path)
        entry = known.get(name)
        if entry is not None and entry.size == status.st_size and entry.stamp == _stamp(status):
            entries[name] = entry
        else:
            entries[name] = FileEntry(status.st_size, _digest(path), _stamp(status))
    return entries


def check(generation: Path, state: State, thorough: bool = False) -> dict[str, FileEntry]:
    """Raise :class:`IndexDamaged` naming the first file of ``state`` that is missing or
    differs from its entry.  ``thorough`` hashes every file; otherwise only those whose
    stamp changed.  Returns the entries re-hashed and found intact, with their new stamps."""
    renewed = {}
    for name, entry in state.files.items():
        path = generation / name
        try:
            status = os.stat(path)
        except FileNotFoundError:
            raise IndexDamaged(f"damaged ({name} is missing)") from None
        except OSError as error:
            raise IndexDamaged(f"damaged ({name}: {error.strerror or error})") from None
        if status.st_size != entry.size:
            raise IndexDamaged(f"damaged ({name}: {_bytes(status.st_size)} "
                               f"instead of the {_bytes(entry.size)} written)")
        if not thorough and _stamp(status) == entry.stamp:
            continue
        try:
            digest = _digest(path)
        except OSError as error:
            raise IndexDamaged(f"damaged ({name}: {error.strerror or error})") from None
        if digest != entry.digest:
            raise IndexDamaged(f"damaged ({name} is not as written: its checksum differs)")
        if _stamp(status) != entry.stamp and _stamp(os.stat(path)) == _stamp(status):
            renewed[name] = replace(entry, stamp=_stamp(status))
    return renewed


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _checksum(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _bytes(count: int) -> str:
    return "1 byte" if count == 1 else f"{count:,} bytes"


def _stamp(status: os.stat_result) -> Stamp:
    return status.st_ino, status.st_mtime_ns, status.st_ctime_ns
