"""``qdocs pack``: one PDF with everything an auditor asks for about a product or a lot.

Order: cover (with the verdict), the audit result (:mod:`.auditsection`: the release
rules for each lot and the after-sales rules, as ``qdocs audit`` states them), contents
(with page numbers), every current record of the product and lot as a stamped copy
followed by its attachments, then the evidence outside the lot the release rules used
(:mod:`.evidence`, stamped and with attachments alike), and the manifest (id,
revision, status, sha256 and signers of each record, sha256 of each attachment).  A
bookmark per record (its attachments beneath it); the original ``.docx`` files and
``manifest.json`` (the summary, verdict included) are embedded as PDF attachments.
Every page carries the pack's own page number (:mod:`.pagenumbers`).

The records, stamps, cover and manifest go through one LibreOffice run; the contents and
the page numbers need the page count, so they follow in a second, short run on the same
profile.  With ``sign`` the finished pack is signed last with the company certificate.
Progress is told in steps (:mod:`qdocs.progress`): preparing, auditing, converting,
stamping, numbering, assembling, writing, signing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RecordStateError, UsageError
from ..progress import Report, Steps
from ..queries import iter_records, record_at_revision
from .attachments import attachment_problems, read_attachments
from .auditsection import pack_audit, verdict_summary
from .company import load_company_signer
from .evidence import outside_evidence
from .export import Copy, document_metadata, printed_now, render_copies
from .office import Office
from .packpages import OUTSIDE_HEADING, PackEntry, contents, cover, manifest
from .pagenumbers import number_pages, number_sheet
from .signing import sign_pdf

if TYPE_CHECKING:
    from ..records import Record
    from ..repository import Repository

ROWS_PER_CONTENTS_PAGE = 40


def pack_records(repository: "Repository", product: str, lot: str | None) -> list["Record"]:
    """The product's own records, then the lot's (or every lot's), in catalog order."""
    found = [record for record in iter_records(repository, product=product) if lot is None or record.subject.scope == "product"]
    if lot is not None:
        found += list(iter_records(repository, product=product, lot=lot))
    order = {type_id: index for index, type_id in enumerate(repository.catalog.types)}
    return sorted(found, key=lambda record: (record.subject.scope != "product", order.get(record.type, 99), record.id))


def build_pack(repository: "Repository", product: str, lot: str | None, actor: str, sign: bool = False,
               passphrase: Any = None, progress: Report | None = None,
               home: Path | None = None) -> tuple[bytes, dict[str, Any]]:
    """The pack's PDF bytes and its summary (records, attachments, pages, the audit's verdict)."""
    from pypdf import PdfReader

    steps = Steps(progress)
    head = repository.git.head() or ""
    records = pack_records(repository, product, lot)
    subject = f"{product} / {lot}" if lot else product
    if not records:
        raise UsageError(f"no records for {subject} (list them with: qdocs list --product {product}"
                         f"{' --lot ' + lot if lot else ''})")
    steps.start(f"auditing {subject}…")

    def reading(done: int, total: int) -> None:  # the first audit of a repository reads every record
        label = f"auditing {subject}: reading {total} record(s)"
        if steps.current is None or steps.current.label != label:
            steps.start(label, total)
        steps.advance(done)

    report = pack_audit(repository, product, lot, reading)
    if report.commit != head:  # the verdict must be about the records packed
        raise RecordStateError(f"the records changed while {subject} was being packed (commit {head[:10]}, "
                               f"then {report.commit[:10]}); run qdocs pack again")
    outside = outside_evidence(repository, report, {record.id for record in records})
    entries = [_entry(repository, record) for record in records]
    entries += [_entry(repository, item.record, item.used_by) for item in outside]
    packed = records + [item.record for item in outside]
    for record in packed:
        problems = attachment_problems(repository.root / record.path)
        if problems:
            raise RecordStateError(f"{record.id}: {problems[0]}; run qdocs verify before packing")
    signer = None
    if sign:
        signer = load_company_signer(repository, passphrase, home)
    copies = []
    for record in steps.each(f"preparing {len(packed)} record(s)", packed):
        _, document = record_at_revision(repository, record.id)
        copies.append(Copy(record, document, record.revision, record.id))
    printed = printed_now(repository.time_zone)
    front = {"cover.fodt": cover(repository.company, subject, printed, actor, head, entries, report),
             "manifest.fodt": manifest(entries, subject)}
    with Office(steps=steps) as office:
        stamped, rendered = render_copies(office, copies, actor, front, steps,
                                          [document_metadata(repository, copy) for copy in copies], printed=printed)
        front_pages = PdfReader(io.BytesIO(rendered["cover.fodt"]))
        back_pages = PdfReader(io.BytesIO(rendered["manifest.fodt"]))
        attached = [[PdfReader(io.BytesIO((repository.root / record.path / item["file"]).read_bytes()))
                     for item in entry.attachments] for record, entry in zip(packed, entries)]
        record_pages = [len(PdfReader(io.BytesIO(content)).pages) for content in stamped]
        table_pages = 1 + sum(1 + len(entry.attachments) for entry in entries) // ROWS_PER_CONTENTS_PAGE
        steps.start("numbering the contents and pages with LibreOffice…")
        while True:
            last = _number_pages(entries, len(front_pages.pages) + table_pages, record_pages, attached)
            pages = last + len(back_pages.pages)
            second = office.convert({"contents.fodt": contents(entries), "numbers.fodt": number_sheet(pages)})
            table = PdfReader(io.BytesIO(second["contents.fodt"]))
            if len(table.pages) == table_pages:
                break
            table_pages = len(table.pages)
    writer = _assemble(front_pages, table, back_pages, copies, entries, stamped, attached, steps)
    number_pages(writer, PdfReader(io.BytesIO(second["numbers.fodt"])).pages)
    own = [entry for entry in entries if not entry.outside]
    summary = {"subject": subject, "records": len(own), "evidence_outside_lot": len(entries) - len(own),
               "attachments": sum(len(e.attachments) for e in entries), "pages": len(writer.pages),
               "audit": verdict_summary(report), "commit": head, "printed": printed,
               "manifest": [{"id": e.id, "revision": e.revision, "status": e.status, "docx_sha256": e.sha256,
                             "signers": e.signers, "page": e.page, "evidence_outside_lot": e.outside,
                             "subject": e.subject, "used_by": e.used_by,
                             "attachments": [{"file": a["file"], "title": a["title"], "sha256": a["sha256"]}
                                             for a in e.attachments]} for e in entries]}
    writer.add_attachment("manifest.json", json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8"))
    writer.add_metadata({"/Title": f"审核资料包 Audit pack {subject}", "/Author": repository.company,
                         "/Creator": "qdocs"})
    steps.start(f"writing the pack ({len(writer.pages)} pages)…")
    output = io.BytesIO()
    writer.write(output)
    content = output.getvalue()
    if signer is not None:
        steps.start("signing the pack…")
        reason = (f"Audit pack {subject}: {len(own)} records, {len(entries) - len(own)} outside the lot, "
                  f"commit {head[:12]}; {summary['audit']['line']}")
        content = sign_pdf(content, signer, reason, repository.company)
    return content, summary


def _assemble(front: Any, table: Any, back: Any, copies: list[Copy], entries: list[PackEntry], stamped: list[bytes],
              attached: list[list[Any]], steps: Steps) -> Any:
    """One PDF of the rendered parts, with its bookmarks and the embedded Word documents."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(front, import_outline=False)
    writer.append(table, import_outline=False)
    writer.add_outline_item(title="封面 Cover", page_number=0)
    writer.add_outline_item(title="审核结果 Audit result", page_number=min(1, len(front.pages) - 1))
    writer.add_outline_item(title="目录 Contents", page_number=len(front.pages))
    outside_parent = None
    for copy, entry, content, readers in steps.each(f"assembling {len(entries)} record(s)",
                                                    list(zip(copies, entries, stamped, attached))):
        first = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(content)), import_outline=False)
        if entry.outside and outside_parent is None:
            outside_parent = writer.add_outline_item(title=OUTSIDE_HEADING, page_number=first)
        title = f"{entry.id} {entry.type_label} (Rev. {entry.revision}, {entry.status})"
        parent = writer.add_outline_item(title=title + (f" · {entry.used_by_text}" if entry.outside else ""),
                                         page_number=first, parent=outside_parent if entry.outside else None)
        for item, reader in zip(entry.attachments, readers):
            first = len(writer.pages)
            writer.append(reader, import_outline=False)
            writer.add_outline_item(title=f"附件 Attachment {item['number']}: {item['title']}", page_number=first,
                                    parent=parent)
        writer.add_attachment(f"{entry.id}-rev{entry.revision}.docx", copy.document)
    first = len(writer.pages)
    writer.append(back, import_outline=False)
    writer.add_outline_item(title="清单 Manifest", page_number=first)
    return writer


def _entry(repository: "Repository", record: "Record", used_by: list[str] | None = None) -> PackEntry:
    """``used_by`` (the rules that used it) for evidence outside the lot."""
    record_type = repository.catalog.types.get(record.type)
    label = f"{record_type.name.zh} {record_type.name.en}" if record_type else record.type
    signers = []
    for signature in record.signatures:
        meaning = repository.catalog.meanings.get(signature["meaning"])
        signers.append(f"{meaning.label.zh if meaning else signature['meaning']} {signature.get('full_name', '')} "
                       f"({signature['signer']}) {signature['time'][:10]}")
    entry = PackEntry(record.id, label, record.revision, record.status, record.docx_sha256, signers,
                      read_attachments(repository.root / record.path))
    if used_by is not None:
        entry.outside, entry.used_by = True, list(used_by)
        entry.subject = f"{record.subject.scope} {record.subject.label()}"
    return entry


def _number_pages(entries: list[PackEntry], before: int, record_pages: list[int], attached: list[list[Any]]) -> int:
    """Page numbers (1-based) of each record and attachment, given ``before`` pages in front;
    returns the number of the last of them."""
    page = before + 1
    for entry, count, readers in zip(entries, record_pages, attached):
        entry.page = page
        page += count
        entry.attachment_pages = []
        for reader in readers:
            entry.attachment_pages.append(page)
            page += len(reader.pages)
    return page - 1
