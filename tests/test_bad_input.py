"""Bad input: one clear line naming the field and the type, exit 2, nothing written, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import example_values, qdocs_process, repository_state, write_example
from qdocs import yamlio
from qdocs.actions import create_record


def _assert_refused(result, repo_path: Path, before, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = [text for text in result.output.splitlines() if text.startswith("qdocs: error:")]
    assert len(line) == 1, result.output
    for text in expected:
        assert text in line[0], line[0]
    assert repository_state(repo_path) == before


@pytest.mark.parametrize("changes, expected", [
    ({"conclusion": ""}, ["missing mandatory field 'conclusion'", "final-inspection"]),
    ({"inspection_date": "2026-02-30"}, ["inspection_date", "is not a date"]),
    ({"inspection_date": "next week"}, ["inspection_date", "is not a date"]),
    ({"quantity": "twelve"}, ["quantity", "is not a number"]),
    ({"quantity": "1.5"}, ["quantity", "whole number"]),
    ({"quantity": "-3"}, ["quantity", "below the minimum"]),
    ({"conclusion": "maybe"}, ["conclusion", "'maybe' is not one of pass, fail"]),
    ({"colour": "blue"}, ["unknown field 'colour'"]),
    ({"items": "not a list"}, ["items", "list of rows"]),
    ({"items": [{"item": "x", "requirement": "y", "result": "z", "verdict": "perhaps"}]}, ["items[1].verdict"]),
    ({"items": [{"item": "x", "requirement": "y", "result": "z", "verdict": "pass", "extra": "1"}]},
     ["unknown column 'items[1].extra'"]),
    ({"product_name": "bell\x07"}, ["product_name", "control character U+0007"]),
])
def test_invalid_field_values_are_refused(changes, expected, catalog, run, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path, **changes)
    before = repository_state(repo_path)
    _assert_refused(run("new", "final-inspection", "--data", str(data)), repo_path, before, *expected)


def test_every_problem_is_listed_at_once(catalog, run, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path, conclusion="", quantity="x", colour="red")
    before = repository_state(repo_path)
    _assert_refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
                    "3 problems", "conclusion", "quantity", "colour")


@pytest.mark.parametrize("lot", ["../escape", "a/b", "..", "", " L1", "L\x01", "x" * 65, "a\\b"])
def test_invalid_subject_ids_are_refused(lot, catalog, run, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    result = run("new", "final-inspection", "--data", str(data), "--lot", lot)
    if lot == "":
        _assert_refused(result, repo_path, before, "subject missing")
    else:
        _assert_refused(result, repo_path, before, "subject 'lot'")


def test_missing_subject_names_the_options(catalog, run, repo_path: Path, tmp_path: Path):
    values = example_values(catalog, "nonconformance")
    for key in ("product", "lot", "material_lot"):
        values.pop(key, None)
    data = tmp_path / "ncr.yaml"
    data.write_text(yamlio.dump(values), encoding="utf-8")
    before = repository_state(repo_path)
    _assert_refused(run("new", "nonconformance", "--data", str(data)), repo_path, before,
                    "--product+--lot or --material-lot")


def test_subject_key_of_another_scope_is_refused(catalog, run, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    _assert_refused(run("new", "final-inspection", "--data", str(data), "--supplier", "SUP-1"), repo_path, before,
                    "subject 'supplier' does not apply")


def test_unknown_type(run, repo_path: Path, tmp_path: Path):
    before = repository_state(repo_path)
    data = tmp_path / "d.yaml"
    data.write_text("a: 1\n", encoding="utf-8")
    _assert_refused(run("new", "rocket-launch", "--data", str(data)), repo_path, before, "unknown record type 'rocket-launch'")


@pytest.mark.parametrize("name, content, expected", [
    ("missing.yaml", None, "no such file"),
    ("bad.yaml", "a: [1, 2\nb: c\n", "not valid YAML"),
    ("bad.json", '{"a": 1,}', "not valid JSON"),
    ("list.yaml", "- a\n- b\n", "expected a mapping"),
    ("latin1.yaml", b"product_name: caf\xe9\n", "not UTF-8"),
])
def test_unreadable_or_malformed_data_files(name, content, expected, run, repo_path: Path, tmp_path: Path):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    before = repository_state(repo_path)
    _assert_refused(run("new", "final-inspection", "--data", str(path)), repo_path, before, expected, name)


def test_json_data_file_keeps_number_literals(catalog, run, repo_path: Path, tmp_path: Path):
    values = example_values(catalog, "equipment-maintenance")
    path = tmp_path / "d.json"
    path.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    result = run("new", "equipment-maintenance", "--data", str(path))
    assert result.exit_code == 0, result.output


def test_broken_template_is_refused_and_nothing_written(catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    import shutil

    templates = tmp_path / "templates"
    shutil.copytree(catalog.template_dir, templates)
    (templates / "final-inspection.docx").write_bytes(b"PK\x03\x04 this is not a Word document")
    from qdocs.catalog import load_catalog
    from qdocs.errors import TemplateError
    from qdocs.repository import Repository

    repository = Repository.open(repo_path, load_catalog(templates / "catalog.yaml"))
    before = repository_state(repo_path)
    with pytest.raises(TemplateError, match="final-inspection.docx"):
        create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "tester")
    assert repository_state(repo_path) == before


def test_user_errors_never_show_a_traceback_in_a_real_process(catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path, inspection_date="soon")
    before = repository_state(repo_path)
    process = qdocs_process("--repo", str(repo_path), "new", "final-inspection", "--data", str(data))
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith("qdocs: error: final-inspection: 1 problem: field 'inspection_date'")
    assert repository_state(repo_path) == before


def test_not_a_repository(tmp_path: Path):
    process = qdocs_process("--repo", str(tmp_path / "nowhere"), "list")
    assert process.returncode == 2
    assert "is not a qdocs records repository" in process.stderr and "qdocs init" in process.stderr


def test_a_mistyped_name_suggests_the_closest(run, catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    expected = "unknown record type 'final-inspecton'; did you mean final-inspection?"
    for arguments in (["new", "final-inspecton", "--data", str(data)], ["types", "show", "final-inspecton"],
                      ["list", "--type", "final-inspecton"], ["search", "pump", "--type", "final-inspecton"]):
        _assert_refused(run(*arguments), repo_path, before, expected)
    several = run("new", "inspection", "--data", str(data)).stderr
    assert "did you mean final-inspection or incoming-inspection?" in several  # as close as each other, best first
    prefix = run("new", "fir", "--data", str(data)).stderr
    assert prefix == "qdocs: error: unknown record type 'fir'; did you mean final-inspection (numbered FIR-...)?\n"
    nothing_close = run("types", "show", "rocket-launch").stderr
    assert nothing_close.startswith("qdocs: error: unknown record type 'rocket-launch'; known record types: ")
    assert "final-inspection, " in nothing_close
    _assert_refused(run("users", "add", "wang.wu", "--full-name", "王五", "--role", "qc-manger", "--as", "admin"),
                    repo_path, before,
                    "user wang.wu: unknown role 'qc-manger'; did you mean qc-manager?")
    _assert_refused(run("sign", "FIR-S1-2026-0001", "--as", "wang.wu", "--meaning", "aproved"), repo_path, before,
                    "unknown meaning 'aproved'; did you mean approved?")


def test_suggestions(catalog):
    from qdocs.suggestions import closest, unknown

    assert closest("Final-Inspection", catalog.types)[0] == "final-inspection"  # a slip of case is the closest
    assert unknown("role", "qc", ["qc-manager", "inspector"]) == "unknown role 'qc'; known roles: qc-manager, inspector"
