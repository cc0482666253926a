"""The pack's own page numbers, ``第 x 页 共 y 页 page x of y``, on every page of the pack.

A record keeps its own "Page 1 of 2" in its footer and its controlled-copy stamps on
the top and bottom edges; the pack's number goes in the bottom-right corner, 8 mm from
the bottom edge: above the bottom stamp (4 mm) and below the record's footer, inside the
10 mm band records keep free, so it covers neither.  An auditor can then cite "page 37
of the pack" for any page, attachments from outside included.

The numbers are a sheet of one line per page (see :mod:`.sheets`), rendered by
LibreOffice in the same run as the contents, so the Chinese words get the same fonts;
each line is drawn onto its page as a Form XObject, as the stamps are.  A page shown
turned (``/Rotate``, as scanned attachments often are) gets its number where a reader
sees the bottom-right corner.
"""

from __future__ import annotations

from typing import Any

from .sheets import paragraph
from .stamps import MILLIMETRE, draw_forms, lowest_baseline, page_form, stamp_sheet

NUMBER_BASELINE_MM = 8.0


def page_label(number: int, total: int) -> str:
    return f"第 {number} 页 共 {total} 页 page {number} of {total}"


def number_sheet(total: int) -> bytes:
    """One page per pack page, each with its number as one right-aligned line."""
    sheet = stamp_sheet()
    for number in range(1, total + 1):
        sheet.add_page(paragraph(page_label(number, total), "PageNumber"))
    return sheet.to_bytes()


def number_pages(writer: Any, sheet_pages: list[Any]) -> None:
    """Draw page ``n`` of the rendered number sheet onto page ``n`` of ``writer``.

    Each page gets its own XObject name: pages of one document often share one
    resources dictionary, so one name for every page would show one number on all.
    The baseline is read on every sheet page (the first page's line sits higher than
    the others', which follow a page-break paragraph)."""
    if len(sheet_pages) != len(writer.pages):
        raise ValueError(f"{len(sheet_pages)} page numbers for {len(writer.pages)} pages")
    for index, (page, line) in enumerate(zip(writer.pages, sheet_pages), start=1):
        name = f"/QdocsPackPage{index}"
        placement = _placement(page, line, lowest_baseline(line))
        draw_forms(writer, page, {name: page_form(writer, line)}, {name: placement})


def _placement(page: Any, line: Any, baseline: float) -> Any:
    """Where the number line goes: first on the page as a reader sees it (bottom right),
    then turned and moved into the page's own coordinates."""
    from pypdf import Transformation

    box = page.cropbox
    left, lower = float(box.left), float(box.bottom)
    width, height = float(box.width), float(box.height)
    rotation = page.rotation % 360
    shown_width, shown_height = (height, width) if rotation in (90, 270) else (width, height)
    turn = Transformation().rotate(rotation)
    corners = [turn.apply_on((x, y)) for x, y in ((0, 0), (shown_width, 0), (0, shown_height),
                                                 (shown_width, shown_height))]
    shift_x = left - min(x for x, _ in corners)
    shift_y = lower - min(y for _, y in corners)
    return (Transformation()
            .translate(shown_width - float(line.mediabox.width), NUMBER_BASELINE_MM * MILLIMETRE - baseline)
            .rotate(rotation).translate(shift_x, shift_y))
