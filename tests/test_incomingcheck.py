"""What a sync takes in is checked in proportion to what changed (:mod:`qdocs.incomingcheck`):
only the records the incoming commits touched, the chains and trust log, the numbering."""

from __future__ import annotations

import shutil
from pathlib import Path

import qdocs.incomingcheck as incomingcheck
from qdocs.incomingcheck import numbering_findings, touched_folders
from tests.conftest import git
from tests.test_sync import new_signed_record, qdocs, record_ids, server, sites  # noqa: F401 (fixtures)


class _Counters:
    def __init__(self, after: dict[str, dict[str, int]]) -> None:
        self.after = after

    def registered_sites(self) -> list[str]:
        return sorted(self.after)

    def read_sequences(self, site: str) -> dict[str, int]:
        return self.after.get(site, {})


def test_touched_folders_are_the_record_folders_of_the_changed_files():
    paths = ["lot/P1/L1/FI-S1-2026-0001/record.yaml", "lot/P1/L1/FI-S1-2026-0001/record.docx",
             "lot/P1/L1/FI-S1-2026-0002/attachments/01-report.pdf", ".qdocs/events/S1/0000/00000003.json",
             "forms/catalog.yaml", "README.txt"]
    assert touched_folders(paths) == ["lot/P1/L1/FI-S1-2026-0001", "lot/P1/L1/FI-S1-2026-0002"]


def test_numbering_of_what_came_in_must_fill_the_counter_exactly():
    before = {"S1": {"FI-2026": 3}, "S2": {"FI-2026": 1}}
    assert numbering_findings(_Counters({"S1": {"FI-2026": 5}, "S2": {"FI-2026": 1}}),
                              ["FI-S1-2026-0004", "FI-S1-2026-0005"], before) == []
    gap = numbering_findings(_Counters({"S1": {"FI-2026": 6}, "S2": {"FI-2026": 1}}),
                             ["FI-S1-2026-0004", "FI-S1-2026-0005"], before)
    assert len(gap) == 1 and "went from 3 to 6" in gap[0].message and gap[0].record == ".qdocs/sequences/S1.yaml"
    reused = numbering_findings(_Counters({"S1": {"FI-2026": 3}, "S2": {"FI-2026": 1}}), ["FI-S1-2026-0002"], before)
    assert len(reused) == 1 and "FI-S1-2026-0002" in reused[0].message
    new_counter = numbering_findings(_Counters({**before, "S3": {"NC-2026": 1}}), ["NC-S3-2026-0001"], before)
    assert new_counter == []


def test_a_sync_checks_only_the_records_that_came_in(sites, catalog, tmp_path: Path, monkeypatch):
    for number in range(3):
        new_signed_record(sites["S1"], catalog, tmp_path / f"data{number}")
    assert qdocs(sites["S1"], "sync").exit_code == 0
    assert qdocs(sites["S2"], "sync").exit_code == 0
    incoming = new_signed_record(sites["S1"], catalog, tmp_path / "data-new")
    assert qdocs(sites["S1"], "sync").exit_code == 0
    checked: list[str] = []
    real = incomingcheck.check_record

    def counting(repository, trail, record, *rest, **options):
        checked.append(record.id)
        return real(repository, trail, record, *rest, **options)

    monkeypatch.setattr(incomingcheck, "check_record", counting)
    result = qdocs(sites["S2"], "sync")
    assert result.exit_code == 0, result.output
    assert checked == [incoming], "only the record that came in is checked, not the records already held"
    assert len(record_ids(sites["S2"])) >= 4


def test_a_record_copied_under_its_number_with_plain_git_is_refused(sites, catalog, tmp_path: Path):
    """A copy of a signed record in another folder passes every check of the record itself
    (its files match its events); the numbering of what came in does not."""
    record_id = new_signed_record(sites["S2"], catalog, tmp_path / "data")
    assert qdocs(sites["S2"], "sync").exit_code == 0
    assert qdocs(sites["S1"], "sync").exit_code == 0
    folder = next(sites["S2"].rglob(f"{record_id}/record.yaml")).parent
    copy = folder.parent.parent / "L-COPY" / record_id
    shutil.copytree(folder, copy)
    git(sites["S2"], "add", "-A")
    git(sites["S2"], "commit", "-qm", "copy a record")
    git(sites["S2"], "push", "-q", "origin", "main")
    before = git(sites["S1"], "rev-parse", "HEAD")
    result = qdocs(sites["S1"], "sync")
    assert result.exit_code == 1, result.output
    assert "does not pass qdocs verify" in result.output and ".qdocs/sequences/S2.yaml" in result.output
    assert git(sites["S1"], "rev-parse", "HEAD") == before
