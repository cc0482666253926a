"""A record's metadata (``record.yaml``) and its document number.

``record.yaml`` is the human-readable twin of ``record.docx``: the type, id,
subject, revision, status, the input data exactly as entered, and the hashes
that bind the document to its template and content.  Keys are written in one
fixed order so git diffs stay readable.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any

from . import clock
from . import yamlio
from .errors import UsageError
from .events import canonical_json, sha256_hex
from .subjects import Subject, subject_from_dict

RECORD_ID = re.compile(r"^(?P<prefix>[A-Z]{2,5})-(?P<site>[A-Z0-9]{1,8})-(?P<year>\d{4})-(?P<number>\d{4,})$")
STATUSES = ("draft", "in-review", "approved", "void")


@dataclass
class Stamp:
    """Who did something, and when (local time with its UTC offset)."""

    time: str
    actor: str

    @classmethod
    def now(cls, actor: str, zone: _dt.tzinfo) -> "Stamp":
        return cls(now_text(zone), actor)


@dataclass
class Record:
    id: str
    type: str
    subject: Subject
    revision: str
    status: str
    data: dict[str, Any]
    template_sha256: str
    docx_sha256: str
    created: Stamp
    changed: Stamp
    revisions: list[dict[str, Any]] = field(default_factory=list)
    void: dict[str, Any] | None = None
    signatures: list[dict[str, Any]] = field(default_factory=list)
    #: actions of other sites that a sync's merge set aside ({event, note}; :mod:`qdocs.mergeoutcomes`)
    superseded: list[dict[str, Any]] = field(default_factory=list)
    catalog_sha256: str = ""  # the approved catalog it was made with; empty in records made before forms were controlled
    path: str = ""  # repository-relative folder; not stored in the file
    yaml_sha256: str | None = None  # sha256 of the record.yaml bytes read, when known; not stored

    def to_yaml(self) -> str:
        return yamlio.dump(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        subject = {"scope": self.subject.scope, **self.subject.as_dict()}
        result: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "revision": self.revision,
            "status": self.status,
            "subject": subject,
            "created": {"time": self.created.time, "actor": self.created.actor},
            "changed": {"time": self.changed.time, "actor": self.changed.actor},
            "template_sha256": self.template_sha256,
            **({"catalog_sha256": self.catalog_sha256} if self.catalog_sha256 else {}),
            "docx_sha256": self.docx_sha256,
            "revisions": self.revisions,
        }
        if self.void:
            result["void"] = self.void
        result["signatures"] = self.signatures
        if self.superseded:
            result["superseded"] = self.superseded
        result["data"] = self.data
        return result

    def content_hash(self) -> str:
        """sha256 of what the record says: id, type, revision, subject, data, template (and
        the catalog, for records made with controlled forms).
        Signatures cover this, not the ``.docx`` bytes (which carry save times)."""
        return sha256_hex(canonical_json({
            "id": self.id, "type": self.type, "revision": self.revision,
            "subject": {"scope": self.subject.scope, **self.subject.as_dict()},
            "data": self.data, "template_sha256": self.template_sha256,
            **({"catalog_sha256": self.catalog_sha256} if self.catalog_sha256 else {}),
        }))

    def to_json(self) -> dict[str, Any]:
        return {**self.to_dict(), "path": self.path}

    @classmethod
    def from_yaml(cls, text: str, path: str = "") -> "Record":
        return cls.from_dict(yamlio.load(text), path)

    @classmethod
    def from_dict(cls, raw: Any, path: str = "") -> "Record":
        if not isinstance(raw, dict):
            raise UsageError(f"{path or 'record.yaml'}: not a record")
        subject = dict(raw["subject"])
        scope = subject.pop("scope")
        return cls(
            id=raw["id"],
            type=raw["type"],
            subject=subject_from_dict(scope, subject),
            revision=str(raw["revision"]),
            status=raw["status"],
            data=raw.get("data") or {},
            template_sha256=raw.get("template_sha256", ""),
            catalog_sha256=raw.get("catalog_sha256", ""),
            docx_sha256=raw.get("docx_sha256", ""),
            created=Stamp(**raw["created"]),
            changed=Stamp(**raw["changed"]),
            revisions=raw.get("revisions") or [],
            void=raw.get("void"),
            signatures=raw.get("signatures") or [],
            superseded=raw.get("superseded") or [],
            path=path,
        )


def now_text(zone: _dt.tzinfo) -> str:
    """The clock's current moment as stored in records: ISO 8601 in the company's time
    zone (``Repository.time_zone``) with its offset, ``2026-03-25T14:03:05+08:00``."""
    return clock.now(zone).isoformat()


def format_record_id(prefix: str, site: str, year: int, number: int) -> str:
    return f"{prefix}-{site}-{year:04d}-{number:04d}"


def check_record_id(text: str) -> str:
    if not RECORD_ID.match(text or ""):
        raise UsageError(f"{text!r} is not a record id (expected e.g. FIR-S1-2026-0001)")
    return text


def next_revision(revision: str) -> str:
    """A → B → … → Z → AA → AB …"""
    letters = [ord(character) - 64 for character in revision]
    index = 0
    for value in letters:
        index = index * 26 + value
    index += 1
    result = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        result = chr(65 + remainder) + result
    return result
