"""The quality dashboard: its JSON twin gives what ``qdocs kpi --json`` gives, its page shows
each figure's table and chart, the charts are SVG from the same origin, bad input is refused."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from click.testing import CliRunner

import cli
from tests.web_support import demo_repo, demo_template, login, make_client  # noqa: F401


def test_the_dashboard_twin_equals_qdocs_kpi(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.qc-manager")
    twin = client.get("/quality.json?product=PUMP-X200&from=2026-01-01&to=2026-03-31").get_json()
    result = CliRunner().invoke(cli.cli, ["--repo", str(demo_repo), "kpi", "--json", "--product", "PUMP-X200",
                                          "--from", "2026-01-01", "--to", "2026-03-31"])
    assert result.exit_code == 0, result.output
    charts = twin.pop("charts")
    assert twin == json.loads(result.stdout)
    # the demo: one final inspection of March, passed at its first revision; one nonconformance
    assert twin["first_pass_yield"][2] == {"month": "2026-03", "inspections": 1, "first_pass": 1, "yield": 1.0}
    assert twin["nonconformances"]["total"] == 1
    assert charts["reply-times"] == "/quality/charts/reply-times.svg?product=PUMP-X200&from=2026-01-01&to=2026-03-31"


def test_the_page_shows_tables_and_same_origin_charts(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.qc-manager")
    page = client.get("/quality")
    assert page.status_code == 200
    assert "质量看板 Quality dashboard" in page.text and "2025-04-01 – 2026-03-26" in page.text
    assert '<img src="/quality/charts/first-pass-yield.svg"' in page.text
    assert "style=" not in page.text and "<script" not in page.text
    chart = client.get("/quality/charts/nonconformance-causes.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert ElementTree.fromstring(chart.data).tag == "{http://www.w3.org/2000/svg}svg"
    assert "default-src 'self'" in chart.headers["Content-Security-Policy"]
    assert client.get("/quality/charts/nothing.svg").status_code == 404


def test_bad_period_or_product_is_refused(demo_repo: Path):
    _, client = make_client(demo_repo)
    login(client, "demo.qc-manager")
    answer = client.get("/quality.json?from=2026-02-30")
    assert answer.status_code == 400 and "write a date as YYYY-MM-DD" in answer.get_json()["error"]
    answer = client.get("/quality.json?product=NO-SUCH")
    assert answer.status_code == 400 and answer.get_json()["error"].startswith("unknown product NO-SUCH")
    assert make_client(demo_repo)[1].get("/quality.json").status_code == 401
