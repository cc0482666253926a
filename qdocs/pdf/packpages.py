"""The pages of the audit pack that qdocs writes itself: cover, audit result, contents
and manifest, as :mod:`.sheets` documents rendered by LibreOffice.

The contents and the manifest list the lot's own records first, then, under their own
heading, the evidence outside the lot (see :mod:`.evidence`) with what each record is
about and the rules that used it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..rendering import STATUS_LABELS
from .auditsection import audit_blocks, cover_verdict
from .sheets import Sheet, paragraph, table

if TYPE_CHECKING:
    from ..audit.evaluation import AuditReport

CONTENT_WIDTH = [9, 34, 76, 12, 25, 18]
MANIFEST_WIDTH = [27, 8, 17, 82, 40]
OUTSIDE_HEADING = "本批之外的证据 Evidence outside the lot"
OUTSIDE_NOTE = ("放行规则为本批使用、保存在物料批次、供应商、合同或设备名下的记录。\n"
                "Records the release rules used for the lot(s) of this pack, kept under their material lot, supplier, "
                "contract or machine.")


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
    #: evidence outside the lot: what the record is about (``material-lot ML-88``) and the rules that used it
    outside: bool = False
    subject: str = ""
    used_by: list[str] = field(default_factory=list)

    @property
    def used_by_text(self) -> str:
        return f"{self.subject} · 依据 used by {', '.join(self.used_by)}"


def cover(company: str, subject: str, printed: str, printed_by: str, head: str, entries: list[PackEntry],
          report: "AuditReport") -> bytes:
    """The cover (with the verdict) and the audit result pages."""
    attachments = sum(len(entry.attachments) for entry in entries)
    outside = sum(1 for entry in entries if entry.outside)
    sheet = Sheet()
    sheet.add_page(
        paragraph(company, "Heading"), paragraph(""), paragraph("审核资料包\nAudit pack", "Title"),
        paragraph(subject, "Title"), paragraph(""),
        table([["项目 Item", "内容 Value"],
               ["产品 / 批号 Product / lot", subject],
               ["记录 Records", str(len(entries) - outside)], [OUTSIDE_HEADING, str(outside)],
               ["附件 Attachments", str(attachments)],
               ["审核结果 Audit result", cover_verdict(report)],
               ["打印 Printed", f"{printed} by {printed_by}"], ["记录库版本 Repository commit", head]],
              [60, 114]),
        paragraph(""),
        paragraph("本资料包每份记录均为当前版本的受控副本；原始 Word 文件作为附件嵌入本 PDF，清单页列出每份文件的 sha256。"
                  "审核结果为 qdocs audit 按放行规则及售后规则所作的判定。\n"
                  "Every record in this pack is a controlled copy of its current revision; the original Word files are "
                  "embedded in this PDF, and the manifest lists the sha256 of each file. The audit result is the "
                  "verdict of qdocs audit under the release and after-sales rules.", "Small"),
    )
    sheet.add_page(*audit_blocks(report))
    return sheet.to_bytes()


def contents(entries: list[PackEntry]) -> bytes:
    blocks = [paragraph("目录 Contents", "Heading")]
    number = 0
    for outside, group in _groups(entries):
        rows = [["#", "文件编号 Document", "类型 Type", "版本 Rev.", "状态 Status", "页 Page"]]
        for entry in group:
            number += 1
            label = f"{entry.type_label}\n{entry.used_by_text}" if outside else entry.type_label
            rows.append([str(number), entry.id, label, entry.revision, STATUS_LABELS.get(entry.status, entry.status),
                         str(entry.page)])
            for attachment, page in zip(entry.attachments, entry.attachment_pages):
                rows.append(["", f"  附件 {attachment['number']}", f"附件 Attachment: {attachment['title']}", "", "",
                             str(page)])
        if outside:
            blocks += [paragraph(""), paragraph(OUTSIDE_HEADING, "Heading"), paragraph(OUTSIDE_NOTE, "Small")]
        blocks.append(table(rows, CONTENT_WIDTH))
    sheet = Sheet()
    sheet.add_page(*blocks)
    return sheet.to_bytes()


def manifest(entries: list[PackEntry], subject: str) -> bytes:
    blocks = [paragraph(f"清单 Manifest — {subject}", "Heading"),
              paragraph("sha256 of each record's Word document as stored in the records repository (embedded in "
                        "this PDF as an attachment) and of each attached PDF.", "Small")]
    for outside, group in _groups(entries):
        rows = [["文件编号 Document", "版本 Rev.", "状态 Status", "sha256 (record.docx / 附件 attachment)", "签名 Signers"]]
        for entry in group:
            document = f"{entry.id}\n{entry.used_by_text}" if outside else entry.id
            rows.append([document, entry.revision, STATUS_LABELS.get(entry.status, entry.status), entry.sha256,
                         "\n".join(entry.signers) or "—"])
            for attachment in entry.attachments:
                rows.append([f"  附件 {attachment['number']}", "", "", attachment["sha256"], attachment["title"]])
        if outside:
            blocks += [paragraph(""), paragraph(OUTSIDE_HEADING, "Heading"), paragraph(OUTSIDE_NOTE, "Small")]
        blocks.append(table(rows, MANIFEST_WIDTH, mono_columns=(3,)))
    sheet = Sheet()
    sheet.add_page(*blocks)
    return sheet.to_bytes()


def _groups(entries: list[PackEntry]) -> list[tuple[bool, list[PackEntry]]]:
    """The lot's own records, then the evidence outside the lot (when there is any)."""
    own = [entry for entry in entries if not entry.outside]
    outside = [entry for entry in entries if entry.outside]
    return [(False, own)] + ([(True, outside)] if outside else [])
