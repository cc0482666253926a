"""Every record type end to end through the command line, read back with python-docx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import docx_text as document_text
from qdocs.records import RECORD_ID
from qdocs.repository import Repository
from tests.conftest import example_values, git
from tests.test_catalog import EXPECTED_TYPES


def _expected_texts(values: dict) -> list[str]:
    texts: list[str] = []
    for value in values.values():
        if isinstance(value, list):
            for row in value:
                texts.extend(str(cell) for cell in row.values() if cell not in (None, ""))
        elif value not in (None, ""):
            texts.append(str(value))
    return texts


@pytest.mark.parametrize("type_id", EXPECTED_TYPES)
def test_every_type_generates_from_its_example(type_id, catalog, run, repo_path: Path, tmp_path: Path):
    example = run("types", "show", type_id, "--example")
    assert example.exit_code == 0
    data_file = tmp_path / "data.yaml"
    data_file.write_text(example.output, encoding="utf-8")

    result = run("new", type_id, "--data", str(data_file))
    assert result.exit_code == 0, result.output
    record_id = result.output.strip()
    assert RECORD_ID.match(record_id)

    repository = Repository.open(repo_path)
    record = repository.get(record_id)
    assert record.type == type_id and record.revision == "A" and record.status == "draft"
    folder = repo_path / record.path
    assert folder.name == record_id
    assert (folder / "record.yaml").is_file() and (folder / "record.docx").is_file()
    text = document_text((folder / "record.docx").read_bytes())
    for value in _expected_texts(example_values(catalog, type_id)):
        assert value in text, f"{type_id}: {value!r} not in the document"
    assert record_id in text and catalog.get(type_id).name.zh in text
    # committed, one commit, with trailers
    assert git(repo_path, "status", "--porcelain") == ""
    message = git(repo_path, "log", "-1", "--format=%B")
    assert f"Record: {record_id}" in message and "Action: create" in message
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "tester"


def test_ids_are_gap_free_per_type_and_year(run, catalog, tmp_path: Path):
    data = tmp_path / "fir.yaml"
    data.write_text(run("types", "show", "final-inspection", "--example").output, encoding="utf-8")
    ids = [run("new", "final-inspection", "--data", str(data)).output.strip() for _ in range(3)]
    numbers = [int(record_id.rsplit("-", 1)[1]) for record_id in ids]
    assert numbers == [1, 2, 3]
    assert len({record_id.rsplit("-", 1)[0] for record_id in ids}) == 1
    other = tmp_path / "msr.yaml"
    other.write_text(run("types", "show", "market-survey", "--example").output, encoding="utf-8")
    assert run("new", "market-survey", "--data", str(other)).output.strip().endswith("-0001")


def test_new_with_json_prints_the_record(run, tmp_path: Path):
    data = tmp_path / "d.yaml"
    data.write_text(run("types", "show", "equipment-maintenance", "--example").output, encoding="utf-8")
    result = run("new", "equipment-maintenance", "--data", str(data), "--json", "--equipment", "EQ-PRESS-02")
    record = json.loads(result.output)
    assert record["subject"] == {"scope": "equipment", "equipment": "EQ-PRESS-02"}
    assert record["path"] == f"equipment/EQ-PRESS-02/{record['id']}"
    assert len(record["docx_sha256"]) == 64 and len(record["template_sha256"]) == 64


def test_set_overrides_a_value(run, repo_path: Path, tmp_path: Path):
    data = tmp_path / "d.yaml"
    data.write_text(run("types", "show", "final-inspection", "--example").output, encoding="utf-8")
    result = run("new", "final-inspection", "--data", str(data), "--set", "conclusion=fail", "--lot", "L9")
    record = Repository.open(repo_path).get(result.output.strip())
    assert record.data["conclusion"] == "fail"
    assert record.subject.as_dict() == {"product": "PUMP-X200", "lot": "L9"}


def test_types_listing_and_show(run):
    listing = run("types", "--json")
    assert [entry["id"] for entry in json.loads(listing.output)] == EXPECTED_TYPES
    shown = json.loads(run("types", "show", "final-inspection", "--json").output)
    keys = {field["key"]: field for field in shown["fields"]}
    assert keys["conclusion"]["mandatory"] is True and keys["conclusion"]["choices"] == ["pass", "fail"]
    assert keys["items"]["type"] == "table" and keys["items"]["columns"]
    text = run("types", "show", "final-inspection").output
    assert "conclusion" in text and "mandatory" in text
