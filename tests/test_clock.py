"""The one clock: QDOCS_CLOCK moves or stops "now" for the library and for git alike."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

from qdocs import clock
from qdocs.actions import create_record
from qdocs.clock import ClockError
from tests.conftest import git, new_repository, write_example


def test_a_date_moves_today_and_lets_the_time_run(monkeypatch):
    monkeypatch.setenv("QDOCS_CLOCK", "2031-07-15")
    assert clock.today() == _dt.date(2031, 7, 15)
    first = clock.utc_now()
    assert first.tzinfo is not None and abs((clock.utc_now() - first).total_seconds()) < 5


def test_a_moment_stops_the_clock(monkeypatch):
    monkeypatch.setenv("QDOCS_CLOCK", "2030-01-02T03:04:05+08:00")
    assert clock.now(_dt.timezone(_dt.timedelta(hours=8))).isoformat() == "2030-01-02T03:04:05+08:00"
    assert clock.utc_now().isoformat() == "2030-01-01T19:04:05+00:00"
    assert clock.epoch_seconds() == int(_dt.datetime(2030, 1, 1, 19, 4, 5, tzinfo=_dt.timezone.utc).timestamp())


@pytest.mark.parametrize("setting", ["tomorrow", "2030-13-01", "2030-01-02T03:04:05", "2030/01/02"])
def test_a_clock_that_is_not_a_date_or_moment_is_refused(monkeypatch, setting):
    monkeypatch.setenv("QDOCS_CLOCK", setting)
    with pytest.raises(ClockError, match="QDOCS_CLOCK"):
        clock.now()


def test_records_and_their_commits_carry_the_clocks_moment(tmp_path: Path, catalog, monkeypatch):
    monkeypatch.setenv("QDOCS_CLOCK", "2032-02-29T08:00:00+08:00")
    repository = new_repository(tmp_path / "records", "S1", actor="tester")
    data = write_example(catalog, "final-inspection", tmp_path)
    from qdocs import yamlio

    record = create_record(repository, "final-inspection", yamlio.load(data.read_text(encoding="utf-8")), "tester")
    assert record.id.startswith("FIR-S1-2032-") and record.created.time.startswith("2032-02-29")
    dates = git(tmp_path / "records", "log", "--format=%at %ct").split()
    expected = str(int(_dt.datetime.fromisoformat("2032-02-29T08:00:00+08:00").timestamp()))
    assert set(dates) == {expected}
