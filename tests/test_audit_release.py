"""Release rules R1-R11 through the command line: a complete lot passes, and each kind of gap
shows with its status (missing, unsigned, failed, open, expired, overdue); warn vs block;
release-check exit codes; JSON and HTML output."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from qdocs.audit.evaluation import release_check
from qdocs.queries import iter_records
from qdocs.repository import Repository
from tests.conftest import git
from tests.test_audit_helpers import LOT, PRODUCT, complete, example, ids_of, results_of, rewrite_rules, state  # noqa: F401


def test_complete_lot_may_ship(complete):
    result = complete("release-check", PRODUCT, "--lot", LOT)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{PRODUCT} / {LOT}: may ship")
    code, report = complete.audit_json("--product", PRODUCT)
    assert code == 0 and report["blocking"] is False
    results = results_of(report)
    assert list(results) == [f"R{number}" for number in range(1, 12)]
    assert {rule: entry["status"] for rule, entry in results.items()} == {f"R{n}": "ok" for n in range(1, 12)}
    # evidence names the records that satisfy each rule
    assert results["R11"]["evidence"] == ids_of(complete, "final-inspection")
    assert set(results["R7"]["evidence"]) >= set(ids_of(complete, "in-process-inspection"))
    assert set(results["R6"]["evidence"]) == {*ids_of(complete, "incoming-inspection"),
                                              *ids_of(complete, "supplier-evaluation"),
                                              *ids_of(complete, "purchase-contract-review")}
    # the library agrees, and every record really is approved
    repository = Repository.open(complete.repo)
    lot, _ = release_check(repository, PRODUCT, LOT)
    assert not lot.blocked
    assert {record.status for record in iter_records(repository)} == {"approved"}


def test_final_inspection_missing_then_unsigned_then_failed(complete):
    (final,) = ids_of(complete, "final-inspection")
    assert complete("void", final, "--reason", "wrong lot").exit_code == 0
    result = complete("release-check", PRODUCT, "--lot", LOT)
    assert result.exit_code == 1
    assert f"R11 §2.4.2 missing: no final inspection report / inspection certificate for lot {PRODUCT} / {LOT}" \
        in result.stdout

    failed = complete.new("final-inspection", example(complete.catalog, "final-inspection", conclusion="fail"))
    complete.sign([failed], up_to="approved")
    code, report = complete.audit_json("--lot", LOT)
    assert code == 1 and results_of(report)["R11"]["status"] == "unsigned"
    assert failed in results_of(report)["R11"]["findings"][0]["text"]

    complete.sign([failed])
    code, report = complete.audit_json("--lot", LOT)
    r11 = results_of(report)["R11"]
    assert code == 1 and r11["status"] == "failed" and r11["evidence"] == [failed]
    assert r11["findings"] == [{"status": "failed", "text": f"{failed}: conclusion is fail (needs pass)"}]
    others = {rule: entry["status"] for rule, entry in results_of(report).items() if rule != "R11"}
    assert set(others.values()) == {"ok"}


def test_open_design_finding_and_open_nonconformance(complete):
    (review,) = ids_of(complete, "design-review")
    findings = example(complete.catalog, "design-review")["findings"]
    findings[1]["status"] = "open"
    data = complete.work / "review.yaml"
    from qdocs import yamlio

    data.write_text(yamlio.dump({**example(complete.catalog, "design-review"), "findings": findings}), encoding="utf-8")
    assert complete("revise", review, "--data", str(data), "--reason", "finding 2 reopened").exit_code == 0
    code, report = complete.audit_json("--lot", LOT)
    assert results_of(report)["R2"]["status"] == "unsigned"  # a new revision needs every signature again
    complete.sign([review])
    complete.new("nonconformance", example(complete.catalog, "nonconformance", material_lot="ML-88", product="",
                                           lot="", status="open"))
    ncr_ids = ids_of(complete, "nonconformance", material_lot="ML-88")
    complete.sign(ncr_ids)
    code, report = complete.audit_json("--lot", LOT)
    results = results_of(report)
    assert code == 1
    assert results["R2"]["status"] == "open"
    assert results["R2"]["findings"][0]["text"] == f"{review}: findings row 2: status open (needs closed)"
    assert results["R8"]["status"] == "open"
    assert results["R8"]["findings"] == [{"status": "open", "text":
                                          f"nonconformance report {ncr_ids[0]} on material lot ML-88 is open"}]


def test_expired_supplier_evaluation_and_overdue_maintenance(complete):
    (evaluation,) = ids_of(complete, "supplier-evaluation")
    assert complete("revise", evaluation, "--set", "evaluation_date=2025-01-10", "--set",
                    "next_assessment_due=2026-01-10", "--reason", "dates as on the paper form").exit_code == 0
    machine = ids_of(complete, "equipment-maintenance", equipment="EQ-BAL-02")[0]
    assert complete("revise", machine, "--set", "next_due=2026-03-10", "--reason", "plan corrected").exit_code == 0
    complete.sign([evaluation, machine])
    code, report = complete.audit_json("--lot", LOT)
    results = results_of(report)
    assert code == 1
    assert results["R6"]["status"] == "expired"
    assert (f"supplier SUP-HUATAI: evaluation {evaluation} was valid until 2026-01-10, before 2026-02-25, "
            "the inspection date of") in results["R6"]["findings"][0]["text"]
    assert results["R9"]["status"] == "overdue"
    assert results["R9"]["findings"][0]["text"] == (
        f"equipment EQ-BAL-02: maintenance {machine} was due 2026-03-10, before production day 2026-03-11 "
        "(production 2026-03-01 to 2026-03-20)")


def test_missing_incoming_inspection_and_key_operation(complete):
    inspection = ids_of(complete, "incoming-inspection", material_lot="ML-88")[0]
    seal = [record for record in json.loads(complete("list", "--type", "in-process-inspection", "--json").stdout)
            if record["data"]["operation"].startswith("机械密封装配")][0]["id"]
    for record_id in (inspection, seal):
        assert complete("void", record_id, "--reason", "entered twice").exit_code == 0
    result = complete("release-check", PRODUCT, "--lot", LOT)
    assert result.exit_code == 1
    assert ("R6 §2.2.3, §2.2.1, §2.2.2 missing: no incoming inspection for material lot ML-88 "
            "(不锈钢棒材 304 Stainless steel bar, SUP-HUATAI)") in result.stdout
    assert "R7 §2.3.3 missing: no in-process inspection for key operation 30 机械密封装配 Mechanical seal assembly" \
        in result.stdout
    assert "BLOCKED by 2 release rule(s)" in result.stdout


def test_warn_rule_is_reported_and_does_not_block(complete):
    (final,) = ids_of(complete, "final-inspection")
    assert complete("revise", final, "--set", "quantity=119", "--reason", "one pump kept as sample").exit_code == 0
    assert complete("release-check", PRODUCT, "--lot", LOT).exit_code == 1
    rewrite_rules(complete.repo, "  - id: R11\n    clause: \"§2.4.2\"\n    severity: block",
                  "  - id: R11\n    clause: \"§2.4.2\"\n    severity: warn", home=complete.home)
    result = complete("release-check", PRODUCT, "--lot", LOT)
    assert result.exit_code == 0, result.output
    assert "may ship" in result.stdout and "warnings (do not block shipment):" in result.stdout
    assert f"R11 §2.4.2 unsigned: final inspection report / inspection certificate {final} (draft)" in result.stdout
    code, report = complete.audit_json("--lot", LOT)
    assert code == 0 and results_of(report)["R11"]["severity"] == "warn"


def test_release_check_refuses_unknown_product_lot_and_date(complete):
    before = state(complete.repo)
    for args, message in ((("PUMP-X999", "--lot", LOT), "unknown product PUMP-X999"),
                          ((PRODUCT, "--lot", "L2026-099"), f"unknown lot L2026-099 of {PRODUCT}"),
                          ((PRODUCT, "--lot", LOT, "--as-of", "21.03.2026"), "--as-of '21.03.2026'"),
                          ((PRODUCT, "--lot", "../x"), "subject 'lot'")):
        result = complete("release-check", *args)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("qdocs: error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert complete("audit", "--product", "NOPE").exit_code == 2
    assert state(complete.repo) == before


class _Tables(HTMLParser):
    """Rows of the <table id="matrix"> of an HTML report, cell texts and classes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str]]] = []
        self._in_matrix = False
        self._cell: list[str] | None = None
        self._class = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self._in_matrix = attributes.get("id") == "matrix"
        elif self._in_matrix and tag == "tr":
            self.rows.append([])
        elif self._in_matrix and tag in ("td", "th"):
            self._cell, self._class = [], attributes.get("class") or ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_matrix = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(("".join(self._cell).strip(), self._class))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_json_and_html_reports(complete, tmp_path: Path):
    (final,) = ids_of(complete, "final-inspection")
    assert complete("void", final, "--reason", "re-inspection needed").exit_code == 0
    page = tmp_path / "audit.html"
    result = complete("audit", "--html", str(page))
    assert result.exit_code == 1
    code, report = complete.audit_json()
    assert code == 1 and report["blocking"] is True and report["records"] == 22
    assert report["commit"] == git(complete.repo, "rev-parse", "HEAD").strip()
    statuses = [entry["status"] for entry in results_of(report).values()]
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text and "http" not in text
    parser = _Tables()
    parser.feed(text)
    header, *rows = parser.rows
    assert [cell for cell, _ in header[:3]] == ["Product", "Lot", "R1§2.1.1"]
    (row,) = [row for row in rows if row[1][0] == LOT]
    assert row[0][0] == PRODUCT and [cell for cell, _ in row[2:13]] == statuses
    assert row[12] == ("missing", "block") and row[13] == ("BLOCKED", "block")
    assert f"no final inspection report / inspection certificate for lot {PRODUCT} / {LOT}" in text
    assert "after-sales" in text.lower() and "A4" in text


def test_html_report_names_the_rules_by_repository_path_and_commit(complete, tmp_path: Path):
    """The report is e-mailed: it names ``forms/rules.yaml``, its approved version and the commit
    that brought it, never a path of the machine that made it."""
    page = tmp_path / "audit.html"
    assert complete("audit", "--html", str(page)).exit_code == 0
    text = page.read_text(encoding="utf-8")
    commit = git(complete.repo, "log", "-1", "--format=%h", "--", "forms/rules.yaml").strip()
    assert (f'rules <span id="rules-version">forms/rules.yaml version 1 (approved by admin on ' in text
            and f', commit {commit})</span>' in text)
    assert str(complete.repo) not in text and str(complete.repo.resolve()) not in text
    # an edit waiting for approval changes nothing; once approved, the report names version 2
    rules = complete.repo / "forms" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: warn", "severity: block", 1), encoding="utf-8")
    assert complete("audit", "--html", str(page)).exit_code in (0, 1)
    assert 'forms/rules.yaml version 1 (' in page.read_text(encoding="utf-8")
    rewrite_rules(complete.repo, "severity: warn", "severity: block", home=complete.home)
    assert complete("audit", "--html", str(page)).exit_code in (0, 1)
    changed = git(complete.repo, "log", "-1", "--format=%h", "--", "forms/rules.yaml").strip()
    assert changed != commit and f"forms/rules.yaml version 2 (approved by qc-manager on " in page.read_text(
        encoding="utf-8") and f", commit {changed})</span>" in page.read_text(encoding="utf-8")
    assert "rules forms/rules.yaml" in complete("audit").stdout.splitlines()[0]


def test_each_release_rule_fails_when_its_evidence_goes(complete):
    """R1-R11 one after another: void (or fail) what satisfies a rule and that rule, with its clause,
    turns missing (or failed) while the others keep their status."""
    steps = [("market-survey", "R1", "missing"), ("design-review", "R2", "missing"),
             ("sample-test", "R3", "failed"), ("process-document", "R4", "missing"),
             ("finished-product-inspection", "R10", "failed"), ("production-plan", "R5", "missing")]
    broken: dict[str, str] = {}
    for type_id, rule, status in steps:
        (record_id,) = ids_of(complete, type_id)
        if status == "failed":
            assert complete("revise", record_id, "--set", "conclusion=fail", "--reason", "re-test").exit_code == 0
            complete.sign([record_id])
        else:
            assert complete("void", record_id, "--reason", "withdrawn").exit_code == 0
        broken[rule] = status
        code, report = complete.audit_json("--lot", LOT)
        results = results_of(report)
        assert code == 1 and results[rule]["status"] == status, (rule, results[rule])
        assert all(results[other]["status"] == expected for other, expected in broken.items()
                   if other not in ("R6", "R7", "R9")), results
    # without a process document R7 cannot check key operations; without a plan R6, R8's
    # material lots and R9 have nothing to go on
    assert results["R7"]["findings"][0]["text"].startswith("no approved process document for PUMP-X200")
    for rule in ("R6", "R9"):
        assert results[rule]["status"] == "missing" and "no production plan for lot" in \
            results[rule]["findings"][0]["text"]
    result = complete("release-check", PRODUCT, "--lot", LOT)
    assert result.exit_code == 1
    for rule, clause in (("R1", "§2.1.1"), ("R2", "§2.1.2"), ("R3", "§2.1.3"), ("R4", "§2.3.2"), ("R5", "§2.3.1"),
                         ("R10", "§2.4.1")):
        assert f"  {rule} {clause} " in result.stdout
