"""The records of a commit as git lists them: whole (``list_records``) or a record at a time
(``RecordListing``, what an index rebuild reads), the same records either way."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qdocs.errors import StorageError
from qdocs.store.listing import RecordFiles, RecordListing, list_records
from tests.conftest import git


def _commit(root: Path, files: dict[str, bytes]) -> str:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    git(root, "add", "-A")
    git(root, "-c", "user.name=qa", "-c", "user.email=qa@qdocs.local", "commit", "-qm", "records")
    return git(root, "rev-parse", "HEAD").strip()


def test_a_record_at_a_time_gives_what_the_whole_listing_gives(tmp_path: Path):
    files = {
        "lot/P1/L1/FIR-S1-2026-0001/record.yaml": b"a",
        "lot/P1/L1/FIR-S1-2026-0001/record.docx": b"b",
        "lot/P1/L1/FIR-S1-2026-0001/attachments.yaml": b"c",
        "lot/P1/L1/FIR-S1-2026-0001/attachments/Report.PDF": b"d",
        "lot/P1/L1/FIR-S1-2026-0001/attachments/notes.txt": b"not an attachment",
        "lot/P1/L1/FIR-S1-2026-0001/stray/record.docx": b"a folder inside a record",
        "lot/P1/L1/FIR-S1-2026-0001/abc/record.yaml": b"one listed before the record's own files",
        "lot/P1/L1/FIR-S1-2026-00010/record.yaml": b"e",  # a name the first one's begins
        "lot/P1/L1/NCR-S1-2026-0001/record.docx": b"no record.yaml: not a record",
        "product/P1/MS-S1-2026-0001/record.yaml": b"f",
        "product/P1/MS-S1-2026-0001/attachments/a.pdf": b"g",
    }
    commit = _commit(tmp_path / "r", files)
    whole = list_records(tmp_path / "r", commit, ["lot", "product"])
    with RecordListing(tmp_path / "r", commit, ["lot", "product"]) as listing:
        assert listing.count == 4
        streamed = list(listing)
    assert streamed == list(whole.values())
    assert [record.folder for record in streamed] == ["lot/P1/L1/FIR-S1-2026-0001/abc", "lot/P1/L1/FIR-S1-2026-0001",
                                                      "lot/P1/L1/FIR-S1-2026-00010", "product/P1/MS-S1-2026-0001"]
    first = streamed[1]
    assert first.docx_blob and first.attachment_list and [name for name, _ in first.attachments] == ["Report.PDF"]
    assert isinstance(first, RecordFiles) and streamed[3].attachments[0][0] == "a.pdf"


def test_the_count_finds_every_record_across_read_blocks(tmp_path: Path, monkeypatch):
    files = {f"lot/P1/L1/FIR-S1-2026-{number:04d}/record.yaml": b"x" for number in range(1, 60)}
    commit = _commit(tmp_path / "r", files)
    monkeypatch.setattr(RecordListing, "_BLOCK", 7)  # entries and their ends split between blocks
    with RecordListing(tmp_path / "r", commit, ["lot"]) as listing:
        assert listing.count == 59 and len(list(listing)) == 59


def test_listings_bound_the_pack_git_maps_and_keep_their_answers(tmp_path: Path, monkeypatch):
    """Every listing of a whole commit reads all its trees: git is told to map at most a
    window of the pack (at 1,000,000 records it mapped the whole pack, 1.8 GiB)."""
    from qdocs.store import listing, runner
    from qdocs.store.objects import LISTING_OPTIONS

    files = {"lot/P1/L1/FIR-S1-2026-0001/record.yaml": b"a", "lot/P1/L1/FIR-S1-2026-0001/record.docx": b"b"}
    commit = _commit(tmp_path / "r", files)
    seen: list[list[str]] = []
    started, ran = runner.start, runner.run
    monkeypatch.setattr(runner, "start", lambda root, args, **kw: (seen.append(list(args)), started(root, args, **kw))[1])
    monkeypatch.setattr(runner, "run", lambda root, *args, **kw: (seen.append(list(args)), ran(root, *args, **kw))[1])
    whole = list_records(tmp_path / "r", commit, ["lot"])
    with RecordListing(tmp_path / "r", commit, ["lot"]) as one_at_a_time:
        assert [record.folder for record in one_at_a_time] == list(whole) == ["lot/P1/L1/FIR-S1-2026-0001"]
    head, yamls = listing.list_record_yamls(tmp_path / "r", ["lot"])
    assert head == commit and [path for _, path in yamls] == [b"lot/P1/L1/FIR-S1-2026-0001/record.yaml"]
    assert listing.list_record_yamls(tmp_path / "r", ["lot"], commit)[1] == yamls
    listers = [args for args in seen if {"ls-tree", "diff-index"} & set(args)]
    assert len(listers) == 4 and all(args[:len(LISTING_OPTIONS)] == LISTING_OPTIONS for args in listers)


def test_a_failing_git_command_is_named_after_its_options(tmp_path: Path):
    from qdocs.store import runner

    _commit(tmp_path / "r", {"a.txt": b"a"})
    with pytest.raises(StorageError, match=r"^git cat-file failed: "):
        runner.run(tmp_path / "r", "-c", "core.deltaBaseCacheLimit=8m", "cat-file", "-p", "0" * 40)
