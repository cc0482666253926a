"""What the index reads from a record: the document's text (checked against
python-docx) and the text of attached PDFs."""

from __future__ import annotations

import io
import json
from pathlib import Path

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.table import Table
from docx.text.paragraph import Paragraph

from qdocs.actions import create_record
from qdocs.docxtext import document_lines
from qdocs.repository import Repository
from qdocs.search.documents import pdf_text
from tests.conftest import example_values, git
from tests.pdfs import build_pdf, page_objects


def python_docx_lines(content: bytes) -> list[str]:
    """The reference: the lines python-docx's object model gives."""
    document = Document(io.BytesIO(content))
    lines: list[str] = []
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            if not part.is_linked_to_previous:
                lines.extend(_blocks(part))
    lines.extend(_blocks(document))
    return lines


def _blocks(container):
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text:
                yield block.text
        elif isinstance(block, Table):
            for row in block.rows:
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        yield from _blocks(cell)


def tricky_document() -> bytes:
    """Sections with their own headers, a first-page header, merged and nested cells,
    a hyperlink, tabs and line breaks."""
    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "页眉 Header"
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "首页页眉 First-page header"
    section.footer.paragraphs[0].text = "页脚 Footer"
    paragraph = document.add_paragraph("正文 Body\twith a tab")
    paragraph.add_run().add_break()
    paragraph.add_run("after a break 出厂检验报告")
    document.add_paragraph("")
    table = document.add_table(rows=3, cols=3)
    for row in range(3):
        for column in range(3):
            table.cell(row, column).text = f"格{row}{column} cell"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(1, 2).merge(table.cell(2, 2))
    inner = table.cell(2, 0).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "嵌套 nested", "inner"
    link = document.add_paragraph("see ")
    link._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>链接 link</w:t></w:r></w:hyperlink>'))
    second = document.add_section()
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "第二节页眉 Section two header"
    document.add_paragraph("第二节 Section two")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_document_text_equals_python_docx_on_tricky_documents():
    content = tricky_document()
    lines = document_lines(content)
    assert lines == python_docx_lines(content)
    assert "首页页眉 First-page header" in lines and "嵌套 nested" in lines and "see 链接 link" in lines
    assert "正文 Body\twith a tab\nafter a break 出厂检验报告" in lines


def test_document_text_equals_python_docx_on_record_documents(repo_path: Path, catalog):
    repository = Repository.open(repo_path)
    for type_id in ("final-inspection", "production-plan", "customer-inquiry"):
        record = create_record(repository, type_id, example_values(catalog, type_id), "tester")
        content = (repo_path / record.path / "record.docx").read_bytes()
        assert document_lines(content) == python_docx_lines(content), type_id


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica, with a correct cross-reference table."""
    return build_pdf(page_objects(text))


def test_pdf_text_is_read_and_a_damaged_pdf_gives_none():
    assert "Calibration certificate CAL-2026-118" in pdf_text(minimal_pdf("Calibration certificate CAL-2026-118"))
    assert pdf_text(b"%PDF-1.4 this is not really a pdf") == ""


def test_attached_pdfs_are_searchable(repo_path: Path, run, catalog):
    repository = Repository.open(repo_path)
    record = create_record(repository, "equipment-maintenance", example_values(catalog, "equipment-maintenance"), "tester")
    assert run("search", "torque").exit_code == 1  # builds the index; nothing mentions it yet
    attachments = repo_path / record.path / "attachments"
    attachments.mkdir()
    (attachments / "calibration.pdf").write_bytes(minimal_pdf("Calibration of the torque wrench TW-118 passed"))
    (attachments / "scan.pdf").write_bytes(b"%PDF-1.4 damaged scan")
    (repo_path / record.path / "attachments.yaml").write_text(
        "- {file: attachments/calibration.pdf, title: 第三方校准证书 Calibration certificate}\n", encoding="utf-8")
    git(repo_path, "add", "-A")
    git(repo_path, "-c", "user.name=hand", "-c", "user.email=hand@example.com", "commit", "-qm", "attach by hand")
    result = run("search", "torque wrench", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["results"]
    assert [hit["id"] for hit in hits] == [record.id]
    assert "«torque»" in hits[0]["snippet"] and "«wrench»" in hits[0]["snippet"]
    for query in ("calibration.pdf", "校准证书"):
        assert [hit["id"] for hit in json.loads(run("search", query, "--json").stdout)["results"]] == [record.id]
