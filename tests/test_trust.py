"""The root of trust, user administration signed by administrators, and the migration of a
repository made before trust existed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from qdocs.repository import Repository
from qdocs.trust.administration import trust_state
from tests.conftest import PASSPHRASE, PROJECT, git, repository_state, write_example

LEGACY = PROJECT / "tests" / "data" / "legacy"


def test_init_makes_the_root_administrator_in_the_first_commit(run, repo_path: Path):
    state = trust_state(Repository.open(repo_path))
    root = state.root
    assert root is not None and root["user"] == "admin" and state.admins() == ["admin"]
    first = git(repo_path, "rev-list", "--max-parents=0", "HEAD").strip()
    assert ".qdocs/trust/root.yaml" in git(repo_path, "show", "--name-only", "--format=", first).split()
    assert git(repo_path, "log", "-1", "--format=%an", first).strip() == "admin"
    shown = run("trust")
    assert shown.exit_code == 0 and f"root        {root['fingerprint']}  admin" in shown.stdout
    report = json.loads(run("trust", "--json").stdout)
    assert report["root"]["fingerprint"] == root["fingerprint"] and report["findings"] == []
    assert {form["state"] for form in report["forms"]} == {"approved"} and len(report["forms"]) == 19
    verified = run("verify")
    assert verified.exit_code == 0 and verified.stdout.startswith(f"root of trust: {root['fingerprint']} (admin, ")


def test_a_new_repository_needs_its_first_administrator(tmp_path: Path):
    from click.testing import CliRunner

    import cli

    target = tmp_path / "records"
    result = CliRunner().invoke(cli.cli, ["init", str(target)])
    assert result.exit_code == 2 and "needs its first administrator" in result.stderr
    assert not (target / ".git").exists()
    short = CliRunner().invoke(cli.cli, ["init", str(target), "--admin", "li.admin", "--full-name", "李"],
                               env={"QDOCS_PASSPHRASE": "short"})
    assert short.exit_code == 2 and "at least 8 characters" in short.stderr and not (target / ".git").exists()


def test_administrators_change_who_may_do_what_and_sign_it(run, repo_path: Path):
    assert run("users", "add", "li.si", "--full-name", "李四", "--role", "inspector", "--as", "admin").exit_code == 0
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "admin"
    assert run("keys", "create", "li.si", "--as", "admin").exit_code == 0
    assert run("users", "add", "wang.wu", "--full-name", "王五", "--role", "admin", "--as", "admin").exit_code == 0
    assert run("keys", "create", "wang.wu", "--as", "admin").exit_code == 0
    # a second administrator grants the first one a role; nobody grants themselves one
    before = repository_state(repo_path)
    refused = run("users", "grant", "admin", "--role", "qc-manager", "--as", "admin")
    assert refused.exit_code == 2 and "another administrator" in refused.stderr and repository_state(repo_path) == before
    assert run("users", "grant", "admin", "--role", "qc-manager", "--as", "wang.wu").exit_code == 0
    assert run("users", "remove-role", "li.si", "--role", "inspector", "--reason", "moved", "--as", "wang.wu").exit_code == 0
    assert run("users", "revoke", "wang.wu", "--reason", "left", "--as", "admin").exit_code == 0
    # the last active administrator cannot be revoked
    before = repository_state(repo_path)
    last = run("users", "revoke", "admin", "--reason", "leaving", "--as", "admin")
    assert last.exit_code == 2 and "last active administrator" in last.stderr and repository_state(repo_path) == before
    state = trust_state(Repository.open(repo_path))
    assert state.users["admin"].current_roles() == ["admin", "qc-manager"]
    assert state.users["li.si"].current_roles() == [] and state.users["wang.wu"].revoked is not None
    assert run("verify").exit_code == 0


def test_a_user_rotates_their_own_key_and_an_administrator_recovers_a_lost_one(run, repo_path: Path,
                                                                               monkeypatch, tmp_path: Path):
    run("users", "add", "li.si", "--full-name", "李四", "--role", "inspector", "--as", "admin")
    run("keys", "create", "li.si", "--as", "admin")
    rotated = run("keys", "create", "li.si", "--replace")
    assert rotated.exit_code == 0 and git(repo_path, "log", "-1", "--format=%an").strip() == "li.si"
    # the laptop with the key is lost: only an administrator can give li.si a new one
    monkeypatch.setenv("QDOCS_HOME", str(tmp_path / "new-laptop"))
    before = repository_state(repo_path)
    lost = run("keys", "create", "li.si", "--replace")
    assert lost.exit_code == 2 and "no private key for li.si" in lost.stderr and repository_state(repo_path) == before
    shutil.copytree(tmp_path / "home" / "keys", tmp_path / "new-laptop" / "keys", dirs_exist_ok=True)  # the administrator's key
    for key in (tmp_path / "new-laptop" / "keys").glob("li.si-*"):
        key.unlink()
    recovered = run("keys", "create", "li.si", "--replace", "--as", "admin", "--reason", "laptop lost")
    assert recovered.exit_code == 0, recovered.output
    user = trust_state(Repository.open(repo_path)).users["li.si"]
    assert len(user.keys) == 3 and [key.retired is None for key in user.keys.values()] == [False, False, True]
    assert run("verify").exit_code == 0


def test_a_repository_made_before_trust_is_migrated_with_nothing_lost(tmp_path: Path, monkeypatch, catalog):
    """The repository in tests/data/legacy was made by qdocs before trust and controlled forms:
    two users with keys, a final inspection approved and one in draft."""
    from click.testing import CliRunner

    import cli

    repo, home = tmp_path / "legacy", tmp_path / "legacy-home"
    subprocess.run(["git", "clone", "-q", str(LEGACY / "records.bundle"), str(repo)], check=True)
    shutil.copytree(LEGACY / "home", home)
    monkeypatch.setenv("QDOCS_HOME", str(home))
    runner = CliRunner()

    def qdocs(*args: str):
        return runner.invoke(cli.cli, ["--repo", str(repo), "--actor", "tester", *args])

    assert qdocs("init", "--site", "S2").exit_code == 0
    before = qdocs("verify")
    assert before.exit_code == 1 and "no root of trust" in before.stdout
    files = set(git(repo, "ls-files").split())
    migrated = qdocs("migrate", "--admin", "li.admin", "--full-name", "李管理", "--json")
    assert migrated.exit_code == 0, migrated.output
    result = json.loads(migrated.stdout)
    assert result["users_attested"] == ["inspector", "qc-manager"] and "forms/catalog.yaml" in result["forms"]
    assert files - set(git(repo, "ls-files").split()) <= {".qdocs/rules.yaml"}  # moved to forms/rules.yaml
    assert qdocs("verify").exit_code == 0
    # the earlier users sign with the keys they had; new records are made with the approved forms
    assert qdocs("sign", "FIR-S1-2026-0002", "--as", "inspector", "--meaning", "inspected").exit_code == 0
    made = qdocs("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path)),
                 "--lot", "L2026-050")
    assert made.exit_code == 0
    shown = json.loads(qdocs("show", made.stdout.strip(), "--json").stdout)
    assert shown["forms"]["template"]["version"] == 1 and shown["forms"]["catalog"]["version"] == 1
    assert qdocs("verify").exit_code == 0
    again = qdocs("migrate", "--admin", "li.admin", "--full-name", "李管理")
    assert again.exit_code == 2 and "already has a root of trust" in again.stderr


def test_checkpoint_and_verify_against_it(run, repo_path: Path, catalog, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path)
    for lot in ("L1", "L2", "L3"):
        run("new", "final-inspection", "--data", str(data), "--lot", lot)
    kept = tmp_path / "today.checkpoint"
    taken = run("checkpoint", "-o", str(kept))
    assert taken.exit_code == 0 and taken.stdout.startswith("qdocs checkpoint ")
    assert kept.read_text(encoding="utf-8") == taken.stdout
    assert run("verify", "--checkpoint", str(kept)).exit_code == 0
    # another copy, made before the tail is dropped, knows nothing but the checkpoint file
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo_path), str(clone))
    git(clone, "reset", "-q", "--hard", "HEAD~3")
    from click.testing import CliRunner

    import cli

    elsewhere = CliRunner().invoke(cli.cli, ["--repo", str(clone), "verify", "--checkpoint", str(kept), "--json"])
    assert elsewhere.exit_code == 1
    findings = json.loads(elsewhere.stdout)["findings"]
    assert [finding["kind"] for finding in findings] == ["checkpoint"]
    assert "no longer in the history" in findings[0]["message"]
    # the copy that took it remembers it (and the last commit it made) without being told
    git(repo_path, "reset", "-q", "--hard", "HEAD~3")
    found = run("verify", "--json")
    assert found.exit_code == 1
    assert {finding["kind"] for finding in json.loads(found.stdout)["findings"]} == {"checkpoint"}


def test_show_names_the_approved_form_versions(run, repo_path: Path, catalog, tmp_path: Path):
    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))
                    ).stdout.strip()
    shown = run("show", record_id)
    assert "form      forms/final-inspection.docx version 1 (sha256 " in shown.stdout
    assert "form      forms/catalog.yaml version 1 (sha256 " in shown.stdout
    assert PASSPHRASE  # the fixture's passphrase opened the administrator's key at init
