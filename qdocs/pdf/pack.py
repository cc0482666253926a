"""``qdocs pack``: one PDF with everything an auditor asks for about a product or a lot.

Order: cover, audit result, contents (with page numbers), every current record as a
stamped copy followed by its attachments, and the manifest (id, revision, status,
sha256 and signers of each record, sha256 of each attachment).  A bookmark per
record (its attachments beneath it); the original ``.docx`` files and
``manifest.json`` are embedded as PDF attachments.  The records, stamps, cover and
manifest go through one LibreOffice run; the contents need the page numbers, so they
follow in a second, short run on the same profile.  With ``sign`` the finished pack is
signed last with the company certificate.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import RecordStateError, UsageError
from .attachments import attachment_problems, read_attachments
from .auditsection import audit_result
from .export import Copy, document_metadata, printed_now, render_copies
from .office import Office
from .packpages import PackEntry, contents, cover, manifest

if TYPE_CHECKING:
    from ..records import Record
    from ..repository import Repository

ROWS_PER_CONTENTS_PAGE = 40


def pack_records(repository: "Repository", product: str, lot: str | None) -> list["Record"]:
    """The product's own records, then the lot's (or every lot's), in catalog order."""
    found = [record for record in repository.records(product=product) if lot is None or record.subject.scope == "product"]
    if lot is not None:
        found += repository.records(product=product, lot=lot)
    order = {type_id: index for index, type_id in enumerate(repository.catalog.types)}
    return sorted(found, key=lambda record: (record.subject.scope != "product", order.get(record.type, 99), record.id))


def build_pack(repository: "Repository", product: str, lot: str | None, actor: str, sign: bool = False,
               passphrase: Any = None, progress: Callable[[int], None] | None = None,
               home: Path | None = None) -> tuple[bytes, dict[str, Any]]:
    """The pack's PDF bytes and a summary (records, attachments, pages, audit findings)."""
    from pypdf import PdfReader, PdfWriter

    records = pack_records(repository, product, lot)
    subject = f"{product} / {lot}" if lot else product
    if not records:
        raise UsageError(f"no records for {subject} (list them with: qdocs list --product {product}"
                         f"{' --lot ' + lot if lot else ''})")
    for record in records:
        problems = attachment_problems(repository.root / record.path)
        if problems:
            raise RecordStateError(f"{record.id}: {problems[0]}; run qdocs verify before packing")
    signer = None
    if sign:
        from .company import load_company_signer

        signer = load_company_signer(repository, passphrase, home)
    copies, entries = [], []
    for record in records:
        _, document = repository.at_revision(record.id)
        copies.append(Copy(record, document, record.revision, record.id))
        entries.append(_entry(repository, record))
    audit = audit_result(repository, product, lot, records)
    printed = printed_now(repository.time_zone)
    head = repository.git.head() or ""
    front = {"cover.fodt": cover(repository.company, subject, printed, actor, head, entries, audit),
             "manifest.fodt": manifest(entries, subject)}
    with Office() as office:
        stamped, rendered = render_copies(office, copies, actor, front, progress,
                                          [document_metadata(repository, copy) for copy in copies], printed=printed)
        front_pages = PdfReader(io.BytesIO(rendered["cover.fodt"]))
        attached = [[PdfReader(io.BytesIO((repository.root / record.path / item["file"]).read_bytes()))
                     for item in entry.attachments] for record, entry in zip(records, entries)]
        record_pages = [len(PdfReader(io.BytesIO(content)).pages) for content in stamped]
        table_pages = 1 + sum(1 + len(entry.attachments) for entry in entries) // ROWS_PER_CONTENTS_PAGE
        while True:
            _number_pages(entries, len(front_pages.pages) + table_pages, record_pages, attached)
            table = PdfReader(io.BytesIO(office.convert({"contents.fodt": contents(entries)})["contents.fodt"]))
            if len(table.pages) == table_pages:
                break
            table_pages = len(table.pages)
    writer = PdfWriter()
    writer.append(front_pages, import_outline=False)
    writer.append(table, import_outline=False)
    writer.add_outline_item(title="封面 Cover", page_number=0)
    writer.add_outline_item(title="审核结果 Audit result", page_number=min(1, len(front_pages.pages) - 1))
    writer.add_outline_item(title="目录 Contents", page_number=len(front_pages.pages))
    for copy, entry, content, readers in zip(copies, entries, stamped, attached):
        first = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(content)), import_outline=False)
        parent = writer.add_outline_item(title=f"{entry.id} {entry.type_label} (Rev. {entry.revision}, {entry.status})",
                                         page_number=first)
        for item, reader in zip(entry.attachments, readers):
            first = len(writer.pages)
            writer.append(reader, import_outline=False)
            writer.add_outline_item(title=f"附件 Attachment {item['number']}: {item['title']}", page_number=first,
                                    parent=parent)
        writer.add_attachment(f"{entry.id}-rev{entry.revision}.docx", copy.document)
    first = len(writer.pages)
    writer.append(PdfReader(io.BytesIO(rendered["manifest.fodt"])), import_outline=False)
    writer.add_outline_item(title="清单 Manifest", page_number=first)
    summary = {"subject": subject, "records": len(entries), "attachments": sum(len(e.attachments) for e in entries),
               "pages": len(writer.pages), "audit_findings": len(audit.findings), "audit_clean": audit.clean,
               "commit": head, "printed": printed,
               "manifest": [{"id": e.id, "revision": e.revision, "status": e.status, "docx_sha256": e.sha256,
                             "signers": e.signers, "page": e.page,
                             "attachments": [{"file": a["file"], "title": a["title"], "sha256": a["sha256"]}
                                             for a in e.attachments]} for e in entries]}
    writer.add_attachment("manifest.json", json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8"))
    writer.add_metadata({"/Title": f"审核资料包 Audit pack {subject}", "/Author": repository.company,
                         "/Creator": "qdocs"})
    output = io.BytesIO()
    writer.write(output)
    content = output.getvalue()
    if signer is not None:
        from .signing import sign_pdf

        reason = f"Audit pack {subject}: {len(entries)} records, commit {head[:12]}"
        content = sign_pdf(content, signer, reason, repository.company)
    return content, summary


def _entry(repository: "Repository", record: "Record") -> PackEntry:
    record_type = repository.catalog.types.get(record.type)
    label = f"{record_type.name.zh} {record_type.name.en}" if record_type else record.type
    signers = []
    for signature in record.signatures:
        meaning = repository.catalog.meanings.get(signature["meaning"])
        signers.append(f"{meaning.label.zh if meaning else signature['meaning']} {signature.get('full_name', '')} "
                       f"({signature['signer']}) {signature['time'][:10]}")
    return PackEntry(record.id, label, record.revision, record.status, record.docx_sha256, signers,
                     read_attachments(repository.root / record.path))


def _number_pages(entries: list[PackEntry], before: int, record_pages: list[int], attached: list[list[Any]]) -> None:
    """Page numbers (1-based) of each record and attachment, given ``before`` pages in front."""
    page = before + 1
    for entry, count, readers in zip(entries, record_pages, attached):
        entry.page = page
        page += count
        entry.attachment_pages = []
        for reader in readers:
            entry.attachment_pages.append(page)
            page += len(reader.pages)
