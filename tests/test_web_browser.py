"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright, against
``qdocs serve``'s application under waitress on a loopback port, on a copy of the demo
repository.  Screenshots of each page are written to ``tests/artifacts/`` (not committed;
a few are copied into ``docs/`` for the README)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.web.app import create_app
from qdocs.web.settings import Settings
from tests.web_support import demo_repo, demo_template, revise_final_inspection  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is installed by tools/test.sh")


@pytest.fixture
def server(demo_repo: Path):
    """The application under waitress on a free loopback port, stopped after the test."""
    import waitress

    app = create_app(demo_repo, Settings(threads=4))
    served = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{served.effective_port}"
    served.close()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGUMENTS)
        yield chromium
        chromium.close()


def test_sign_approve_release_search_and_download_in_a_browser(demo_repo: Path, server: str, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    record_id = revise_final_inspection(demo_repo)
    inspector = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = inspector.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(server + "/inbox")
    assert page.url.startswith(server + "/login")
    _shot(page, "login")
    _log_in(page, "demo.inspector")
    assert page.url == server + "/inbox"
    waiting = page.locator("section", has_text="待我签署 Waiting for my signature")
    assert waiting.get_by_role("link", name=record_id).is_visible()
    _shot(page, "inbox")

    waiting.get_by_role("link", name="签署 Sign").click()
    assert page.url == f"{server}/records/{record_id}/sign"
    page.get_by_label("备注 Comment").fill("复检合格 Re-check passed")
    page.get_by_label("口令 Passphrase").fill("demo-passphrase")
    _shot(page, "sign")
    page.get_by_role("button", name="签署 Sign").click()
    assert page.url == f"{server}/records/{record_id}"
    assert page.locator(".message").inner_text().startswith("已签署 Signed")
    assert get_record(Repository.open(demo_repo), record_id).status == "in-review"

    manager = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    second = manager.new_page()
    second.goto(server + "/login")
    _log_in(second, "demo.qc-manager")
    second.get_by_role("link", name=record_id).first.click()
    assert second.url == f"{server}/records/{record_id}"
    second.get_by_role("link", name="签署 Sign").click()
    assert second.get_by_label("批准 Approved by").is_checked()
    second.get_by_label("口令 Passphrase").fill("demo-passphrase")
    second.get_by_role("button", name="签署 Sign").click()
    playwright_api.expect(second.locator("h1")).to_contain_text("已批准 Approved")
    _shot(second, "record")

    second.get_by_role("link", name="放行看板 Release board").click()
    row = second.locator("table.board tbody tr", has_text="L2026-031")
    playwright_api.expect(row.get_by_role("link", name="可放行 May ship")).to_be_visible()  # the board's page, waited for
    playwright_api.expect(row.locator("a.cell.ok")).to_have_count(11)
    _shot(second, "board")
    row.get_by_role("link", name="L2026-031").click()
    playwright_api.expect(second.locator("h1")).to_contain_text("可放行 May ship")
    _shot(second, "lot")

    page.get_by_role("link", name="搜索 Search").click()
    page.get_by_label("查询 Query").fill("密封")
    page.get_by_role("button", name="搜索 Search").click()
    playwright_api.expect(page.locator("ol.results li").first).to_be_visible()
    assert page.locator("ol.results mark").first.inner_text() == "密封"
    _shot(page, "search")

    page.get_by_role("link", name="记录 Records").click()
    _shot(page, "records")
    page.goto(f"{server}/records/{record_id}")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("link", name="下载 PDF").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"%PDF-") and download.value.suggested_filename == f"{record_id}.pdf"
    # the document inside the page: made only when its section is opened, shown in a frame of this site
    with page.expect_response(lambda answer: answer.url.endswith(f"/records/{record_id}/view.pdf"),
                              timeout=120_000) as viewed:
        page.locator("details.document summary").click()
    assert viewed.value.status == 200 and viewed.value.headers["content-disposition"].startswith("inline")
    page.wait_for_timeout(1500)
    _shot(page, "document")
    assert not problems, problems  # no console error: nothing refused by the Content-Security-Policy
    inspector.close()
    manager.close()


def _log_in(page, user: str) -> None:
    page.get_by_label("用户名 User name").fill(user)
    page.get_by_label("口令 Passphrase").fill("demo-passphrase")
    page.get_by_role("button", name="登录 Log in").click()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def test_the_screenshots_in_docs_are_pages_of_the_application():
    """The README shows screenshots copied from the test's artefacts (docs/web-*.png)."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    shots = sorted(path.name for path in docs.glob("web-*.png"))
    assert shots and all(name[4:-4] in {"login", "inbox", "sign", "record", "board", "lot", "search", "records"}
                         for name in shots)
    readme = (docs.parent / "README.md").read_text(encoding="utf-8")
    assert all(f"docs/{name}" in readme for name in shots)
