"""One record as its page shows it: fields with their labels, signatures, a timeline,
attachments and what ``qdocs verify`` says of it.

The verification is the library's (:func:`qdocs.verification.check_record`) against the
event chain read once per commit (:class:`qdocs.trail.Trail`), so a page does not read
the whole chain again; what the chain itself got wrong is counted beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..authority import Authority
from ..findings import Finding
from ..pdf.attachments import read_attachments
from ..trail import Trail
from ..trust.credentials import trust_state
from ..trust.state import parse_moment
from ..validation import NONE
from ..verification import check_record

if TYPE_CHECKING:
    from ..catalog import Field, RecordType
    from ..records import Record
    from ..repository import Repository


@dataclass
class ChainCheck:
    """The event chain of one commit, read and checked once."""

    trail: Trail
    findings: list[Finding]


def chain_check(repository: "Repository", previous: object = None) -> ChainCheck:
    findings: list[Finding] = []
    return ChainCheck(Trail.load(repository, findings), findings)


def verify_status(repository: "Repository", chain: ChainCheck, record: "Record") -> dict[str, Any]:
    authority = Authority(repository, trust_state(repository), chain.trail)
    found = check_record(repository, chain.trail, record, None, authority)
    return {"clean": not found and not chain.findings, "findings": [finding.to_json() for finding in found],
            "chain_findings": len(chain.findings)}


def field_rows(record_type: "RecordType", data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of the type: key, labels, type, and the value as text (a table: its rows)."""
    rows = []
    for item in record_type.fields:
        value = data.get(item.key)
        row: dict[str, Any] = {"key": item.key, "label": {"zh": item.label.zh, "en": item.label.en},
                               "type": item.type, "unit": item.unit}
        if item.type == "table":
            row["columns"] = [{"key": column.key, "label": f"{column.label.zh} {column.label.en}"}
                              for column in item.columns]
            row["none"] = value == NONE
            row["rows"] = [[display_value(column, entry.get(column.key)) for column in item.columns]
                           for entry in (value if isinstance(value, list) else []) if isinstance(entry, dict)]
        else:
            row["text"] = display_value(item, value)
            row["value"] = value
        rows.append(row)
    return rows


def display_value(item: "Field", value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "是 yes"
    if value is False:
        return "否 no"
    choice = item.choice(str(value)) if item.choices else None
    if choice is not None:
        return f"{value} ({choice.label.zh} {choice.label.en})"
    return str(value)


def timeline(record: "Record") -> list[dict[str, Any]]:
    """What the record itself says happened, oldest first: each revision begun, each
    signature of the current revision, the void.  (The full history, with earlier
    revisions' signatures, is git's: the history page.)"""
    events = [{"time": entry.get("time", ""), "what": "revision", "revision": entry.get("revision", ""),
               "actor": entry.get("actor", ""), "text": entry.get("reason", "")} for entry in record.revisions]
    events += [{"time": signature.get("time", ""), "what": "signature", "revision": record.revision,
                "actor": signature.get("signer", ""), "meaning": signature.get("meaning", ""),
                "text": signature.get("comment", "")} for signature in record.signatures]
    if record.void:
        events.append({"time": record.void.get("time", ""), "what": "void", "revision": record.revision,
                       "actor": record.void.get("actor", ""), "text": record.void.get("reason", "")})
    return sorted(events, key=lambda event: _utc_key(str(event["time"])))


def attachments(repository: "Repository", record: "Record") -> list[dict[str, Any]]:
    return [{"number": entry.get("number"), "title": entry.get("title", ""),
             "original_name": entry.get("original_name", ""), "pages": entry.get("pages"),
             "bytes": entry.get("bytes"), "sha256": entry.get("sha256", ""),
             "added": entry.get("added") or {}} for entry in read_attachments(repository.root / record.path)]


def _utc_key(text: str) -> float:
    moment = parse_moment(text)
    return moment.timestamp() if moment is not None else 0.0
