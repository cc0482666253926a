"""qdocs verify --since CHECKPOINT: what changed after a checkpoint is checked as a full verify
checks it (each tampering committed after the checkpoint is found by both), what did not change
is not read again, and the report says so."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from qdocs import yamlio
from tests.conftest import commit_outside_qdocs, git, record_folder, write_example
from tests.test_verify import approved_records, forge_with_an_unregistered_key


@pytest.fixture
def anchored(signing, catalog, repo_path: Path, tmp_path: Path):
    """Two approved final inspections and an approved market survey, a clean full verify (the
    anchor ``verified``), then, after it: a third inspection signed ``inspected`` and the survey
    revised and prepared again."""
    run = signing
    ids = approved_records(run, catalog, tmp_path)
    survey = ids[2]
    assert run("verify").exit_code == 0  # clean: the anchor
    later = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path)),
                "--lot", "L3").output.strip()
    assert run("sign", later, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    assert run("revise", survey, "--set", "survey_period=2026-02 & <复核>", "--reason", "new figures").exit_code == 0
    assert run("sign", survey, "--as", "rd-engineer", "--meaning", "prepared").exit_code == 0
    assert run("users", "add", "zhao.liu", "--full-name", "赵六", "--role", "inspector", "--as", "admin").exit_code == 0
    ids.append(later)
    return run, ids


def _report(run, *arguments: str) -> dict:
    result = run("verify", "--json", *arguments)
    report = json.loads(result.output)
    assert result.exit_code == (0 if report["clean"] else 1)
    return report


def _messages(report: dict) -> list[str]:
    return [f"{finding['record']}: {finding['message']}" for finding in report["findings"]]


def test_what_changed_since_the_anchor_is_checked_and_clean(anchored, repo_path: Path):
    run, ids = anchored
    report = _report(run, "--since", "verified")
    assert report["clean"], report["findings"]
    assert report["records_checked"] == 2  # the new inspection and the revised survey, nothing else
    assert report["signatures_checked"] == 2
    assert report["events_checked"] == 5  # create, sign, revise, sign, the user added
    assert report["since"]["source"] == ".git/qdocs/verified"
    assert "not read again" in report["since"]["not_read"]
    text = run("verify", "--since", "verified")
    assert text.exit_code == 0
    assert "since checkpoint" in text.stdout and "not read again" in text.stdout
    assert text.stdout.splitlines()[-1].startswith("2 record(s), 2 signature(s), 5 event(s)")
    full = _report(run)
    assert full["clean"] and full["records_checked"] == 4 and full["since"] is None
    again = _report(run, "--since", "verified")  # the clean full verify moved the anchor to HEAD
    assert again["clean"] and again["records_checked"] == 0 and again["events_checked"] == 0


def test_a_checkpoint_file_is_an_anchor_too(anchored, repo_path: Path, tmp_path: Path, catalog):
    run, ids = anchored
    point = tmp_path / "today.checkpoint"
    assert run("checkpoint", "-o", str(point)).exit_code == 0
    assert run("sign", ids[3], "--as", "qc-manager", "--meaning", "approved").exit_code == 0
    report = _report(run, "--since", str(point))
    assert report["clean"] and report["records_checked"] == 1 and report["events_checked"] == 1
    assert report["since"]["source"] == str(point)


def _byte_of_document(repo_path: Path, ids: list[str]) -> str:
    path = record_folder(repo_path, ids[0]) / "record.docx"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    return f"{ids[0]}: record.docx does not match its recorded sha256"


def _field_of_metadata(repo_path: Path, ids: list[str]) -> str:
    path = record_folder(repo_path, ids[0]) / "record.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("conclusion: pass", "conclusion: fail"), encoding="utf-8")
    return f"{ids[0]}: record.yaml differs from what its last action wrote"


def _signature_removed(repo_path: Path, ids: list[str]) -> str:
    path = record_folder(repo_path, ids[1]) / "record.yaml"
    record = yamlio.load(path.read_text(encoding="utf-8"))
    record["signatures"] = record["signatures"][:1]
    record["status"] = "in-review"
    path.write_text(yamlio.dump(record), encoding="utf-8")
    return f"{ids[1]}: signature 'approved' by qc-manager recorded in the event chain is missing from the record"


def _signature_copied(repo_path: Path, ids: list[str]) -> str:
    source = yamlio.load((record_folder(repo_path, ids[1]) / "record.yaml").read_text(encoding="utf-8"))
    path = record_folder(repo_path, ids[3]) / "record.yaml"  # made after the anchor, signed inspected only
    target = yamlio.load(path.read_text(encoding="utf-8"))
    target["signatures"].append(source["signatures"][1])
    target["status"] = "approved"
    path.write_text(yamlio.dump(target), encoding="utf-8")
    return f"{ids[3]}: signature 'approved' by qc-manager has no sign action in the event chain"


def _unregistered_key(repo_path: Path, ids: list[str]) -> str:
    forge_with_an_unregistered_key(record_folder(repo_path, ids[0]) / "record.yaml")
    return "made with a key that is not registered"


def _public_key_swapped(repo_path: Path, ids: list[str]) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = repo_path / ".qdocs" / "users" / "qc-manager.yaml"
    user = yamlio.load(path.read_text(encoding="utf-8"))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                  serialization.PublicFormat.Raw)
    user["keys"][0]["public_key"] = base64.b64encode(other).decode()
    path.write_text(yamlio.dump(user), encoding="utf-8")
    return ".qdocs/users/qc-manager.yaml: lists keys the trust log did not register"


def _folder_deleted(repo_path: Path, ids: list[str]) -> str:
    folder = record_folder(repo_path, ids[2])
    git(repo_path, "rm", "-q", "-r", str(folder.relative_to(repo_path)))
    return f"{ids[2]}: missing from the repository"


def _earlier_event_changed(repo_path: Path, ids: list[str]) -> str:
    path = repo_path / ".qdocs" / "events" / "S1" / "0000" / "00000003.json"
    event = json.loads(path.read_text(encoding="utf-8"))
    event["actor"] = "someone else"
    path.write_text(json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n",
                    encoding="utf-8")
    return ".qdocs/events/S1/0000/00000003.json was changed or deleted after"


def _trust_entry_changed(repo_path: Path, ids: list[str]) -> str:
    path = sorted((repo_path / ".qdocs" / "trust").glob("*/*.json"))[2]
    path.write_bytes(path.read_bytes().replace(b'"time":"', b'"time":"1'))
    return f"{path.relative_to(repo_path).as_posix()}: was changed or deleted after"


def _counter_moved(repo_path: Path, ids: list[str]) -> str:
    path = repo_path / ".qdocs" / "sequences" / "S1.yaml"
    counters = yamlio.load(path.read_text(encoding="utf-8"))
    key = next(key for key in counters if key.startswith("FIR-"))
    counters[key] += 5
    path.write_text(yamlio.dump(counters), encoding="utf-8")
    return ".qdocs/sequences/S1.yaml: was changed in commit"


def _line_ends_changed(repo_path: Path, ids: list[str]) -> str:
    path = record_folder(repo_path, ids[0]) / "record.yaml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    with open(repo_path / ".gitattributes", "a", encoding="utf-8") as handle:
        handle.write("*.yaml -text\n")
    return f"{ids[0]}: record.yaml differs from what its last action wrote"


TAMPERINGS: dict[str, Callable[[Path, list[str]], str]] = {
    "line ends of the metadata": _line_ends_changed,
    "a byte of a document": _byte_of_document, "a field of the metadata": _field_of_metadata,
    "a signature removed": _signature_removed, "a signature copied onto a new record": _signature_copied,
    "a signature with an unregistered key": _unregistered_key, "a public key swapped": _public_key_swapped,
    "a record folder deleted": _folder_deleted, "an earlier event changed": _earlier_event_changed,
    "a trust entry changed": _trust_entry_changed, "a counter moved": _counter_moved,
}


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=list(TAMPERINGS))
def test_a_tampering_committed_after_the_anchor_is_found_by_both(anchored, repo_path: Path, tampering: str):
    run, ids = anchored
    expected = TAMPERINGS[tampering](repo_path, ids)
    commit_outside_qdocs(repo_path, "tidy up")
    since, full = _messages(_report(run, "--since", "verified")), _messages(_report(run))
    assert any(expected in message for message in since), since
    assert any(expected in message for message in full), full


def test_history_rewritten_before_the_anchor(anchored, repo_path: Path):
    run, ids = anchored
    commits = git(repo_path, "rev-list", "--reverse", "HEAD").split()
    identity = ["-c", "user.name=mallory", "-c", "user.email=m@x"]
    git(repo_path, "checkout", "-q", "--detach", commits[3])
    git(repo_path, *identity, "commit", "-q", "--amend", "-m", "amended earlier action")
    for commit in commits[4:]:
        subprocess.run(["git", *identity, "cherry-pick", "-X", "theirs", "--allow-empty", commit], cwd=repo_path,
                       check=True, capture_output=True)
    git(repo_path, "branch", "-f", "main", "HEAD")
    git(repo_path, "checkout", "-q", "main")
    report = _report(run, "--since", "verified")
    assert any("last clean verify" in message and "is no longer in the history of HEAD" in message
               for message in _messages(report)), report
    assert report["records_checked"] == 0  # nothing to compare with: the anchor is gone


def test_a_work_tree_edit_never_committed_is_left_to_the_full_verify(anchored, repo_path: Path):
    """The limit --since states: files git shows unchanged are not opened."""
    run, ids = anchored
    path = record_folder(repo_path, ids[0]) / "record.docx"
    path.write_bytes(path.read_bytes() + b"x")
    since = _report(run, "--since", "verified")
    assert since["clean"] and "never committed is found by a full qdocs verify" in since["since"]["not_read"]
    assert any("record.docx does not match" in message for message in _messages(_report(run)))


def test_the_anchor_is_recorded_only_by_a_clean_full_verify(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    result = run("verify", "--since", "verified")
    assert result.exit_code == 2 and "no full qdocs verify of this copy has found nothing yet" in result.output
    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))
                    ).output.strip()
    path = record_folder(repo_path, record_id) / "record.docx"
    path.write_bytes(path.read_bytes() + b"x")
    assert run("verify").exit_code == 1
    assert not (repo_path / ".git" / "qdocs" / "verified").exists()
    assert run("verify", record_id).exit_code == 1
    git(repo_path, "checkout", "--", str(path.relative_to(repo_path)))
    assert run("verify", record_id).exit_code == 0
    assert not (repo_path / ".git" / "qdocs" / "verified").exists()  # a verify of some records is no anchor
    assert run("verify").exit_code == 0
    kept = json.loads((repo_path / ".git" / "qdocs" / "verified").read_text(encoding="utf-8"))
    assert kept["commit"] == git(repo_path, "rev-parse", "HEAD").strip() and kept["label"] == "last clean verify"


def test_bad_since(anchored, tmp_path: Path):
    run, ids = anchored
    for arguments, words in ((["--since", str(tmp_path / "absent")], "--since"),
                             (["--since", "verified", ids[0]], "give record ids or --since, not both")):
        result = run("verify", *arguments)
        assert result.exit_code == 2 and words in result.output
    garbage = tmp_path / "garbage.checkpoint"
    garbage.write_text("hello\n", encoding="utf-8")
    result = run("verify", "--since", str(garbage))
    assert result.exit_code == 2 and "not a qdocs checkpoint" in result.output


def test_which_records_changed_is_read_from_the_paths_git_names():
    from qdocs.verifysince import _record_folders

    folders, deleted = _record_folders([
        ("M", "lot/P1/L1/FIR-S1-2026-0001/record.yaml"), ("M", "lot/P1/L1/FIR-S1-2026-0001/record.docx"),
        ("A", "lot/P1/L2/FIR-S1-2026-0002/attachments/report.pdf"),
        ("D", "lot/P1/L3/FIR-S1-2026-0003/record.docx"),  # only the document: the record is checked
        ("D", "lot/P1/L4/FIR-S1-2026-0004/record.docx"), ("D", "lot/P1/L4/FIR-S1-2026-0004/record.yaml"),
        ("D", "lot/P1/L5/FIR-S1-2026-0005/record.docx"), ("D", "lot/P1/L5/FIR-S1-2026-0005/record.yaml"),
        ("A", "lot/P1/L6/FIR-S1-2026-0005/record.docx"), ("A", "lot/P1/L6/FIR-S1-2026-0005/record.yaml"),
        ("M", ".qdocs/sequences/S1.yaml"), ("M", "README.md"), ("A", "product/P1/notes.txt"),
    ])
    assert folders == {"FIR-S1-2026-0001": "lot/P1/L1/FIR-S1-2026-0001",
                       "FIR-S1-2026-0002": "lot/P1/L2/FIR-S1-2026-0002",
                       "FIR-S1-2026-0003": "lot/P1/L3/FIR-S1-2026-0003",
                       "FIR-S1-2026-0005": "lot/P1/L6/FIR-S1-2026-0005"}  # moved: checked where it is
    assert deleted == {"FIR-S1-2026-0004": "lot/P1/L4/FIR-S1-2026-0004"}
