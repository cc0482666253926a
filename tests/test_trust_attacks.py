"""Attacks on who may do what, one test each.

Made through qdocs, an attack is refused: exit 2, one line on stderr, nothing
written.  Made with plain git by someone who can write to the records repository
(files written, ``git add``, ``git commit`` with any identity), or with qdocs' own
writing functions minus their checks, it is reported by ``qdocs verify``: exit 1, a
finding naming the file or record, of a kind tools can select (``verify --json``).
The attack the trust log exists for comes last: a key registered outside qdocs for
the QC manager and a lot released with it, which the release gate now blocks.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qdocs import clock, yamlio
from qdocs.actions import create_record
from qdocs.keys import load_private_key, new_key_pair
from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.signatures import signature_payload
from qdocs.trust.administration import trust_state
from tests.conftest import ADMIN, PASSPHRASE, git, write_example
from tests.test_audit_helpers import complete  # noqa: F401  (the fixture)
from tests.test_audit_helpers import state as repository_state  # without SQLite's passing -wal and -shm files

MALLORY = ["-c", "user.name=mallory", "-c", "user.email=mallory@example.com"]


# -- helpers ---------------------------------------------------------------------------


def refused(result: Any, *words: str) -> str:
    """Exit 2 and exactly one error line on stderr (notices aside), holding ``words``."""
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line and not line.startswith("qdocs: notice:")]
    assert len(errors) == 1 and errors[0].startswith("qdocs: error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def plain_commit(repo: Path, message: str) -> None:
    """What anyone with write access can do: add everything and commit it under any name."""
    git(repo, "add", "-A")
    git(repo, *MALLORY, "commit", "-q", "-m", message)


def findings(run: Any) -> list[dict[str, str]]:
    result = run("verify", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["clean"] else 1), result.output
    return report["findings"]


def found(report: list[dict[str, str]], kind: str, where: str, *words: str) -> dict[str, str]:
    """The finding of ``kind`` about ``where`` whose message holds every word."""
    for finding in report:
        if finding["kind"] == kind and where in finding["record"] and all(word in finding["message"] for word in words):
            return finding
    shown = json.dumps(report, indent=1, ensure_ascii=False)
    raise AssertionError(f"no {kind} finding on {where} with {words}: {shown}")


def new_record(run: Any, catalog: Any, folder: Path, type_id: str = "final-inspection", *extra: str) -> str:
    result = run("new", type_id, "--data", str(write_example(catalog, type_id, folder)), *extra)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def sign(run: Any, record_id: str, signer: str, meaning: str) -> None:
    result = run("sign", record_id, "--as", signer, "--meaning", meaning)
    assert result.exit_code == 0, result.output


def add_user(run: Any, name: str, *roles: str) -> None:
    arguments = [item for role in roles for item in ("--role", role)]
    assert run("users", "add", name, "--full-name", f"{name} 姓名", *arguments, "--as", ADMIN).exit_code == 0
    assert run("keys", "create", name, "--as", ADMIN).exit_code == 0


def private_key(home: Path, name: str, repo: Path) -> tuple[Any, str]:
    """The private key of a user's current key (from the keys folder) and its fingerprint."""
    key = trust_state(Repository.open(repo)).users[name].current_key()
    return load_private_key(name, key.fingerprint, PASSPHRASE, home), key.fingerprint


def hand_signature(repo: Path, record_id: str, signer: str, role: str, meaning: str, private: Any,
                   fingerprint: str, status: str = "approved") -> Path:
    """Append a signature made outside qdocs to ``record.yaml``: a valid Ed25519 signature over
    the record as :func:`qdocs.signatures.signature_payload` defines it."""
    repository = Repository.open(repo)
    record = get_record(repository, record_id)
    signature = {"meaning": meaning, "signer": signer, "full_name": f"{signer} 姓名", "role": role,
                 "time": clock.utc_now().isoformat().replace("+00:00", "Z"), "comment": "",
                 "key": fingerprint, "chain_head": (repo / ".qdocs/events/S1.head").read_text().split()[1]}
    signature["signature"] = base64.b64encode(private.sign(signature_payload(record, signature))).decode()
    path = repo / record.path / "record.yaml"
    raw = yamlio.load(path.read_text(encoding="utf-8"))
    raw["signatures"].append(signature)
    raw["status"] = status
    path.write_text(yamlio.dump(raw), encoding="utf-8")
    return path


def relax(catalog: str) -> str:
    """The catalog's text with inspectors allowed to approve final inspections."""
    at = catalog.index("{meaning: approved, roles: [qc-manager]}", catalog.index("  - id: final-inspection"))
    old = "{meaning: approved, roles: [qc-manager]}"
    return catalog[:at] + "{meaning: approved, roles: [qc-manager, inspector]}" + catalog[at + len(old):]


# -- 1. a key replaced by someone else --------------------------------------------------


def test_a_key_is_replaced_only_by_its_owner_or_an_administrator(signing, repo_path: Path, tmp_path: Path,
                                                                  monkeypatch):
    run = signing
    before = repository_state(repo_path)
    stranger = tmp_path / "stranger-home"
    monkeypatch.setenv("QDOCS_HOME", str(stranger))
    monkeypatch.setenv("QDOCS_PASSPHRASE", "any passphrase at all")
    refused(run("keys", "create", "qc-manager", "--replace"), "qc-manager")
    assert not stranger.exists()  # not even a key pair was made
    monkeypatch.setenv("QDOCS_HOME", str(tmp_path / "home"))
    refused(run("keys", "create", "qc-manager", "--replace"), "wrong passphrase")  # the owner's key, a wrong passphrase
    monkeypatch.setenv("QDOCS_PASSPHRASE", PASSPHRASE)
    refused(run("keys", "create", "qc-manager", "--replace", "--as", "inspector"), "inspector",
            "not an administrator")
    refused(run("keys", "create", "qc-manager", "--replace", "--as", "mallory"), "mallory", "not a user")
    assert repository_state(repo_path) == before
    assert sorted(path.name for path in (tmp_path / "home" / "keys").glob("qc-manager-*")) == \
        [f"qc-manager-{trust_state(Repository.open(repo_path)).users['qc-manager'].current_key().fingerprint[8:]}.pem"]
    # the owner with their key, and an administrator, may
    assert run("keys", "create", "qc-manager", "--replace").exit_code == 0
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "qc-manager"
    assert run("keys", "create", "qc-manager", "--replace", "--as", ADMIN, "--reason", "lost laptop").exit_code == 0
    assert git(repo_path, "log", "-1", "--format=%an").strip() == ADMIN
    assert findings(run) == []


# -- 2. roles granted by someone who may not ----------------------------------------------


def test_roles_are_granted_by_another_administrator(signing, repo_path: Path):
    run = signing
    before = repository_state(repo_path)
    refused(run("users", "add", "newbie", "--full-name", "新人", "--role", "qc-manager", "--as", "qc-manager"),
            "qc-manager", "not an administrator")
    refused(run("users", "grant", "inspector", "--role", "qc-manager", "--as", "inspector"), "not an administrator")
    refused(run("users", "grant", ADMIN, "--role", "qc-manager", "--as", ADMIN), "another administrator")
    assert repository_state(repo_path) == before
    add_user(run, "admin2", "admin")
    assert git(repo_path, "log", "-1", "--format=%an").strip() == ADMIN
    granted = run("users", "grant", ADMIN, "--role", "qc-manager", "--as", "admin2", actor="someone-else")
    assert granted.exit_code == 0, granted.output
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "admin2"  # the signer, not --actor
    assert "qc-manager" in trust_state(Repository.open(repo_path)).users[ADMIN].current_roles()
    assert findings(run) == []


# -- 3. a signature in a role the catalog does not allow ------------------------------------


def test_a_signature_made_under_a_relaxed_catalog(signing, catalog, repo_path: Path, tmp_path: Path):
    from qdocs.catalog import catalog_from_text
    from qdocs.signing import sign_record

    run = signing
    add_user(run, "inspector2", "inspector")
    catalog_path = repo_path / "forms" / "catalog.yaml"
    relaxed = relax(catalog_path.read_text(encoding="utf-8"))
    catalog_path.write_text(relaxed, encoding="utf-8")
    plain_commit(repo_path, "inspectors may approve final inspections")
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "inspector"  # the signer, not --actor tester
    before = repository_state(repo_path)
    refused(run("sign", record_id, "--as", "inspector2", "--meaning", "approved"), "needs role qc-manager")
    assert repository_state(repo_path) == before
    # the library, told the relaxed catalog is the one in force, signs: verify reports it
    repository = Repository.open(repo_path)
    repository._catalog = catalog_from_text(relaxed, catalog_path)
    sign_record(repository, record_id, "inspector2", "approved", PASSPHRASE)
    repository.close()
    report = findings(run)
    found(report, "signature", record_id, "signature 'approved' by inspector2", "the catalog in force",
          "does not allow role 'inspector'")
    found(report, "form", "forms/catalog.yaml", "never approved")


def test_a_relaxed_catalog_put_in_force_by_editing_the_forms_view(signing, catalog, repo_path: Path,
                                                                   tmp_path: Path):
    """``.qdocs/forms.yaml`` tells commands which version of each form is approved: edited to name
    an unapproved catalog, it would let ``qdocs sign`` itself sign in the relaxed roles."""
    from qdocs.forms import describe

    run = signing
    add_user(run, "inspector2", "inspector")
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    catalog_path = repo_path / "forms" / "catalog.yaml"
    relaxed = relax(catalog_path.read_text(encoding="utf-8"))
    catalog_path.write_text(relaxed, encoding="utf-8")
    view_path = repo_path / ".qdocs" / "forms.yaml"
    view = view_path.read_text(encoding="utf-8")
    approved = yamlio.load(view)["forms/catalog.yaml"]
    forged = describe(relaxed.encode("utf-8"))
    view_path.write_text(view.replace(approved["sha256"], forged["sha256"]).replace(approved["blob"], forged["blob"]),
                         encoding="utf-8")
    plain_commit(repo_path, "inspectors may approve final inspections")
    before = repository_state(repo_path)
    refused(run("sign", record_id, "--as", "inspector2", "--meaning", "approved"), ".qdocs/forms.yaml",
            "changed outside qdocs", "forms/catalog.yaml")
    assert repository_state(repo_path) == before
    report = findings(run)
    found(report, "form", ".qdocs/forms.yaml", "differs from the approvals in the trust log")
    found(report, "outside-qdocs", ".qdocs/forms.yaml", "no signed trust entry")


def test_a_signature_appended_to_record_yaml(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    add_user(run, "inspector2", "inspector")
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    private, fingerprint = private_key(tmp_path / "home", "inspector2", repo_path)
    hand_signature(repo_path, record_id, "inspector2", "inspector", "approved", private, fingerprint)
    plain_commit(repo_path, "approved")
    report = findings(run)
    found(report, "signature", record_id, "the catalog in force", "does not allow role 'inspector'")
    found(report, "record", record_id, "record.yaml differs from what its last action wrote")
    found(report, "record", record_id, "signature 'approved' by inspector2 has no sign action in the event chain")


# -- 4. a role granted in a user's file ------------------------------------------------------


def test_a_role_granted_in_the_users_file(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    add_user(run, "inspector2", "inspector")
    path = repo_path / ".qdocs" / "users" / "inspector.yaml"
    view = yamlio.load(path.read_text(encoding="utf-8"))
    view["roles"] = ["inspector", "qc-manager"]
    path.write_text(yamlio.dump(view), encoding="utf-8")
    plain_commit(repo_path, "inspector covers for the QC manager")
    report = findings(run)  # reported although no signature uses it
    found(report, "trust", ".qdocs/users/inspector.yaml", "lists roles inspector, qc-manager",
          "the trust log grants inspector")
    found(report, "outside-qdocs", ".qdocs/users/inspector.yaml", "outside qdocs", "no signed trust entry")
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector2", "inspected")
    before = repository_state(repo_path)
    refused(run("sign", record_id, "--as", "inspector", "--meaning", "approved"), "needs role qc-manager",
            "inspector has inspector")
    assert repository_state(repo_path) == before
    private, fingerprint = private_key(tmp_path / "home", "inspector", repo_path)
    hand_signature(repo_path, record_id, "inspector", "qc-manager", "approved", private, fingerprint)
    plain_commit(repo_path, "approved")
    found(findings(run), "signature", record_id, "signature 'approved' by inspector",
          "did not hold role 'qc-manager'")


# -- 5. keys swapped or registered outside qdocs --------------------------------------------


def test_a_public_key_swapped_in_the_users_file(signing, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    run = signing
    mallory = new_key_pair(PASSPHRASE, "mallory")
    path = repo_path / ".qdocs" / "users" / "qc-manager.yaml"
    view = yamlio.load(path.read_text(encoding="utf-8"))
    view["keys"][0].update(fingerprint=mallory.fingerprint, public_key=mallory.public_key)
    path.write_text(yamlio.dump(view), encoding="utf-8")
    plain_commit(repo_path, "new key for the QC manager")
    report = findings(run)
    found(report, "trust", ".qdocs/users/qc-manager.yaml", "a key was swapped outside qdocs")
    found(report, "outside-qdocs", ".qdocs/users/qc-manager.yaml", "no signed trust entry")
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    # mallory holds only her private key: the command looks for the registered one
    home = tmp_path / "mallory-home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / f"qc-manager-{mallory.fingerprint[8:]}.pem").write_bytes(mallory.encrypted)
    monkeypatch.setenv("QDOCS_HOME", str(home))
    before = repository_state(repo_path)
    refused(run("sign", record_id, "--as", "qc-manager", "--meaning", "approved"), "no private key for qc-manager")
    assert repository_state(repo_path) == before
    hand_signature(repo_path, record_id, "qc-manager", "qc-manager", "approved", mallory.private, mallory.fingerprint)
    plain_commit(repo_path, "approved")
    found(findings(run), "signature", record_id, "made with a key that is not registered for qc-manager")


def forge_key_registration(repo: Path, user: str, by: str, key: str, sign: Any) -> tuple[Any, str]:
    """Write a key-register trust entry for ``user`` with plain files, signed by ``sign``,
    and the user's file as qdocs would have rewritten it; returns the new key pair and the entry's path."""
    from qdocs.records import now_text
    from qdocs.trust.log import EntryWriter

    pair = new_key_pair(PASSPHRASE, user)
    written: dict[str, Any] = {}

    def write(path: str, content: Any) -> None:
        written[path] = content
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    writer = EntryWriter(repo, "S1", write)
    entry = writer.append("key-register", now_text(Repository.open(repo).time_zone), by, key, sign, user=user, fingerprint=pair.fingerprint,
                          public_key=pair.public_key, reason="lost laptop")
    writer.finish()
    path = repo / ".qdocs" / "users" / f"{user}.yaml"
    view = yamlio.load(path.read_text(encoding="utf-8"))
    for old in view["keys"]:
        old.setdefault("retired", entry.fields["time"])
    view["keys"].append({"fingerprint": pair.fingerprint, "public_key": pair.public_key,
                         "created": entry.fields["time"], "registered_by": entry.label})
    path.write_text(yamlio.dump(view), encoding="utf-8")
    return pair, entry.label


@pytest.mark.parametrize("forger", ["no signature", "a non-administrator", "a stranger"])
def test_a_key_registered_by_a_forged_trust_entry(forger, signing, catalog, repo_path: Path, tmp_path: Path,
                                                  monkeypatch):
    run = signing
    state = trust_state(Repository.open(repo_path))
    if forger == "no signature":
        by, key, signer = ADMIN, state.users[ADMIN].current_key().fingerprint, (lambda content: b"")
        expected = "does not verify"
    elif forger == "a non-administrator":
        private, fingerprint = private_key(tmp_path / "home", "inspector", repo_path)
        by, key, signer = "inspector", fingerprint, private.sign
        expected = "who was not an administrator"
    else:
        mallory = new_key_pair(PASSPHRASE, "mallory")
        by, key, signer = "mallory", mallory.fingerprint, mallory.private.sign
        expected = "who is not a user"
    pair, label = forge_key_registration(repo_path, "qc-manager", by, key, signer)
    plain_commit(repo_path, "replace the QC manager's key")
    report = findings(run)
    assert label.startswith("trust entry S1/") and "(key-register of qc-manager)" in label
    found(report, "trust", label, expected, "it does not count")
    found(report, "trust", label, "has no event in the event chain")
    found(report, "trust", ".qdocs/users/qc-manager.yaml", "keys the trust log did not register")
    assert pair.fingerprint not in trust_state(Repository.open(repo_path)).users["qc-manager"].keys
    # the forged key signs nothing through qdocs
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    home = tmp_path / "mallory-home"
    (home / "keys").mkdir(parents=True)
    (home / "keys" / f"qc-manager-{pair.fingerprint[8:]}.pem").write_bytes(pair.encrypted)
    monkeypatch.setenv("QDOCS_HOME", str(home))
    before = repository_state(repo_path)
    refused(run("sign", record_id, "--as", "qc-manager", "--meaning", "approved"), "no private key for qc-manager")
    assert repository_state(repo_path) == before


# -- 6. numbering ------------------------------------------------------------------------------


def test_an_edited_counter_and_a_reused_number(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    first = new_record(run, catalog, tmp_path)
    prefix, site, year, number = first.split("-")
    path = repo_path / ".qdocs" / "sequences" / "S1.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"{prefix}-{year}: 1" in text
    path.write_text(text.replace(f"{prefix}-{year}: 1", f"{prefix}-{year}: 5"), encoding="utf-8")
    plain_commit(repo_path, "skip some numbers")
    report = findings(run)
    found(report, "sequence", ".qdocs/sequences/S1.yaml", f"counter {prefix}-{year} is 5",
          "the highest number used is 1")
    found(report, "outside-qdocs", ".qdocs/sequences/S1.yaml", "no record was created with it")
    sixth = new_record(run, catalog, tmp_path)
    assert sixth == f"{prefix}-{site}-{year}-0006"
    found(findings(run), "sequence", ".qdocs/sequences/S1.yaml", "numbers never used below 6",
          f"{prefix}-{site}-{year}-0002", "a gap in the numbering")
    # the same number on a second subject
    folder = get_record(Repository.open(repo_path), first).path
    copy = folder.replace("/L2026-031/", "/L2026-999/")
    assert copy != folder
    shutil.copytree(repo_path / folder, repo_path / copy)
    plain_commit(repo_path, "second lot")
    found(findings(run), "sequence", first, "the number is used by 2 records", copy)


# -- 7. forms changed with plain git -----------------------------------------------------------


def _edit_forms(repo: Path) -> None:
    from docx import Document

    catalog = repo / "forms" / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("en: Inspector}", "en: Inspector (any)}", 1),
                       encoding="utf-8")
    rules = repo / "forms" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("hours: 24", "hours: 2400", 1), encoding="utf-8")
    template = repo / "forms" / "final-inspection.docx"
    document = Document(str(template))
    document.add_paragraph("Not approved 未经批准")
    document.save(str(template))


def test_forms_changed_with_plain_git_are_not_in_force(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    approved = {path: (repo_path / path).read_bytes()
                for path in ("forms/catalog.yaml", "forms/rules.yaml", "forms/final-inspection.docx")}
    _edit_forms(repo_path)
    plain_commit(repo_path, "tidy the forms")
    report = findings(run)
    for path in approved:
        found(report, "form", path, "never approved", "qdocs forms approve")
    status = run("forms", "status", "--json")
    assert status.exit_code == 0
    states = {form["path"]: form["state"] for form in json.loads(status.stdout)}
    assert {states[path] for path in approved} == {"changed"}
    created = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path)))
    assert created.exit_code == 0, created.output
    assert "has changes waiting for approval; using its approved version 1" in created.stderr
    record = get_record(Repository.open(repo_path), created.stdout.strip())
    import hashlib

    assert record.template_sha256 == hashlib.sha256(approved["forms/final-inspection.docx"]).hexdigest()
    assert record.catalog_sha256 == hashlib.sha256(approved["forms/catalog.yaml"]).hexdigest()
    # only a holder of an approving role puts them in force
    before = repository_state(repo_path)
    refused(run("forms", "approve", "--as", "inspector"), "inspector", "approve forms")
    assert repository_state(repo_path) == before
    approved_now = run("forms", "approve", "--as", "qc-manager", "--comment", "reviewed", actor="someone-else")
    assert approved_now.exit_code == 0, approved_now.output
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "qc-manager"
    assert not [finding for finding in findings(run) if finding["kind"] == "form"]


def test_a_record_made_with_an_unapproved_form(signing, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    import qdocs.forms
    from tests.conftest import example_values

    run = signing
    _edit_forms(repo_path)
    plain_commit(repo_path, "tidy the forms")
    monkeypatch.setattr(qdocs.forms, "read_approved", lambda repository, path: (repository.root / path).read_bytes())
    repository = Repository.open(repo_path)
    record = create_record(repository, "final-inspection", example_values(catalog, "final-inspection"), "mallory")
    repository.close()
    monkeypatch.undo()
    report = findings(run)
    found(report, "form", record.id, "forms/final-inspection.docx that was never approved")
    found(report, "form", record.id, "forms/catalog.yaml that was never approved")


# -- 8. a dropped tail of history ---------------------------------------------------------------


def test_a_dropped_tail_of_history(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    early, late = tmp_path / "early.checkpoint", tmp_path / "late.checkpoint"
    assert run("checkpoint", "-o", str(early)).exit_code == 0
    ids = [new_record(run, catalog, tmp_path) for _ in range(3)]
    assert run("checkpoint", "-o", str(late)).exit_code == 0
    assert findings(run) == []
    git(repo_path, "reset", "-q", "--hard", "HEAD~3")
    report = findings(run)
    found(report, "checkpoint", "checkpoint of", "is no longer in the history of HEAD")
    assert not any(finding["record"].startswith(ids[0]) for finding in report)  # the records are simply gone
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo_path), str(clone)], check=True)
    verified = run("--repo", str(clone), "verify", "--json", "--checkpoint", str(early))
    assert verified.exit_code == 0, verified.output  # the early checkpoint is still in the history
    verified = run("--repo", str(clone), "verify", "--json", "--checkpoint", str(late))
    assert verified.exit_code == 1
    found(json.loads(verified.stdout)["findings"], "checkpoint", str(late), "is no longer in the history of HEAD")


def test_a_dropped_tail_is_noticed_by_the_copy_that_made_it(signing, catalog, repo_path: Path, tmp_path: Path):
    """Without any checkpoint taken: the copy remembers the last commit qdocs made in it."""
    run = signing
    for _ in range(3):
        new_record(run, catalog, tmp_path)
    git(repo_path, "reset", "-q", "--hard", "HEAD~3")
    found(findings(run), "checkpoint", "last commit", "is no longer in the history of HEAD")
    new_record(run, catalog, tmp_path)  # a later action does not make it forgotten
    found(findings(run), "checkpoint", "last commit", "is no longer in the history of HEAD")


# -- the order of trust entries ------------------------------------------------------------------


def test_a_trust_entry_backdated_to_before_a_revocation(signing, repo_path: Path, tmp_path: Path, monkeypatch):
    """A revoked administrator still holds their private key: an entry signed with it and dated
    before the revocation would be folded before it, hence valid, were a site's entries not
    kept in their order."""
    from qdocs.trust.log import EntryWriter

    run = signing
    monkeypatch.setenv("QDOCS_CLOCK", "2026-06-01T10:00:00+08:00")
    add_user(run, "admin2", "admin")
    private, fingerprint = private_key(tmp_path / "home", "admin2", repo_path)
    monkeypatch.setenv("QDOCS_CLOCK", "2026-06-02T10:00:00+08:00")
    assert run("users", "revoke", "admin2", "--reason", "left the company", "--as", ADMIN).exit_code == 0
    before = repository_state(repo_path)
    refused(run("users", "add", "sock", "--full-name", "Sock", "--role", "qc-manager", "--as", "admin2"),
            "admin2", "revoked")
    monkeypatch.setenv("QDOCS_CLOCK", "2026-06-01T12:00:00+08:00")
    refused(run("users", "add", "sock", "--full-name", "Sock", "--role", "qc-manager", "--as", ADMIN),
            "clock", "behind the last trust entry of site S1")
    assert repository_state(repo_path) == before

    def write(path: str, content: Any) -> None:
        (repo_path / path).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    writer = EntryWriter(repo_path, "S1", write)
    entry = writer.append("user-add", "2026-06-01T12:00:00+08:00", "admin2", fingerprint, private.sign, user="sock",
                          full_name="Sock", roles=["qc-manager"], image_sha256=None)
    writer.finish()
    plain_commit(repo_path, "add sock")
    found(findings(run), "trust", entry.label, "is dated 2026-06-01T12:00:00+08:00, before an earlier entry",
          "its time was set back", "it does not count")
    assert trust_state(Repository.open(repo_path)).user("sock") is None


def test_a_second_root_dated_before_the_first(signing, repo_path: Path):
    """A root entry in a new site's log, dated years before the real one, does not take its place."""
    from qdocs.trust.log import EntryWriter

    run = signing
    root = trust_state(Repository.open(repo_path)).root
    mallory = new_key_pair(PASSPHRASE, "mallory")
    (repo_path / ".qdocs" / "trust" / "S0").mkdir()

    def write(path: str, content: Any) -> None:
        (repo_path / path).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    writer = EntryWriter(repo_path, "S0", write)
    entry = writer.append("root", "2020-01-01T00:00:00+08:00", "mallory", mallory.fingerprint, mallory.private.sign,
                          user="mallory", full_name="Mallory", roles=["admin"], fingerprint=mallory.fingerprint,
                          public_key=mallory.public_key)
    writer.finish()
    plain_commit(repo_path, "a root for site S0")
    report = findings(run)
    found(report, "trust", entry.label, "is a second root", "names entry S1/1")
    assert trust_state(Repository.open(repo_path)).root["fingerprint"] == root["fingerprint"]
    trust = json.loads(run("trust", "--json").stdout)
    assert trust["root"]["fingerprint"] == root["fingerprint"] and trust["admins"] == [ADMIN]


# -- the forged approval: what the trust log exists for ---------------------------------------------


def _forge_key_registration_thoroughly(repo: Path, user: str) -> tuple[Any, str]:
    """mallory, who is no user, registers a key for ``user`` with qdocs' own writing functions: the
    trust entry (signed with her key), the user's file and an event in the chain, one commit."""
    from qdocs.records import now_text
    from qdocs.trust.log import EntryWriter
    from qdocs.users import user_path

    mallory = new_key_pair(PASSPHRASE, "mallory")
    pair = new_key_pair(PASSPHRASE, user)
    repository = Repository.open(repo)
    with repository.transaction("key-register", [], []) as change:
        time = now_text(repository.time_zone)
        writer = EntryWriter(repository.root, "S1", change.write)
        entry = writer.append("key-register", time, "mallory", mallory.fingerprint, mallory.private.sign, user=user,
                              fingerprint=pair.fingerprint, public_key=pair.public_key, reason="lost laptop")
        writer.finish()
        view = yamlio.load((repo / user_path(user)).read_text(encoding="utf-8"))
        for old in view["keys"]:
            old.setdefault("retired", time)
        view["keys"].append({"fingerprint": pair.fingerprint, "public_key": pair.public_key, "created": time,
                             "registered_by": entry.label})
        change.write(user_path(user), yamlio.dump(view))
        change.events.append("key-register", ADMIN, time, trust_entry=entry.hash, user=user)
        change.commit(f"register signing key {pair.fingerprint} for {user}", ADMIN, {"Action": "key-register"})
    repository.close()
    return pair, entry.label


def _forge_signature(repo: Path, record_id: str, signer: str, meaning: str, pair: Any) -> None:
    """Sign as ``signer`` with ``pair`` exactly as ``qdocs sign`` writes a signature (record.yaml,
    record.docx, the sign event, one commit), skipping only its checks of the trust state."""
    from qdocs.actions import write_record
    from qdocs.events import sha256_hex
    from qdocs.records import Stamp

    repository = Repository.open(repo)
    record = get_record(repository, record_id)
    record_type = repository.catalog.get(record.type)
    with repository.transaction("sign", [record.path], [record_id]) as change:
        stamp = Stamp.now(signer, repository.time_zone)
        signature = {"meaning": meaning, "signer": signer, "full_name": f"{signer} 姓名", "role": signer,
                     "time": clock.utc_now().isoformat().replace("+00:00", "Z"), "comment": "",
                     "key": pair.fingerprint, "chain_head": change.events.head.hash}
        signature["signature"] = base64.b64encode(pair.private.sign(signature_payload(record, signature))).decode()
        record.signatures.append(signature)
        record.status, record.changed = "approved", stamp
        entry = write_record(repository, repository.templates, record_type, record, change, role=signer,
                             signature_sha256=sha256_hex(signature["signature"].encode()))
        change.events.append("sign", signer, stamp.time, records=[entry], meaning=meaning, signer=signer,
                             key=pair.fingerprint)
        change.commit(f"sign {record_id} rev {record.revision} as {meaning} by {signer}", signer,
                      {"Action": "sign", "Record": record_id, "Meaning": meaning, "Signer": signer})
    repository.close()


def test_a_lot_released_with_a_forged_approval_is_blocked(complete):
    from tests.test_audit_helpers import LOT, PRODUCT, ids_of, results_of

    (final,) = ids_of(complete, "final-inspection")
    assert complete("revise", final, "--set", "standard=GB/T 3216-2016", "--reason", "new standard").exit_code == 0
    assert complete("sign", final, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    assert complete("release-check", PRODUCT, "--lot", LOT).exit_code == 1  # waiting for the QC manager
    pair, label = _forge_key_registration_thoroughly(complete.repo, "qc-manager")
    _forge_signature(complete.repo, final, "qc-manager", "approved", pair)
    assert get_record(Repository.open(complete.repo), final).status == "approved"
    verified = complete("verify", "--json")
    assert verified.exit_code == 1
    report = json.loads(verified.stdout)["findings"]
    assert "(key-register of qc-manager)" in label
    found(report, "trust", label, "'mallory', who is not a user", "it does not count")
    found(report, "signature", final, "signature 'approved' by qc-manager",
          "made with a key that is not registered for qc-manager")
    checked = complete("release-check", PRODUCT, "--lot", LOT, "--json")
    assert checked.exit_code == 1, checked.output
    r11 = results_of({"lots": [json.loads(checked.stdout)]})["R11"]
    assert r11["status"] == "unsigned"
    text = " ".join(finding["text"] for finding in r11["findings"])
    assert f"{final} (unsigned)" in text
    assert f"{final}: signature 'approved' by qc-manager does not count: " in text
    assert "made with a key that is not registered for qc-manager" in text
    code, audit = complete.audit_json("--lot", LOT)  # the whole-repository audit agrees, from the trust state alone
    assert code == 1 and results_of(audit)["R11"]["status"] == "unsigned"
    assert "does not count" in results_of(audit)["R11"]["findings"][0]["text"]


def test_release_check_verifies_the_records_it_relies_on(complete):
    """A record changed with plain git after it was approved keeps valid-looking signatures the
    trust state authorises; the release gate verifies each record it relies on, in the lot and
    outside it (the supplier evaluation behind a material lot)."""
    from tests.test_audit_helpers import LOT, PRODUCT, ids_of, results_of

    assert complete("release-check", PRODUCT, "--lot", LOT).exit_code == 0
    (evaluation,) = ids_of(complete, "supplier-evaluation")
    path = complete.repo / get_record(Repository.open(complete.repo), evaluation).path / "record.yaml"
    raw = yamlio.load(path.read_text(encoding="utf-8"))
    raw["data"]["next_assessment_due"] = "2099-12-31"
    path.write_text(yamlio.dump(raw), encoding="utf-8")
    plain_commit(complete.repo, "extend the evaluation")
    checked = complete("release-check", PRODUCT, "--lot", LOT, "--json")
    assert checked.exit_code == 1, checked.output
    results = results_of({"lots": [json.loads(checked.stdout)]})
    blocked = {rule: result for rule, result in results.items() if result["status"] != "ok"}
    assert set(blocked) == {"R6"}, blocked
    text = " ".join(finding["text"] for finding in blocked["R6"]["findings"])
    assert f"{evaluation}: record.yaml differs from what its last action wrote" in text
    code, audit = complete.audit_json("--lot", LOT)  # the whole-repository audit reads signatures, not documents
    assert code == 0


def test_attest_is_only_the_migration_right_after_the_root(tmp_path: Path):
    """``attest`` (a repository made before trust accepting its users) takes keys with their own
    creation times and roles held all along: a later one, even by the root administrator, would
    backdate a key or a role, so it counts only right after the root.  A root administrator who
    was a user before keeps the earlier key, retired by the migration, so earlier signatures count."""
    from qdocs.trust.log import EntryWriter
    from qdocs.trust.state import load_trust

    repo = tmp_path / "repo"

    def write(path: str, content: Any) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))

    root, earlier, sock = (new_key_pair(PASSPHRASE, name) for name in ("li.admin", "li.admin", "sock"))
    migrated = "2026-02-01T08:00:00+08:00"
    writer = EntryWriter(repo, "S1", write)
    writer.append("root", migrated, "li.admin", root.fingerprint, root.private.sign, user="li.admin",
                  full_name="Li", roles=["admin"], fingerprint=root.fingerprint, public_key=root.public_key)
    writer.append("attest", migrated, "li.admin", root.fingerprint, root.private.sign, forms={}, users={
        "li.admin": {"full_name": "Li", "roles": ["qc-manager"], "keys": [
            {"fingerprint": earlier.fingerprint, "public_key": earlier.public_key,
             "created": "2025-01-01T08:00:00+08:00", "retired": None}]}})
    later = writer.append("attest", "2026-03-01T08:00:00+08:00", "li.admin", root.fingerprint, root.private.sign,
                          forms={}, users={"sock": {"full_name": "Sock", "roles": ["qc-manager"], "keys": [
                              {"fingerprint": sock.fingerprint, "public_key": sock.public_key,
                               "created": "2020-01-01T00:00:00+08:00", "retired": None}]}})
    writer.finish()
    write(".qdocs/trust/root.yaml", yamlio.dump({"user": "li.admin", "fingerprint": root.fingerprint,
                                                  "entry": "S1/1"}))
    state = load_trust(repo)
    assert "sock" not in state.users
    assert any(finding.record == later.label and "only the migration" in finding.message for finding in state.findings)
    li = state.users["li.admin"]
    assert li.current_key().fingerprint == root.fingerprint and li.keys[earlier.fingerprint].retired is not None
    assert state.signing_problem("li.admin", "qc-manager", earlier.fingerprint, "2025-06-01T00:00:00Z")[1] is None
    assert "retired" in state.signing_problem("li.admin", "qc-manager", earlier.fingerprint, "2026-02-02T00:00:00Z")[1]
    assert state.signing_problem("li.admin", "qc-manager", root.fingerprint, "2026-02-02T00:00:00Z")[1] is None


def test_a_revocation_taken_back_with_plain_git_blocks_the_release(complete):
    """The QC manager leaves and is revoked; with plain git her revocation is deleted from the
    trust log (its head and her file put back as they were), and she approves with the key she
    kept.  The log left is consistent, so qdocs sign accepts her; verify and the release gate,
    which check the log against git and the event chain, do not."""
    from qdocs.events import sha256_hex
    from tests.test_audit_helpers import LOT, PRODUCT, ids_of, results_of

    (final,) = ids_of(complete, "final-inspection")
    assert complete("revise", final, "--set", "standard=GB/T 3216-2016", "--reason", "new standard").exit_code == 0
    assert complete("sign", final, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    assert complete("users", "revoke", "qc-manager", "--reason", "left the company", "--as", ADMIN).exit_code == 0
    refused(complete("sign", final, "--as", "qc-manager", "--meaning", "approved"), "revoked")
    folder = complete.repo / ".qdocs" / "trust" / "S1"
    *_, previous, revocation = sorted(folder.glob("*.json"))
    assert '"action":"user-revoke"' in revocation.read_text(encoding="utf-8")
    revocation.unlink()
    (folder.parent / "S1.head").write_text(f"{int(previous.stem)} {sha256_hex(previous.read_bytes())}\n")
    view = ".qdocs/users/qc-manager.yaml"
    (complete.repo / view).write_text(git(complete.repo, "show", f"HEAD~1:{view}"), encoding="utf-8")
    plain_commit(complete.repo, "tidy up")
    assert complete("sign", final, "--as", "qc-manager", "--meaning", "approved").exit_code == 0
    verified = complete("verify", "--json")
    assert verified.exit_code == 1
    report = json.loads(verified.stdout)["findings"]
    found(report, "trust", f".qdocs/trust/S1/{revocation.name}", "was changed or deleted after it was committed")
    found(report, "trust", "event chain S1", "(user-revoke) names a trust entry that is missing")
    checked = complete("release-check", PRODUCT, "--lot", LOT, "--json")
    assert checked.exit_code == 1, checked.output
    r11 = results_of({"lots": [json.loads(checked.stdout)]})["R11"]
    assert r11["status"] == "unsigned"
    assert "no signature counts while the trust log is not what was committed" in r11["findings"][0]["text"]


def test_a_lost_key_signing_with_its_time_set_back(signing, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    """The QC manager's laptop is lost and an administrator replaces her key; whoever has the old
    key signs with it, dated before the replacement, through qdocs' own writing functions.  The
    old key was valid then, so only the time gives it away: the signature is dated before the
    event it follows in the chain, and before the revision it signs was made."""
    run = signing
    record_id = new_record(run, catalog, tmp_path)
    sign(run, record_id, "inspector", "inspected")
    old_private, old_fingerprint = private_key(tmp_path / "home", "qc-manager", repo_path)
    assert run("keys", "create", "qc-manager", "--replace", "--as", ADMIN, "--reason", "laptop lost").exit_code == 0
    replaced = trust_state(Repository.open(repo_path)).users["qc-manager"].keys[old_fingerprint].retired
    backdated = (replaced - _dt.timedelta(hours=1)).isoformat()
    monkeypatch.setenv("QDOCS_CLOCK", backdated)

    class Stolen:
        fingerprint, private = old_fingerprint, old_private

    _forge_signature(repo_path, record_id, "qc-manager", "approved", Stolen)
    found(findings(run), "signature", record_id, "signature 'approved' by qc-manager is dated",
          "before the event it follows in the chain", "its time was set back")
