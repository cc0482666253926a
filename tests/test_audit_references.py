"""References between records, checked when a record is created (rules file: ``references``)."""

from __future__ import annotations

from pathlib import Path

from qdocs import yamlio
from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from tests.conftest import approve_forms, git, write_example
from tests.test_audit_helpers import complete, example, ids_of, rewrite_rules, state  # noqa: F401


def _refused(qdocs, type_id: str, values: dict, *messages: str) -> None:
    before = state(qdocs.repo)
    data = qdocs.work / "refused.yaml"
    data.write_text(yamlio.dump(values), encoding="utf-8")
    result = qdocs("new", type_id, "--data", str(data))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"qdocs: error: {type_id} unknown reference") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    for message in messages:
        assert message in result.stderr
    assert state(qdocs.repo) == before  # nothing written, no number taken


def test_unknown_references_are_refused(complete):
    plan = example(complete.catalog, "production-plan", lot="L2026-032")
    plan["material_lots"][1]["material_lot"] = "ML-404"
    plan["equipment_used"][0]["equipment_id"] = "EQ-NONE"
    _refused(complete, "production-plan", plan,
             "2 problems: material_lots row 2 material_lot 'ML-404': no material lot ML-404 on file "
             "(no incoming-inspection record); create that record first or correct the reference",
             "equipment_used row 1 equipment_id 'EQ-NONE': no equipment EQ-NONE on file")
    _refused(complete, "incoming-inspection",
             example(complete.catalog, "incoming-inspection", material_lot="ML-95", supplier_id="SUP-NOBODY"),
             "supplier_id 'SUP-NOBODY': no supplier SUP-NOBODY on file")
    _refused(complete, "nonconformance", example(complete.catalog, "nonconformance", lot="L2026-099"),
             "subject lot 'L2026-099': no lot L2026-099 of PUMP-X200 on file (no production-plan record)")
    _refused(complete, "service-record", example(complete.catalog, "service-record", case="C-2099-404"),
             "subject case 'C-2099-404': no case C-2099-404 on file (no customer-inquiry record)")


def test_known_references_are_accepted_and_void_ones_are_not(complete):
    plan = complete.new("production-plan", example(complete.catalog, "production-plan", lot="L2026-032"))
    assert complete.last.stderr == "" and plan.startswith("PPL-")
    (maintenance,) = ids_of(complete, "equipment-maintenance", equipment="EQ-BAL-02")
    assert complete("void", maintenance, "--reason", "machine scrapped").exit_code == 0
    _refused(complete, "production-plan", example(complete.catalog, "production-plan", lot="L2026-033"),
             "equipment_used row 2 equipment_id 'EQ-BAL-02': no equipment EQ-BAL-02 on file")


def test_warned_references_are_accepted_with_a_warning(complete):
    inquiry = complete.new("customer-inquiry", example(complete.catalog, "customer-inquiry", case="C-2026-020",
                                                       product_id="PUMP-X900", lot_id="L1999-001"))
    assert complete.last.stderr.splitlines() == [
        "qdocs: warning: customer-inquiry: product_id 'PUMP-X900': no product PUMP-X900 on file",
        "qdocs: warning: customer-inquiry: lot_id 'L1999-001': no lot L1999-001 of PUMP-X900 on file",
    ]
    assert get_record(Repository.open(complete.repo), inquiry).data["product_id"] == "PUMP-X900"
    # a rules edit makes the same reference refused
    rewrite_rules(complete.repo, "field: product_id, refers_to: product, unknown: warn",
                  "field: product_id, refers_to: product, unknown: refuse", home=complete.home)
    _refused(complete, "customer-inquiry", example(complete.catalog, "customer-inquiry", case="C-2026-021",
                                                   product_id="PUMP-X900"), "product_id 'PUMP-X900'")


def test_a_batch_names_the_record_with_the_unknown_reference(complete):
    rows = [example(complete.catalog, "incoming-inspection", material_lot=f"ML-{number}") for number in (96, 97)]
    rows[1]["supplier_id"] = "SUP-X"
    batch = complete.work / "batch.yaml"
    batch.write_text(yamlio.dump(rows), encoding="utf-8")
    before = state(complete.repo)
    result = complete("new", "incoming-inspection", "--batch", str(batch))
    assert result.exit_code == 2
    assert "record 2: supplier_id 'SUP-X': no supplier SUP-X on file" in result.stderr
    assert "record 1" not in result.stderr
    assert state(complete.repo) == before


def test_fresh_repository_checks_a_kind_once_it_is_kept(run, repo_path: Path, catalog, tmp_path: Path):
    """check_references: once-kept — a repository without incoming inspections yet accepts plans;
    with ``always`` the same plan is refused."""
    plan = write_example(catalog, "production-plan", tmp_path)
    first = run("new", "production-plan", "--data", str(plan))
    assert first.exit_code == 0 and first.stderr == ""
    rules = repo_path / "forms" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("check_references: once-kept",
                                                              "check_references: always"), encoding="utf-8")
    approve_forms(repo_path, "forms/rules.yaml")
    second = run("new", "production-plan", "--data", str(write_example(catalog, "production-plan", tmp_path,
                                                                         lot="L2026-040")))
    assert second.exit_code == 2
    assert "material_lots row 1 material_lot 'ML-88': no material lot ML-88 on file" in second.stderr
    assert len(list(iter_records(Repository.open(repo_path), type_id="production-plan"))) == 1
