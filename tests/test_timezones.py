"""The company's time zone (``time_zone`` in ``.qdocs/config.yaml``): stamps written in it,
times shown in it (signature block, ``qdocs show``, PDF stamps, audit report), whatever zone
the machine running qdocs is in."""

from __future__ import annotations

import datetime as _dt
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

import cli
from qdocs import timezones, yamlio
from qdocs.pdf.export import printed_now
from qdocs.queries import get_record
from qdocs.repository import CONFIG_PATH, Repository
from qdocs.signatures import SIGNED_ELECTRONICALLY
from tests.conftest import git, inspected_final_inspection, repository_state, write_example

MOMENT = "2026-03-25T06:03:05+00:00"  # Berlin is still on winter time (+01:00) that day
SHOWN = {"Asia/Shanghai": ("2026-03-25 14:03:05 +08:00", "2026-03-25T14:03:05+08:00"),
         "Europe/Berlin": ("2026-03-25 07:03:05 +01:00", "2026-03-25T07:03:05+01:00")}


@pytest.fixture
def machine_zone(monkeypatch):
    """Put the machine in São Paulo (-03:00), a zone no expected value is in; returns a
    function that moves it elsewhere."""
    def move(zone: str | None) -> None:
        if zone is None:
            monkeypatch.delenv("TZ", raising=False)
        else:
            monkeypatch.setenv("TZ", zone)
        time.tzset()

    move("America/Sao_Paulo")
    yield move
    monkeypatch.undo()
    time.tzset()


def set_time_zone(repo: Path, setting: str | None) -> None:
    """Edit ``time_zone`` in the configuration and commit it, as a company would."""
    path = repo / CONFIG_PATH
    config = yamlio.load(path.read_text(encoding="utf-8"))
    if setting is None:
        config.pop("time_zone", None)
    else:
        config["time_zone"] = setting
    path.write_text(yamlio.dump(config), encoding="utf-8")
    git(repo, "commit", "-q", "--allow-empty", "-am", f"time zone {setting}")  # the machine may be there already


@pytest.mark.parametrize("zone", sorted(SHOWN))
def test_stamps_and_shown_times_are_in_the_company_zone(zone, signing, catalog, repo_path: Path, tmp_path: Path,
                                                         monkeypatch, machine_zone):
    shown, stored = SHOWN[zone]
    set_time_zone(repo_path, zone)
    monkeypatch.setenv("QDOCS_CLOCK", MOMENT)
    run = signing
    repository, record = inspected_final_inspection(run, catalog, repo_path, tmp_path)
    record_id = record.id
    assert record.created.time == record.changed.time == stored  # ISO with the company's offset
    assert record.signatures[0]["time"] == "2026-03-25T06:03:05Z"  # what is signed stays UTC

    cells = signature_cells(repo_path / record.path / "record.docx")
    inspected = next(row for row in cells if row[0].startswith("检验"))
    assert inspected[3] == shown
    assert inspected[4].endswith(shown) and SIGNED_ELECTRONICALLY in inspected[4]

    show = run("show", record_id).output
    assert f"created   {shown} by tester" in show
    assert f"signed    检验 inspected by inspector 姓名 (inspector) {shown}" in show
    assert all(f"  {shown}  " in line for line in run("history", record_id).output.splitlines())
    assert printed_now(repository.time_zone) == shown[:16] + shown[19:]
    assert run("audit", "--html", str(tmp_path / "audit.html")).exit_code in (0, 1)
    assert f"generated {shown}." in (tmp_path / "audit.html").read_text(encoding="utf-8")


def signature_cells(path: Path) -> list[list[str]]:
    """The rows of the signature block, read back with python-docx: one list of cell texts each."""
    for table in Document(str(path)).tables:
        header = [cell.text for cell in table.rows[0].cells]
        if header and header[-1].startswith("签名"):
            return [[cell.text for cell in row.cells] for row in table.rows[1:]]
    raise AssertionError("no signature block")


def test_a_repository_without_the_setting_uses_the_machines_zone(signing, catalog, repo_path: Path, tmp_path: Path,
                                                                  monkeypatch, machine_zone):
    set_time_zone(repo_path, None)
    monkeypatch.setenv("QDOCS_CLOCK", MOMENT)
    record_id = signing("new", "final-inspection", "--data",
                        str(write_example(catalog, "final-inspection", tmp_path))).output.strip()
    assert get_record(Repository.open(repo_path), record_id).created.time == "2026-03-25T03:03:05-03:00"


@pytest.mark.parametrize("setting", ["Asia/Shangai", "+8", "../../etc/passwd", "", "25:00"])
def test_a_wrong_zone_in_the_configuration_is_one_line_and_writes_nothing(setting, run, catalog, repo_path: Path,
                                                                         tmp_path: Path):
    set_time_zone(repo_path, setting)
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    result = run("new", "final-inspection", "--data", str(data))
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith(f"qdocs: error: {repo_path.resolve() / CONFIG_PATH}: time_zone {setting!r} is not a "
                           "time zone")
    assert repository_state(repo_path) == before


def test_init_writes_the_zone_given_or_the_machines(tmp_path: Path, machine_zone):
    runner = CliRunner()
    admin = ["--admin", "admin", "--full-name", "管理员"]
    result = runner.invoke(cli.cli, ["--repo", str(tmp_path / "a"), "init", "--time-zone", "Europe/Berlin", *admin])
    assert result.exit_code == 0 and "time zone Europe/Berlin" in result.output
    assert yamlio.load((tmp_path / "a" / CONFIG_PATH).read_text(encoding="utf-8"))["time_zone"] == "Europe/Berlin"
    assert runner.invoke(cli.cli, ["--repo", str(tmp_path / "b"), "init", *admin]).exit_code == 0
    assert yamlio.load((tmp_path / "b" / CONFIG_PATH).read_text(encoding="utf-8"))["time_zone"] == "America/Sao_Paulo"
    result = runner.invoke(cli.cli, ["--repo", str(tmp_path / "c"), "init", "--time-zone", "Mars/Olympus", *admin])
    assert result.exit_code == 2 and "--time-zone 'Mars/Olympus' is not a time zone" in result.output
    assert not (tmp_path / "c").exists()


def test_the_machines_zone_is_found_by_name_or_else_by_offset(machine_zone, monkeypatch, tmp_path: Path):
    machine_zone("Europe/Berlin")
    assert timezones.machine_setting() == "Europe/Berlin"
    machine_zone(":Asia/Tokyo")
    assert timezones.machine_setting() == "Asia/Tokyo"
    machine_zone("CST-8")  # a POSIX rule: the machine is at +08:00, under no name
    monkeypatch.setenv("QDOCS_CLOCK", MOMENT)
    assert timezones.machine_setting() == "+08:00"
    link = tmp_path / "localtime"
    os.symlink("/usr/share/zoneinfo/Asia/Kolkata", link)
    monkeypatch.setattr(timezones, "_LOCALTIME", link)
    machine_zone(None)
    assert timezones.machine_setting() == "Asia/Kolkata"


def test_fixed_offsets_and_display():
    zone = timezones.parse_zone("-05:30", "time_zone")
    moment = _dt.datetime(2026, 3, 25, 6, 3, 5, tzinfo=_dt.timezone.utc)
    assert timezones.display(moment, zone) == "2026-03-25 00:33:05 -05:30"
    assert timezones.zone_setting(zone) == "-05:30"
    assert timezones.display_text("2026-03-25T06:03:05Z", timezones.parse_zone("Asia/Shanghai", "")) == (
        "2026-03-25 14:03:05 +08:00")
    assert timezones.display_text("not a time", zone) == "not a time"
