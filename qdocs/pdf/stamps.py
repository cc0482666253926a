"""Controlled-copy stamps, merged onto every page of a record's PDF with pypdf.

What a copy says about itself, on every page:

- an approved, current record: ``受控副本 CONTROLLED COPY — printed DATE`` with the
  document number, revision and status, in blue;
- a draft or a record still being signed: ``草稿 DRAFT — NOT VALID``, in red, with a
  large ``草稿 DRAFT`` across the page;
- a void record: ``作废 VOID``; an earlier revision: ``旧版本 SUPERSEDED — NOT VALID``.

The stamp lines are rendered by LibreOffice in the same run as the records (see
:mod:`.sheets`), one line per page of a stamp sheet; here each line is moved into place:
the top strip and the bottom strip of the page (A4 records keep 10 mm free there), and
the watermark turned along the page's diagonal.  The pack's page numbers
(:mod:`.pagenumbers`) are drawn the same way, with :func:`page_form` and :func:`draw_forms`.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..rendering import STATUS_LABELS
from .sheets import Sheet, paragraph

if TYPE_CHECKING:
    from ..records import Record

MILLIMETRE = 72 / 25.4
TOP_BASELINE_MM = 5.5
BOTTOM_BASELINE_MM = 4.0


@dataclass(frozen=True)
class Stamp:
    top: str
    bottom: str
    valid: bool
    watermark: str | None = None


@dataclass(frozen=True)
class StampPages:
    """Where a stamp's lines are in the rendered stamp sheet."""

    top: int
    bottom: int
    watermark: int | None


def stamp_for(record: "Record", current_revision: str, printed: str, printed_by: str) -> Stamp:
    """The stamp a copy of ``record`` gets; ``current_revision`` is the record's revision now."""
    status = STATUS_LABELS.get(record.status, record.status)
    where = f"{record.id} · 版本 Rev. {record.revision} · 状态 {status}"
    when = f"printed {printed} by {printed_by}"
    if record.revision != current_revision:
        state, mark = f"旧版本 SUPERSEDED — NOT VALID (current: Rev. {current_revision})", "旧版本 SUPERSEDED"
    elif record.status == "void":
        state, mark = "作废 VOID", "作废 VOID"
    elif record.status != "approved":
        state, mark = "草稿 DRAFT — NOT VALID", "草稿 DRAFT"
    else:
        return Stamp(f"受控副本 CONTROLLED COPY — printed {printed} · {where}",
                     f"受控副本 CONTROLLED COPY · {where} · {when}", valid=True)
    return Stamp(f"{state} · {where} · printed {printed}", f"{state} · {where} · {when}", valid=False, watermark=mark)


def add_stamp(sheet: Sheet, stamp: Stamp) -> StampPages:
    style = "Controlled" if stamp.valid else "Invalid"
    top = sheet.add_page(paragraph(stamp.top, style))
    bottom = sheet.add_page(paragraph(stamp.bottom, style))
    watermark = sheet.add_page(paragraph(stamp.watermark, "Watermark")) if stamp.watermark else None
    return StampPages(top, bottom, watermark)


def stamp_sheet() -> Sheet:
    return Sheet(margin_mm=10)


def apply_stamp(document: bytes, sheet_pages: list[Any], pages: StampPages, metadata: dict[str, str] | None = None) -> bytes:
    """``document`` with the stamp on every page; ``sheet_pages`` are the rendered stamp
    sheet's pages (pypdf page objects).  Each stamp line becomes a Form XObject drawn
    after the page's own content (the page's content streams are left as they are)."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    top, bottom = sheet_pages[pages.top], sheet_pages[pages.bottom]
    watermark = sheet_pages[pages.watermark] if pages.watermark is not None else None
    forms = {"/QdocsStampTop": page_form(writer, top), "/QdocsStampBottom": page_form(writer, bottom)}
    if watermark is not None:
        forms["/QdocsStampMark"] = page_form(writer, watermark)
    top_y, bottom_y = lowest_baseline(top), lowest_baseline(bottom)
    mark_y = lowest_baseline(watermark) + 22 if watermark is not None else 0.0
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        left, lower = float(page.mediabox.left), float(page.mediabox.bottom)
        shift_x = left + (width - float(top.mediabox.width)) / 2
        placements = {
            "/QdocsStampTop": Transformation().translate(shift_x, lower + height - TOP_BASELINE_MM * MILLIMETRE - top_y),
            "/QdocsStampBottom": Transformation().translate(shift_x, lower + BOTTOM_BASELINE_MM * MILLIMETRE - bottom_y),
        }
        if watermark is not None:
            centre_x = float(watermark.mediabox.width) / 2
            angle = math.degrees(math.atan2(height, width))
            placements["/QdocsStampMark"] = (Transformation().translate(-centre_x, -mark_y).rotate(angle)
                                             .translate(left + width / 2, lower + height / 2))
        draw_forms(writer, page, forms, placements)
    if metadata:
        writer.add_metadata(metadata)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def page_form(writer: Any, page: Any) -> Any:
    """The stamp sheet page as a Form XObject owned by ``writer``."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject

    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data() if page.get_contents() is not None else b"")
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(FloatObject(float(value)) for value in page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].get_object().clone(writer)
    return writer._add_object(form.flate_encode())


def draw_forms(writer: Any, page: Any, forms: dict[str, Any], placements: dict[str, Any]) -> None:
    """Wrap the page's content in q/Q and draw each form after it."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    resources = page.get("/Resources")
    if resources is None:
        resources = DictionaryObject()
        page[NameObject("/Resources")] = resources
    resources = resources.get_object()
    if "/XObject" not in resources:
        resources[NameObject("/XObject")] = DictionaryObject()
    xobjects = resources["/XObject"].get_object()
    drawing = []
    for name, reference in forms.items():
        xobjects[NameObject(name)] = reference
        matrix = " ".join(f"{value:.4f}" for value in placements[name].ctm)
        drawing.append(f"q {matrix} cm {name} Do Q")
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(("\nQ\n" + "\n".join(drawing) + "\n").encode("ascii"))
    contents = page.get("/Contents")
    existing = [] if contents is None else (list(contents.get_object()) if isinstance(contents.get_object(), list)
                                            else [contents])
    page[NameObject("/Contents")] = ArrayObject([writer._add_object(before), *existing, writer._add_object(after)])


def lowest_baseline(page: Any) -> float:
    """The lowest text baseline on a stamp sheet page, in points from its bottom."""
    found: list[float] = []

    def visit(text: str, matrix: list[float], text_matrix: list[float], *_: Any) -> None:
        if text.strip():
            found.append(text_matrix[4] * matrix[1] + text_matrix[5] * matrix[3] + matrix[5])

    page.extract_text(visitor_text=visit)
    return min(found) if found else float(page.mediabox.height) - 15 * MILLIMETRE
