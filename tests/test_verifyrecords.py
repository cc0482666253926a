"""``qdocs verify`` checking records in several processes says exactly what one process says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qdocs import verifyrecords
from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.test_verify import signed  # noqa: F401 - the fixture


def _report(run) -> dict:
    result = run("verify", "--json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def test_records_checked_in_three_processes_give_the_same_report(signed, repo_path: Path,  # noqa: F811
                                                                  monkeypatch):
    run, ids = signed
    folder = repo_path / get_record(Repository.open(repo_path), ids[1]).path
    (folder / "record.docx").write_bytes(b"changed")  # a finding in the second share
    alone = _report(run)
    assert not alone["clean"] and any("record.docx does not match" in item["message"] for item in alone["findings"])
    monkeypatch.setattr(verifyrecords, "PARALLEL_FROM", 1)
    monkeypatch.setattr(verifyrecords.os, "cpu_count", lambda: 3)
    assert verifyrecords._workers(3) == 3
    together = _report(run)
    assert together == alone and together["records_checked"] == 3 and together["signatures_checked"] == 6


def test_a_checking_process_that_dies_stops_the_command_with_one_line(signed, monkeypatch):  # noqa: F811
    run, _ = signed
    monkeypatch.setattr(verifyrecords, "PARALLEL_FROM", 1)
    monkeypatch.setattr(verifyrecords.os, "cpu_count", lambda: 2)

    def dying(repository, folders, known, check, sending):
        verifyrecords.os._exit(9)

    monkeypatch.setattr(verifyrecords, "_child", dying)
    result = run("verify")
    assert result.exit_code == 3, result.output
    assert "a process checking records ended unexpectedly (exit status 9)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("count, expected", [(1, 1), (verifyrecords.PARALLEL_FROM - 1, 1)])
def test_small_repositories_are_checked_in_one_process(count, expected):
    assert verifyrecords._workers(count) == expected
