"""Never lose a record: processes at once, a process killed mid-write, a full disk."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qdocs.actions import create_record
from qdocs.queries import iter_records
from qdocs.rendering import sha256_file
from qdocs.repository import Repository
from tests.conftest import PROJECT, example_values, git, new_repository, qdocs_process, repository_state, write_example

WORKER = """
import sys
sys.path.insert(0, {project!r})
from qdocs.actions import create_record
from qdocs.repository import Repository
from qdocs.examples import example_values
repository = Repository.open({repo!r})
values = example_values(repository.catalog, repository.catalog.get("in-process-inspection"))
for number in range(25):
    values["lot"] = "L-{worker}-%d" % number
    print(create_record(Repository.open({repo!r}), "in-process-inspection", values, "worker{worker}").id, flush=True)
"""


def assert_consistent(repo: Path) -> list[str]:
    """Clean work tree, fsck clean, every record complete and its hash right; returns the ids."""
    assert git(repo, "status", "--porcelain") == ""
    subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, check=True, capture_output=True)
    repository = Repository.open(repo)
    ids = []
    for record in iter_records(repository):
        assert sha256_file(repo / record.path / "record.docx") == record.docx_sha256
        ids.append(record.id)
    assert len(ids) == len(set(ids))
    return ids


def test_four_processes_writing_at_once(repo_path: Path):
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER.format(project=str(PROJECT), repo=str(repo_path), worker=n)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in outputs]
    created = [line for out, _ in outputs for line in out.split()]
    assert len(created) == 100 and len(set(created)) == 100
    ids = assert_consistent(repo_path)
    assert sorted(ids) == sorted(created)
    numbers = sorted(int(record_id.rsplit("-", 1)[1]) for record_id in ids)
    assert numbers == list(range(1, 101))
    assert int(git(repo_path, "rev-list", "--count", "HEAD")) == 101


@pytest.mark.parametrize("point", ["after-write", "before-commit"])
def test_killed_before_commit_rolls_back(point, catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    process = qdocs_process("--repo", str(repo_path), "new", "final-inspection", "--data", str(data),
                            env={"QDOCS_CRASH_AT": point})
    assert process.returncode == 137
    assert git(repo_path, "status", "--porcelain") != ""  # the dead process left work behind

    after = qdocs_process("--repo", str(repo_path), "new", "final-inspection", "--data", str(data))
    assert after.returncode == 0, after.stderr
    assert "recovered: rolled back the unfinished create of FIR-S1-" in after.stderr
    assert after.stdout.strip().endswith("-0001")  # the number was not lost: no gap
    ids = assert_consistent(repo_path)
    assert len(ids) == 1 and before[0] != git(repo_path, "rev-parse", "HEAD").strip()


def test_killed_after_commit_keeps_the_record(catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    process = qdocs_process("--repo", str(repo_path), "new", "final-inspection", "--data", str(data),
                            env={"QDOCS_CRASH_AT": "after-commit"})
    assert process.returncode == 137
    listing = qdocs_process("--repo", str(repo_path), "list")  # a reader finishes the abandoned action
    assert "had been committed; finished it" in listing.stderr
    assert len(assert_consistent(repo_path)) == 1


def test_reader_does_not_disturb_a_live_writer(catalog, repo_path: Path, tmp_path: Path):
    repository = Repository.open(repo_path)
    with repository.locked():
        repository.journal_path.write_text('{"operation": "x", "action": "create", "head": null, "paths": [], '
                                           '"records": [], "pid": 1}', encoding="utf-8")
        reader = qdocs_process("--repo", str(repo_path), "list")
        assert "recovered" not in reader.stderr
        assert repository.journal_path.exists()
        repository.journal_path.unlink()


def test_random_kills_never_corrupt_the_repository(catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "production-plan", tmp_path)
    generator = random.Random(7)
    survived = 0
    for _ in range(8):
        process = subprocess.Popen(
            [sys.executable, str(PROJECT / "cli.py"), "--repo", str(repo_path), "new", "production-plan",
             "--data", str(data), "--lot", f"L{generator.randrange(10**6)}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(generator.uniform(0.2, 0.9))
        process.send_signal(signal.SIGKILL)
        process.wait()
        survived += process.returncode == 0
        list(iter_records(Repository.open(repo_path)))  # any command recovers
        check = qdocs_process("--repo", str(repo_path), "list")
        assert check.returncode == 0
        assert_consistent(repo_path)
    ids = sorted(int(record_id.rsplit("-", 1)[1]) for record_id in assert_consistent(repo_path))
    assert ids == list(range(1, len(ids) + 1))  # gap-free whatever was killed


def test_disk_full_during_write_keeps_nothing(catalog, repo_path: Path, monkeypatch):
    repository = Repository.open(repo_path)
    before = repository_state(repo_path)
    real_replace = os.replace
    calls = {"count": 0}

    def failing_replace(source, target):
        calls["count"] += 1
        if calls["count"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)
    from qdocs.errors import StorageError

    with pytest.raises(StorageError, match="disk full during create: nothing was kept"):
        create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "tester")
    monkeypatch.undo()
    assert repository_state(repo_path) == before


def test_a_really_full_disk(catalog, tmp_path: Path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here (needs root): " + mounted.stderr.decode().strip())
    try:
        repo = mount_point / "records"
        new_repository(repo, "S1", actor="tester")
        data = write_example(catalog, "final-inspection", tmp_path)
        filler = mount_point / "filler"
        free = os.statvfs(mount_point).f_bavail * os.statvfs(mount_point).f_frsize
        filler.write_bytes(b"\0" * max(free - 20_000, 0))
        before = repository_state(repo)
        process = qdocs_process("--repo", str(repo), "new", "final-inspection", "--data", str(data))
        assert process.returncode == 3, process.stderr  # the environment failed, not the input
        assert "disk full" in process.stderr and "Traceback" not in process.stderr
        assert repository_state(repo) == before
        filler.unlink()
        process = qdocs_process("--repo", str(repo), "new", "final-inspection", "--data", str(data))
        assert process.returncode == 0, process.stderr
        assert process.stdout.strip().endswith("-0001")
        assert_consistent(repo)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)
