"""The text of a Word document: body paragraphs, tables (nested too), headers
and footers, in reading order.  Used to show what a record says and to index it."""

from __future__ import annotations

import io
from typing import Iterator


def document_text(content: bytes) -> str:
    return "\n".join(document_lines(content))


def document_lines(content: bytes) -> list[str]:
    from docx import Document

    document = Document(io.BytesIO(content))
    lines: list[str] = []
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            if part is not None and not part.is_linked_to_previous:
                lines.extend(_block_lines(part))
    lines.extend(_block_lines(document))
    return lines


def _block_lines(container) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text:
                yield block.text
        elif isinstance(block, Table):
            yield from _table_lines(block)


def _table_lines(table) -> Iterator[str]:  # type: ignore[no-untyped-def]
    for row in table.rows:
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # merged cells repeat
                continue
            seen.add(id(cell._tc))
            yield from _block_lines(cell)
