"""The pack's own page numbers, ``第 x 页 共 y 页 page x of y``, on every page of the pack.

Where: in the right margin, reading upwards from 12 mm above the bottom edge, 5 mm from
the right edge.  A record keeps its own "Page 1 of 2" in its footer and its
controlled-copy stamps fill the 10 mm bands at the top and bottom edges (the templates'
header and footer sit 10 mm from the edges, their text 20 mm from the sides); a number
squeezed between the footer and the bottom stamp would touch one or the other, while
the side margin is empty on every record and on the pack's own pages.  An auditor can
then cite "page 37 of the pack" for any page, attachments from outside included.

The numbers are a sheet of one line per page (see :mod:`.sheets`), rendered by
LibreOffice in the same run as the contents, so the Chinese words get the same fonts;
each line is drawn onto its page as a Form XObject, as the stamps are.  A page shown
turned (``/Rotate``, as scanned attachments often are) gets its number where a reader
sees the right margin.
"""

from __future__ import annotations

from typing import Any

from .sheets import paragraph
from .stamps import MILLIMETRE, draw_forms, lowest_baseline, page_form, stamp_sheet

FROM_BOTTOM_MM = 12.0  # where the line starts, above the bottom edge
BASELINE_FROM_RIGHT_MM = 5.0  # the glyphs stand to the left of their baseline, about 2.3 mm
SHEET_MARGIN_MM = 10.0  # where the line starts on the number sheet (its left margin)


def page_label(number: int, total: int) -> str:
    return f"第 {number} 页 共 {total} 页 page {number} of {total}"


def number_sheet(total: int) -> bytes:
    """One page per pack page, each with its number as one line."""
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
        placement = _placement(page, lowest_baseline(line))
        draw_forms(writer, page, {name: page_form(writer, line)}, {name: placement})


def _placement(page: Any, baseline: float) -> Any:
    """The line's start to the origin, turned to read upwards, moved to the right margin of
    the page as a reader sees it, then turned and moved into the page's own coordinates."""
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
    return (Transformation().translate(-SHEET_MARGIN_MM * MILLIMETRE, -baseline).rotate(90)
            .translate(shown_width - BASELINE_FROM_RIGHT_MM * MILLIMETRE, FROM_BOTTOM_MM * MILLIMETRE)
            .rotate(rotation).translate(shift_x, shift_y))
