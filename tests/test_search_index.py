"""The search index follows the repository: actions, outside changes, rebuilds,
damage, killed writers and concurrent writers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qdocs.actions import create_record
from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.search.engine import indexed_fingerprints
from qdocs.search.index import SearchIndex
from tests.conftest import PROJECT, example_values, git, qdocs_process, write_example


def index_state(repo: Path) -> dict:
    """What the index holds, read directly: no search, so no catch-up."""
    folder = repo / ".qdocs" / "index"
    generation = folder / (folder / "CURRENT").read_text().strip()
    state = json.loads((generation / "state.json").read_text())
    return {"commit": state["commit"], "records": indexed_fingerprints(generation, state["toc"]), "generation": generation.name}


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def ids_found(run, query: str) -> list[str]:
    result = run("search", query, "--json", "--limit", "100")
    assert result.exit_code in (0, 1), result.output
    return [hit["id"] for hit in json.loads(result.stdout)["results"]] if result.exit_code == 0 else []


def create(repo: Path, catalog, type_id: str = "final-inspection", **changes) -> str:
    repository = Repository.open(repo)
    return create_record(repository, type_id, {**example_values(catalog, type_id), **changes}, "tester").id


def test_without_an_index_actions_never_load_the_search_engine(repo_path: Path, tmp_path: Path, catalog):
    data = write_example(catalog, "final-inspection", tmp_path)
    script = (f"import sys, cli; sys.argv = ['qdocs', '--repo', {str(repo_path)!r}, 'new', 'final-inspection', "
              f"'--data', {str(data)!r}]\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
              "print('engine loaded' if any(name.startswith(('tantivy', 'whoosh', 'qdocs.search.engine')) "
              "for name in sys.modules) else 'no engine')")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT)
    assert result.stdout.strip().splitlines()[-1] == "no engine", result.stdout + result.stderr
    assert not (repo_path / ".qdocs" / "index").exists()


def test_missing_index_is_built_by_the_first_search_with_a_notice(repo_path: Path, run, catalog):
    record_id = create(repo_path, catalog)
    result = run("search", "出厂检验")
    assert result.exit_code == 0, result.output
    assert record_id in result.stdout
    assert "qdocs: search index not found: built it from 1 record(s)" in result.stderr
    assert index_state(repo_path)["commit"] == head(repo_path)
    assert "search index" not in run("search", "出厂检验").stderr


def test_actions_leave_the_index_alone_and_the_next_search_finds_each_change(signing, repo_path: Path, catalog,
                                                                           tmp_path: Path):
    run = signing
    assert run("index", "rebuild").exit_code == 0
    rebuilt = index_state(repo_path)
    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path)),
                    "--set", "standard=试验台编号 BENCH-7").output.strip()
    assert index_state(repo_path) == rebuilt  # the action cost no indexing
    assert ids_found(run, "BENCH-7") == [record_id]
    assert index_state(repo_path)["commit"] == head(repo_path)

    steps = [
        ("revise", record_id, "--set", "standard=返修后复检 retest after rework", "--reason", "retest"),
        ("sign", record_id, "--as", "inspector", "--meaning", "inspected", "--comment", "复核无误"),
        ("void", record_id, "--reason", "entered against the wrong lot"),
    ]
    for step in steps:
        before = index_state(repo_path)
        result = run(*step)
        assert result.exit_code == 0, result.output
        assert index_state(repo_path) == before, step
        assert run("index", "status").exit_code == 1  # behind HEAD until the next search
    # every change is searchable: the first search catches up with all three
    assert ids_found(run, "返修后复检") == [record_id] and ids_found(run, "BENCH-7") == []
    assert index_state(repo_path)["commit"] == head(repo_path)
    assert ids_found(run, "signers:inspector") == [record_id]
    assert ids_found(run, "复核无误") == [record_id]
    assert ids_found(run, "status:void AND wrong lot") == [record_id]
    assert run("index", "status").exit_code == 0


def test_index_update_catches_up_at_once_and_builds_a_missing_index(repo_path: Path, run, catalog):
    create(repo_path, catalog)
    assert run("index", "rebuild").exit_code == 0
    ids = [create(repo_path, catalog, lot=f"L2026-06{number}") for number in range(3)]
    result = run("index", "update")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("indexed 3 record(s)") and head(repo_path)[:10] in result.stdout
    state = index_state(repo_path)
    assert state["commit"] == head(repo_path) and {path.rsplit("/", 1)[-1] for path in state["records"]} >= set(ids)
    assert run("index", "update").stdout.startswith("indexed 0 record(s)")
    shutil.rmtree(repo_path / ".qdocs" / "index")
    rebuilt = run("index", "update")
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("indexed 4 record(s)")
    assert "search index not found: built it from 4 record(s)" in rebuilt.stderr
    assert run("index", "status").exit_code == 0


def test_outside_changes_are_caught_up_by_the_next_search(repo_path: Path, run, catalog, tmp_path: Path):
    first = create(repo_path, catalog)
    second = create(repo_path, catalog, lot="L2026-040")
    assert run("index", "rebuild").exit_code == 0
    indexed = head(repo_path)
    # another copy creates a record; this copy pulls it in
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo_path), str(clone))
    assert qdocs_process("--repo", str(clone), "init", "--site", "S2").returncode == 0
    pulled = create(clone, catalog, lot="L2026-041", product_name="隔膜泵 Diaphragm pump")
    git(repo_path, "pull", "-q", "--no-rebase", "--no-edit", str(clone), "main")
    # and someone removes a record folder by hand, committing with git alone
    folder = get_record(Repository.open(repo_path), second).path
    git(repo_path, "rm", "-rq", folder)
    git(repo_path, "-c", "user.name=hand", "-c", "user.email=hand@example.com", "commit", "-qm", "hand edit")

    status = run("index", "status", "--json")
    assert status.exit_code == 1
    report = json.loads(status.stdout)
    assert report["indexed_commit"] == indexed and report["head"] == head(repo_path)
    assert [path.rsplit("/", 1)[-1] for path in report["missing"]] == [pulled]
    assert [path.rsplit("/", 1)[-1] for path in report["removed"]] == [second]

    assert ids_found(run, "隔膜泵") == [pulled]
    assert ids_found(run, "lot:L2026-040") == []
    assert sorted(ids_found(run, "type:final-inspection")) == sorted([first, pulled])
    assert index_state(repo_path)["commit"] == head(repo_path)
    assert run("index", "status").exit_code == 0


def test_status_names_stale_records(repo_path: Path, run, catalog):
    record_id = create(repo_path, catalog)
    run("index", "rebuild")
    folder = repo_path / get_record(Repository.open(repo_path), record_id).path
    text = (folder / "record.yaml").read_text(encoding="utf-8")
    (folder / "record.yaml").write_text(text.replace("first issue", "first issue (note added by hand)"),
                                        encoding="utf-8")
    git(repo_path, "-c", "user.name=hand", "-c", "user.email=hand@example.com", "commit", "-qam", "hand edit")
    status = run("index", "status")
    assert status.exit_code == 1
    assert f"stale    {record_id}" in status.stdout and "1 stale" in status.stdout
    assert ids_found(run, "note added by hand") == [record_id]
    assert run("index", "status").stdout.strip().endswith("current")


def test_rebuild_replaces_the_index_atomically(repo_path: Path, run, catalog):
    ids = [create(repo_path, catalog, lot=f"L2026-05{number}") for number in range(3)]
    first = run("index", "rebuild")
    assert first.exit_code == 0 and first.stdout.startswith("indexed 3 record(s) in ")
    old = index_state(repo_path)["generation"]
    assert run("index", "rebuild").exit_code == 0
    state = index_state(repo_path)
    assert state["generation"] != old and not (repo_path / ".qdocs" / "index" / old).exists()
    assert len(state["records"]) == 3
    assert sorted(ids_found(run, "出厂检验")) == sorted(ids)


def test_damaged_index_is_rebuilt_with_a_notice(repo_path: Path, run, catalog):
    record_id = create(repo_path, catalog)
    run("index", "rebuild")
    generation = repo_path / ".qdocs" / "index" / index_state(repo_path)["generation"]
    for path in generation.iterdir():
        if path.name != "state.json":
            path.write_bytes(b"\0garbage" * 3)
    result = run("search", "出厂检验")
    assert result.exit_code == 0, result.output
    assert record_id in result.stdout
    assert "qdocs: the search index was damaged (" in result.stderr
    assert "rebuilt it from 1 record(s)" in result.stderr
    assert run("index", "status").exit_code == 0

    (repo_path / ".qdocs" / "index" / "CURRENT").write_text("nonsense")
    result = run("search", "出厂检验")
    assert result.exit_code == 0
    assert "the search index was damaged (.qdocs/index/CURRENT names no index)" in result.stderr


def test_an_index_another_version_of_the_engine_wrote_is_rebuilt(repo_path: Path, run, catalog):
    from dataclasses import replace

    from qdocs.search.manifest import read_state, write_state

    record_id = create(repo_path, catalog)
    run("index", "rebuild")
    generation = repo_path / ".qdocs" / "index" / index_state(repo_path)["generation"]
    write_state(generation, replace(read_state(generation), engine="tantivy 0.26.0"))
    result = run("search", "出厂检验")
    assert result.exit_code == 0 and record_id in result.stdout, result.output
    assert ("the search index was written by another version of the search engine (tantivy 0.26.0); "
            "rebuilt it from 1 record(s)") in result.stderr
    assert read_state(repo_path / ".qdocs" / "index" / index_state(repo_path)["generation"]).engine.startswith(
        "tantivy v0.27")


def test_damaged_state_and_older_format_are_rebuilt(repo_path: Path, run, catalog):
    create(repo_path, catalog)
    run("index", "rebuild")
    generation = repo_path / ".qdocs" / "index" / index_state(repo_path)["generation"]
    (generation / "state.json").write_text('{"format": 0, "commit": "x"}')
    result = run("search", "检验")
    assert result.exit_code == 0 and "older format" in result.stderr


def test_a_killed_rebuild_leaves_the_live_index_working(repo_path: Path, run, catalog):
    record_id = create(repo_path, catalog)
    run("index", "rebuild")
    live = index_state(repo_path)["generation"]
    killed = qdocs_process("--repo", str(repo_path), "index", "rebuild", env={"QDOCS_CRASH_AT": "index-write"})
    assert killed.returncode == 137
    assert index_state(repo_path)["generation"] == live
    result = run("search", "出厂检验")
    assert result.exit_code == 0 and record_id in result.stdout and result.stderr == ""
    assert run("index", "rebuild").exit_code == 0
    leftovers = [path.name for path in (repo_path / ".qdocs" / "index").iterdir() if path.is_dir()]
    assert leftovers == [index_state(repo_path)["generation"]]


def test_a_writer_killed_after_the_commit_loses_nothing(repo_path: Path, run, catalog, tmp_path: Path):
    create(repo_path, catalog)
    run("index", "rebuild")
    create(repo_path, catalog, lot="L2026-077")
    killed = qdocs_process("--repo", str(repo_path), "index", "update", env={"QDOCS_CRASH_AT": "index-commit"})
    assert killed.returncode == 137  # the index was written but not its commit
    assert index_state(repo_path)["commit"] != head(repo_path)
    result = run("search", "lot:L2026-077")  # the files state.json names are intact: caught up, not rebuilt
    assert result.exit_code == 0 and result.stdout.startswith("FIR-") and result.stderr == ""
    assert run("index", "status").exit_code == 0


def test_concurrent_writers_and_searchers_lose_no_index_update(repo_path: Path, run, catalog, tmp_path: Path):
    create(repo_path, catalog)
    assert run("index", "rebuild").exit_code == 0
    environment = {"QDOCS_LOCK_TIMEOUT": "120"}

    def writer(number: int) -> list[str]:
        data = write_example(catalog, "final-inspection", tmp_path / f"w{number}", lot=f"L2026-{number:03d}")
        created = []
        for _ in range(2):
            result = qdocs_process("--repo", str(repo_path), "--actor", f"w{number}", "new", "final-inspection",
                                   "--data", str(data), env=environment)
            assert result.returncode == 0, result.stderr
            created.append(result.stdout.strip())
            # each writer then brings the index up to date, as a scheduled job would
            updated = qdocs_process("--repo", str(repo_path), "index", "update", env=environment)
            assert updated.returncode == 0, updated.stderr
        return created

    def searcher(_: int) -> None:
        for _ in range(3):
            result = qdocs_process("--repo", str(repo_path), "search", "出厂检验", env=environment)
            assert result.returncode == 0, result.stderr

    for number in range(3):
        (tmp_path / f"w{number}").mkdir()
    with ThreadPoolExecutor(5) as pool:
        writers = [pool.submit(writer, number) for number in range(3)]
        searchers = [pool.submit(searcher, number) for number in range(2)]
        created = [record_id for future in writers for record_id in future.result()]
        for future in searchers:
            future.result()
    assert len(set(created)) == 6
    state = index_state(repo_path)  # read directly: nothing has caught up since the last writer's update
    assert state["commit"] == head(repo_path)
    indexed_ids = {path.rsplit("/", 1)[-1] for path in state["records"]}
    assert set(created) <= indexed_ids and len(indexed_ids) == 7
    assert run("index", "status").exit_code == 0


def test_index_status_without_an_index(repo_path: Path, run, catalog):
    create(repo_path, catalog)
    result = run("index", "status")
    assert result.exit_code == 1
    assert "no search index: 1 record(s) not indexed (create it: qdocs index rebuild)" in result.stdout
    assert json.loads(run("index", "status", "--json").stdout)["exists"] is False


def test_unreadable_record_is_named_and_the_rest_indexed(repo_path: Path, run, catalog):
    good = create(repo_path, catalog)
    broken = repo_path / "lot" / "PUMP-X200" / "L2026-099" / "FIR-S1-2026-0999"
    broken.mkdir(parents=True)
    (broken / "record.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    git(repo_path, "add", "-A")
    git(repo_path, "-c", "user.name=hand", "-c", "user.email=hand@example.com", "commit", "-qm", "broken by hand")
    result = run("search", "出厂检验")
    assert result.exit_code == 0 and good in result.stdout
    assert "not searchable, cannot be read: lot/PUMP-X200/L2026-099/FIR-S1-2026-0999" in result.stderr


def test_search_index_api_reports_progress(repo_path: Path, catalog):
    create(repo_path, catalog)
    create(repo_path, catalog, lot="L2026-100")
    calls: list[tuple[int, int]] = []
    assert SearchIndex(Repository.open(repo_path)).rebuild(lambda done, total: calls.append((done, total))) == 2
    assert calls[-1] == (2, 2)
    assert os.listdir(repo_path / ".qdocs" / "index")


def test_a_parallel_rebuild_with_more_processes_than_work(repo_path: Path, run, catalog, monkeypatch):
    """Records are read in three processes for three records (one of them gets none);
    the index holds exactly what its state names, besides tantivy's own bookkeeping."""
    from qdocs.search import build
    from qdocs.search.engine import ENGINE_FILES

    ids = [create(repo_path, catalog, lot=f"L2026-06{number}") for number in range(3)]
    monkeypatch.setattr(build, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(build.os, "cpu_count", lambda: 3)
    assert build.workers_for(3) == 3
    result = run("index", "rebuild")
    assert result.exit_code == 0, result.output
    state = index_state(repo_path)
    generation = repo_path / ".qdocs" / "index" / state["generation"]
    named = json.loads((generation / "state.json").read_text())["files"]
    assert sorted(path.name for path in generation.iterdir() if path.name not in ENGINE_FILES) \
        == sorted([*named, "state.json"])
    assert sorted(ids_found(run, "出厂检验")) == sorted(ids) and len(state["records"]) == 3


def test_a_read_failing_while_writers_replace_the_index_is_tried_again_on_the_newer_one(repo_path: Path, run,
                                                                                         catalog):
    create(repo_path, catalog)
    assert run("index", "rebuild").exit_code == 0
    index = SearchIndex(Repository.open(repo_path))
    index._heal = lambda: (_ for _ in ()).throw(AssertionError("healed an index that was only replaced"))
    read_at: list[str] = []

    def read(generation: Path, state) -> str:
        read_at.append(state.commit)
        if len(read_at) <= 3:  # more often than the one plain retry
            create(repo_path, catalog, lot=f"L2026-09{len(read_at)}")
            index.catch_up()  # another process puts a newer commit of the index in place meanwhile
            raise FileNotFoundError("a segment file of the older commit is gone")
        return state.commit

    assert index._reading(read) == head(repo_path)
    assert len(set(read_at)) == 4
