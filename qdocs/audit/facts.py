"""What the audit keeps of a record: its facts, and the cache that keeps them.

A fact is the part of one ``record.yaml`` the rules read: id, type, status,
subject, revision, creation time, the projected fields (only those the checks use, see
:mod:`qdocs.audit.kinds`) and each signature's meaning, signer, key, role and time
(what the trust state needs to say whether it counts, :mod:`.authorised`), and who made
the record and began its current revision.  Facts
are cached by the git blob id of the
``record.yaml`` they came from, so a record is parsed once per content ever, for
the current state and every earlier one alike.  The cache is one marshal file in
``.qdocs/cache/`` (ignored by git, rebuilt when missing or unreadable).
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from ..subjects import SCOPES
from .kinds import all_fixed_reads, merge_reads

CACHE_FOLDER = ".qdocs/cache"
_FORMAT = 4  # 2: every record's signatures (meaning, signer, key, role, time); 3: its revision; 4: who made and last revised it
_INTERN_LENGTH = 48


Signature = tuple[str, str, str, str, str]  # (meaning, signer, key fingerprint, role, UTC time)
_SIGNATURE_KEYS = ("meaning", "signer", "key", "role", "time")


class Fact(NamedTuple):
    id: str
    type: str
    status: str  # as record.yaml says; "unsigned" when its signatures do not count (``problem`` says why)
    subject: tuple[str, ...]  # (scope, key values in scope order), e.g. ("lot", "PUMP-X200", "L2026-031")
    created: str
    fields: dict[str, Any]  # the projected data
    signatures: tuple[Signature, ...] = ()
    problem: str | None = None  # why a record that says approved does not count (None in the cache)
    revision: str = "A"  # the current revision's letter (first-pass yield: passed at the first, A)
    #: who made the record and who began its current revision (the web's "my drafts")
    actors: tuple[str, ...] = ()

    @property
    def counts(self) -> bool:
        """Approved with every required signature authorised (:mod:`.authorised`), hence not void;
        the current revision by construction."""
        return self.status == "approved"

    @property
    def shown_status(self) -> str:
        """The status for messages: ``unsigned: <why>`` for a record whose signatures do not count."""
        return f"{self.status}: {self.problem}" if self.problem else self.status

    @property
    def live(self) -> bool:
        return self.status != "void"

    def get(self, key: str) -> Any:
        return self.fields.get(key)


Projection = dict[str, dict[str, tuple[str, ...] | None]]


def projection_for(rule_sets: list[Any]) -> Projection:
    """Every field the check kinds and the given rules' conditions read."""
    reads = all_fixed_reads()
    for rules in rule_sets:
        for rule in rules.release:
            if rule.check == "record":
                for condition in rule.parameters["require"]:
                    key = condition["table"] or condition["field"]
                    merge_reads(reads, {rule.parameters["type"]:
                                        {key: (condition["column"],) if condition["table"] else None}})
    return reads


def projection_digest(projection: Projection) -> str:
    text = json.dumps({"format": _FORMAT, "reads": projection}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def extract(raw: Any, projection: Projection) -> tuple:
    """The fact of one parsed ``record.yaml`` as a plain tuple (raises on a malformed record)."""
    type_id = raw["type"]
    subject = raw["subject"]
    scope = subject["scope"]
    data = raw.get("data") or {}
    fields: dict[str, Any] = {}
    for key, columns in projection.get(type_id, {}).items():
        value = data.get(key)
        if columns is None:
            fields[_intern(key)] = _plain(value)
        else:
            fields[_intern(key)] = tuple({_intern(column): _plain(row.get(column)) for column in columns}
                                         for row in value or [] if isinstance(row, dict))
    signatures = tuple(tuple(_intern(str(entry.get(key))) for key in _SIGNATURE_KEYS)
                       for entry in raw.get("signatures") or [])
    keys = tuple(_intern(str(subject[key])) for key in SCOPES[scope])
    created = raw["created"]
    actors = {str(created.get("actor"))}
    actors.update(str(entry.get("actor")) for entry in (raw.get("revisions") or [])[-1:] if isinstance(entry, dict))
    return (str(raw["id"]), _intern(type_id), _intern(raw["status"]), (_intern(scope), *keys),
            str(created["time"]), fields, signatures, None, _intern(str(raw.get("revision") or "A")),
            tuple(sorted(map(_intern, actors))))


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _intern(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _intern(text: str) -> str:
    return sys.intern(text) if len(text) <= _INTERN_LENGTH else text


class FactCache:
    """Facts by blob id (hex bytes), for one projection, in ``.qdocs/cache``."""

    def __init__(self, root: Path, projection: Projection) -> None:
        self.folder = Path(root) / CACHE_FOLDER
        self.digest = projection_digest(projection)
        self.path = self.folder / f"audit-facts-{self.digest}.marshal"
        self.facts: dict[bytes, tuple] = {}
        self.added = 0
        self._signatures: dict[tuple, tuple] | None = None

    def load(self) -> None:
        try:
            stored = marshal.loads(self.path.read_bytes())
            if isinstance(stored, tuple) and stored[0] == _FORMAT and isinstance(stored[1], dict):
                self.facts = stored[1]
        except (OSError, EOFError, ValueError, TypeError, IndexError):
            self.facts = {}  # missing or damaged: rebuilt from the records

    def add(self, blob: bytes, fact: tuple) -> tuple:
        """Keep a newly parsed fact; returns it with its signatures shared with every equal one
        (a batch signed in one command: one object, stored once by marshal, judged once)."""
        if self._signatures is None:
            self._signatures = {known[6]: known[6] for known in self.facts.values()}
        signatures = self._signatures.setdefault(fact[6], fact[6])
        if signatures is not fact[6]:
            fact = (*fact[:6], signatures, *fact[7:])
        self.facts[blob] = fact
        self.added += 1
        return fact

    def save(self, in_use: list[bytes]) -> None:
        """Write back what was added (atomically); forget facts no listing used lately when the
        cache has grown to more than twice what is in use."""
        if not self.added:
            return
        facts = self.facts
        if len(facts) > 2 * len(in_use) + 10_000:
            facts = {blob: facts[blob] for blob in in_use if blob in facts}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_bytes(marshal.dumps((_FORMAT, facts)))
            os.replace(temporary, self.path)
            for other in self.folder.glob("audit-facts-*.marshal"):
                if other != self.path:
                    other.unlink(missing_ok=True)
        except OSError:
            pass  # a cache that cannot be written only makes the next audit slower
        self.added = 0
