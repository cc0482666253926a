"""A damaged search index heals itself: every file of a real index is truncated,
garbled or deleted in turn, and the next command answers as before the damage.

One pristine repository is built once (records of three types, Chinese and
English; an index of several segments: a rebuild, then a record the next search
added); each case works on a copy of it.  The records are never revised
there: tantivy counts a replaced document in its term statistics until its
segment is merged, so an index with replaced documents ranks a little
differently from the same records rebuilt.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs.actions import create_record
from qdocs.repository import Repository
from qdocs.search.engine import ENGINE_FILES, EngineFailure
from tests.conftest import PROJECT, example_values, git, new_repository, qdocs_process, write_example

#: An English word, a Chinese word, a field query: each finds several records, ranked.
QUERIES = ("pump", "检验", "type:final-inspection")
INDEX = Path(".qdocs") / "index"


def command(repo: Path, *arguments: str):
    return CliRunner().invoke(cli.cli, ["--repo", str(repo), "--actor", "tester", *arguments],
                              catch_exceptions=False)


def answer(repo: Path, query: str):
    """(ids in order, stderr) of ``qdocs search QUERY --json``."""
    result = command(repo, "search", query, "--json", "--limit", "50")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return [hit["id"] for hit in json.loads(result.stdout)["results"]], result.stderr


@pytest.fixture(scope="session")
def pristine(tmp_path_factory, catalog) -> dict:
    repo = tmp_path_factory.mktemp("damage") / "records"
    repository = new_repository(repo, "S1", actor="tester")

    def create(type_id: str, **changes) -> str:
        return create_record(repository, type_id, {**example_values(catalog, type_id), **changes}, "tester").id

    create("final-inspection")
    create("final-inspection", lot="L2026-032", product_name="离心泵 Centrifugal pump 检验样机")
    create("nonconformance")
    create("incoming-inspection")
    assert command(repo, "index", "rebuild").exit_code == 0
    create("nonconformance", lot="L2026-033",
           description="叶轮检验发现裂纹 Impeller crack found at the pump test")
    expected = {query: answer(repo, query)[0] for query in QUERIES}
    assert all(len(ids) >= 2 for ids in expected.values()), expected
    files = sorted(path.relative_to(repo) for path in (repo / INDEX).rglob("*")
                   if path.is_file() and path.name not in ENGINE_FILES)
    segments = {path.name.split(".", 1)[0] for path in files if re.fullmatch(r"[0-9a-f]{32}\..+", path.name)}
    assert len(segments) >= 2 and any(path.name == "CURRENT" for path in files)
    return {"repo": repo, "expected": expected, "files": files}


def damaged(content: bytes, how: str, seed: str) -> bytes | None:
    """``content`` damaged ``how``; None: the file is deleted."""
    if how == "deleted":
        return None
    if how == "emptied":
        return b""
    if how == "halved":
        return content[:len(content) // 2]
    garbled = bytearray(content)  # up to 16 bytes from the middle on, each changed for sure
    randomness = random.Random(seed)
    for position in range(len(garbled) // 2, min(len(garbled), len(garbled) // 2 + 16)):
        garbled[position] ^= randomness.randrange(1, 256)
    return bytes(garbled)


def copy(pristine: dict, tmp_path: Path, name: str) -> Path:
    repo = tmp_path / name
    shutil.copytree(pristine["repo"], repo, symlinks=True)
    return repo


def restore_index(repo: Path, pristine: dict) -> None:
    """The index as it was built (searches change nothing else in the repository)."""
    shutil.rmtree(repo / INDEX)
    shutil.copytree(pristine["repo"] / INDEX, repo / INDEX)


def assert_healed(repo: Path, pristine: dict, first_query: str, case: str) -> None:
    """The first search answers as before, with one notice of the rebuild; the others too, silently."""
    ids, stderr = answer(repo, first_query)
    assert ids == pristine["expected"][first_query], case
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qdocs: the search index was damaged ("), (case, stderr)
    if case.startswith(f"{INDEX}/") and "/meta.json " in case:  # tantivy's pointer: its copy in state.json
        assert "meta.json was not as state.json records it); put it back" in lines[0], (case, stderr)
    else:
        assert "rebuilt it from 5 record(s)" in lines[0], (case, stderr)
    for query in QUERIES:
        if query != first_query:
            assert answer(repo, query) == (pristine["expected"][query], ""), (case, query)


@pytest.mark.parametrize("how", ["emptied", "halved", "garbled", "deleted"])
def test_every_file_of_the_index_damaged_is_healed_by_the_next_search(pristine, tmp_path: Path, how: str):
    cases = 0
    repo = copy(pristine, tmp_path, "records")
    for number, relative in enumerate(pristine["files"]):
        restore_index(repo, pristine)
        target = repo / relative
        content = target.read_bytes()
        new = damaged(content, how, str(relative))
        if new == content:
            continue  # an empty file emptied: no damage
        if new is None:
            target.unlink()
        else:
            target.write_bytes(new)
        assert_healed(repo, pristine, QUERIES[number % len(QUERIES)], f"{relative} {how}")
        cases += 1
    assert cases >= 10


@pytest.mark.parametrize("how", ["emptied", "garbled", "deleted"])
def test_damaged_bookkeeping_of_the_engine_is_repaired_silently(pristine, tmp_path: Path, how: str):
    """tantivy's own files beside the index (the list of files it manages, its lock files)
    are not the index: damaged, they are put right without a rebuild."""
    repo = copy(pristine, tmp_path, "records")
    generation = next(path for path in (repo / INDEX).iterdir() if path.is_dir())
    names = sorted(path.name for path in generation.iterdir() if path.name in ENGINE_FILES)
    assert ".managed.json" in names
    for number, name in enumerate(names):
        restore_index(repo, pristine)
        target = repo / INDEX / generation.name / name
        new = damaged(target.read_bytes(), how, name)
        if new is None:
            target.unlink()
        else:
            target.write_bytes(new)
        for query in QUERIES:
            assert answer(repo, query) == (pristine["expected"][query], ""), (name, how, query)
        assert command(repo, "index", "status").exit_code == 0, (name, how)


def test_index_folder_replaced_by_a_file_is_healed_by_search_status_and_rebuild(pristine, tmp_path: Path):
    for number, arguments in enumerate([("search",), ("index", "status"), ("index", "rebuild")]):
        repo = copy(pristine, tmp_path, f"case{number}")
        shutil.rmtree(repo / INDEX)
        (repo / INDEX).write_text("not an index", encoding="utf-8")
        if arguments == ("search",):
            assert_healed(repo, pristine, "检验", "folder replaced by a file")
            continue
        result = command(repo, *arguments)
        assert result.exit_code == 0, result.output
        assert (repo / INDEX).is_dir()
        if arguments == ("index", "status"):
            assert result.stdout.strip().endswith("current")
            assert result.stderr.startswith(
                "qdocs: the search index was damaged (.qdocs/index is a file, not a folder)")
        for query in QUERIES:
            assert answer(repo, query) == (pristine["expected"][query], "")


def test_index_status_heals_a_damaged_index(pristine, tmp_path: Path):
    repo = copy(pristine, tmp_path, "status")
    generation = next(path for path in (repo / INDEX).iterdir() if path.is_dir())
    postings = next(generation.glob("*.idx"))
    postings.write_bytes(damaged(postings.read_bytes(), "garbled", "status"))
    result = command(repo, "index", "status")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("current") and "5 record(s) indexed" in result.stdout
    assert result.stderr.count("\n") == 1 and f"{postings.name} is not as written" in result.stderr
    assert answer(repo, "pump") == (pristine["expected"]["pump"], "")


def test_an_action_on_a_damaged_index_stands_and_the_next_search_heals(pristine, tmp_path: Path, catalog):
    repo = copy(pristine, tmp_path, "action")
    generation = next(path for path in (repo / INDEX).iterdir() if path.is_dir())
    (generation / "state.json").write_text("{", encoding="utf-8")
    data = write_example(catalog, "final-inspection", tmp_path, lot="L2026-099")
    before = git(repo, "rev-parse", "HEAD")
    result = command(repo, "new", "final-inspection", "--data", str(data))
    assert result.exit_code == 0, result.output
    record_id = result.stdout.strip()
    assert git(repo, "rev-parse", "HEAD") != before and record_id in git(repo, "log", "-1", "--format=%B")
    assert result.stderr == ""  # an action leaves the index to the next search, damaged or not
    ids, stderr = answer(repo, "lot:L2026-099")
    assert ids == [record_id] and "rebuilt it from 6 record(s)" in stderr


def test_index_status_of_a_repository_without_records(repo_path: Path, run):
    assert run("index", "rebuild").exit_code == 0
    result = run("index", "status")
    assert result.exit_code == 0, result.output
    assert "0 record(s) indexed" in result.stdout and result.stdout.strip().endswith("current")
    report = json.loads(run("index", "status", "--json").stdout)
    assert report["exists"] and report["current"] and report["records"] == 0
    assert run("search", "检验").exit_code == 1


def test_two_processes_meeting_the_same_damage_rebuild_it_once(pristine, tmp_path: Path):
    repo = copy(pristine, tmp_path, "together")
    generation = next(path for path in (repo / INDEX).iterdir() if path.is_dir())
    terms = next(generation.glob("*.term"))
    terms.write_bytes(damaged(terms.read_bytes(), "garbled", "together"))
    arguments = [sys.executable, str(PROJECT / "cli.py"), "--repo", str(repo), "search", "检验", "--json",
                 "--limit", "50"]
    processes = [subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr
        assert [hit["id"] for hit in json.loads(stdout)["results"]] == pristine["expected"]["检验"]
        assert "Traceback" not in stderr
    notices = "".join(stderr for _, stderr in outputs)
    assert notices.count("rebuilt it from 5 record(s)") == 1, notices
    assert [path.name for path in (repo / INDEX).iterdir() if path.is_dir()] != [generation.name]
    assert len([path for path in (repo / INDEX).iterdir() if path.is_dir()]) == 1
    assert qdocs_process("--repo", str(repo), "index", "status").returncode == 0


def test_a_copied_index_is_hashed_once_then_trusted_by_its_stamps(pristine, tmp_path: Path):
    repo = copy(pristine, tmp_path, "copied")  # every file has a new inode and change time
    assert answer(repo, "pump") == (pristine["expected"]["pump"], "")
    generation = next(path for path in (repo / INDEX).iterdir() if path.is_dir())
    files = json.loads((generation / "state.json").read_text(encoding="utf-8"))["files"]
    for name, (size, _, stamp) in files.items():
        status = (generation / name).stat()
        assert [status.st_ino, status.st_mtime_ns, status.st_ctime_ns] == stamp and status.st_size == size, name


def test_only_errors_that_damaged_files_raise_are_suspected():
    import tantivy

    from qdocs.search.damage import suspected

    def raised(action) -> BaseException:
        try:
            action()
        except Exception as error:  # noqa: BLE001 - the error itself is what is tested
            return error
        raise AssertionError("nothing raised")

    assert suspected(raised(lambda: open("/nonexistent/qdocs/index")))
    assert suspected(raised(lambda: b"\xff".decode("utf-8")))
    assert suspected(raised(lambda: tantivy.Index.open("/nonexistent/qdocs/index")))  # tantivy's errors
    assert suspected(EngineFailure("tantivy panicked on what it read"))
    assert not suspected(raised(lambda: {}["path"]))  # a KeyError in qdocs: a bug
    assert not suspected(raised(lambda: object().no_such_thing))
    assert not suspected(raised(lambda: len(None)))
    assert not suspected(raised(lambda: undefined_name))  # noqa: F821


def test_a_read_error_on_intact_files_surfaces_instead_of_a_rebuild(pristine, tmp_path: Path, monkeypatch):
    from qdocs.search import engine
    from qdocs.search.index import SearchIndex
    from qdocs.search.model import Filters

    repo = copy(pristine, tmp_path, "bug")
    generation = next(path.name for path in (repo / INDEX).iterdir() if path.is_dir())
    for error in (ValueError("a bug that looks like damage"), TypeError("a bug")):
        def failing(*arguments, error=error):
            raise error

        monkeypatch.setattr(engine, "search", failing)
        index = SearchIndex(Repository.open(repo))
        with pytest.raises(type(error), match="bug"):
            index.search("pump", Filters(), 10)
        assert index.repository.notices == []
        assert [path.name for path in (repo / INDEX).iterdir() if path.is_dir()] == [generation]


@pytest.mark.parametrize("failure, message", [
    ("results.put(('error', 'OSError: [Errno 28] No space left on device'))",
     "indexing failed: OSError: [Errno 28] No space left on device; nothing was changed"),
    ("import os; os._exit(9)", "an indexing process died (exit status 9); nothing was changed"),
])
def test_a_failed_parallel_build_ends_instead_of_waiting_for_its_workers(tmp_path: Path, failure: str, message: str):
    """An indexing worker that fails (here at once, as on a full disk) or dies leaves chunks
    nobody will take: the command reports the failure and ends (it used to wait for ever)."""
    script = tmp_path / "failing_build.py"
    script.write_text(
        "from pathlib import Path\n"
        "from qdocs.search import build\n"
        "def failing(root, date_fields, tasks, results):\n"
        f"    {failure}\n"
        "build._worker = failing\n"
        "chunks = iter([['x' * 200] * 32] * 1_250)  # far more than a pipe holds\n"
        "try:\n"
        "    list(build._in_workers(Path('.'), chunks, {}, 2))\n"
        "except Exception as error:\n"
        "    print('refused:', error)\n", encoding="utf-8")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert f"refused: {message}" in done.stdout
