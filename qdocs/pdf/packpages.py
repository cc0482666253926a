"""The pages of the audit pack that qdocs writes itself: cover, audit result, contents
and manifest, as :mod:`.sheets` documents rendered by LibreOffice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..rendering import STATUS_LABELS
from .auditsection import AuditResult
from .sheets import Sheet, paragraph, table

CONTENT_WIDTH = [9, 34, 76, 12, 25, 18]
MANIFEST_WIDTH = [27, 8, 17, 82, 40]


@dataclass
class PackEntry:
    """One record of the pack, with its attachments, as the front and back pages show it."""

    id: str
    type_label: str
    revision: str
    status: str
    sha256: str
    signers: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    page: int = 0
    attachment_pages: list[int] = field(default_factory=list)


def cover(company: str, subject: str, printed: str, printed_by: str, head: str, entries: list[PackEntry],
          audit: AuditResult) -> bytes:
    attachments = sum(len(entry.attachments) for entry in entries)
    verdict = "无发现 no findings" if audit.clean else f"{len(audit.findings)} 项发现 finding(s)"
    sheet = Sheet()
    sheet.add_page(
        paragraph(company, "Heading"), paragraph(""), paragraph("审核资料包\nAudit pack", "Title"),
        paragraph(subject, "Title"), paragraph(""),
        table([["项目 Item", "内容 Value"],
               ["产品 / 批号 Product / lot", subject],
               ["记录 Records", str(len(entries))], ["附件 Attachments", str(attachments)],
               ["审核结果 Audit result", verdict],
               ["打印 Printed", f"{printed} by {printed_by}"], ["记录库版本 Repository commit", head]],
              [60, 114]),
        paragraph(""),
        paragraph("本资料包每份记录均为当前版本的受控副本；原始 Word 文件作为附件嵌入本 PDF，清单页列出每份文件的 sha256。\n"
                  "Every record in this pack is a controlled copy of its current revision; the original Word files are "
                  "embedded in this PDF, and the manifest lists the sha256 of each file.", "Small"),
    )
    audit_rows = [["对象 Subject", "发现 Finding"], *([subject_, message] for subject_, message in audit.findings)]
    sheet.add_page(
        paragraph("审核结果 Audit result", "Heading"), paragraph(f"{subject}: {verdict}", "Body"),
        *(paragraph(line, "Small") for line in [f"依据 Source: {audit.source}", *audit.checked]),
        table(audit_rows, [45, 129]) if audit.findings else paragraph("未发现问题。No findings.", "Body"),
    )
    return sheet.to_bytes()


def contents(entries: list[PackEntry]) -> bytes:
    rows = [["#", "文件编号 Document", "类型 Type", "版本 Rev.", "状态 Status", "页 Page"]]
    for number, entry in enumerate(entries, start=1):
        rows.append([str(number), entry.id, entry.type_label, entry.revision,
                     STATUS_LABELS.get(entry.status, entry.status), str(entry.page)])
        for attachment, page in zip(entry.attachments, entry.attachment_pages):
            rows.append(["", f"  附件 {attachment['number']}", f"附件 Attachment: {attachment['title']}", "", "", str(page)])
    sheet = Sheet()
    sheet.add_page(paragraph("目录 Contents", "Heading"), table(rows, CONTENT_WIDTH))
    return sheet.to_bytes()


def manifest(entries: list[PackEntry], subject: str) -> bytes:
    rows = [["文件编号 Document", "版本 Rev.", "状态 Status", "sha256 (record.docx / 附件 attachment)", "签名 Signers"]]
    for entry in entries:
        rows.append([entry.id, entry.revision, STATUS_LABELS.get(entry.status, entry.status), entry.sha256,
                     "\n".join(entry.signers) or "—"])
        for attachment in entry.attachments:
            rows.append([f"  附件 {attachment['number']}", "", "", attachment["sha256"], attachment["title"]])
    sheet = Sheet()
    sheet.add_page(paragraph(f"清单 Manifest — {subject}", "Heading"),
                   paragraph("sha256 of each record's Word document as stored in the records repository (embedded in "
                             "this PDF as an attachment) and of each attached PDF.", "Small"),
                   table(rows, MANIFEST_WIDTH, mono_columns=(3,)))
    return sheet.to_bytes()
