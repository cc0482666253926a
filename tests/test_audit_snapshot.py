"""How the audit reads the records: committed state from git, the fact cache, two cores."""

from __future__ import annotations

from pathlib import Path

from qdocs.actions import create_records, void_record
from qdocs.audit import extraction, parallel
from qdocs.audit.evaluation import run_audit
from qdocs.audit.facts import CACHE_FOLDER
from qdocs.queries import iter_records
from qdocs.repository import Repository
from tests.conftest import example_values, git


def _lots(repo_path: Path, catalog, count: int) -> Repository:
    """``count`` lots in one batch each of plans and final inspections (unsigned), one void."""
    repository = Repository.open(repo_path)
    for type_id in ("production-plan", "final-inspection"):
        values = example_values(catalog, type_id)
        create_records(repository, type_id, [{**values, "lot": f"L{number:03d}",
                                           "product": "PUMP-X200" if number % 2 else "VALVE-DN50"}
                                          for number in range(count)], "tester")
    final = list(iter_records(repository, type_id="final-inspection", lot="L001"))[0]
    void_record(repository, final.id, "wrong lot", "tester")
    return repository


def _flatten(report) -> list:
    return [(lot.product, lot.lot, [(result.rule.id, result.status, result.outcome.evidence, result.outcome.findings)
                                    for result in lot.results]) for lot in report.lots]


def test_two_processes_give_the_same_report_as_one(repo_path: Path, catalog, monkeypatch):
    repository = _lots(repo_path, catalog, 8)
    alone = run_audit(repository)
    monkeypatch.setattr(parallel, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parallel, "second_core_free", lambda: True)  # fork whatever the machine's load
    monkeypatch.setattr(extraction, "PARALLEL_FROM", 2)
    for path in (repo_path / CACHE_FOLDER).glob("audit-facts-*"):
        path.unlink()  # so the records are parsed again, by the worker processes this time
    shared = run_audit(Repository.open(repo_path))
    assert _flatten(shared) == _flatten(alone)
    assert len(shared.lots) == 8 and shared.records == 16
    statuses = {lot.lot: lot.results[-1].status for lot in shared.lots}
    assert statuses["L001"] == "missing" and statuses["L002"] == "unsigned"


def test_facts_are_cached_outside_git_and_a_damaged_cache_is_rebuilt(repo_path: Path, catalog):
    repository = _lots(repo_path, catalog, 2)
    first = _flatten(run_audit(repository))
    (cache,) = (repo_path / CACHE_FOLDER).glob("audit-facts-*.marshal")
    assert git(repo_path, "status", "--porcelain") == ""  # .qdocs/cache is ignored by git
    cache.write_bytes(b"\x00 not a cache")
    assert _flatten(run_audit(Repository.open(repo_path))) == first
    assert cache.read_bytes() != b"\x00 not a cache"


def test_the_audit_judges_what_is_committed(repo_path: Path, catalog):
    repository = _lots(repo_path, catalog, 2)
    final = list(iter_records(repository, type_id="final-inspection", lot="L000"))[0]
    record_file = repo_path / final.path / "record.yaml"
    record_file.write_text(record_file.read_text(encoding="utf-8").replace("status: draft", "status: approved"),
                           encoding="utf-8")
    report = run_audit(Repository.open(repo_path), lot="L000")
    assert report.lots[0].results[-1].status == "unsigned"  # a hand edit in the work tree does not count
    git(repo_path, "add", final.path)  # staged, not committed: still HEAD that counts
    report = run_audit(Repository.open(repo_path), lot="L000")
    assert report.lots[0].results[-1].status == "unsigned"
    assert report.commit == git(repo_path, "rev-parse", "HEAD").strip()
