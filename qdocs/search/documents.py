"""What the index holds for one record: its metadata and all its text.

Built from the committed files of the record: ``record.yaml`` (type, subject,
status, revision, signers, dates, conclusion, reasons and comments),
``record.docx`` (body, tables, headers and footers through
:func:`qdocs.docxtext.document_text`), the PDFs under ``attachments/`` (pypdf)
and their titles in ``attachments.yaml``.  The result is a plain mapping; the
engine module decides how each field is stored.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Callable

from .. import yamlio
from ..docxtext import document_text
from ..records import Record
from ..subjects import SUBJECT_KEYS
from ..store.listing import RecordFiles

ReadBlob = Callable[[str], bytes]

#: fields copied from the record as they are.
_PLAIN_FIELDS = ("id", "type", "status", "revision")


def record_document(source: RecordFiles, raw: Any, read: ReadBlob,
                    date_fields: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The index document of one record: ``raw`` is its ``record.yaml`` parsed, ``read``
    gives the contents of its other files by blob id.

    ``date_fields`` maps a record type to its date fields in catalog order; the
    first one with a value is the record's own date (the inspection date of an
    inspection report), else the day it was created.
    """
    record = Record.from_dict(raw, source.folder)
    subject = record.subject.as_dict()
    signatures = [signature for signature in record.signatures if isinstance(signature, dict)]
    document: dict[str, Any] = {name: str(getattr(record, name)) for name in _PLAIN_FIELDS}
    document.update({key: subject[key] for key in SUBJECT_KEYS if key in subject})
    document.update(
        scope=record.subject.scope,
        subject=record.subject.label(),
        signers=sorted({str(signature.get("signer", "")) for signature in signatures} - {""}),
        created=parse_time(record.created.time),
        changed=parse_time(record.changed.time),
        conclusion=str(record.data.get("conclusion") or ""),
        path=source.folder,
        fingerprint=source.fingerprint,
    )
    signed = [parse_time(str(signature.get("time", ""))) for signature in signatures]
    signed = [time for time in signed if time]
    if signed:
        document["signed"] = max(signed)
    document["date"] = _record_date(record, date_fields.get(record.type, ())) or document["created"]
    parts = [document_text(read(source.docx_blob))] if source.docx_blob else []
    parts.extend(_metadata_text(record, signatures))
    if source.attachment_list:
        parts.extend(attachment_titles(read(source.attachment_list)))
    for name, blob in source.attachments:
        parts.append(name)
        parts.append(pdf_text(read(blob)))
    document["content"] = "\n".join(part for part in parts if part)
    return document


def pdf_text(content: bytes) -> str:
    """The text of a PDF; an unreadable PDF gives no text rather than no index."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError):
        return ""


def attachment_titles(content: bytes) -> list[str]:
    """The titles listed in ``attachments.yaml`` (see :mod:`qdocs.pdf.attachments`)."""
    try:
        entries = yamlio.load(content.decode("utf-8"))
    except (yamlio.YAMLError, UnicodeDecodeError):
        return []
    return [str(entry["title"]) for entry in entries or [] if isinstance(entry, dict) and entry.get("title")] \
        if isinstance(entries, list) else []


def parse_time(text: str) -> _dt.datetime | None:
    """A stored time as naive local wall-clock time (how people ask for dates)."""
    try:
        return _dt.datetime.fromisoformat(text.strip()).replace(tzinfo=None)
    except ValueError:
        return None


def _record_date(record: Record, keys: tuple[str, ...]) -> _dt.datetime | None:
    for key in keys:
        value = record.data.get(key)
        if value not in (None, ""):
            found = parse_time(str(value))
            if found:
                return found
    return None


def _metadata_text(record: Record, signatures: list[dict[str, Any]]) -> list[str]:
    """What record.yaml says that the document does not: reasons and comments."""
    lines = [str(entry.get("reason") or "") for entry in record.revisions if isinstance(entry, dict)]
    if record.void:
        lines.append(str(record.void.get("reason") or ""))
    for signature in signatures:
        lines.append(" ".join(str(signature.get(key) or "") for key in ("signer", "full_name", "comment")))
    return [line for line in lines if line.strip()]
