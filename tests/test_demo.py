from pathlib import Path

from qdocs.repository import Repository
from tests.conftest import git, qdocs_process


def test_demo_creates_a_full_record_set_and_is_repeatable(tmp_path: Path, catalog):
    repo = tmp_path / "records"
    first = qdocs_process("--repo", str(repo), "demo")
    assert first.returncode == 0, first.stderr
    assert "16 record(s) created" in first.stdout
    records = Repository.open(repo).records()
    assert {record.status for record in records} == {"approved"}
    assert "verify: 16 record(s), 31 signature(s)" in first.stdout and "clean" in first.stdout
    assert qdocs_process("--repo", str(repo), "verify").returncode == 0
    assert sorted(record.type for record in records) == sorted(catalog.types)
    assert {record.subject.as_dict().get("lot") for record in records if record.subject.scope == "lot"} == {"L2026-031"}
    again = qdocs_process("--repo", str(repo), "demo")
    assert again.returncode == 0 and "0 record(s) created, 0 signature(s) added" in again.stdout
    assert git(repo, "status", "--porcelain") == ""
