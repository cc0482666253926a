"""Record forms in the browser (Flask's test client): made from the catalog, checked by
the library, one record per form, for the people who prepare the type only."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs import yamlio
from qdocs.examples import example_values
from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from qdocs.web.forms.model import state_from_values
from tests.conftest import docx_text
from tests.web_support import demo_repo, demo_template, login, make_client, post  # noqa: F401

ADMIN = "demo.admin"


def preparer(repository: Repository, type_id: str) -> str:
    """A demo user who prepares records of this type (a role of its first signature)."""
    catalog = repository.catalog
    record_type = catalog.get(type_id)
    first = min(catalog.meanings[requirement.meaning].stage for requirement in record_type.signatures)
    role = next(requirement.roles[0] for requirement in record_type.signatures
                if catalog.meanings[requirement.meaning].stage == first)
    return f"demo.{role}"


def form_post(record_type, values: dict) -> dict:
    """What a browser posts for a form filled with ``values`` (a data file's)."""
    state = state_from_values(record_type, values)
    return {**state.values, **{f"rows.{key}": str(count) for key, count in state.rows.items()}}


def made_by_qdocs_new(repo: Path, tmp_path: Path, type_id: str, values: dict, user: str):
    """The record ``qdocs new TYPE --data F`` makes in ``repo`` from a data file of ``values``."""
    data_file = tmp_path / f"{type_id}.yaml"
    data_file.write_text(yamlio.dump(values), encoding="utf-8")
    result = CliRunner().invoke(cli.cli, ["--repo", str(repo), "--actor", user, "new", type_id, "--data",
                                          str(data_file)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return get_record(Repository.open(repo), result.output.strip().splitlines()[-1])


def open_form(client, type_id: str) -> str:
    page = client.get(f"/records/new/{type_id}")
    assert page.status_code == 200, page.text
    return re.search(r'name="form_once" value="([^"]+)"', page.text).group(1)


def test_each_record_type_made_from_its_form_stores_what_qdocs_new_stores(demo_repo: Path, tmp_path: Path):
    command_line_copy = tmp_path / "command-line"
    shutil.copytree(demo_repo, command_line_copy, symlinks=True)
    repository = Repository.open(demo_repo)
    catalog = repository.catalog
    assert len(catalog.types) == 16
    for type_id, record_type in catalog.types.items():
        user = preparer(repository, type_id)
        _, client = make_client(demo_repo)
        assert login(client, user).status_code == 303, user
        values = example_values(catalog, record_type)
        token = open_form(client, type_id)
        answer = post(client, f"/records/new/{type_id}", {**form_post(record_type, values), "form_once": token,
                                                           "action": "create"})
        assert answer.status_code == 303, (type_id, answer.text[:3000])
        record_id = answer.headers["Location"].rsplit("/", 1)[1]
        made = get_record(Repository.open(demo_repo), record_id)
        stored = made_by_qdocs_new(command_line_copy, tmp_path, type_id, values, user)
        assert made.data == stored.data, type_id
        assert made.subject == stored.subject and made.status == "draft"
        page = client.get(f"/records/{record_id}")
        assert page.status_code == 200 and "已创建 Created" in page.text


def test_a_form_with_three_errors_shows_three_messages_next_to_their_inputs_and_keeps_the_input(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    catalog = Repository.open(demo_repo).catalog
    record_type = catalog.get("nonconformance")
    posted = form_post(record_type, example_values(catalog, record_type))
    broken = {"field.quantity": "twelve 十二", "field.found_date": "2026-02-30", "field.cause": ""}
    posted.update(broken)
    posted["field.description"] = "A&B <泵>\nline 2"
    token = open_form(client, "nonconformance")
    answer = post(client, "/records/new/nonconformance", {**posted, "form_once": token, "action": "create"})
    assert answer.status_code == 400
    shown = re.findall(r'<span class="error field-error" data-for="([^"]+)">', answer.text)
    assert sorted(shown) == sorted(broken), shown
    assert "3 个问题 problem(s)" in answer.text
    assert 'value="twelve 十二"' in answer.text and 'value="2026-02-30"' in answer.text
    assert "A&amp;B &lt;泵&gt;\nline 2</textarea>" in answer.text
    assert f'name="form_once" value="{token}"' in answer.text  # the corrected form may still be sent once
    assert len(list(iter_records(Repository.open(demo_repo), type_id="nonconformance"))) == 1  # the demo's only
    posted.update({"field.quantity": "12", "field.found_date": "2026-02-28", "field.cause": "材料 material"})
    fixed = post(client, "/records/new/nonconformance", {**posted, "form_once": token, "action": "create"})
    assert fixed.status_code == 303


def test_tables_grow_and_shrink_on_the_server_without_script(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    record_type = Repository.open(demo_repo).catalog.get("final-inspection")
    table = next(item for item in record_type.fields if item.type == "table")
    column = table.columns[0].key
    token = open_form(client, "final-inspection")
    posted = {f"rows.{table.key}": "1", f"field.{table.key}.0.{column}": "first", "form_once": token}
    grown = post(client, "/records/new/final-inspection", {**posted, "action": f"add:{table.key}"})
    assert grown.status_code == 200 and f'name="rows.{table.key}" value="2"' in grown.text
    assert 'value="first"' in grown.text and f'name="field.{table.key}.1.{column}"' in grown.text
    shrunk = post(client, "/records/new/final-inspection",
                  {**posted, f"rows.{table.key}": "2", f"field.{table.key}.1.{column}": "second",
                   "action": f"remove:{table.key}:0"})
    assert f'name="rows.{table.key}" value="1"' in shrunk.text
    assert 'value="second"' in shrunk.text and 'value="first"' not in shrunk.text
    # a draft kept in the browser asks for the rows it had (bounded; anything else ignored)
    for asked, rows in (("3", 3), ("100000", 200), ("x", 1), ("-2", 1)):
        fresh = client.get(f"/records/new/final-inspection?rows.{table.key}={asked}")
        assert fresh.status_code == 200 and f'name="rows.{table.key}" value="{rows}"' in fresh.text, asked


def test_hostile_text_and_multi_line_text_reach_the_document_unchanged(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    catalog = Repository.open(demo_repo).catalog
    record_type = catalog.get("nonconformance")
    values = example_values(catalog, record_type)
    text_key, long_key = "unit", "description"
    hostile, lines = 'A&B <泵> "引号" 😀', "第一行 first line\n第二行 second line\n  third, indented"
    values.update({text_key: hostile, long_key: lines})
    answer = post(client, "/records/new/nonconformance", {**form_post(record_type, values),
                                                          "form_once": open_form(client, "nonconformance")})
    assert answer.status_code == 303, answer.text[:2000]
    record_id = answer.headers["Location"].rsplit("/", 1)[1]
    record = get_record(Repository.open(demo_repo), record_id)
    assert record.data[text_key] == hostile and record.data[long_key] == lines
    text = docx_text(client.get(f"/records/{record_id}/document.docx").data)
    assert hostile in text
    assert all(line.strip() in text for line in lines.splitlines())
    page = client.get(f"/records/{record_id}")
    assert "A&amp;B &lt;泵&gt; &#34;引号&#34; 😀" in page.text or "A&amp;B &lt;泵&gt; &quot;引号&quot; 😀" in page.text


def test_a_double_submit_makes_one_record(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    catalog = Repository.open(demo_repo).catalog
    record_type = catalog.get("final-inspection")
    posted = {**form_post(record_type, example_values(catalog, record_type)),
              "form_once": open_form(client, "final-inspection"), "action": "create"}
    first = post(client, "/records/new/final-inspection", posted)
    second = post(client, "/records/new/final-inspection", posted)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(list(iter_records(Repository.open(demo_repo), type_id="final-inspection"))) == 2  # the demo's and one
    another = post(client, "/records/new/final-inspection", {**posted, "form_once": open_form(client, "final-inspection")})
    assert another.headers["Location"] != first.headers["Location"]


@pytest.mark.parametrize("user", ["demo.auditor", "demo.qc-manager"])
def test_the_auditor_and_a_role_that_does_not_prepare_the_type_get_no_form(demo_repo: Path, user: str):
    _, client = make_client(demo_repo)
    login(client, user)
    catalog = Repository.open(demo_repo).catalog
    record_type = catalog.get("final-inspection")
    assert client.get("/records/new/final-inspection").status_code == 403
    answer = post(client, "/records/new/final-inspection",
                  {**form_post(record_type, example_values(catalog, record_type)), "form_once": "x"})
    assert answer.status_code == 403
    listed = client.get("/records/new.json").get_json()["types"]
    assert "final-inspection" not in [entry["id"] for entry in listed]
    if user == "demo.auditor":
        assert listed == []
    assert len(list(iter_records(Repository.open(demo_repo), type_id="final-inspection"))) == 1


def test_a_form_post_without_the_session_token_is_refused(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    catalog = Repository.open(demo_repo).catalog
    record_type = catalog.get("final-inspection")
    posted = {**form_post(record_type, example_values(catalog, record_type)),
              "form_once": open_form(client, "final-inspection")}
    assert client.post("/records/new/final-inspection", data=posted).status_code == 400
    assert client.post("/records/new/final-inspection", data={**posted, "csrf_token": "forged"}).status_code == 400
    assert len(list(iter_records(Repository.open(demo_repo), type_id="final-inspection"))) == 1
    assert client.get("/records/new/no-such-type").status_code == 404


def test_revise_uses_the_whole_form_filled_with_the_record_and_asks_a_reason(demo_repo: Path):
    from tests.web_support import final_inspection

    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    record = get_record(Repository.open(demo_repo), record_id)
    record_type = Repository.open(demo_repo).catalog.get(record.type)
    page = client.get(f"/records/{record_id}/revise")
    assert page.status_code == 200 and 'name="reason"' in page.text
    assert f'name="rows.items" value="{len(record.data["items"])}"' in page.text
    posted = form_post(record_type, record.data)
    grown = post(client, f"/records/{record_id}/revise", {**posted, "action": "add:items", "reason": "re-test"})
    assert grown.status_code == 200 and f'name="rows.items" value="{len(record.data["items"]) + 1}"' in grown.text
    assert 'value="re-test"' in grown.text
    rows = len(record.data["items"])
    for column in record_type.field("items").columns:
        posted[f"field.items.{rows}.{column.key}"] = {"verdict": "pass"}.get(column.key, "噪声 noise ≤ 70 dB")
    posted["rows.items"] = str(rows + 1)
    no_reason = post(client, f"/records/{record_id}/revise", {**posted, "action": "create", "reason": ""})
    assert no_reason.status_code == 400 and "噪声 noise ≤ 70 dB" in no_reason.text
    done = post(client, f"/records/{record_id}/revise", {**posted, "action": "create", "reason": "复检 re-test"})
    assert done.status_code == 303, done.text[:2000]
    revised = get_record(Repository.open(demo_repo), record_id)
    assert revised.revision == "B" and len(revised.data["items"]) == rows + 1
    assert revised.data["items"][-1]["item"] == "噪声 noise ≤ 70 dB"


def test_attaching_a_hostile_encrypted_or_broken_pdf_is_refused_with_one_message_and_nothing_stored(demo_repo: Path):
    import io

    from tests.conftest import git
    from tests.test_pdf_attachments import hostile_pdfs
    from tests.web_support import final_inspection

    record_id = final_inspection(demo_repo)
    _, client = make_client(demo_repo)
    login(client, "demo.inspector")
    head = git(demo_repo, "rev-parse", "HEAD")
    for name, (content, _) in hostile_pdfs().items():
        answer = post(client, f"/records/{record_id}/attach", {"title": f"报告 {name}",
                                                               "file": (io.BytesIO(content), f"{name}.pdf")},
                      content_type="multipart/form-data")
        assert answer.status_code == 400, name
        assert answer.text.count('class="error"') + answer.text.count("class='error'") <= 1
        assert git(demo_repo, "rev-parse", "HEAD") == head and not git(demo_repo, "status", "--porcelain"), name
    assert client.get(f"/records/{record_id}.json").get_json()["attachments"] == []
