"""Creating and adopting repositories, sites, clones that merge, batches."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs.actions import create_record
from qdocs.founding import init_repository
from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from tests.conftest import example_values, git, new_repository, qdocs_process, repository_state, write_example


def test_init_creates_a_committed_repository(tmp_path: Path):
    result = CliRunner().invoke(cli.cli, ["--actor", "qa", "init", str(tmp_path / "r"), "--site", "SZ",
                                           "--admin", "li.admin", "--full-name", "李 Admin"])
    assert result.exit_code == 0 and "created records repository" in result.output
    repo = tmp_path / "r"
    assert (repo / ".qdocs" / "config.yaml").is_file()
    assert (repo / ".qdocs" / "sites" / "SZ.yaml").is_file()
    assert git(repo, "status", "--porcelain") == ""
    assert "Action: init" in git(repo, "log", "-1", "--format=%B")
    assert git(repo, "log", "-1", "--format=%an").strip() == "li.admin"  # the administrator, proven by the key
    assert (repo / ".qdocs" / "trust" / "root.yaml").is_file() and (repo / "forms" / "catalog.yaml").is_file()
    assert git(repo, "branch", "--show-current").strip() == "main"


def test_init_is_idempotent(tmp_path: Path):
    runner = CliRunner()
    runner.invoke(cli.cli, ["init", str(tmp_path / "r"), "--admin", "admin", "--full-name", "管理员"])
    head = git(tmp_path / "r", "rev-parse", "HEAD")
    again = runner.invoke(cli.cli, ["init", str(tmp_path / "r")])
    assert again.exit_code == 0 and "already a qdocs records repository (site S1)" in again.output
    assert git(tmp_path / "r", "rev-parse", "HEAD") == head


def test_init_refuses_a_non_empty_directory(tmp_path: Path):
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli.cli, ["init", str(tmp_path / "stuff")])
    assert result.exit_code == 2 and "not empty and not a qdocs repository" in result.output
    assert sorted(p.name for p in (tmp_path / "stuff").iterdir()) == ["notes.txt"]


def test_init_accepts_a_directory_with_only_a_placeholder(tmp_path: Path):
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / ".gitkeep").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli.cli, ["init", str(tmp_path / "records"), "--admin", "admin", "--full-name", "管理员"])
    assert result.exit_code == 0


def test_bad_site_code(tmp_path: Path):
    result = CliRunner().invoke(cli.cli, ["init", str(tmp_path / "r"), "--site", "s/1"])
    assert result.exit_code == 2 and "site code" in result.output
    assert not (tmp_path / "r").exists()


def test_repository_from_environment(tmp_path: Path, catalog):
    repo = tmp_path / "env-repo"
    new_repository(repo, "S1")
    data = write_example(catalog, "market-survey", tmp_path)
    process = qdocs_process("new", "market-survey", "--data", str(data), env={"QDOCS_REPO": str(repo), "QDOCS_ACTOR": "li.si"})
    assert process.returncode == 0, process.stderr
    assert git(repo, "log", "-1", "--format=%an").strip() == "li.si"


def test_clones_with_their_own_sites_merge_without_clashing_ids(tmp_path: Path, catalog):
    origin = tmp_path / "origin"
    new_repository(origin, "S1", actor="a")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)

    copy = Repository.open(clone)
    with pytest.raises(Exception, match="no site code"):
        create_record(copy, "market-survey", example_values(catalog, "market-survey"), "b")
    with pytest.raises(Exception, match="already registered"):
        init_repository(clone, "S1", "b")
    _, message = init_repository(clone, "S2", "b")
    assert "registered site S2" in message

    first = create_record(Repository.open(origin), "market-survey", example_values(catalog, "market-survey"), "a")
    second = create_record(Repository.open(clone), "market-survey", example_values(catalog, "market-survey"), "b")
    assert first.id.endswith("-0001") and second.id.endswith("-0001") and first.id != second.id

    git(clone, "-c", "user.name=b", "-c", "user.email=b@x", "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    merged = Repository.open(clone)
    ids = sorted(record.id for record in iter_records(merged))
    assert ids == sorted([first.id, second.id])
    third = create_record(merged, "market-survey", example_values(catalog, "market-survey"), "b")
    assert third.id.split("-")[1] == "S2" and third.id.endswith("-0002")
    assert git(clone, "status", "--porcelain") == ""


def test_batch_from_csv_and_yaml(run, catalog, repo_path: Path, tmp_path: Path):
    rows = ["equipment,maintenance_date,kind,work_done,performed_by,next_due"]
    for number in range(5):
        rows.append(f'EQ-{number},2026-02-0{number + 1},planned,"line 1\nline 2 & <ok>",wang.wu,2026-05-01')
    csv_file = tmp_path / "batch.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    head = git(repo_path, "rev-parse", "HEAD")
    result = run("new", "equipment-maintenance", "--batch", str(csv_file))
    assert result.exit_code == 0, result.output
    ids = result.output.split()
    assert len(ids) == 5 and ids[-1].endswith("-0005")
    assert git(repo_path, "rev-list", "--count", f"{head.strip()}..HEAD").strip() == "1"
    record = get_record(Repository.open(repo_path), ids[0])
    assert record.data["work_done"] == "line 1\nline 2 & <ok>"

    values = example_values(catalog, "final-inspection")
    batch = tmp_path / "batch.yaml"
    batch.write_text(json.dumps([{**values, "lot": f"L{n}"} for n in range(3)], ensure_ascii=False), encoding="utf-8")
    batch_yaml = tmp_path / "batch2.yaml"
    batch_yaml.write_text(batch.read_text(encoding="utf-8"), encoding="utf-8")
    result = run("new", "final-inspection", "--batch", str(batch_yaml), "--json")
    assert [record["subject"]["lot"] for record in json.loads(result.output)] == ["L0", "L1", "L2"]


def test_batch_with_one_bad_row_writes_nothing(run, catalog, repo_path: Path, tmp_path: Path):
    values = example_values(catalog, "final-inspection")
    rows = [{**values, "lot": f"L{n}"} for n in range(4)]
    rows[2]["conclusion"] = "perhaps"
    rows[3]["inspection_date"] = "tomorrow"
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    before = repository_state(repo_path)
    result = run("new", "final-inspection", "--batch", str(batch))
    assert result.exit_code == 2
    assert "record 3: field 'conclusion'" in result.output and "record 4: field 'inspection_date'" in result.output
    assert repository_state(repo_path) == before
