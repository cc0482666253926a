"""``qdocs kpi``: each quality figure computed by hand from the records a test makes,
compared with ``qdocs kpi --json``; bad input; the charts as SVG and PNG files.

The records are added to the audit tests' complete set (lot PUMP-X200 / L2026-031, made
in March 2026) with qdocs' clock at the end of June 2026; the figures of product PUMP-K9
concern only what the test makes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest

from qdocs.audit import kpicharts
from qdocs.web.app import create_app
from qdocs.web.settings import Settings
from tests.conftest import PASSPHRASE
from tests.web_support import login
from tests.test_audit_helpers import complete, example  # noqa: F401

NOW = "2026-06-30T12:00:00+08:00"
PRODUCT = "PUMP-K9"
#: (lot, inspection day, conclusion at creation, revised to, void)
INSPECTIONS = [
    ("K1", "2026-04-03", "pass", None, False),
    ("K2", "2026-04-10", "fail", None, False),
    ("K3", "2026-04-17", "fail", "pass", False),  # passed only at its second revision
    ("K4", "2026-05-02", "pass", None, False),
    ("K5", "2026-05-09", "pass", None, True),  # void: not counted
    ("K6", "2025-12-20", "pass", None, False),  # before the period
]
#: (lot, found day, cause, void)
NONCONFORMANCES = [
    ("K1", "2026-04-04", "Debris on seal faces", False),
    ("K2", "2026-04-11", "Debris  on seal\nfaces", False),  # the same cause, spaces as typed
    ("K3", "2026-04-18", "Debris on seal faces", False),
    ("K4", "2026-05-03", "Wrong bolt torque", False),
    ("K5", "2026-05-10", "Wrong bolt torque", True),
    ("K6", "2025-12-21", "Wrong bolt torque", False),
]
#: (case, received, replied)
CASES = [
    ("C-K9-001", "2026-04-01 09:00:00+08:00", "2026-04-02 15:00:00+08:00"),  # 30 h: over
    ("C-K9-002", "2026-05-01 09:00:00+08:00", "2026-05-01 11:30:00+08:00"),  # 2.5 h
    ("C-K9-003", "2026-06-01 08:00:00+08:00", "2026-06-02 08:00:00+08:00"),  # 24 h: at the limit, within
    ("C-K9-004", "2025-11-01 08:00:00+08:00", "2025-11-05 08:00:00+08:00"),  # before the period
]


@pytest.fixture
def figures(complete):
    """The complete set plus the records above, signed; returns (qdocs, record ids by key)."""
    made: dict[str, str] = {}
    for lot, *_ in INSPECTIONS:  # a lot is known once its production plan is on file
        made[f"plan {lot}"] = complete.new("production-plan", example(
            complete.catalog, "production-plan", product=PRODUCT, lot=lot), when=NOW)
    for lot, day, conclusion, _, _ in INSPECTIONS:
        made[f"FIR {lot}"] = complete.new("final-inspection", example(
            complete.catalog, "final-inspection", product=PRODUCT, lot=lot, inspection_date=day,
            conclusion=conclusion), when=NOW)
    for lot, day, cause, _ in NONCONFORMANCES:
        made[f"NCR {lot}"] = complete.new("nonconformance", example(
            complete.catalog, "nonconformance", product=PRODUCT, lot=lot, found_date=day, cause=cause), when=NOW)
    for case, received, replied in CASES:
        made[case] = complete.new("customer-inquiry", example(
            complete.catalog, "customer-inquiry", case=case, product_id=PRODUCT, received_at=received,
            replied_at=replied), when=NOW)
    made["SUP-OLD"] = complete.new("supplier-evaluation", example(
        complete.catalog, "supplier-evaluation", supplier="SUP-OLD", evaluation_date="2025-06-01",
        next_assessment_due="2026-06-01", conclusion="qualified"), when=NOW)
    made["SUP-DUE"] = complete.new("supplier-evaluation", example(
        complete.catalog, "supplier-evaluation", supplier="SUP-DUE", evaluation_date="2025-07-15",
        next_assessment_due="2026-07-15", conclusion="qualified"), when=NOW)
    made["EQ-CNC-07"] = complete.new("equipment-maintenance", example(
        complete.catalog, "equipment-maintenance", equipment="EQ-CNC-07", maintenance_date="2026-06-01",
        next_due="2026-12-01"), when=NOW)
    complete.sign(list(made.values()), when=NOW)
    for lot, _, _, revised, void in INSPECTIONS:
        if revised:
            assert complete("revise", made[f"FIR {lot}"], "--set", f"conclusion={revised}", "--reason", "re-test",
                            when=NOW).exit_code == 0
        if void:
            assert complete("void", made[f"FIR {lot}"], "--reason", "entered twice", when=NOW).exit_code == 0
    for lot, _, _, void in NONCONFORMANCES:
        if void:
            assert complete("void", made[f"NCR {lot}"], "--reason", "entered twice", when=NOW).exit_code == 0
    return complete, made


def kpi_json(qdocs, *args: str) -> dict:
    """``qdocs kpi --json ARGS``, checked equal to the dashboard's JSON twin for the same choice."""
    result = qdocs("kpi", "--json", *args, when=NOW)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert dashboard_twin(qdocs, *args) == report
    return report


def dashboard_twin(qdocs, *args: str) -> dict:
    """``/quality.json`` for the options ``args`` (``--product P --from D --to D``), as the
    auditor sees it, the clock at the same moment as the command's."""
    choice = {name.lstrip("-"): value for name, value in zip(args[::2], args[1::2])}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QDOCS_CLOCK", NOW)
        app = create_app(qdocs.repo, Settings(keys_home=qdocs.home))
        client = app.test_client()
        login(client, "auditor", PASSPHRASE)
        answer = client.get("/quality.json?" + urlencode(choice))
    assert answer.status_code == 200, answer.text
    twin = answer.get_json()
    twin.pop("charts")
    return twin


def test_first_pass_yield_by_month(figures):
    qdocs, _ = figures
    report = kpi_json(qdocs, "--product", PRODUCT, "--from", "2026-01-01", "--to", "2026-06-30")
    inspected, passed = Counter(), Counter()
    for lot, day, conclusion, revised, void in INSPECTIONS:
        if not void and "2026-01-01" <= day <= "2026-06-30":
            inspected[day[:7]] += 1
            passed[day[:7]] += revised is None and conclusion == "pass"
    expected = [{"month": month, "inspections": inspected[month], "first_pass": passed[month],
                 "yield": round(passed[month] / inspected[month], 4) if inspected[month] else None}
                for month in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")]
    assert report["first_pass_yield"] == expected
    assert expected[3] == {"month": "2026-04", "inspections": 3, "first_pass": 1, "yield": 0.3333}


def test_nonconformances_by_product_and_cause(figures):
    qdocs, _ = figures
    report = kpi_json(qdocs, "--product", PRODUCT, "--from", "2026-01-01", "--to", "2026-06-30")
    counted = [" ".join(cause.split()) for _, day, cause, void in NONCONFORMANCES
               if not void and "2026-01-01" <= day <= "2026-06-30"]
    by_cause = sorted(Counter(counted).items(), key=lambda item: (-item[1], item[0]))
    running, expected = 0, []
    for cause, count in by_cause:
        running += count
        expected.append({"cause": cause, "count": count, "share": round(count / len(counted), 4),
                         "cumulative": round(running / len(counted), 4)})
    ncr = report["nonconformances"]
    assert ncr["by_cause"] == expected == [
        {"cause": "Debris on seal faces", "count": 3, "share": 0.75, "cumulative": 0.75},
        {"cause": "Wrong bolt torque", "count": 1, "share": 0.25, "cumulative": 1.0}]
    assert ncr["total"] == len(counted) == 4
    assert ncr["by_product"] == [{"product": PRODUCT, "count": 4, "share": 1.0, "cumulative": 1.0}]
    # every product: the complete set's nonconformance of March (PUMP-X200) joins them
    everything = kpi_json(qdocs, "--from", "2026-01-01", "--to", "2026-06-30")["nonconformances"]
    assert [(row["product"], row["count"]) for row in everything["by_product"]] == [(PRODUCT, 4), ("PUMP-X200", 1)]


def test_customer_cases_against_the_reply_limit(figures):
    qdocs, made = figures
    report = kpi_json(qdocs, "--product", PRODUCT, "--from", "2026-01-01", "--to", "2026-06-30")
    from qdocs.audit.dates import parse_moment

    hours = {case: (parse_moment(replied) - parse_moment(received)).total_seconds() / 3600
             for case, received, replied in CASES if "2026-01-01" <= received[:10] <= "2026-06-30"}
    cases = report["customer_cases"]
    assert cases["limit_hours"] == 24  # rule A1 of the rules file in force
    assert [(case["case"], case["hours"]) for case in cases["cases"]] == sorted(
        ((case, round(value, 2)) for case, value in hours.items()), key=lambda item: made[item[0]])
    assert (cases["total"], cases["within"], cases["over"], cases["no_reply_time"]) == (
        len(hours), sum(value <= 24 for value in hours.values()), sum(value > 24 for value in hours.values()), 0)
    assert (cases["within"], cases["over"]) == (2, 1)


def test_supplier_evaluations_due_and_expired_and_maintenance_overdue(figures):
    qdocs, made = figures
    report = kpi_json(qdocs)  # the default period: twelve months to the clock's today
    assert (report["from"], report["to"]) == ("2025-07-01", "2026-06-30")
    suppliers = report["supplier_evaluations"]
    assert suppliers["expired"] == [{"supplier": "SUP-OLD", "evaluation": made["SUP-OLD"], "valid_until": "2026-06-01"}]
    assert suppliers["due"] == [{"supplier": "SUP-DUE", "evaluation": made["SUP-DUE"], "valid_until": "2026-07-15"}]
    maintenance = report["maintenance"]  # EQ-CNC-07 maintained again in June; EQ-BAL-02 was due 2026-05-20
    assert [(row["equipment"], row["due"], row["days_overdue"]) for row in maintenance["overdue"]] == [
        ("EQ-BAL-02", "2026-05-20", 41)]
    # the same judgement as the audit's rules A3 and A4 on that day
    audit = json.loads(qdocs("audit", "--json", when=NOW).stdout)
    rules = {result["rule"]: result for result in audit["after_sales"]}
    assert [finding["status"] for finding in rules["A3"]["findings"]] == ["expired"]
    assert "SUP-OLD" in rules["A3"]["findings"][0]["text"]
    assert [finding["text"].split(":")[0] for finding in rules["A4"]["findings"]] == ["equipment EQ-BAL-02"]


@pytest.mark.parametrize("arguments, message", [
    (["--from", "2026-13-01"], "qdocs: error: --from '2026-13-01': write a date as YYYY-MM-DD"),
    (["--to", "yesterday"], "qdocs: error: --to 'yesterday': write a date as YYYY-MM-DD"),
    (["--from", "2026-06-01", "--to", "2026-05-01"], "qdocs: error: --from 2026-06-01 is after --to 2026-05-01"),
    (["--product", "NO-SUCH"], "qdocs: error: unknown product NO-SUCH"),
])
def test_bad_input_is_one_line_and_exit_2(complete, arguments, message):
    result = complete("kpi", *arguments, when=NOW)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_charts_are_valid_svg_and_png(figures, tmp_path: Path):
    qdocs, _ = figures
    folder = tmp_path / "charts"
    result = qdocs("kpi", "--svg", str(folder), "--png", str(folder), when=NOW)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        f"{name}.{extension}" for name in kpicharts.NAMES for extension in ("svg", "png"))
    for name in kpicharts.NAMES:
        assert ElementTree.parse(folder / f"{name}.svg").getroot().tag == "{http://www.w3.org/2000/svg}svg"
        assert (folder / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_charts_fall_back_to_english_without_a_cjk_font(figures, tmp_path: Path, monkeypatch):
    qdocs, _ = figures
    monkeypatch.setattr(kpicharts, "CJK_FAMILIES", ("No Such Font",))
    written = kpicharts.write_charts(kpi_json(qdocs), tmp_path, ("svg",))
    assert [path.name for path in written] == [f"{name}.svg" for name in kpicharts.NAMES]
