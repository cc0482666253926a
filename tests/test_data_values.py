"""Data values as users write them: YAML nulls, keys given twice, what a record must cover.

Every case goes through the real ``qdocs new`` (or ``revise``); a refusal is one line,
exit 2, and leaves the repository exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from qdocs import yamlio
from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.conftest import docx_text, example_values, repository_state

SUBJECT = {"product": "PUMP-X200", "lot": "L2026-031"}


def _refused(result, repo_path: Path, before, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [text for text in result.output.splitlines() if text.startswith("qdocs: error:")]
    assert len(lines) == 1, result.output
    for text in expected:
        assert text in lines[0], lines[0]
    assert repository_state(repo_path) == before
    return lines[0]


def _fir_text(catalog) -> str:
    """The final inspection example as YAML text, subject given."""
    return yamlio.dump({**example_values(catalog, "final-inspection"), **SUBJECT})


def _edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _line_of(text: str, start: str, occurrence: int = 1) -> int:
    numbers = [number for number, line in enumerate(text.splitlines(), start=1) if line.startswith(start)]
    return numbers[occurrence - 1]


def _created(run, repo_path: Path, *args: str):
    result = run("new", *args)
    assert result.exit_code == 0, result.output
    return get_record(Repository.open(repo_path), result.output.strip())


# -- 1. a YAML null is no value ---------------------------------------------------------


@pytest.mark.parametrize("written", ["~", "null", "Null", "NULL", ""])
def test_a_yaml_null_in_a_mandatory_field_is_refused(written, catalog, run, repo_path: Path, tmp_path: Path):
    data = tmp_path / "fir.yaml"
    data.write_text(_edited(_fir_text(catalog), "conclusion: pass", f"conclusion: {written}"), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             "final-inspection", "missing mandatory field 'conclusion'")


@pytest.mark.parametrize("written", ["~", "null"])
def test_a_yaml_null_in_a_mandatory_table_column_is_refused(written, catalog, run, repo_path: Path, tmp_path: Path):
    data = tmp_path / "fir.yaml"
    data.write_text(_edited(_fir_text(catalog), "  verdict: pass", f"  verdict: {written}"), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             "missing mandatory field 'items[1].verdict'")


def test_an_optional_null_is_stored_as_no_value_and_quoted_null_is_text(catalog, run, repo_path: Path,
                                                                        tmp_path: Path):
    text = _edited(_fir_text(catalog), "standard: GB/T 5657-2013", "standard: null")
    text = _edited(text, "quantity: '120'", "quantity: ~")
    text = _edited(text, "model: PUMP-X200", 'model: "null"')
    text = _edited(text, "product_name: 离心泵 Centrifugal pump", "product_name: '~'")
    text = _edited(text, "  result: 符合 Conforms", "  result: 0012")  # still kept exactly as typed
    data = tmp_path / "fir.yaml"
    data.write_text(text, encoding="utf-8")
    record = _created(run, repo_path, "final-inspection", "--data", str(data))
    assert record.data["standard"] is None and record.data["quantity"] is None
    assert record.data["model"] == "null" and record.data["product_name"] == "~"
    assert record.data["items"][0]["result"] == "0012"
    shown = json.loads(run("show", record.id, "--json").output)["data"]
    assert shown["standard"] is None and shown["model"] == "null"
    stored = (repo_path / record.path / "record.yaml").read_text(encoding="utf-8")
    assert "standard: null" in stored and "model: 'null'" in stored


def test_a_json_null_is_no_value(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "final-inspection"), **SUBJECT, "conclusion": None}
    data = tmp_path / "fir.json"
    data.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             "missing mandatory field 'conclusion'")
    data.write_text(json.dumps({**values, "conclusion": "pass", "standard": None}, ensure_ascii=False),
                    encoding="utf-8")
    assert _created(run, repo_path, "final-inspection", "--data", str(data)).data["standard"] is None


def test_set_values_are_text_and_an_empty_one_is_no_value(catalog, run, repo_path: Path, tmp_path: Path):
    data = tmp_path / "fir.yaml"
    data.write_text(_fir_text(catalog), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data), "--set", "conclusion="), repo_path, before,
             "missing mandatory field 'conclusion'")
    record = _created(run, repo_path, "final-inspection", "--data", str(data),
                      "--set", "standard=", "--set", "model=null")
    assert record.data["standard"] is None
    assert record.data["model"] == "null"  # a command line has no quotes to tell a null from the word


def test_nulls_in_batches_are_refused_for_mandatory_fields_and_columns(catalog, run, repo_path: Path,
                                                                        tmp_path: Path):
    one = _fir_text(catalog)
    two = _edited(one, "conclusion: pass", "conclusion: ~")
    batch = tmp_path / "batch.yaml"
    batch.write_text("".join("- " + text.replace("\n", "\n  ").rstrip() + "\n" for text in (one, two)),
                     encoding="utf-8")
    assert len(yamlio.load_as_text(batch.read_text(encoding="utf-8"))) == 2
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--batch", str(batch)), repo_path, before,
             "batch of 2", "record 2: missing mandatory field 'conclusion'")

    values = {**example_values(catalog, "final-inspection"), **SUBJECT}
    items = "[{item: 外观 Appearance, requirement: 无划伤 No scratches, result: ~, verdict: pass}]"
    rows = [{**values, "items": items}, {**values, "items": yamlio.dump(values["items"]), "conclusion": ""}]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(values))
    writer.writeheader()
    writer.writerows(rows)
    sheet = tmp_path / "batch.csv"
    sheet.write_text(buffer.getvalue(), encoding="utf-8")
    _refused(run("new", "final-inspection", "--batch", str(sheet)), repo_path, before,
             "record 1: missing mandatory field 'items[1].result'", "record 2: missing mandatory field 'conclusion'")


# -- 2. a key given twice ------------------------------------------------------------------


def test_a_key_twice_in_a_yaml_data_file_is_refused_with_both_lines(catalog, run, repo_path: Path, tmp_path: Path):
    text = _fir_text(catalog) + "conclusion: fail\n"
    data = tmp_path / "fir.yaml"
    data.write_text(text, encoding="utf-8")
    first, second = _line_of(text, "conclusion:"), _line_of(text, "conclusion:", 2)
    before = repository_state(repo_path)
    line = _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before)
    assert line == f"qdocs: error: {data}: key 'conclusion' appears twice (lines {first} and {second}); keep one"


def test_a_key_twice_in_a_table_row_is_refused(catalog, run, repo_path: Path, tmp_path: Path):
    text = _edited(_fir_text(catalog), "  verdict: pass\n", "  verdict: pass\n  verdict: fail\n")
    data = tmp_path / "fir.yaml"
    data.write_text(text, encoding="utf-8")
    first = _line_of(text, "  verdict:")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             f"key 'verdict' appears twice (lines {first} and {first + 1}); keep one")


def test_a_key_twice_in_a_batch_is_refused(catalog, run, repo_path: Path, tmp_path: Path):
    record = _fir_text(catalog).replace("\n", "\n  ").rstrip() + "\n"
    text = f"records:\n- {record}- {record}  lot: L2026-099\n"
    batch = tmp_path / "batch.yaml"
    batch.write_text(text, encoding="utf-8")
    first, second = _line_of(text, "  lot:", 2), _line_of(text, "  lot:", 3)
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--batch", str(batch)), repo_path, before,
             f"{batch}: key 'lot' appears twice (lines {first} and {second}); keep one")


def test_a_key_twice_in_a_json_data_file_is_refused_with_both_lines(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "final-inspection"), **SUBJECT}
    text = json.dumps(values, ensure_ascii=False, indent=2)
    text = _edited(text, '"verdict": "pass"\n', '"verdict": "pass",\n      "verdict": "fail"\n')
    data = tmp_path / "fir.json"
    data.write_text(text, encoding="utf-8")
    first = _line_of(text, '      "verdict"')
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             f"{data}: key 'verdict' appears twice (lines {first} and {first + 1}); keep one")
    # written on one line, as programs write JSON: the columns tell them apart
    data.write_text('{"conclusion": "pass", "conclusion": "fail"}', encoding="utf-8")
    _refused(run("new", "final-inspection", "--data", str(data)), repo_path, before,
             f"{data}: key 'conclusion' appears twice (line 1, columns 2 and 24); keep one")


def test_a_key_twice_in_a_csv_table_cell_is_refused(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "final-inspection"), **SUBJECT,
              "items": "[{item: a, requirement: b, result: c, verdict: pass, verdict: fail}]"}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(values))
    writer.writeheader()
    writer.writerow(values)
    sheet = tmp_path / "batch.csv"
    sheet.write_text(buffer.getvalue(), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--batch", str(sheet)), repo_path, before,
             f"{sheet}: line 2, column items: key 'verdict' appears twice in the cell "
             "(its line 1, columns 39 and 54); keep one")


def test_a_column_twice_in_a_csv_header_is_refused(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "final-inspection"), **SUBJECT, "items": "[]"}
    header = ",".join([*values, "conclusion"])
    sheet = tmp_path / "batch.csv"
    sheet.write_text(header + "\n" + ",".join(["x"] * (len(values) + 1)) + "\n", encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "final-inspection", "--batch", str(sheet)), repo_path, before,
             f"column 'conclusion' appears twice in the header (columns {len(values)} and {len(values) + 1})")


# -- 3. what a record must cover ------------------------------------------------------------


def test_staff_training_must_cover_the_three_topics(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "staff-training"), "staff": "li.na"}
    values["training_content"] = [{"topic": "service-skills", "hours": "6", "trainer": "zhou.ba"}]
    data = tmp_path / "trn.yaml"
    data.write_text(yamlio.dump(values), encoding="utf-8")
    before = repository_state(repo_path)
    _refused(run("new", "staff-training", "--data", str(data)), repo_path, before,
             "staff-training: 1 problem: field 'training_content' (培训内容 Training content) must have a row for "
             "each topic of product-knowledge, service-skills, complaint-handling; missing: product-knowledge "
             "(产品知识 Product knowledge), complaint-handling (客户投诉处理 Complaint handling)")
    values["training_content"] = example_values(catalog, "staff-training")["training_content"]
    data.write_text(yamlio.dump(values), encoding="utf-8")
    record = _created(run, repo_path, "staff-training", "--data", str(data))
    assert [row["topic"] for row in record.data["training_content"]] == [
        "product-knowledge", "service-skills", "complaint-handling"]


def test_parts_used_is_listed_or_said_to_be_none(catalog, run, repo_path: Path, tmp_path: Path):
    values = {**example_values(catalog, "service-record"), "case": "C-2026-001"}
    data = tmp_path / "svr.yaml"
    before = repository_state(repo_path)
    for parts, expected in ((None, "missing mandatory field 'parts_used'"),
                            ([], "missing mandatory field 'parts_used'"),
                            ("nothing", "must be a list of rows (each a mapping of part, quantity), "
                                        "or none when there were none")):
        data.write_text(yamlio.dump({key: value for key, value in {**values, "parts_used": parts}.items()
                                     if value is not None}), encoding="utf-8")
        _refused(run("new", "service-record", "--data", str(data)), repo_path, before, expected)

    text = yamlio.dump({**values, "parts_used": "PLACEHOLDER"})
    data.write_text(_edited(text, "parts_used: PLACEHOLDER", "parts_used: none"), encoding="utf-8")
    record = _created(run, repo_path, "service-record", "--data", str(data))
    assert record.data["parts_used"] == "none"
    assert "使用备件 Parts used: 无 None" in run("show", record.id).output
    document = docx_text((repo_path / record.path / "record.docx").read_bytes())
    assert "无 None" in document
    revised = run("revise", record.id, "--set", "customer_satisfaction=neutral", "--reason", "survey call")
    assert revised.exit_code == 0, revised.output
    assert get_record(Repository.open(repo_path), record.id).data["parts_used"] == "none"

    data.write_text(_edited(text, "parts_used: PLACEHOLDER", "parts_used: 无"), encoding="utf-8")
    assert _created(run, repo_path, "service-record", "--data", str(data)).data["parts_used"] == "none"


BATCH_CASES = [
    "- a: 1\n  b: [x, y]\n- a: 2\n",
    "- a: 1\n  a: 2\n",  # a key twice: refused with both lines
    "- &first {a: 1}\n- *first\n",  # an alias to another item's anchor: read whole
    "- {a: &one 1, b: *one}\n",  # anchors inside one item
    "{records: [{a: 1}]}\n",  # the list under "records"
    "- a\n---\n- b\n",  # two documents: refused
    "- a: [1, 2\n",  # malformed
    "[]\n",
    "- ~\n- 'null'\n- \n- 'yes'\n- 0012\n",  # nulls and text as typed
    "- a: |\n    line 1 & <泵>\n    line 2\n",
]


@pytest.mark.parametrize("text", BATCH_CASES)
def test_a_batch_read_item_by_item_is_what_reading_it_whole_gives(text: str):
    def outcome(load):
        try:
            return "read", load(text)
        except Exception as error:  # noqa: BLE001 - the refusal itself is compared
            return type(error).__name__, str(error)

    assert outcome(yamlio.load_list_as_text) == outcome(yamlio.load_as_text)


def test_a_large_batch_is_read_item_by_item_in_a_fraction_of_the_memory():
    import tracemalloc

    rows = [{"product": "PUMP-X200", "lot": f"L2026-{number:03d}", "note": f"检验记录 A&B <泵> {number}\nline 2",
             "items": [{"item": "外观", "result": f"符合 {number}"}, {"item": "压力", "result": "1.6 MPa"}]}
            for number in range(3000)]
    text = yamlio.dump(rows)
    peaks = {}
    for load in (yamlio.load_as_text, yamlio.load_list_as_text):
        tracemalloc.start()
        assert load(text) == rows
        peaks[load.__name__] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["load_list_as_text"] * 2.5 < peaks["load_as_text"], peaks
