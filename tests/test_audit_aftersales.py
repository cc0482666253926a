"""After-sales rules A1-A4 and the qualified supplier list, through the command line."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

from docx import Document

from qdocs.audit.suppliers import supplier_list
from qdocs.repository import Repository
from tests.test_audit_helpers import BUILT, RELEASED, after_sales_of, complete, example, ids_of, rewrite_rules  # noqa: F401


#: the day the complete set was released on qdocs' clock (its records carry those moments, not today)
RELEASE_DAY = RELEASED[:10]

def test_after_sales_rules_hold_for_the_complete_set(complete):
    code, report = complete.audit_json("--as-of", RELEASE_DAY)
    assert code == 0
    rules = after_sales_of(report)
    assert {rule: entry["status"] for rule, entry in rules.items()} == {
        "A1": "ok", "A2": "ok", "A3": "ok", "A4": "ok"}
    assert rules["A1"]["evidence"] == ids_of(complete, "customer-inquiry")
    assert set(rules["A2"]["evidence"]) == set(ids_of(complete, "staff-training"))
    assert {entry["severity"] for entry in rules.values()} == {"warn"}


def test_late_reply_untrained_handler_and_unsigned_inquiry(complete):
    late = complete.new("customer-inquiry", example(
        complete.catalog, "customer-inquiry", case="C-2026-002", received_at="2026-03-25 09:30:00+08:00",
        replied_at="2026-03-26 15:30:00+08:00", handled_by="wang.wu"))
    assert complete.last.stderr == ("qdocs: warning: customer-inquiry: handled_by 'wang.wu': no staff wang.wu on file "
                                    "(no staff-training record)\n")  # accepted with a warning (rules: unknown: warn)
    pending = complete.new("customer-inquiry", example(complete.catalog, "customer-inquiry", case="C-2026-003"))
    complete.sign([late])
    code, report = complete.audit_json()
    rules = after_sales_of(report)
    assert rules["A1"]["status"] == "unsigned"  # the worst finding: an inquiry not signed at all
    assert {"status": "overdue", "text": f"{late} (case C-2026-002, received 2026-03-25 09:30:00+08:00): "
                                         "replied after 30.0 h, the limit is 24 h"} in rules["A1"]["findings"]
    assert any(finding["status"] == "unsigned" and pending in finding["text"] for finding in rules["A1"]["findings"])
    assert rules["A2"]["status"] == "missing"
    assert rules["A2"]["findings"][0]["text"] == (
        f"wang.wu handled case C-2026-002 ({late}) on 2026-03-25 with no training assessment on file")
    # warn rules are reported and do not make the audit fail
    assert code == 0 and report["blocking"] is False and all(lot["may_ship"] for lot in report["lots"])


def test_reply_time_is_a_parameter(complete):
    code, report = complete.audit_json("--as-of", RELEASE_DAY)
    assert after_sales_of(report)["A1"]["status"] == "ok"  # replied after 1 h 35 min
    rewrite_rules(complete.repo, "      hours: 24", "      hours: 1.5", home=complete.home)
    code, report = complete.audit_json("--as-of", RELEASE_DAY)
    assert after_sales_of(report)["A1"]["status"] == "ok"  # the rules in force on that day
    code, report = complete.audit_json()  # today: the rules approved since
    a1 = after_sales_of(report)["A1"]
    assert a1["status"] == "overdue" and "replied after 1.6 h, the limit is 1.5 h" in a1["findings"][0]["text"]


def test_training_after_the_case_is_failed(complete):
    trained = complete.new("staff-training", example(complete.catalog, "staff-training", staff="li.na",
                                                     training_date="2026-04-01"))
    case = complete.new("customer-inquiry", example(complete.catalog, "customer-inquiry", case="C-2026-009",
                                                    handled_by="li.na"))
    complete.sign([trained, case])
    code, report = complete.audit_json()
    a2 = after_sales_of(report)["A2"]
    assert a2["status"] == "failed"
    assert a2["findings"] == [{"status": "failed", "text": (
        f"li.na handled case C-2026-009 ({case}) on 2026-03-25 without a passed training assessment before that day "
        f"(on file: {trained} pass on 2026-04-01)")}]


def test_every_signer_of_a_service_record_must_have_been_trained(complete):
    (service,) = ids_of(complete, "service-record")
    code, report = complete.audit_json()
    assert after_sales_of(report)["A2"]["status"] == "ok"
    (training,) = ids_of(complete, "staff-training", staff="service-manager")
    result = complete("void", training, "--reason", "entered for the wrong employee")
    assert result.exit_code == 0, result.output
    code, report = complete.audit_json()
    a2 = after_sales_of(report)["A2"]
    signed = _local_day(BUILT)  # signing times are UTC; the rule reads the local day
    assert a2["findings"] == [{"status": "missing", "text": (
        f"service-manager signed {service} as reviewed on {signed} with no training assessment on file")}]
    assert a2["status"] == "missing"


def test_a_training_on_the_day_of_the_work_is_not_before_it(complete):
    trained = complete.new("staff-training", example(complete.catalog, "staff-training", staff="li.na",
                                                     training_date="2026-03-25"))
    case = complete.new("customer-inquiry", example(complete.catalog, "customer-inquiry", case="C-2026-009",
                                                    received_at="2026-03-25 09:30:00+08:00", handled_by="li.na"))
    complete.sign([trained, case])
    code, report = complete.audit_json()
    a2 = after_sales_of(report)["A2"]
    assert a2["status"] == "failed"
    assert a2["findings"] == [{"status": "failed", "text": (
        f"li.na handled case C-2026-009 ({case}) on 2026-03-25 without a passed training assessment before that day "
        f"(on file: {trained} pass on 2026-03-25)")}]
    # a company whose rules say the same day counts
    rewrite_rules(complete.repo, "      training_same_day_counts: false", "      training_same_day_counts: true",
                  home=complete.home)
    code, report = complete.audit_json()
    a2 = after_sales_of(report)["A2"]
    assert a2["status"] == "ok" and trained in a2["evidence"]


def test_the_performers_are_checked_on_the_service_day_the_reviewer_on_the_review_day(complete):
    service = complete.new("service-record", example(
        complete.catalog, "service-record", case="C-2026-001", started_at="2026-01-15 09:00:00+08:00",
        closed_at="2026-01-15 16:00:00+08:00", performed_by="zhang.san"), when=BUILT)
    complete.sign([service], when=BUILT)  # performed by service-staff, reviewed by service-manager, on 2026-03-20
    (zhang,) = ids_of(complete, "staff-training", staff="zhang.san")
    (staff,) = ids_of(complete, "staff-training", staff="service-staff")
    code, report = complete.audit_json()
    a2 = after_sales_of(report)["A2"]
    assert a2["findings"] == [
        {"status": "failed", "text": f"zhang.san performed the service of case C-2026-001 ({service}) on 2026-01-15 "
                                     f"without a passed training assessment before that day "
                                     f"(on file: {zhang} pass on 2026-01-20)"},
        {"status": "failed", "text": f"service-staff signed {service} as performed on 2026-01-15 without a passed "
                                     f"training assessment before that day (on file: {staff} pass on 2026-01-20)"},
    ]  # the reviewer, trained on 2026-01-20, reviewed on 2026-03-20: no finding


def _local_day(moment: str) -> str:
    return datetime.datetime.fromisoformat(moment).astimezone().date().isoformat()


def test_supplier_renewal_and_maintenance_due(complete):
    (evaluation,) = ids_of(complete, "supplier-evaluation")
    renewal = complete.new("supplier-evaluation", example(
        complete.catalog, "supplier-evaluation", evaluation_date="2027-02-01", next_assessment_due="2028-02-01"))
    complete.sign([renewal])
    code, report = complete.audit_json("--as-of", "2099-01-01")
    a3 = after_sales_of(report)["A3"]
    assert a3["status"] == "expired"
    assert {"status": "expired", "text": f"supplier SUP-HUATAI: {evaluation} was valid until 2027-01-10, "
                                         f"renewed late by {renewal} on 2027-02-01"} in a3["findings"]
    assert {"status": "expired", "text": f"supplier SUP-HUATAI: evaluation {renewal} expired on 2028-02-01, "
                                         "not renewed"} in a3["findings"]
    a4 = after_sales_of(report)["A4"]
    assert a4["status"] == "overdue" and len(a4["findings"]) == 2  # EQ-BAL-02 and EQ-CNC-07


def test_qualified_supplier_list_marks_expired_and_not_qualified(complete, tmp_path: Path, monkeypatch):
    # the list is made on 2026-12-01 with records made that day, whatever the real date
    day = "2026-12-01T10:00:00+08:00"
    monkeypatch.setenv("QDOCS_CLOCK", day)
    expired = complete.new("supplier-evaluation", example(
        complete.catalog, "supplier-evaluation", supplier="SUP-OLD", supplier_name="旧厂 Old Works",
        evaluation_date="2025-01-05", next_assessment_due="2026-01-05"), when=day)
    refused = complete.new("supplier-evaluation", example(
        complete.catalog, "supplier-evaluation", supplier="SUP-BAD", conclusion="not-qualified"), when=day)
    complete.new("supplier-evaluation", example(complete.catalog, "supplier-evaluation", supplier="SUP-NEW"),
                 when=day)
    complete.sign([expired, refused], when=day)
    document = tmp_path / "suppliers.docx"
    result = complete("suppliers", "--as-of", day[:10], "--json", "--docx", str(document))
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    states = {entry["supplier"]: entry["state"] for entry in listing["suppliers"]}
    assert states == {"SUP-BAD": "not qualified", "SUP-HUATAI": "qualified", "SUP-NEW": "unsigned",
                      "SUP-OLD": "expired"}
    old = next(entry for entry in listing["suppliers"] if entry["supplier"] == "SUP-OLD")
    assert old["evaluation"] == expired and old["valid_until"] == "2026-01-05" and old["name"] == "旧厂 Old Works"
    # the Word document: the table of suppliers, each with its state
    table = Document(io.BytesIO(document.read_bytes())).tables[-2]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][0].startswith("供应商代码") and len(rows) == 5
    assert [row[0] for row in rows[1:]] == ["SUP-BAD", "SUP-HUATAI", "SUP-NEW", "SUP-OLD"]
    assert rows[4][7] == "已过期 expired" and rows[1][7] == "不合格 not qualified" and rows[2][7] == "合格 qualified"
    # the text list agrees, and so does the library
    text = complete("suppliers", "--as-of", day[:10])
    assert text.exit_code == 0 and "SUP-OLD          expired" in text.stdout
    library = supplier_list(Repository.open(complete.repo))
    assert {entry.supplier: entry.state for entry in library.entries}["SUP-OLD"] == "expired"
