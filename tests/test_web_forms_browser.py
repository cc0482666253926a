"""Record forms end to end in headless Chromium (see tests/test_web_browser.py): every record
type filled with its example data (tables grown with their "add row" button) storing what
``qdocs new`` stores; a form with a table filled, its problems shown by their inputs with
everything typed kept, a draft restored after the tab is closed, and a double click on
"create" making one record; the quality dashboard with its charts.  Screenshots go to
``tests/artifacts/`` (three are copied into ``docs/``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qdocs.examples import example_values
from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from qdocs.web.forms.model import state_from_values
from tests.conftest import docx_text
from tests.test_web_forms import made_by_qdocs_new, preparer
from tests.test_web_browser import ARTIFACTS, CHROMIUM, _log_in, browser, server  # noqa: F401
from tests.web_support import demo_repo, demo_template  # noqa: F401

HOSTILE = 'A&B <泵> "引号" 😀'
LINES = "第一行 first line\n第二行 second line\n  third, indented"

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tools/test.sh")


def inspections(repo: Path) -> list[str]:
    return [record.id for record in iter_records(Repository.open(repo), type_id="final-inspection")]


def test_fill_a_form_with_a_table_see_its_problems_restore_a_draft_and_create_once(demo_repo: Path, server: str,
                                                                                   browser):
    ARTIFACTS.mkdir(exist_ok=True)
    before = inspections(demo_repo)
    context, page, problems = _logged_in(browser, server, "demo.inspector")
    page.get_by_role("link", name="新建记录 New record").click()
    page.get_by_role("link", name="出厂检验报告").click()
    assert page.url == server + "/records/new/final-inspection"

    page.locator("#subject\\.product").fill("PUMP-X200")
    page.locator("#subject\\.lot").fill("L2026-031")
    page.locator("#field\\.product_name").fill('离心泵 A&B <泵> "引号" 😀')
    page.locator("#field\\.specification").fill("Q = 50 m³/h")
    page.locator("#field\\.quantity").fill("二十 twenty")  # not a number
    page.locator("#field\\.inspection_date").fill("2026-03-26")
    page.locator("#field\\.items\\.0\\.item").fill("外观 Appearance")
    page.locator("#field\\.items\\.0\\.requirement").fill("无划伤 No scratches")
    page.locator("#field\\.items\\.0\\.result").fill("符合 Conforms")
    page.locator("#field\\.items\\.0\\.verdict").select_option("pass")
    page.get_by_role("button", name="添加行 Add row").click()  # handled on the server
    page.locator("#field\\.items\\.1\\.item").fill("绝缘电阻 Insulation")
    page.locator("#field\\.items\\.1\\.requirement").fill("≥ 1 MΩ")
    page.locator("#field\\.items\\.1\\.result").fill("≥ 150 MΩ")
    page.locator("#field\\.items\\.1\\.verdict").select_option("pass")
    _shot(page, "form")
    page.locator("#create").click()  # model and conclusion left out, quantity not a number

    errors = page.locator(".field-error")
    playwright_api.expect(errors).to_have_count(3)  # the page the server answers the post with (waited for)
    assert {errors.nth(number).get_attribute("data-for") for number in range(3)} == {
        "field.model", "field.quantity", "field.conclusion"}
    assert page.locator("#field\\.quantity").input_value() == "二十 twenty"
    assert page.locator("#field\\.product_name").input_value() == '离心泵 A&B <泵> "引号" 😀'
    assert page.locator("#field\\.items\\.1\\.result").input_value() == "≥ 150 MΩ"
    _shot(page, "form-errors")
    assert inspections(demo_repo) == before

    page.locator("#field\\.model").fill("X200")
    page.close()  # the tab closed before the form is sent
    page = context.new_page()
    page.goto(server + "/records/new/final-inspection")
    assert page.locator(".draft-restored").is_visible()
    assert page.locator("#field\\.model").input_value() == "X200"
    assert page.locator("#field\\.quantity").input_value() == "二十 twenty"
    assert page.locator("#field\\.items\\.0\\.item").input_value() == "外观 Appearance"
    # the second row was added on the server: the draft asks for the form with its two rows
    assert "rows.items=2" in page.url
    assert page.locator("#field\\.items\\.1\\.result").input_value() == "≥ 150 MΩ"
    assert page.locator("#field\\.items\\.1\\.verdict").input_value() == "pass"

    page.locator("#field\\.quantity").fill("20")
    page.locator("#field\\.conclusion").select_option("pass")
    page.locator("#create").dblclick()
    page.wait_for_url(server + "/records/*")
    made = [record_id for record_id in inspections(demo_repo) if record_id not in before]
    assert len(made) == 1 and page.url == f"{server}/records/{made[0]}"
    assert "草稿 Draft" in page.locator("h1").inner_text()
    made_record = get_record(Repository.open(demo_repo), made[0])
    assert [row["result"] for row in made_record.data["items"]] == ["符合 Conforms", "≥ 150 MΩ"]
    assert made_record.data["product_name"] == '离心泵 A&B <泵> "引号" 😀'
    page.goto(server + "/records/new/final-inspection")  # the draft is gone with the record made
    assert page.locator(".draft-restored").count() == 0
    assert page.locator("#field\\.model").input_value() == ""
    # nothing refused by the Content-Security-Policy (the refused post's page is answered 400, on purpose)
    assert not [text for text in problems if "status of 400" not in text], problems
    context.close()


def test_every_record_type_filled_in_the_browser_stores_what_qdocs_new_stores(demo_repo: Path, server: str,
                                                                            browser, tmp_path: Path):
    command_line_copy = tmp_path / "command-line"
    shutil.copytree(demo_repo, command_line_copy, symlinks=True)
    catalog = Repository.open(demo_repo).catalog
    assert len(catalog.types) == 16
    pages: dict[str, object] = {}
    for type_id, record_type in catalog.types.items():
        user = preparer(Repository.open(demo_repo), type_id)
        if user not in pages:
            pages[user] = _logged_in(browser, server, user)[1]
        page = pages[user]
        values = example_values(catalog, record_type)
        if type_id == "nonconformance":  # typed text reaches the document as typed
            values.update(unit=HOSTILE, description=LINES)
        page.goto(f"{server}/records/new/{type_id}")
        _fill(page, record_type, values)
        page.locator("#create").click()
        page.wait_for_url(server + "/records/*")
        record_id = page.url.rsplit("/", 1)[1]
        assert "草稿 Draft" in page.locator("h1").inner_text(), type_id
        stored = made_by_qdocs_new(command_line_copy, tmp_path, type_id, values, user)
        made = get_record(Repository.open(demo_repo), record_id)
        assert made.data == stored.data, type_id
        assert made.subject == stored.subject and made.status == "draft", type_id
        if type_id == "nonconformance":
            assert made.data["unit"] == HOSTILE and made.data["description"] == LINES
            document = page.request.get(f"{server}/records/{record_id}/document.docx")
            text = docx_text(document.body())
            assert HOSTILE in text and all(line.strip() in text for line in LINES.splitlines())
    for page in pages.values():
        page.context.close()


def test_the_quality_dashboard_draws_its_charts_in_the_browser(demo_repo: Path, server: str, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context, page, problems = _logged_in(browser, server, "demo.qc-manager")
    page.goto(server + "/quality?product=PUMP-X200")
    charts = page.locator("img[src*='/quality/']")
    assert charts.count() == 3
    for number in range(3):  # every chart loaded and drawn (a broken image has no natural width)
        chart = charts.nth(number)
        chart.scroll_into_view_if_needed()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=chart.element_handle())
    twin = page.request.get(server + "/quality.json?product=PUMP-X200").json()
    months = page.locator("table.list").first.locator("tbody tr")
    assert months.count() == len(twin["first_pass_yield"]) > 0
    assert f"{twin['nonconformances']['total']}" in page.locator("h2", has_text="Nonconformances").inner_text()
    page.screenshot(path=str(ARTIFACTS / "quality-dashboard.png"), full_page=True)
    assert not problems, problems
    context.close()


def _logged_in(browser, server: str, user: str) -> tuple[object, object, list[str]]:
    """A new browser context with a page logged in as ``user``, and the console errors it gets."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(server + "/login")
    _log_in(page, user)
    return context, page, problems


def _fill(page, record_type, values: dict) -> None:
    """Fill a new record's form with ``values`` as a person would: rows added with the table's
    own button (the server answers each), then every input typed or chosen."""
    state = state_from_values(record_type, values)
    for key, wanted in state.rows.items():
        item = record_type.field(key)
        first = item.columns[0].key
        while page.locator(f"[name^='field.{key}.'][name$='.{first}']").count() < wanted:
            page.locator(f"button[name=action][value='add:{key}']").click()
            page.wait_for_load_state()
    for name, value in state.values.items():
        control = page.locator(f"[name='{name}']")
        if name.startswith("none."):
            control.check()
        elif control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_the_form_screenshots_in_docs_are_shown_in_the_readme():
    docs = Path(__file__).resolve().parent.parent / "docs"
    readme = (docs.parent / "README.md").read_text(encoding="utf-8")
    for name in ("form-new.png", "form-errors.png", "quality-dashboard.png"):
        assert (docs / name).is_file() and f"docs/{name}" in readme


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
