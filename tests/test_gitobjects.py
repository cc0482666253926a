"""Commits written in process (qdocs.store.commits, qdocs.store.trees) are the commits git itself writes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from qdocs.actions import create_record, create_records, revise_record
from qdocs.repository import Repository
from qdocs.store import commits
from qdocs.store.runner import Git
from tests.conftest import example_values, git


def _plain_repository(path: Path) -> Git:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    (path / "a.txt").write_text("one & <two>\n", encoding="utf-8")
    return Git(path)


def _first_commit_object(root: Path) -> tuple[Path, str, str]:
    """A plain repository with one file staged, its tree and a first commit object (no branch yet)."""
    repository = _plain_repository(root)
    repository.run("update-index", "--add", "a.txt")
    tree = repository.text("write-tree")
    return root / ".git", tree, commits.write_commit(root / ".git", tree, None, "qa", "qa@qdocs.local", "first\n")


def test_a_commit_object_is_byte_for_byte_what_git_commit_tree_writes(tmp_path: Path):
    repository = _plain_repository(tmp_path / "r")
    repository.run("update-index", "--add", "a.txt")
    tree = repository.text("write-tree")
    message = "create FIR-S1-2026-0001\n\nRecord: FIR-S1-2026-0001\nAction: create\n检验 ✓\n"
    ours = commits.write_commit(tmp_path / "r" / ".git", tree, None, "张三 Zhang", "zhang@qdocs.local", message,
                                   (1767225600, "+0800"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "张三 Zhang", "GIT_AUTHOR_EMAIL": "zhang@qdocs.local",
           "GIT_COMMITTER_NAME": "张三 Zhang", "GIT_COMMITTER_EMAIL": "zhang@qdocs.local",
           "GIT_AUTHOR_DATE": "1767225600 +0800", "GIT_COMMITTER_DATE": "1767225600 +0800"}
    theirs = subprocess.run(["git", "commit-tree", tree, "-F", "-"], cwd=tmp_path / "r", input=message.encode(),
                            env=env, capture_output=True, check=True).stdout.decode().strip()
    assert ours == theirs
    assert git(tmp_path / "r", "cat-file", "-t", ours).strip() == "commit"


def test_moving_the_branch_writes_the_ref_and_both_reflogs(tmp_path: Path):
    git_dir, tree, first = _first_commit_object(tmp_path / "r")
    assert commits.branch_of_head(git_dir) == "refs/heads/main"
    assert commits.move_branch(git_dir, "refs/heads/main", first, None, "qa <qa@qdocs.local>", "qdocs: first")
    second = commits.write_commit(git_dir, tree, first, "qa", "qa@qdocs.local", "second\n")
    assert commits.move_branch(git_dir, "refs/heads/main", second, first, "qa <qa@qdocs.local>", "qdocs: second")
    assert git(tmp_path / "r", "rev-parse", "HEAD").strip() == second
    assert git(tmp_path / "r", "log", "--format=%s").split() == ["second", "first"]
    assert git(tmp_path / "r", "reflog", "--format=%gs").splitlines() == ["qdocs: second", "qdocs: first"]
    assert git(tmp_path / "r", "reflog", "show", "--format=%gs", "main").splitlines() == ["qdocs: second", "qdocs: first"]
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=tmp_path / "r", check=True, capture_output=True)
    with pytest.raises(RuntimeError, match="moved"):
        commits.move_branch(git_dir, "refs/heads/main", first, first, "qa <qa@qdocs.local>", "stale")
    assert git(tmp_path / "r", "rev-parse", "HEAD").strip() == second


def test_a_locked_or_packed_branch_is_left_to_git(tmp_path: Path):
    git_dir, tree, first = _first_commit_object(tmp_path / "r")
    (git_dir / "refs" / "heads" / "main.lock").write_text("", encoding="ascii")
    assert not commits.move_branch(git_dir, "refs/heads/main", first, None, "qa <qa@qdocs.local>", "locked")
    (git_dir / "refs" / "heads" / "main.lock").unlink()
    assert commits.move_branch(git_dir, "refs/heads/main", first, None, "qa <qa@qdocs.local>", "first")
    subprocess.run(["git", "pack-refs", "--all"], cwd=tmp_path / "r", check=True)
    assert not (git_dir / "refs" / "heads" / "main").exists()
    second = commits.write_commit(git_dir, tree, first, "qa", "qa@qdocs.local", "second\n")
    assert not commits.move_branch(git_dir, "refs/heads/main", second, first, "qa <qa@qdocs.local>", "packed")
    assert git(tmp_path / "r", "rev-parse", "HEAD").strip() == first


def test_records_commit_in_process_and_after_git_packs_the_refs(repo_path: Path, catalog):
    repository = Repository.open(repo_path)
    first = create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "李四 Li")
    assert git(repo_path, "log", "-1", "--format=%an|%ae|%s").strip() == (
        f"李四 Li|___Li@qdocs.local|create {first.id} (final-inspection, PUMP-X200 / L2026-031)")
    subprocess.run(["git", "pack-refs", "--all"], cwd=repo_path, check=True)  # what git gc does
    second = create_record(repository, "final-inspection", {**example_values(catalog, "final-inspection"), "lot": "L2"}, "qa")
    assert [line.split(" (")[0] for line in git(repo_path, "log", "-2", "--format=%s").splitlines()] == [
        f"create {second.id}", f"create {first.id}"]
    third = create_record(repository, "final-inspection", {**example_values(catalog, "final-inspection"), "lot": "L3"},
                              "Dr. Wang.")  # git would trim the final '.', so git writes this one
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "Dr. Wang"
    assert third.id.endswith("0003")
    assert git(repo_path, "status", "--porcelain") == ""
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo_path, check=True, capture_output=True)


def _tree_case(root: Path, files: dict[str, str]) -> Git:
    repository = _plain_repository(root)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    repository.run("add", "-A")
    repository.run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return repository


def _built_and_written(root: Path, repository: Git, changed: list[str]) -> tuple[str, str]:
    from qdocs.store.trees import blob_entry, build_tree

    repository.run("update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(changed).encode())
    parent = repository.text("rev-parse", "HEAD")
    built = build_tree(root, parent, {path: blob_entry(root / path) for path in changed})
    return built, repository.text("write-tree")


def test_trees_built_along_the_changed_paths_are_the_trees_git_writes(tmp_path: Path):
    root = tmp_path / "r"
    repository = _tree_case(root, {
        "lot/P/L1/FIR-1/record.yaml": "a", "lot/P/L1/FIR-1/record.docx": "b", "lot/P/L1.x": "c",
        "lot/P/L1-x/f": "d", "lot/P/L10/f": "e", ".qdocs/events/S1/0001.yaml": "f", "lot/Q/only/f": "g",
    })
    for path, text in {"lot/P/L1/FIR-2/record.yaml": "new", "lot/P/L1/FIR-1/record.yaml": "changed & <新>",
                       "lot/P/L1/FIR-2/附件 1.pdf": "中文名", ".qdocs/events/S1/0002.yaml": "next",
                       "a-top/x": "top", "lot/P/L1/FIR-1/run.sh": "#!/bin/sh\n"}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    os.chmod(root / "lot/P/L1/FIR-1/run.sh", 0o755)
    (root / "lot/Q/only/f").unlink()  # its folders become empty and go
    (root / "lot/P/L1.x").unlink()
    changed = ["lot/P/L1/FIR-2/record.yaml", "lot/P/L1/FIR-1/record.yaml", "lot/P/L1/FIR-2/附件 1.pdf",
               ".qdocs/events/S1/0002.yaml", "a-top/x", "lot/P/L1/FIR-1/run.sh", "lot/Q/only/f", "lot/P/L1.x"]
    built, written = _built_and_written(root, repository, changed)
    assert built == written
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=root, check=True, capture_output=True)


def test_a_change_already_staged_elsewhere_is_not_committed_with_the_action(tmp_path: Path):
    from qdocs.store.trees import blob_entry, build_tree

    root = tmp_path / "r"
    repository = _tree_case(root, {"lot/P/L1/FIR-1/record.yaml": "a", "notes.txt": "mine"})
    (root / "notes.txt").write_text("staged by hand", encoding="utf-8")
    repository.run("add", "notes.txt")
    (root / "lot/P/L1/FIR-1/record.yaml").write_text("b", encoding="utf-8")
    repository.run("update-index", "lot/P/L1/FIR-1/record.yaml")
    parent = repository.text("rev-parse", "HEAD")
    tree = build_tree(root, parent, {"lot/P/L1/FIR-1/record.yaml": blob_entry(root / "lot/P/L1/FIR-1/record.yaml")})
    assert git(root, "cat-file", "-p", f"{tree}:notes.txt") == "mine"
    assert git(root, "cat-file", "-p", f"{tree}:lot/P/L1/FIR-1/record.yaml") == "b"


def test_a_file_in_place_of_a_folder_is_left_to_git(tmp_path: Path):
    from qdocs.store.trees import UnsupportedTree, blob_entry, build_tree

    root = tmp_path / "r"
    repository = _tree_case(root, {"lot/P/f": "a"})
    parent = repository.text("rev-parse", "HEAD")
    (root / "x").mkdir()
    (root / "x" / "y").write_text("z", encoding="utf-8")
    with pytest.raises(UnsupportedTree):
        build_tree(root, parent, {"lot/P/f/g": ("100644", "0" * 40)})
    with pytest.raises(UnsupportedTree):
        build_tree(root, parent, {"lot": blob_entry(root / "x" / "y")})
    os.symlink("y", root / "x" / "link")
    with pytest.raises(UnsupportedTree):
        blob_entry(root / "x" / "link")


def test_the_index_cache_tree_is_brought_up_to_date_now_and_then(repo_path: Path, catalog):
    from qdocs.store.writer import REFRESH_EVERY

    repository = Repository.open(repo_path)
    values = example_values(catalog, "final-inspection")
    records = create_records(repository, "final-inspection", [{**values, "lot": f"L{n}"} for n in range(3)], "qa")
    counter = repo_path / ".git" / "qdocs" / "trees-since-refresh"
    counter.write_text(str(REFRESH_EVERY - 1), encoding="ascii")
    revise_record(repository, records[0].id, {**values, "lot": "L0", "quantity": 7}, "count", "qa")
    assert counter.read_text(encoding="ascii") == "0"  # git wrote this tree, and its cache-tree
    revise_record(repository, records[1].id, {**values, "lot": "L1", "quantity": 8}, "count", "qa")
    assert counter.read_text(encoding="ascii") == "1"
    assert git(repo_path, "status", "--porcelain") == ""
    assert git(repo_path, "diff-index", "--cached", "HEAD") == ""
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo_path, check=True, capture_output=True)


def test_head_of_a_packed_repository_is_read_from_packed_refs_without_a_process(tmp_path: Path, monkeypatch):
    repository = _plain_repository(tmp_path / "r")
    repository.run("add", "a.txt")
    repository.run("-c", "user.name=qa", "-c", "user.email=qa@qdocs.local", "commit", "-qm", "first")
    subprocess.run(["git", "-C", str(tmp_path / "r"), "branch", "other"], check=True)
    subprocess.run(["git", "-C", str(tmp_path / "r"), "pack-refs", "--all"], check=True)
    assert not (tmp_path / "r" / ".git" / "refs" / "heads" / "main").exists()
    expected = git(tmp_path / "r", "rev-parse", "HEAD").strip()
    monkeypatch.setattr(Git, "run", lambda *arguments, **options: pytest.fail("ran git for HEAD"))
    assert Git(tmp_path / "r").head() == expected
