"""The rules file: shipped default, copied at init, edited by a company, refused line by line
when malformed; repositories without one fall back to the default with a notice."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from qdocs import clock

from qdocs.actions import create_record
from qdocs.audit.evaluation import run_audit
from qdocs.audit.located import RulesError
from qdocs.audit.rules import default_rules_path, parse_rules, read_rules
from qdocs.repository import Repository
from tests.conftest import approve_forms, git, write_example
from tests.test_audit_helpers import state


def test_shipped_rules_hold_r1_to_r11_and_a1_to_a4(catalog):
    rules = read_rules(default_rules_path(), catalog)
    assert [rule.id for rule in rules.release] == [f"R{number}" for number in range(1, 12)]
    assert [rule.id for rule in rules.after_sales] == ["A1", "A2", "A3", "A4"]
    assert {rule.severity for rule in rules.release} == {"block"}
    assert {rule.severity for rule in rules.after_sales} == {"warn"}
    assert all(rule.description.zh and rule.description.en and rule.clause.startswith("§")
               for rule in (*rules.release, *rules.after_sales))
    assert rules.rule("A1").parameters == {"hours": 24}
    assert rules.rule("R6").parameters["evaluation_validity_months"] == 12
    assert rules.rule("R11").parameters["require"][0]["in"] == ["pass"]
    assert {(reference.type, reference.unknown) for reference in rules.references} >= {
        ("production-plan", "refuse"), ("customer-inquiry", "warn"), ("service-record", "refuse")}


def test_init_copies_the_rules_into_the_repository(repo_path: Path):
    copied = repo_path / "forms" / "rules.yaml"
    assert copied.read_bytes() == default_rules_path().read_bytes()
    assert "forms/rules.yaml" in git(repo_path, "ls-files").split()


def test_repository_without_rules_file_uses_the_default_with_a_notice(run, repo_path: Path, catalog, tmp_path):
    # a repository from before rules (and controlled forms) existed
    git(repo_path, "rm", "-q", "-r", "forms", ".qdocs/forms.yaml")
    git(repo_path, "commit", "-qm", "a repository from before rules existed")
    assert run("init").exit_code == 0  # init on an existing repository without rules: fine
    assert run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))
               ).exit_code == 0
    result = run("audit")
    assert result.exit_code == 1  # the lot has nothing but its final inspection: blocked
    assert "notice:" in result.stderr and "has no .qdocs/rules.yaml; using the default rules" in result.stderr
    assert "R11" in result.stdout and not (repo_path / ".qdocs" / "rules.yaml").exists()


BROKEN = [
    ("release:\n  - id: R1\n    clause: [unclosed\n", "line 4: not valid YAML"),
    ("release:\n  - id: R1\n    clause: '§1'\n    severity: block\n    description: {zh: 一, en: one}\n"
     "    check: recrod\n", "line 6: rule R1: unknown check 'recrod' in 'release'; checks: record, material-lots"),
    ("release:\n  - id: R1\n    clause: '§1'\n    severity: sometimes\n", "line 4: rule R1: severity 'sometimes'"),
    ("after_sales:\n  - id: A1\n    clause: '§3'\n    severity: warn\n    description: {zh: 一, en: one}\n"
     "    check: reply-time\n    parameters:\n      hours: -4\n",
     "line 8: rule A1 (reply-time): hours: expected a positive number, got -4"),
    ("release:\n  - id: R3\n    clause: '§2'\n    severity: block\n    description: {zh: 一, en: one}\n"
     "    check: record\n    parameters:\n      level: product\n      type: sample-test\n      require:\n"
     "        - {field: conclusion, in: [passs]}\n",
     "line 11: rule R3 (record): require: 'passs' is not a value of sample-test.conclusion (pass, fail)"),
    ("release:\n  - id: R5\n    clause: '§2'\n    severity: block\n    description: {zh: 一, en: one}\n"
     "    check: record\n    parameters:\n      level: lot\n      type: market-survey\n",
     "line 9: rule R5 (record): type: market-survey records belong to a product, not a lot"),
    ("release:\n  - id: R5\n    clause: '§2'\n    severity: block\n    description: {zh: 一, en: one}\n"
     "    check: record\n    parameters:\n      level: lot\n      type: final-inspecton\n",
     "line 9: rule R5 (record): type: unknown record type 'final-inspecton'; did you mean final-inspection?"),
    ("references:\n  - {type: production-plna, field: sales_orders, refers_to: lot, unknown: refuse}\n",
     "line 2: reference: unknown record type 'production-plna'; did you mean production-plan?"),
    ("references:\n  - {type: production-plan, field: sales_orders, refers_to: lot, unknown: refuse}\n",
     "line 2: reference: production-plan has no field 'sales_orders'"),
    ("release:\n  - id: R1\n    clause: '§1'\n    severity: block\n    description: {zh: 一, en: one}\n"
     "    check: record\n    parameters: {level: product, type: market-survey}\n  - id: R1\n",
     "line 8: rule id R1 is used twice"),
]


@pytest.mark.parametrize("text, message", BROKEN)
def test_malformed_rules_are_refused_naming_the_line(catalog, text: str, message: str):
    with pytest.raises(RulesError) as error:
        parse_rules(text, "rules.yaml", catalog)
    assert str(error.value).startswith("rules.yaml line ") and message in str(error.value)


def test_a_malformed_rules_file_cannot_be_approved_and_the_approved_rules_stay_in_force(run, repo_path: Path,
                                                                                        catalog, tmp_path):
    rules = repo_path / "forms" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("      hours: 24", "      hours: soon"),
                     encoding="utf-8")
    before = state(repo_path)
    with pytest.raises(Exception) as refused:
        approve_forms(repo_path, "forms/rules.yaml")
    assert "forms/rules.yaml line " in str(refused.value)
    assert "rule A1 (reply-time): hours: expected a positive number, got 'soon'" in str(refused.value)
    # the administrator added the approver (a commit), but no rules were approved
    assert git(repo_path, "log", "-1", "--format=%s").strip().startswith("register signing key")
    result = run("forms", "approve", "forms/rules.yaml", "--as", "qc-manager")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "forms/rules.yaml line " in result.stderr
    # every command keeps the approved rules, and says so
    data = write_example(catalog, "production-plan", tmp_path)
    assert run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))
               ).exit_code == 0
    for args in (("audit",), ("release-check", "PUMP-X200", "--lot", "L2026-031"), ("suppliers",)):
        result = run(*args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert "forms/rules.yaml has changes waiting for approval" in result.stderr
    assert run("new", "production-plan", "--data", str(data)).exit_code == 0


def test_severity_and_parameters_come_from_the_file(repo_path: Path, catalog):
    rules = repo_path / "forms" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("  - id: R1\n    clause: \"§2.1.1\"\n    severity: block",
                                  "  - id: R1\n    clause: \"§2.1.1\"\n    severity: warn"), encoding="utf-8")
    approve_forms(repo_path, "forms/rules.yaml")
    repository = Repository.open(repo_path)
    create_record(repository, "market-survey", {**_example(catalog, "market-survey")}, "tester")
    report = run_audit(repository, as_of=None)
    (product,) = report.lots
    assert product.lot is None and [result.status for result in product.results][:4] == ["unsigned", "missing",
                                                                                           "missing", "missing"]
    assert [result.blocking for result in product.results][:2] == [False, True]
    assert report.day == clock.today(repository.time_zone)  # the company's day, not the machine's


def _example(catalog, type_id: str) -> dict:
    from tests.conftest import example_values

    return example_values(catalog, type_id)
