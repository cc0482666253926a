"""qdocs templates check: the shipped templates are clean, and edits that break them are caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from docx import Document

import cli
from qdocs.templatecheck import check_templates


def _edited_copy(catalog, tmp_path: Path, old: str, new: str) -> Path:
    """Copy final-inspection.docx and replace text in the first run containing ``old``."""
    target = tmp_path / "final-inspection.docx"
    shutil.copy(catalog.template_dir / "final-inspection.docx", target)
    document = Document(str(target))
    runs = [run for table in document.tables for row in table.rows for cell in row.cells
            for paragraph in cell.paragraphs for run in paragraph.runs]
    runs += [run for paragraph in document.paragraphs for run in paragraph.runs]
    for run in runs:
        if old in run.text:
            run.text = run.text.replace(old, new)
            break
    else:
        raise AssertionError(f"{old!r} not found in the template")
    document.save(str(target))
    return target


def test_shipped_templates_are_clean(catalog):
    assert check_templates(catalog) == []
    result = CliRunner().invoke(cli.cli, ["templates", "check"])
    assert result.exit_code == 0


def test_missing_variable_is_named(catalog, tmp_path: Path):
    edited = _edited_copy(catalog, tmp_path, "{{ conclusion }}", "(removed)")
    result = CliRunner().invoke(cli.cli, ["templates", "check", str(edited)])
    assert result.exit_code == 1
    assert "missing variable 'conclusion'" in result.output


def test_unknown_variable_is_named(catalog, tmp_path: Path):
    edited = _edited_copy(catalog, tmp_path, "{{ conclusion }}", "{{ conclusion }} {{ colour }} {{ doc.revison }}")
    findings = [str(finding) for finding in check_templates(catalog, [edited])]
    assert any("unknown variable 'colour'" in finding for finding in findings)
    assert any("unknown variable 'doc.revison'" in finding for finding in findings)


def test_missing_and_unknown_table_columns(catalog, tmp_path: Path):
    edited = _edited_copy(catalog, tmp_path, "{{ row.verdict }}", "{{ row.verdikt }}")
    result = CliRunner().invoke(cli.cli, ["templates", "check", str(edited), "--json"])
    assert result.exit_code == 1
    messages = [finding["message"] for finding in json.loads(result.output)]
    assert "missing column 'items.verdict' in the row loop of 'items'" in messages
    assert "unknown column 'items.verdikt' (not a column of items)" in messages


def test_broken_jinja_and_broken_file(catalog, tmp_path: Path):
    edited = _edited_copy(catalog, tmp_path, "{{ conclusion }}", "{{ conclusion }} {% endif %}")
    assert any("Jinja tag error" in str(finding) for finding in check_templates(catalog, [edited]))
    garbage = tmp_path / "market-survey.docx"
    garbage.write_bytes(b"not a zip")
    assert any("not a readable Word document" in str(finding) for finding in check_templates(catalog, [garbage]))
    stranger = tmp_path / "holiday-plan.docx"
    shutil.copy(catalog.template_dir / "market-survey.docx", stranger)
    assert any("no record type uses a template" in str(finding) for finding in check_templates(catalog, [stranger]))
