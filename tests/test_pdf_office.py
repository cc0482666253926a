"""The LibreOffice runner's guards, shown with stand-in programs (no LibreOffice run):
a missing LibreOffice, one that exits 0 without writing the PDF, one that hangs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import repository_state, write_example


@pytest.fixture
def draft(run, catalog, tmp_path: Path) -> str:
    result = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path)),
                 "--lot", "L1")
    assert result.exit_code == 0, result.output
    return result.output.strip()


def fake_office(tmp_path: Path, body: str) -> Path:
    program = tmp_path / "fake-soffice"
    program.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    program.chmod(0o755)
    return program


def test_missing_libreoffice_names_the_install_command(run, draft, repo_path, tmp_path, monkeypatch):
    monkeypatch.setenv("QDOCS_SOFFICE", str(tmp_path / "no-such-soffice"))
    monkeypatch.chdir(tmp_path)
    before = repository_state(repo_path)
    result = run("export", draft, "--pdf")
    assert result.exit_code == 3  # the environment failed, not the input
    assert result.output.startswith("qdocs: error: LibreOffice is needed")
    assert "apt-get install -y libreoffice-writer-nogui fonts-noto-cjk" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.pdf"))
    assert repository_state(repo_path) == before


def test_exit_status_zero_without_a_pdf_is_an_error(run, draft, tmp_path, monkeypatch):
    monkeypatch.setenv("QDOCS_SOFFICE", str(fake_office(tmp_path, 'echo "Error: source file could not be loaded"; exit 0')))
    monkeypatch.chdir(tmp_path)
    result = run("export", draft, "--pdf")
    assert result.exit_code == 3  # the environment failed, not the input
    assert f"LibreOffice did not convert {draft}.docx to PDF" in result.output
    assert "source file could not be loaded" in result.output
    assert not list(tmp_path.glob("*.pdf"))


def test_a_hung_conversion_is_killed_after_the_time_limit(run, draft, tmp_path, monkeypatch):
    marker = tmp_path / "office.pid"
    monkeypatch.setenv("QDOCS_SOFFICE", str(fake_office(tmp_path, f'echo $$ > {marker}; sleep 300 & wait')))
    monkeypatch.setenv("QDOCS_OFFICE_TIME_LIMIT", "1.5")
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    result = run("export", draft, "--pdf")
    assert time.monotonic() - started < 10
    assert result.exit_code == 3  # the environment failed, not the input
    assert "took longer than 2 s and was stopped" in result.output
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not list(tmp_path.glob("*.pdf"))


def test_each_run_has_its_own_profile_folder_removed_afterwards(tmp_path, monkeypatch):
    from qdocs.pdf.office import Office

    seen = tmp_path / "arguments"
    monkeypatch.setenv("QDOCS_SOFFICE", str(fake_office(tmp_path, f'echo "$@" >> {seen}; exit 0')))
    first, second = Office(), Office()
    try:
        assert first.profile != second.profile
        with pytest.raises(Exception, match="did not convert"):
            first.convert({"a.docx": b"x"})
        assert f"-env:UserInstallation={first.profile.as_uri()}" in seen.read_text()
    finally:
        first.close()
        second.close()
    assert not first.folder.exists() and not second.folder.exists()
