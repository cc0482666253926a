"""Record forms end to end in headless Chromium (see tests/test_web_browser.py): a form with
a table filled, its problems shown by their inputs with everything typed kept, a draft
restored after the tab is closed, and a double click on "create" making one record.
Screenshots of the form go to ``tests/artifacts/`` (two are copied into ``docs/``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qdocs.queries import iter_records
from qdocs.repository import Repository
from tests.test_web_browser import ARTIFACTS, CHROMIUM, _log_in, browser, server  # noqa: F401
from tests.web_support import demo_repo, demo_template  # noqa: F401

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tools/test.sh")


def inspections(repo: Path) -> list[str]:
    return [record.id for record in iter_records(Repository.open(repo), type_id="final-inspection")]


def test_fill_a_form_with_a_table_see_its_problems_restore_a_draft_and_create_once(demo_repo: Path, server: str,
                                                                                   browser):
    ARTIFACTS.mkdir(exist_ok=True)
    before = inspections(demo_repo)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(server + "/login")
    _log_in(page, "demo.inspector")
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
    assert errors.count() == 3, errors.all_inner_texts()
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

    page.locator("#field\\.quantity").fill("20")
    page.locator("#field\\.conclusion").select_option("pass")
    page.locator("#create").dblclick()
    page.wait_for_url(server + "/records/*")
    made = [record_id for record_id in inspections(demo_repo) if record_id not in before]
    assert len(made) == 1 and page.url == f"{server}/records/{made[0]}"
    assert "草稿 Draft" in page.locator("h1").inner_text()
    page.goto(server + "/records/new/final-inspection")  # the draft is gone with the record made
    assert page.locator(".draft-restored").count() == 0
    assert page.locator("#field\\.model").input_value() == ""
    # nothing refused by the Content-Security-Policy (the refused post's page is answered 400, on purpose)
    assert not [text for text in problems if "status of 400" not in text], problems
    context.close()


def test_the_form_screenshots_in_docs_are_shown_in_the_readme():
    docs = Path(__file__).resolve().parent.parent / "docs"
    readme = (docs.parent / "README.md").read_text(encoding="utf-8")
    for name in ("form-new.png", "form-errors.png"):
        assert (docs / name).is_file() and f"docs/{name}" in readme


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
