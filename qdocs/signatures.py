"""Electronic signatures: prepared, inspected, performed, reviewed, approved.

A signature is an Ed25519 signature over the canonical JSON of: the record id,
revision and content hash (input data and template hash, not the ``.docx``
bytes, which carry save times), the meaning, the signer and the role signed in,
the UTC time, the comment, the key's fingerprint, and the head of the event
chain just before signing.  So it cannot be cut from one record and pasted onto
another, and dropping or altering an earlier action breaks it.

This module says what a signature signs and how a signed document shows it (the
signature block); signing itself is an action (:mod:`qdocs.signing`).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from . import timezones
from .catalog import RecordType
from .events import canonical_json
from .records import Record
from .users import image_path

if TYPE_CHECKING:
    from .repository import Repository

SIGNED_ELECTRONICALLY = "电子签名 Signed electronically"


def signature_payload(record: Record, signature: dict[str, Any], content_hash: str | None = None) -> bytes:
    """What a signature signs; ``content_hash`` saves recomputing ``record.content_hash()``."""
    return canonical_json({
        "record": record.id, "revision": record.revision, "content": content_hash or record.content_hash(),
        "meaning": signature["meaning"], "signer": signature["signer"], "role": signature["role"],
        "time": signature["time"], "comment": signature.get("comment") or "", "key": signature["key"],
        "chain_head": signature["chain_head"],
    })


def required_meanings(record_type: RecordType) -> list[str]:
    return [requirement.meaning for requirement in record_type.signatures]


def signature_rows(repository: "Repository", record_type: RecordType, record: Record) -> list[dict[str, Any]]:
    """The signature block of the document: one row per required signature.

    A signed row shows, besides its columns, the manifestation of the electronic
    signature in the signature cell (21 CFR 11.50): that it was signed
    electronically, the signer's printed name, the meaning and the date and time
    in the company's time zone; with the signer's image above it when there is one.
    A row not yet signed stays empty, a place to sign a printed form by hand."""
    rows = []
    by_meaning = {entry["meaning"]: entry for entry in record.signatures}
    for requirement in record_type.signatures:
        meaning = repository.catalog.meanings[requirement.meaning]
        row: dict[str, Any] = {"meaning": requirement.meaning, "meaning_zh": meaning.label.zh,
                               "meaning_en": meaning.label.en, "name": "", "role": "", "time": "",
                               "comment": "", "image": "", "manifestation": ""}
        entry = by_meaning.get(requirement.meaning)
        if entry:
            role = repository.catalog.roles.get(entry["role"])
            time = display_time(entry["time"], repository.time_zone)
            row.update({
                "name": f"{entry['full_name']} ({entry['signer']})",
                "role": f"{role.zh} {role.en}" if role else entry["role"],
                "time": time,
                "comment": entry.get("comment") or "",
                "manifestation": manifestation(entry["full_name"], f"{meaning.label.zh} {meaning.label.en}", time),
            })
            picture = repository.root / image_path(entry["signer"])
            if picture.is_file():
                row["image_path"] = str(picture)
        rows.append(row)
    return rows


def manifestation(full_name: str, meaning: str, time: str) -> str:
    """What a signed document says in the signature cell, one item a line::

        电子签名 Signed electronically
        检验 Inspected by: 赵六
        2026-03-25 14:03:05 +08:00
    """
    return f"{SIGNED_ELECTRONICALLY}\n{meaning}: {full_name}\n{time}"


def display_time(utc_text: str, zone: _dt.tzinfo) -> str:
    """``2026-03-25 14:03:05 +08:00``: a stored UTC time in ``zone``, to the second, with its offset."""
    return timezones.display_text(utc_text, zone)
