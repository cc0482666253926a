"""What the user typed comes out in the document exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document

from tests.conftest import docx_text as document_text
from qdocs.actions import create_record
from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.conftest import example_values

SPECIAL = [
    "A&B <泵> \"quoted\" 'single' > end",
    "</w:t><w:p>injected</w:p>",
    "{{ doc.id }} {% if x %}",
    "泄漏 leakage 😀 🚀 ✔",
    "  leading and trailing spaces  ",
    "tab\tseparated",
]


@pytest.mark.parametrize("text", SPECIAL)
def test_special_characters_survive(text, catalog, repo_path: Path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "nonconformance")
    values["description"] = text
    record = create_record(repository, "nonconformance", values, "tester")
    document = (repo_path / record.path / "record.docx").read_bytes()
    assert text in document_text(document)
    assert get_record(repository, record.id).data["description"] == text


def test_newlines_become_line_breaks_and_the_rest_of_the_document_survives(catalog, repo_path: Path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "nonconformance")
    values["description"] = "第一行 line one\n第二行 A&B <x>\n\nafter an empty line"
    record = create_record(repository, "nonconformance", values, "tester")
    document = Document(str(repo_path / record.path / "record.docx"))
    texts = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert values["description"] in texts
    # everything after the field is still there (a broken escape would destroy it)
    full = document_text((repo_path / record.path / "record.docx").read_bytes())
    assert values["corrective_action"].splitlines()[0] in full
    assert "签字" in full or "Signatures" in full


def test_ten_thousand_characters(catalog, repo_path: Path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "nonconformance")
    long_text = ("质量 quality & <control> " * 500)[:10_000]
    values["description"] = long_text
    record = create_record(repository, "nonconformance", values, "tester")
    assert long_text in document_text((repo_path / record.path / "record.docx").read_bytes())


def test_number_and_date_literals_are_kept_as_typed(catalog, repo_path: Path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "incoming-inspection")
    values["quantity"] = "500.50"
    record = create_record(repository, "incoming-inspection", values, "tester")
    assert get_record(repository, record.id).data["quantity"] == "500.50"
    assert "500.50" in document_text((repo_path / record.path / "record.docx").read_bytes())


def test_values_in_table_rows_and_headers(catalog, repo_path: Path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "final-inspection")
    values["items"][0]["result"] = "<≥ 150 MΩ & ok>"
    values["lot"] = "L&1 批"
    record = create_record(repository, "final-inspection", values, "tester")
    text = document_text((repo_path / record.path / "record.docx").read_bytes())
    assert "<≥ 150 MΩ & ok>" in text
    assert "L&1 批" in text
    header = Document(str(repo_path / record.path / "record.docx")).sections[0].header
    header_text = "\n".join(cell.text for table in header.tables for row in table.rows for cell in row.cells)
    header_text += "\n".join(paragraph.text for paragraph in header.paragraphs)
    assert record.id in header_text
