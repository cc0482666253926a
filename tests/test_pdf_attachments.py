"""``qdocs attach``: external PDFs stored with a record, hostile ones refused quickly,
and ``qdocs verify`` covering them.  No LibreOffice here: the PDFs are made by hand."""

from __future__ import annotations

import functools
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from qdocs import yamlio
from tests.conftest import git, repository_state, write_example
from tests.pdfs import build_pdf, page_objects


def text_pdf(text: str = "Calibration certificate CAL-2026-118") -> bytes:
    return build_pdf(page_objects(text))


@functools.lru_cache(maxsize=1)
def hostile_pdfs() -> dict[str, tuple[bytes, str]]:
    """name: (file content, words the refusal must contain)."""
    from pypdf import PdfReader, PdfWriter
    import io

    encrypted = io.BytesIO()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt("secret", algorithm="AES-128")
    writer.write(encrypted)
    outline = page_objects(catalog=b"/Outlines 6 0 R") + [
        b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
        b"<< /Title (loop) /Parent 6 0 R /Next 7 0 R /Dest [3 0 R /Fit] >>"]
    bomb = zlib.compress(b"0" * (120 * 1024 * 1024), 6)
    return {
        "truncated": (text_pdf()[:300], "truncated"),
        "encrypted": (encrypted.getvalue(), "encrypted"),
        "page-tree-loop": (build_pdf(page_objects(kids=b"[2 0 R 3 0 R]")), "loop"),
        "parent-loop": (build_pdf(page_objects(parent=b"3 0 R")), "loop"),
        "outline-loop": (build_pdf(outline), "loop"),
        "javascript": (build_pdf(page_objects(catalog=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")),
                       "active content"),
        "decompression-bomb": (build_pdf(page_objects(stream=bomb, stream_filter=b"/Filter /FlateDecode")),
                               "decompression bomb"),
        "not-a-pdf": (b"PK\x03\x04 this is a zip file, not a PDF", "not a PDF"),
    }


@pytest.fixture
def record_id(run, catalog, tmp_path: Path) -> str:
    result = run("new", "incoming-inspection", "--data", str(write_example(catalog, "incoming-inspection", tmp_path)))
    assert result.exit_code == 0, result.output
    return result.output.strip()


def test_attach_stores_commits_and_verify_covers_it(run, record_id, repo_path, tmp_path):
    source = tmp_path / "校准证书 calibration (final).pdf"
    source.write_bytes(text_pdf())
    result = run("attach", record_id, str(source), "--title", "校准证书 Calibration certificate", "--json")
    assert result.exit_code == 0, result.output
    entry = yamlio.load(result.output)
    folder = repo_path / entry["path"].rsplit("/attachments/", 1)[0]
    stored = repo_path / entry["path"]
    assert stored.name == "01-校准证书-calibration-final.pdf"
    assert stored.read_bytes() == source.read_bytes()
    listing = yamlio.load((folder / "attachments.yaml").read_text(encoding="utf-8"))
    assert listing[0]["sha256"] == entry["sha256"] and listing[0]["title"] == "校准证书 Calibration certificate"
    assert listing[0]["pages"] == 1 and listing[0]["added"]["actor"] == "tester"
    assert git(repo_path, "status", "--porcelain") == ""
    message = git(repo_path, "log", "-1", "--format=%B")
    assert "Action: attach" in message and f"Record: {record_id}" in message
    assert "attach" in run("history", record_id).output
    assert run("verify").exit_code == 0

    stored.write_bytes(text_pdf("Calibration certificate CAL-2026-119"))
    (folder / "attachments" / "02-extra.pdf").write_bytes(text_pdf())
    result = run("verify")
    assert result.exit_code == 1
    assert "does not match its recorded sha256" in result.output
    assert "attachments/02-extra.pdf is not listed" in result.output
    stored.unlink()
    assert "is missing" in run("verify").output


def test_attached_text_is_searchable_when_an_index_exists(run, record_id, tmp_path):
    assert run("index", "rebuild").exit_code == 0
    source = tmp_path / "torque.pdf"
    source.write_bytes(text_pdf("Torque wrench TW-118 calibration passed"))
    assert run("attach", record_id, str(source), "--title", "Torque wrench").exit_code == 0
    result = run("search", "TW-118")
    assert result.exit_code == 0, result.output
    assert record_id in result.output


@pytest.mark.parametrize("name", list(hostile_pdfs()))
def test_hostile_pdfs_are_refused_quickly_and_nothing_is_stored(run, record_id, repo_path, tmp_path, name):
    content, words = hostile_pdfs()[name]
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(content)
    before = repository_state(repo_path)
    started = time.monotonic()
    result = run("attach", record_id, str(source), "--title", "From a supplier")
    assert time.monotonic() - started < 15
    assert result.exit_code == 2
    assert result.output.startswith(f"qdocs: error: {name}.pdf: ")
    assert words in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert repository_state(repo_path) == before


def test_a_parser_that_runs_too_long_is_stopped(tmp_path, monkeypatch):
    """The wall-clock limit of the child: a limit shorter than any read takes."""
    from qdocs.pdf import UnsafePdfError
    from qdocs.pdf.sandbox import run_in_child

    source = tmp_path / "slow.pdf"
    source.write_bytes(text_pdf())
    monkeypatch.setenv("QDOCS_PDF_TIME_LIMIT", "0.05")
    started = time.monotonic()
    with pytest.raises(UnsafePdfError, match="took longer than 0.05 s"):
        run_in_child("inspect", source, "slow.pdf")
    assert time.monotonic() - started < 5


def test_attach_refusals(run, record_id, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(text_pdf())
    assert "--title" in run("attach", record_id, str(source), "--title", "  ").output
    assert run("attach", record_id, str(tmp_path / "missing.pdf"), "--title", "x").exit_code == 2
    assert run("attach", record_id, str(source), "--title", "Report").exit_code == 0
    again = run("attach", record_id, str(source), "--title", "Report again")
    assert again.exit_code == 2 and "already attached" in again.output
    assert run("void", record_id, "--reason", "wrong material lot").exit_code == 0
    void = run("attach", record_id, str(tmp_path / "report.pdf"), "--title", "Late")
    assert void.exit_code == 2 and "is void" in void.output


def test_the_child_sets_its_own_limits():
    """The limits are set inside the child with resource.setrlimit before it reads the file."""
    import sys

    code = ("import resource, json; from qdocs.pdf.inspection import set_limits; set_limits(3, 256); "
            "print(json.dumps([resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0], "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0]]))")
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent.parent)
    assert yamlio.load(finished.stdout) == [256 * 1024 * 1024, 4, 0]
