from pathlib import Path

from qdocs.repository import Repository
from tests.conftest import git, qdocs_process


def test_demo_creates_a_full_record_set_and_is_repeatable(tmp_path: Path, catalog):
    repo = tmp_path / "records"
    first = qdocs_process("--repo", str(repo), "demo")
    assert first.returncode == 0, first.stderr
    assert "22 record(s) created" in first.stdout  # one of every type, and what the release rules need
    records = Repository.open(repo).records()
    assert {record.status for record in records} == {"approved"}
    assert "verify: 22 record(s), 39 signature(s)" in first.stdout and "clean" in first.stdout
    assert "release-check PUMP-X200 L2026-031: may ship, 11 release rule(s) hold" in first.stdout
    assert qdocs_process("--repo", str(repo), "verify").returncode == 0
    assert {record.type for record in records} == set(catalog.types)
    assert qdocs_process("--repo", str(repo), "release-check", "PUMP-X200", "--lot", "L2026-031").returncode == 0
    assert {record.subject.as_dict().get("lot") for record in records if record.subject.scope == "lot"} == {"L2026-031"}
    again = qdocs_process("--repo", str(repo), "demo")
    assert again.returncode == 0 and "0 record(s) created, 0 signature(s) added" in again.stdout
    assert git(repo, "status", "--porcelain") == ""
