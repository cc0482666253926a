"""The tamper-evident trail: a hash chain of every action, one chain per site.

Each action (init, create, revise, sign, void, users and keys changes) appends
one event per record or setting it changed.  An event names the HEAD commit it
was made on and holds the hash of the event before it.  An event file is the
event's canonical JSON and nothing else, and an event's hash is the sha256 of the
file's bytes, so checking the chain never re-serialises anything.  Events are written in the same commit as the action, one small file
each (``.qdocs/events/<SITE>/<shard>/<seq>.json``), so the chain grows without
rewriting earlier files, and ``.qdocs/events/<SITE>.head`` names the last one.

A signature includes the head of the chain when it was made, so dropping,
reordering or altering any earlier event breaks every later signature, and
``verify`` recomputes the chain and checks each event against the git commit
that added it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

GENESIS = "0" * 64
SHARD_SIZE = 1000


@dataclass(frozen=True)
class ChainHead:
    site: str
    sequence: int
    hash: str


def canonical_json(value: Any) -> bytes:
    """The one byte form hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def event_bytes(event: dict[str, Any]) -> bytes:
    """An event file's exact content."""
    return canonical_json(event) + b"\n"


def head_path(site: str) -> str:
    return f".qdocs/events/{site}.head"


def event_path(site: str, sequence: int) -> str:
    return f".qdocs/events/{site}/{sequence // SHARD_SIZE:04d}/{sequence:08d}.json"


def read_head(root: Path, site: str) -> ChainHead:
    try:
        sequence, digest = (root / head_path(site)).read_text(encoding="utf-8").split()
        return ChainHead(site, int(sequence), digest)
    except FileNotFoundError:
        return ChainHead(site, 0, GENESIS)


class EventWriter:
    """Appends events during one action; the caller commits the written paths."""

    def __init__(self, root: Path, site: str, parent_commit: str | None, write: Callable[[str, Any], None]) -> None:
        self.head = read_head(root, site)
        self.site = site
        self.parent_commit = parent_commit or ""
        self._write = write
        self.paths: list[str] = [head_path(site)]

    def append(self, action: str, actor: str, time: str, **details: Any) -> dict[str, Any]:
        sequence = self.head.sequence + 1
        event = {
            "seq": sequence, "site": self.site, "time": time, "actor": actor, "action": action,
            "parent_commit": self.parent_commit, "prev": self.head.hash, **details,
        }
        content = event_bytes(event)
        path = event_path(self.site, sequence)
        self._write(path, content)
        self.paths.append(path)
        self.head = ChainHead(self.site, sequence, sha256_hex(content))
        return event

    def finish(self) -> None:
        self._write(head_path(self.site), f"{self.head.sequence} {self.head.hash}\n")


def iter_event_files(root: Path, site: str) -> Iterator[tuple[str, bytes]]:
    """(repository path, bytes) of a site's event files in sequence order."""
    folder = root / ".qdocs" / "events" / site
    if not folder.is_dir():
        return
    shards = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir())
    for shard in shards:
        names = sorted(entry.name for entry in os.scandir(folder / shard) if entry.name.endswith(".json"))
        for name in names:
            with open(folder / shard / name, "rb") as handle:
                yield f".qdocs/events/{site}/{shard}/{name}", handle.read()


def chain_sites(root: Path) -> list[str]:
    folder = root / ".qdocs" / "events"
    return sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []
