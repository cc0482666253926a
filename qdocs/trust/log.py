"""The trust log: every change of who may do what, signed by whoever was allowed to make it.

One small JSON file per entry, ``.qdocs/trust/<SITE>/<seq>.json``, hash-chained per
site exactly as the event chain is (:mod:`qdocs.events`): an entry's hash is the
sha256 of its file's bytes, each entry holds the hash of the one before, and
``.qdocs/trust/<SITE>.head`` names the last.  Unlike events, each entry carries an
Ed25519 signature over everything else in it, made with the key of the person
who authorised it (``by`` and ``key``), so an entry written with plain git by
someone without that key does not count (:mod:`.state`).

The log is small (users, roles, keys, approved forms: hundreds of entries in a
company's lifetime, against millions of record events), so every command that
needs to know who may sign reads all of it.

``.qdocs/trust/root.yaml`` names the root: the first administrator's key, made
by ``qdocs init`` in the repository's first commit.  Its fingerprint is what an
auditor compares with the one written on paper at installation.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..events import GENESIS, canonical_json, sha256_hex

TRUST_FOLDER = ".qdocs/trust"
ROOT_PATH = f"{TRUST_FOLDER}/root.yaml"


@dataclass(frozen=True)
class Entry:
    """One trust entry as read back: its fields, its file and its hash."""

    fields: dict[str, Any]
    path: str
    hash: str

    @property
    def action(self) -> str:
        return str(self.fields.get("action"))

    @property
    def label(self) -> str:
        """``trust entry S1/7 (key-register of zhang.san)``, for findings."""
        subject = self.fields.get("user")
        what = f"{self.action} of {subject}" if subject else self.action
        return f"trust entry {self.fields.get('site')}/{self.fields.get('seq')} ({what})"

    def signed_bytes(self) -> bytes:
        """What the entry's signature covers: every field but the signature."""
        return canonical_json({key: value for key, value in self.fields.items() if key != "signature"})

    def signature_bytes(self) -> bytes:
        return base64.b64decode(str(self.fields.get("signature", "")), validate=True)


def entry_path(site: str, sequence: int) -> str:
    return f"{TRUST_FOLDER}/{site}/{sequence:08d}.json"


def head_path(site: str) -> str:
    return f"{TRUST_FOLDER}/{site}.head"


def read_head(root: Path, site: str) -> tuple[int, str]:
    try:
        sequence, digest = (root / head_path(site)).read_text(encoding="utf-8").split()
        return int(sequence), digest
    except FileNotFoundError:
        return 0, GENESIS


def trust_sites(root: Path) -> list[str]:
    folder = root / TRUST_FOLDER
    return sorted(entry.name for entry in os.scandir(folder) if entry.is_dir()) if folder.is_dir() else []


def iter_entry_files(root: Path, site: str) -> Iterator[tuple[str, bytes]]:
    """(repository path, bytes) of a site's entries in sequence order."""
    folder = root / TRUST_FOLDER / site
    if not folder.is_dir():
        return
    for name in sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(".json")):
        with open(folder / name, "rb") as handle:
            yield f"{TRUST_FOLDER}/{site}/{name}", handle.read()


class EntryWriter:
    """Appends signed entries during one action; the caller commits what was written.

    ``sign`` turns the bytes an entry covers into a signature with the authoriser's
    private key, already unlocked by the caller."""

    def __init__(self, root: Path, site: str, write: Callable[[str, Any], None]) -> None:
        self.site = site
        self.sequence, self.hash = read_head(root, site)
        self._write = write
        self.entries: list[Entry] = []

    def append(self, action: str, time: str, by: str, key: str, sign: Callable[[bytes], bytes],
               **details: Any) -> Entry:
        sequence = self.sequence + 1
        fields = {"seq": sequence, "site": self.site, "prev": self.hash, "time": time, "action": action,
                  **details, "by": by, "key": key}
        fields["signature"] = base64.b64encode(sign(canonical_json(fields))).decode("ascii")
        content = canonical_json(fields) + b"\n"
        path = entry_path(self.site, sequence)
        self._write(path, content)
        self.sequence, self.hash = sequence, sha256_hex(content)
        entry = Entry(fields, path, self.hash)
        self.entries.append(entry)
        return entry

    def finish(self) -> None:
        if self.entries:
            self._write(head_path(self.site), f"{self.sequence} {self.hash}\n")
