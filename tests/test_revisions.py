"""revise, void, history, show --rev and open: nothing is ever lost or rewritten."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import docx_text as document_text
from qdocs.queries import get_record
from qdocs.records import next_revision
from qdocs.repository import Repository
from tests.conftest import git, repository_state, write_example


def _create(run, catalog, tmp_path: Path) -> str:
    data = write_example(catalog, "final-inspection", tmp_path)
    return run("new", "final-inspection", "--data", str(data)).output.strip()


def test_revision_letters():
    assert [next_revision(r) for r in ("A", "B", "Z", "AA", "AZ", "ZZ")] == ["B", "C", "AA", "AB", "BA", "AAA"]


def test_revise_keeps_every_revision_retrievable(run, catalog, repo_path: Path, tmp_path: Path):
    record_id = _create(run, catalog, tmp_path)
    changed = write_example(catalog, "final-inspection", tmp_path, specification="Q 60 m³/h revised")
    result = run("revise", record_id, "--data", str(changed), "--reason", "spec corrected 规格更正")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{record_id} revision B"
    run("revise", record_id, "--set", "conclusion=fail", "--reason", "re-test failed")

    current = json.loads(run("show", record_id, "--json").output)
    assert current["revision"] == "C" and current["data"]["conclusion"] == "fail"
    assert [entry["revision"] for entry in current["revisions"]] == ["A", "B", "C"]
    rev_a = json.loads(run("show", record_id, "--rev", "A", "--json").output)
    assert rev_a["revision"] == "A" and rev_a["data"]["specification"] != "Q 60 m³/h revised"
    rev_b = json.loads(run("show", record_id, "--rev", "B", "--json").output)
    assert rev_b["data"]["specification"] == "Q 60 m³/h revised" and rev_b["data"]["conclusion"] == "pass"

    out = tmp_path / "a.docx"
    assert run("open", record_id, "--rev", "A", "-o", str(out)).exit_code == 0
    text_a = document_text(out.read_bytes())
    assert "Q 60 m³/h revised" not in text_a and record_id in text_a
    run("open", record_id, "-o", str(tmp_path / "c.docx"))
    assert "不合格 fail" in document_text((tmp_path / "c.docx").read_bytes())

    history = json.loads(run("history", record_id, "--json").output)
    assert [entry["action"] for entry in history] == ["revise", "revise", "create"]
    assert history[0]["reason"] == "re-test failed"
    assert git(repo_path, "status", "--porcelain") == ""


def test_revise_refuses_identical_data_and_a_changed_subject(run, catalog, repo_path: Path, tmp_path: Path):
    record_id = _create(run, catalog, tmp_path)
    same = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    result = run("revise", record_id, "--data", str(same), "--reason", "none")
    assert result.exit_code == 2 and "nothing to revise" in result.output
    moved = write_example(catalog, "final-inspection", tmp_path, lot="L-OTHER", conclusion="fail")
    result = run("revise", record_id, "--data", str(moved), "--reason", "move")
    assert result.exit_code == 2 and "cannot change in a revision" in result.output
    result = run("revise", record_id, "--set", "conclusion=maybe", "--reason", "bad")
    assert result.exit_code == 2 and "'maybe' is not one of" in result.output
    assert repository_state(repo_path) == before


def test_void_keeps_the_record_and_marks_the_document(run, catalog, repo_path: Path, tmp_path: Path):
    record_id = _create(run, catalog, tmp_path)
    result = run("void", record_id, "--reason", "entered against the wrong lot")
    assert result.exit_code == 0
    record = get_record(Repository.open(repo_path), record_id)
    assert record.status == "void" and record.void["reason"] == "entered against the wrong lot"
    assert "作废 VOID" in document_text((repo_path / record.path / "record.docx").read_bytes())
    before = repository_state(repo_path)
    assert run("void", record_id, "--reason", "again").exit_code == 2
    assert run("revise", record_id, "--set", "conclusion=fail", "--reason", "x").exit_code == 2
    assert repository_state(repo_path) == before
    assert json.loads(run("show", record_id, "--rev", "A", "--json").output)["status"] == "void"
    assert [e["action"] for e in json.loads(run("history", record_id, "--json").output)] == ["void", "create"]


def test_void_and_revise_need_a_reason(run, catalog, repo_path: Path, tmp_path: Path):
    record_id = _create(run, catalog, tmp_path)
    before = repository_state(repo_path)
    assert run("void", record_id, "--reason", "  ").exit_code == 2
    assert run("void", record_id).exit_code == 2
    assert repository_state(repo_path) == before


def test_unknown_record_and_revision(run, catalog, repo_path: Path, tmp_path: Path):
    record_id = _create(run, catalog, tmp_path)
    result = run("show", "FIR-S1-2026-9999")
    assert result.exit_code == 2 and "no record FIR-S1-2026-9999" in result.output
    result = run("show", record_id, "--rev", "Q")
    assert result.exit_code == 2 and "has no revision 'Q'" in result.output
    result = run("show", "not-an-id")
    assert result.exit_code == 2 and "is not a record id" in result.output


def test_list_filters(run, catalog, repo_path: Path, tmp_path: Path):
    _create(run, catalog, tmp_path)
    data = write_example(catalog, "final-inspection", tmp_path)
    run("new", "final-inspection", "--data", str(data), "--lot", "L2")
    survey = write_example(catalog, "market-survey", tmp_path)
    run("new", "market-survey", "--data", str(survey))
    everything = json.loads(run("list", "--json").output)
    assert len(everything) == 3
    lot = json.loads(run("list", "--product", "PUMP-X200", "--lot", "L2", "--json").output)
    assert [record["subject"]["lot"] for record in lot] == ["L2"]
    assert len(json.loads(run("list", "--type", "market-survey", "--json").output)) == 1
    assert len(json.loads(run("list", "--product", "PUMP-X200", "--json").output)) == 3
    assert run("list", "--lot", "../x").exit_code == 2
