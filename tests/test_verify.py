"""qdocs verify catches every kind of tampering, one test each, and is clean when nothing was touched."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from qdocs import yamlio
from qdocs.events import canonical_json
from qdocs.repository import Repository
from qdocs.trust.administration import trust_state
from tests.conftest import commit_outside_qdocs, git, record_folder, write_example


@pytest.fixture
def signed(signing, catalog, repo_path: Path, tmp_path: Path):
    """Two approved final inspections and one approved market survey."""
    return signing, approved_records(signing, catalog, tmp_path)


def approved_records(run, catalog, folder: Path) -> list[str]:
    """Made and signed through ``run`` (the ``signing`` fixture): two final inspections (lots L1
    and L2) inspected and approved, and a market survey prepared and approved; their ids."""
    ids = []
    for lot in ("L1", "L2"):
        record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", folder)),
                        "--lot", lot).output.strip()
        assert run("sign", record_id, "--as", "inspector", "--meaning", "inspected").exit_code == 0
        assert run("sign", record_id, "--as", "qc-manager", "--meaning", "approved").exit_code == 0
        ids.append(record_id)
    survey = run("new", "market-survey", "--data", str(write_example(catalog, "market-survey", folder))).output.strip()
    assert run("sign", survey, "--as", "rd-engineer", "--meaning", "prepared").exit_code == 0
    assert run("sign", survey, "--as", "rd-manager", "--meaning", "approved").exit_code == 0
    ids.append(survey)
    return ids


def _findings(run) -> list[str]:
    result = run("verify", "--json")
    report = json.loads(result.output)
    assert result.exit_code == (0 if report["clean"] else 1)
    return [f"{finding['record']}: {finding['message']}" for finding in report["findings"]]


def test_untouched_repository_is_clean(signed):
    run, _ = signed
    assert _findings(run) == []
    assert run("verify").exit_code == 0


def test_the_summary_is_printed_on_stdout_after_the_findings(signed, repo_path: Path):
    """The summary answers "is it clean?": it goes where output is read and kept, with the findings."""
    run, ids = signed
    clean = run("verify")
    assert clean.exit_code == 0 and clean.stderr == ""
    root = trust_state(Repository.open(repo_path)).root
    head, summary = clean.stdout.splitlines()
    assert head.startswith(f"root of trust: {root['fingerprint']} (admin, ")
    assert summary == "3 record(s), 6 signature(s), 47 event(s), 37 trust entries checked: clean"
    path = record_folder(repo_path, ids[0]) / "record.docx"
    path.write_bytes(path.read_bytes() + b"x")
    found = run("verify")
    assert found.exit_code == 1 and found.stderr == ""
    lines = found.stdout.splitlines()
    assert lines[0] == head
    assert lines[1].startswith(f"{ids[0]}: ") and "record.docx does not match" in lines[1]
    assert lines[-1] == f"3 record(s), 6 signature(s), 47 event(s), 37 trust entries checked: {len(lines) - 2} finding(s)"
    report = json.loads(run("verify", "--json").stdout)  # --json unchanged: the report alone
    assert set(report) >= {"clean", "findings"} and not report["clean"]


def test_a_byte_of_the_document_changed(signed, repo_path: Path):
    run, ids = signed
    path = record_folder(repo_path, ids[0]) / "record.docx"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01
    path.write_bytes(bytes(content))
    findings = _findings(run)
    assert any(ids[0] in f and "record.docx does not match" in f for f in findings)
    assert run("verify", ids[1]).exit_code == 0


def test_a_field_of_the_metadata_changed(signed, repo_path: Path):
    run, ids = signed
    path = record_folder(repo_path, ids[0]) / "record.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("conclusion: pass", "conclusion: fail"), encoding="utf-8")
    commit_outside_qdocs(repo_path, "fix typo")
    findings = _findings(run)
    assert any(ids[0] in f and "record.yaml differs from what its last action wrote" in f for f in findings)
    assert any(ids[0] in f and "does not verify" in f for f in findings)


def test_a_signature_copied_from_another_record(signed, repo_path: Path):
    run, ids = signed
    source = yamlio.load((record_folder(repo_path, ids[1]) / "record.yaml").read_text(encoding="utf-8"))
    path = record_folder(repo_path, ids[0]) / "record.yaml"
    target = yamlio.load(path.read_text(encoding="utf-8"))
    target["signatures"][1] = source["signatures"][1]
    path.write_text(yamlio.dump(target), encoding="utf-8")
    findings = _findings(run)
    assert any(ids[0] in f and "signature 'approved' by qc-manager does not verify" in f for f in findings)


def test_a_signature_removed(signed, repo_path: Path):
    run, ids = signed
    path = record_folder(repo_path, ids[0]) / "record.yaml"
    record = yamlio.load(path.read_text(encoding="utf-8"))
    record["signatures"] = record["signatures"][:1]
    record["status"] = "in-review"
    path.write_text(yamlio.dump(record), encoding="utf-8")
    findings = _findings(run)
    assert any(ids[0] in f and "recorded in the event chain is missing from the record (removed)" in f for f in findings)


def test_a_signature_with_an_unregistered_key(signed, repo_path: Path):
    run, ids = signed
    forge_with_an_unregistered_key(record_folder(repo_path, ids[0]) / "record.yaml")
    findings = _findings(run)
    assert any(ids[0] in f and "made with a key that is not registered" in f for f in findings)


def forge_with_an_unregistered_key(path: Path) -> None:
    """The record's second signature replaced by one made, as qdocs would, with a key nobody registered."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from qdocs.records import Record
    from qdocs.signatures import signature_payload

    record = Record.from_yaml(path.read_text(encoding="utf-8"))
    forged = dict(record.signatures[1])
    forged["key"] = "ed25519:" + "f" * 32
    forged["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(signature_payload(record, forged))).decode()
    raw = yamlio.load(path.read_text(encoding="utf-8"))
    raw["signatures"][1] = forged
    path.write_text(yamlio.dump(raw), encoding="utf-8")


def test_a_registered_public_key_swapped(signed, repo_path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    run, _ = signed
    path = repo_path / ".qdocs" / "users" / "qc-manager.yaml"
    user = yamlio.load(path.read_text(encoding="utf-8"))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    user["keys"][0]["public_key"] = base64.b64encode(other).decode()
    path.write_text(yamlio.dump(user), encoding="utf-8")
    commit_outside_qdocs(repo_path, "update key")
    findings = _findings(run)
    assert any(".qdocs/users/qc-manager.yaml" in f and "a key was swapped outside qdocs" in f for f in findings)


def _rewrite_history(repo_path: Path, skip: str | None = None, amend: str | None = None) -> None:
    """Replay the history onto itself, dropping the commit ``skip`` or amending ``amend``."""
    commits = git(repo_path, "rev-list", "--reverse", "HEAD").split()
    target = skip or amend
    index = commits.index(target)
    git(repo_path, "checkout", "-q", "--detach", commits[index - 1] if skip else target)
    identity = ["-c", "user.name=mallory", "-c", "user.email=m@x"]
    if amend:
        git(repo_path, *identity, "commit", "-q", "--amend", "-m", "amended earlier action")
    for commit in commits[index + 1:]:
        subprocess.run(["git", *identity, "cherry-pick", "-X", "theirs", "--allow-empty", commit], cwd=repo_path,
                       check=True, capture_output=True)
    git(repo_path, "branch", "-f", "main", "HEAD")
    git(repo_path, "checkout", "-q", "main")


def _commit_of(repo_path: Path, grep: str) -> str:
    return git(repo_path, "log", "--format=%H", f"--grep={grep}", "-F").split()[-1]


def test_an_earlier_commit_amended(signed, repo_path: Path):
    run, ids = signed
    assert _findings(run) == []  # also leaves the cache of what git history said, which must not hide the rewrite
    _rewrite_history(repo_path, amend=_commit_of(repo_path, f"create {ids[1]}"))
    findings = _findings(run)
    assert any("history before it was rewritten" in f for f in findings)


def test_a_commit_dropped_before_a_later_signature(signed, repo_path: Path):
    run, ids = signed
    assert _findings(run) == []
    _rewrite_history(repo_path, skip=_commit_of(repo_path, f"sign {ids[1]} rev A as inspected"))
    findings = _findings(run)
    assert any("was dropped from the trail" in f or "the chain is broken" in f for f in findings)


def test_a_record_folder_deleted(signed, repo_path: Path):
    run, ids = signed
    folder = record_folder(repo_path, ids[2])
    git(repo_path, "rm", "-q", "-r", str(folder.relative_to(repo_path)))
    commit_outside_qdocs(repo_path, "clean up")
    findings = _findings(run)
    assert any(f.startswith(ids[2]) and "missing from the repository" in f for f in findings)


def test_verify_bad_input(signed):
    run, _ = signed
    assert run("verify", "FIR-S1-2026-9999").exit_code == 2
    assert run("verify", "nonsense").exit_code == 2


def test_signature_payload_is_canonical():
    assert canonical_json({"b": 1, "a": "泵"}) == '{"a":"泵","b":1}'.encode()
