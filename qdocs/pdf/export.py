"""``qdocs export``: records to stamped (and, when approved, signed) PDF copies.

Every record of one call goes through one LibreOffice run, together with the sheet
of their stamps.  Nothing is written until every copy is ready: the files are then
written beside their targets and renamed into place.  Progress is told in steps
(:mod:`qdocs.progress`): preparing, converting, stamping, signing.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock, timezones
from ..errors import RecordStateError, StorageError, UsageError
from ..progress import Report, Steps
from ..queries import get_record, record_at_revision
from .company import load_company_signer
from .office import Office
from .signing import sign_pdf
from .stamps import add_stamp, apply_stamp, stamp_for, stamp_sheet

if TYPE_CHECKING:
    from ..records import Record
    from ..repository import Repository

STAMP_SHEET = "qdocs-stamps.fodt"


@dataclass
class Copy:
    """One record at one revision, to be rendered."""

    record: "Record"
    document: bytes
    current_revision: str
    name: str


def load_copies(repository: "Repository", record_ids: list[str], revision: str | None = None,
                steps: Steps | None = None) -> list[Copy]:
    copies = []
    unique = list(dict.fromkeys(record_ids))
    for record_id in (steps or Steps()).each(f"preparing {len(unique)} record(s)", unique):
        record, document = record_at_revision(repository, record_id, revision)
        current = get_record(repository, record_id).revision if revision else record.revision
        copies.append(Copy(record, document, current, record_id + (f"-{revision}" if revision else "")))
    return copies


def printed_now(zone: _dt.tzinfo) -> str:
    """When a copy is printed, as its stamps say: ``2026-03-25 14:03 +08:00`` in ``zone``,
    the company's time zone (``Repository.time_zone``)."""
    shown = timezones.display(clock.now(zone), zone)  # 2026-03-25 14:03:05 +08:00
    return shown[:16] + shown[19:]  # to the minute, as a stamp needs


def render_copies(office: Office, copies: list[Copy], printed_by: str, extra: dict[str, bytes] | None = None,
                  steps: Steps | None = None,
                  metadata: list[dict[str, str]] | None = None, *, printed: str) -> tuple[list[bytes], dict[str, bytes]]:
    """Stamped PDFs of ``copies`` (in order, with ``metadata`` in each) and the PDFs of
    ``extra`` documents (``name.fodt``: bytes), all from one LibreOffice run; ``printed``
    (:func:`printed_now`) is the time their stamps show.

    Steps: converting, of unknown length (LibreOffice converts everything in one run;
    where it reports each document, the records it has done are counted), then
    stamping each record."""
    from pypdf import PdfReader

    steps = steps or Steps()
    sheet = stamp_sheet()
    placements = [add_stamp(sheet, stamp_for(copy.record, copy.current_revision, printed, printed_by))
                  for copy in copies]
    documents = {f"{copy.name}.docx": copy.document for copy in copies}  # first: LibreOffice goes in order
    documents.update(extra or {})
    documents[STAMP_SHEET] = sheet.to_bytes()
    steps.start(f"converting {len(copies)} record(s) with LibreOffice…")
    converted = office.convert(documents, lambda count: steps.advance(min(count, len(copies))))
    stamps = PdfReader(io.BytesIO(converted.pop(STAMP_SHEET))).pages
    stamped = [apply_stamp(converted.pop(f"{copy.name}.docx"), stamps, placement, metadata[index] if metadata else None)
               for index, (copy, placement) in steps.each(f"stamping {len(copies)} record(s)",
                                                          list(enumerate(zip(copies, placements))))]
    return stamped, converted


def signature_reason(repository: "Repository", record: "Record") -> str:
    """Names the record, its revision and who signed it, for the PDF signature."""
    signers = []
    for signature in record.signatures:
        meaning = repository.catalog.meanings.get(signature["meaning"])
        label = f"{meaning.label.zh} {signature['meaning']}" if meaning else signature["meaning"]
        signers.append(f"{label}: {signature.get('full_name', '')} ({signature['signer']}) {signature['time']}")
    return f"{record.id} rev {record.revision} approved; " + "; ".join(signers)


def export_records(repository: "Repository", record_ids: list[str], actor: str, revision: str | None = None,
                   sign: bool = False, passphrase: Any = None, progress: Report | None = None,
                   home: Path | None = None) -> list[tuple[str, bytes]]:
    """``(file name, PDF bytes)`` for each record.  With ``sign`` every record must be
    approved and current; the company key is opened before anything is rendered.
    ``progress`` is told the steps: preparing, converting, stamping (and signing)."""
    if not record_ids:
        raise UsageError("name at least one record to export")
    steps = Steps(progress)
    copies = load_copies(repository, record_ids, revision, steps)
    signer = None
    if sign:
        for copy in copies:
            if copy.record.revision != copy.current_revision or copy.record.status != "approved":
                state = (f"revision {copy.record.revision} is superseded by {copy.current_revision}"
                         if copy.record.revision != copy.current_revision else f"is {copy.record.status}")
                raise RecordStateError(f"{copy.record.id} {state}: only an approved, current record gets a signed PDF "
                                       "(export it without --sign for a stamped, unsigned copy)")
        signer = load_company_signer(repository, passphrase, home)
    with Office(steps=steps) as office:
        stamped, _ = render_copies(office, copies, actor, steps=steps,
                                   metadata=[document_metadata(repository, copy) for copy in copies],
                                   printed=printed_now(repository.time_zone))
    results = []
    pairs = list(zip(copies, stamped))
    for copy, content in (steps.each(f"signing {len(copies)} record(s)", pairs) if signer is not None else pairs):
        if signer is not None:
            content = sign_pdf(content, signer, signature_reason(repository, copy.record), repository.company)
        results.append((f"{copy.name}.pdf", content))
    return results


def document_metadata(repository: "Repository", copy: Copy) -> dict[str, str]:
    record_type = repository.catalog.types.get(copy.record.type)
    title = f"{copy.record.id} rev {copy.record.revision}" + (f" {record_type.name.zh} {record_type.name.en}"
                                                               if record_type else "")
    return {"/Title": title, "/Author": repository.company, "/Subject": copy.record.subject.label(),
            "/Creator": "qdocs"}


def output_targets(names: list[str], output: str | None) -> list[Path]:
    """Where each file goes: ``-o FILE.pdf`` for one record, else ``-o`` is a folder (default: here)."""
    if output and output.lower().endswith(".pdf") and not Path(output).is_dir():
        if len(names) > 1:
            raise UsageError(f"-o {output}: several records give several files; give a folder with -o")
        return [Path(output)]
    folder = Path(output or ".")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {output}: exists and is not a folder")
    return [folder / name for name in names]


def write_files(files: list[tuple[Path, bytes]]) -> None:
    """Write every file beside its target, then rename them all into place; on failure remove what was written."""
    temporaries: list[Path] = []
    try:
        for target, content in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            temporaries.append(temporary)
            temporary.write_bytes(content)
        for (target, _), temporary in zip(files, temporaries):
            os.replace(temporary, target)
    except OSError as error:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise StorageError(f"cannot write {error.filename or 'the PDF'}: {error.strerror}; nothing was written") from None
