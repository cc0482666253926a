from pathlib import Path

from qdocs.queries import get_record, iter_records
from qdocs.repository import Repository
from tests.conftest import git, qdocs_process


def test_demo_creates_a_full_record_set_and_is_repeatable(tmp_path: Path, catalog):
    repo = tmp_path / "records"
    first = qdocs_process("--repo", str(repo), "demo")
    assert first.returncode == 0, first.stderr
    assert "22 record(s) created" in first.stdout  # one of every type, and what the release rules need
    records = list(iter_records(Repository.open(repo)))
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


def test_the_demo_says_how_to_sign_as_its_users(tmp_path: Path, catalog):
    """The demo's keys are in .git/qdocs/demo-keys under a published passphrase; its last line gives the
    command, and that command signs a record the user adds."""
    import shlex

    from tests.conftest import write_example

    repo = tmp_path / "records"
    demo = qdocs_process("--repo", str(repo), "demo")
    assert demo.returncode == 0, demo.stderr
    hint = demo.stdout.strip().splitlines()[-1]
    prefix = "sign as the demo users (demo.ROLE) with: "
    assert hint.startswith(prefix)
    words = shlex.split(hint[len(prefix):])
    assert words[:2] == [f"QDOCS_HOME={repo.resolve() / '.git' / 'qdocs' / 'demo-keys'}",
                         "QDOCS_PASSPHRASE=demo-passphrase"]
    assert words[2:] == ["qdocs", "--repo", str(repo), "sign", "<ID>", "--as", "demo.inspector", "--meaning", "inspected"]
    data = write_example(catalog, "final-inspection", tmp_path)
    added = qdocs_process("--repo", str(repo), "new", "final-inspection", "--data", str(data), "--lot", "L2026-032")
    assert added.returncode == 0, added.stderr
    record_id = added.stdout.strip()
    environment = dict(word.split("=", 1) for word in words[:2])
    signed = qdocs_process(*[record_id if word == "<ID>" else word for word in words[3:]],
                           env={**environment, "HOME": str(tmp_path)})  # no other keys to fall back on
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.strip() == f"{record_id} rev A in-review"
    record = get_record(Repository.open(repo), record_id)
    assert [signature["signer"] for signature in record.signatures] == ["demo.inspector"]
