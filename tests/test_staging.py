"""git's index in a large repository: left behind by an action, caught up right after.

The threshold (``staging.DEFER_FROM_BYTES``, about 20,000 records) is set to 0 here so that
a small repository behaves as a large one.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from qdocs.actions import create_record, create_records
from qdocs.repository import Repository
from qdocs.store import staging, writer
from qdocs.store.runner import Git, catch_up_runner
from tests.conftest import example_values, git


@pytest.fixture
def large(monkeypatch):
    """Actions leave the index behind, and no catch-up process is started (each test says when)."""
    monkeypatch.setattr(staging, "DEFER_FROM_BYTES", 0)
    monkeypatch.setattr(staging, "start_catch_up", lambda root: None)


def _files_in_head(root: Path) -> set[str]:
    return set(git(root, "ls-tree", "-r", "--name-only", "HEAD").splitlines())


def _index_is_head(root: Path) -> bool:
    return subprocess.run(["git", "diff-index", "--cached", "--quiet", "HEAD"], cwd=root).returncode == 0


def test_an_action_leaves_the_index_and_the_catch_up_process_brings_it(large, monkeypatch, catalog, repo_path):
    repository = Repository.open(repo_path)
    record = create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    folder = record.path
    assert {f"{folder}/record.yaml", f"{folder}/record.docx"} <= _files_in_head(repo_path)
    assert staging.behind(repo_path)
    status = git(repo_path, "status", "--porcelain")  # plain git, before the catch-up
    assert f"D  {folder}/record.yaml" in status and "??" in status

    monkeypatch.undo()  # the real start, in a process of its own
    staging.start_catch_up(repo_path)
    deadline = time.monotonic() + 20
    while staging.behind(repo_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not staging.behind(repo_path)


def test_a_record_just_made_is_found_while_the_catch_up_that_took_its_paths_is_at_work(large, catalog, repo_path):
    """The catch-up takes the noted paths first (nothing is noted any more), then writes the
    index: finding the record waits for the index lock it holds, not for the note."""
    from qdocs.queries import find_record_path

    repository = Repository.open(repo_path)
    record = create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    pending = repo_path / ".git" / "qdocs" / staging.PENDING
    noted = pending.read_bytes()
    pending.write_bytes(b"")  # taken by the catch-up ...
    holder = _holding(repo_path / ".git" / "qdocs" / staging.INDEX_LOCK)  # ... which is at work

    def finish() -> None:
        pending.write_bytes(noted)  # what the catch-up writes comes in with the lock's release
        holder.kill()
        holder.wait()

    released = threading.Timer(1.0, finish)
    released.start()
    try:
        assert find_record_path(Repository.open(repo_path), record.id) == record.path
    finally:
        released.join()
    assert _index_is_head(repo_path)
    assert git(repo_path, "status", "--porcelain") == ""
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo_path, check=True, capture_output=True)


def test_a_git_command_that_uses_the_index_catches_it_up_first(large, catalog, repo_path):
    repository = Repository.open(repo_path)
    values = example_values(catalog, "final-inspection")
    records = create_records(repository, "final-inspection", [{**values, "lot": f"L{n}"} for n in range(3)], "qa")
    assert staging.behind(repo_path)
    listed = Git(repo_path).find_files("**/record.yaml")  # git ls-files: reads the index
    assert {f"{record.path}/record.yaml" for record in records} <= set(listed)
    assert not staging.behind(repo_path) and _index_is_head(repo_path)


def test_a_writer_that_needs_the_index_catches_it_up_first(large, monkeypatch, catalog, repo_path):
    """When git must write an action's tree from the index (a change qdocs' tree writer
    declines), the index catches up first: else that commit would drop the records the
    actions before it made."""
    repository = Repository.open(repo_path)
    values = example_values(catalog, "final-inspection")
    earlier = [create_record(repository, "final-inspection", {**values, "lot": f"L{n}"}, "qa") for n in range(3)]
    assert staging.behind(repo_path)

    def declined(*arguments, **options):
        raise writer.UnsupportedTree("left to git")

    monkeypatch.setattr(writer, "build_tree", declined)
    last = create_record(repository, "final-inspection", {**values, "lot": "L9"}, "qa")
    in_head = _files_in_head(repo_path)
    for record in [*earlier, last]:
        assert f"{record.path}/record.yaml" in in_head and f"{record.path}/record.docx" in in_head
    assert not staging.behind(repo_path) and git(repo_path, "status", "--porcelain") == ""


def test_an_action_does_not_wait_for_a_catch_up_at_work(large, catalog, repo_path):
    """A catch-up holds qdocs' index lock (a second at a million records); an action in a
    large repository does not touch git's index, so it goes on beside it."""
    repository = Repository.open(repo_path)
    values = example_values(catalog, "final-inspection")
    create_record(repository, "final-inspection", values, "qa")
    holder = _holding(repo_path / ".git" / "qdocs" / staging.INDEX_LOCK)
    try:
        started = time.monotonic()
        record = create_record(repository, "final-inspection", {**values, "lot": "L7"}, "qa")
        assert time.monotonic() - started < 10
        assert f"{record.path}/record.yaml" in _files_in_head(repo_path)
        assert staging.behind(repo_path)  # a reader that finds the lock taken leaves the index (and reads HEAD)
        assert record.id in git(repo_path, "log", "-1", "--format=%B")
    finally:
        holder.kill()
        holder.wait()
    assert staging.catch_up_when_free(repo_path, catch_up_runner)
    assert _index_is_head(repo_path)


def _holding(path: Path) -> subprocess.Popen:
    """Another process holding the lock at ``path`` until killed."""
    holder = subprocess.Popen(
        ["python3", "-c", "import fcntl, os, sys, time; h = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
                          "fcntl.flock(h, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_crash_between_the_commit_and_its_note_is_recovered(large, monkeypatch, catalog, repo_path):
    repository = Repository.open(repo_path)

    def killed(root, paths):
        raise KeyboardInterrupt  # the process stopped between moving the branch and noting

    monkeypatch.setattr(staging, "note", killed)
    with pytest.raises(KeyboardInterrupt):
        create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    message = git(repo_path, "log", "-1", "--format=%s")
    assert message.startswith("create FIR-")  # the commit stands
    assert not (repo_path / ".git" / "qdocs" / "journal.json").exists()
    assert _index_is_head(repo_path)  # recovery reset the action's paths in the index to HEAD
    assert git(repo_path, "status", "--porcelain") == ""


def test_a_catch_up_that_cannot_write_the_index_keeps_the_paths(large, catalog, repo_path):
    repository = Repository.open(repo_path)
    create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    lock = repo_path / ".git" / "index.lock"
    lock.write_text("", encoding="ascii")  # another git process at work
    assert not staging.catch_up_when_free(repo_path, catch_up_runner)
    assert staging.behind(repo_path)
    lock.unlink()
    assert staging.catch_up_when_free(repo_path, catch_up_runner)
    assert not staging.behind(repo_path) and _index_is_head(repo_path)


def test_a_reader_leaves_the_index_to_a_catch_up_at_work(large, catalog, repo_path):
    repository = Repository.open(repo_path)
    create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    holder = _holding(repo_path / ".git" / "qdocs" / staging.INDEX_LOCK)
    try:
        assert not staging.catch_up_when_free(repo_path, catch_up_runner)  # another holds the index lock
        assert staging.behind(repo_path)
        listed = Git(repo_path).find_files("**/record.yaml")  # a reader does not wait for it
        assert listed is not None
    finally:
        holder.kill()
        holder.wait()
    assert staging.catch_up_when_free(repo_path, catch_up_runner)


def test_a_record_just_made_is_found_while_a_catch_up_is_at_work(large, catalog, repo_path):
    """``qdocs new`` then at once ``qdocs sign ID`` in a large repository: the catch-up of git's
    index is at work, so the index does not have the record yet; finding it waits for the
    catch-up instead of saying there is no such record."""
    from qdocs.queries import find_record_path

    repository = Repository.open(repo_path)
    record = create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "qa")
    holder = _holding(repo_path / ".git" / "qdocs" / staging.INDEX_LOCK)
    assert staging.behind(repo_path)
    assert Git(repo_path).find_files(f"**/{record.id}/record.yaml") == []  # the index does not have it yet
    released = threading.Timer(1.0, lambda: (holder.kill(), holder.wait()))
    released.start()
    try:
        assert find_record_path(Repository.open(repo_path), record.id) == record.path
    finally:
        released.cancel()
        holder.kill()
        holder.wait()
    assert not staging.behind(repo_path)
