"""Every record type end to end through the command line, read back with python-docx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import docx_text as document_text
from qdocs import yamlio
from qdocs.queries import get_record
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


def _subject_options(catalog, type_id: str) -> list[str]:
    """``--product PUMP-X200 --lot L2026-031`` and the like: the demo's ids for the type's first scope."""
    from qdocs.examples import SUBJECT_EXAMPLES
    from qdocs.subjects import SCOPES

    keys = SCOPES[catalog.get(type_id).scopes[0]]
    return [part for key in keys for part in (f"--{key.replace('_', '-')}", SUBJECT_EXAMPLES[key])]


@pytest.mark.parametrize("type_id", EXPECTED_TYPES)
def test_every_type_generates_from_its_example(type_id, catalog, run, repo_path: Path, tmp_path: Path):
    example = run("types", "show", type_id, "--example")
    assert example.exit_code == 0
    data_file = tmp_path / "data.yaml"
    data_file.write_text(example.output, encoding="utf-8")

    result = run("new", type_id, "--data", str(data_file), *_subject_options(catalog, type_id))
    assert result.exit_code == 0, result.output
    record_id = result.output.strip()
    assert RECORD_ID.match(record_id)

    repository = Repository.open(repo_path)
    record = get_record(repository, record_id)
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
    ids = [run("new", "final-inspection", "--data", str(data), "--product", "P1", "--lot", "L1").output.strip()
           for _ in range(3)]
    numbers = [int(record_id.rsplit("-", 1)[1]) for record_id in ids]
    assert numbers == [1, 2, 3]
    assert len({record_id.rsplit("-", 1)[0] for record_id in ids}) == 1
    other = tmp_path / "msr.yaml"
    other.write_text(run("types", "show", "market-survey", "--example").output, encoding="utf-8")
    assert run("new", "market-survey", "--data", str(other), "--product", "P1").output.strip().endswith("-0001")


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
    result = run("new", "final-inspection", "--data", str(data), "--set", "conclusion=fail", "--product", "PUMP-X200",
                 "--lot", "L9")
    record = get_record(Repository.open(repo_path), result.output.strip())
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


def test_the_printed_example_files_nothing_until_its_subject_is_given(run, catalog, repo_path: Path, tmp_path: Path):
    """An example with a concrete lot filed the record of a user who forgot --lot on the demo lot without a
    word; its subject keys are placeholders now, refused (exit 2, nothing written) until replaced or given."""
    from tests.conftest import repository_state

    example = run("types", "show", "final-inspection", "--example").output
    assert "product: <product id, e.g. PUMP-X200>\nlot: <lot id, e.g. L2026-031>\n" in example
    assert "L2026-031\n" not in example.replace("e.g. L2026-031>\n", "")  # the lot is nowhere else
    data = tmp_path / "fir.yaml"
    data.write_text(example, encoding="utf-8")
    before = repository_state(repo_path)
    forgot_lot = run("new", "final-inspection", "--data", str(data), "--product", "PUMP-X200")
    assert forgot_lot.exit_code == 2
    assert forgot_lot.stderr == ("qdocs: error: final-inspection: 1 problem: lot: replace the example's placeholder "
                                 "with the lot id (or give --lot)\n")
    forgot_both = run("new", "final-inspection", "--data", str(data))
    assert forgot_both.exit_code == 2
    assert "product: replace the example's placeholder with the product id (or give --product); " \
           "lot: replace the example's placeholder with the lot id (or give --lot)" in forgot_both.stderr
    batch = tmp_path / "batch.yaml"
    batch.write_text(("- " + example.replace("\n", "\n  ") + "\n") * 2, encoding="utf-8")
    refused = run("new", "final-inspection", "--batch", str(batch), "--product", "P")
    assert refused.exit_code == 2 and "record 1: lot: replace" in refused.stderr and "record 2: lot: replace" in refused.stderr
    assert repository_state(repo_path) == before

    data.write_text(example.replace("<product id, e.g. PUMP-X200>", "PUMP-X300").replace("<lot id, e.g. L2026-031>",
                                                                                          "L2026-040"), encoding="utf-8")
    edited = run("new", "final-inspection", "--data", str(data), "--json")
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.stdout)["subject"] == {"scope": "lot", "product": "PUMP-X300", "lot": "L2026-040"}
    # a type with two scopes: the other scope's options leave the first scope's placeholders aside
    nonconformance = tmp_path / "ncr.yaml"
    nonconformance.write_text(run("types", "show", "nonconformance", "--example").output, encoding="utf-8")
    result = run("new", "nonconformance", "--data", str(nonconformance), "--material-lot", "ML-90", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["subject"] == {"scope": "material-lot", "material_lot": "ML-90"}
    # revising with the example file: the placeholders are not taken for a change of subject
    record_id = json.loads(edited.stdout)["id"]
    example_data = tmp_path / "revision.yaml"
    example_data.write_text(example.replace("conclusion: pass", "conclusion: fail"), encoding="utf-8")
    revised = run("revise", record_id, "--data", str(example_data), "--reason", "re-test")
    assert revised.exit_code == 0, revised.output


def test_example_values_give_the_data_a_concrete_subject(catalog):
    from qdocs.examples import example_values, example_yaml
    from qdocs.subjects import is_placeholder

    for record_type in catalog.types.values():
        printed = yamlio.load_as_text(example_yaml(catalog, record_type))
        filled = example_values(catalog, record_type)
        subject_keys = set(record_type.subject_keys) & set(printed)
        assert subject_keys and all(is_placeholder(printed[key]) for key in subject_keys)
        assert not any(is_placeholder(filled[key]) for key in subject_keys)
        assert {key: value for key, value in filled.items() if key not in subject_keys} == \
               {key: value for key, value in printed.items() if key not in subject_keys}
    lot = example_values(catalog, catalog.get("final-inspection"), {"product": "P9", "lot": "L9"})
    assert (lot["product"], lot["lot"]) == ("P9", "L9")
