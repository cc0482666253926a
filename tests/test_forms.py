"""The forms (catalog, rules, Word templates) are controlled documents of the repository:
a change takes effect once someone allowed to approve forms signs it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from docx import Document

from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.conftest import approve_forms, git, repository_state, write_example

TEMPLATE = "forms/final-inspection.docx"


def _edit_template(repo: Path, text: str) -> str:
    path = repo / TEMPLATE
    document = Document(str(path))
    document.add_paragraph(text)
    document.save(str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_changed_template_is_used_only_once_approved(signing, repo_path: Path, catalog, tmp_path: Path):
    run = signing
    approved = hashlib.sha256((repo_path / TEMPLATE).read_bytes()).hexdigest()
    changed = _edit_template(repo_path, "修订说明 Revision note: torque item added")
    status = json.loads(run("forms", "status", "--json").stdout)
    assert {form["path"]: form["state"] for form in status}[TEMPLATE] == "changed"
    data = write_example(catalog, "final-inspection", tmp_path)
    before = run("new", "final-inspection", "--data", str(data))
    assert before.exit_code == 0 and f"{TEMPLATE} has changes waiting for approval" in before.stderr
    record = get_record(Repository.open(repo_path), before.stdout.strip())
    assert record.template_sha256 == approved
    # only a role the catalog lists under forms: approve may put it in force
    state = repository_state(repo_path)
    refused = run("forms", "approve", TEMPLATE, "--as", "inspector")
    assert refused.exit_code == 2 and "held none of the roles that approve forms (qc-manager)" in refused.stderr
    assert repository_state(repo_path) == state
    done = run("forms", "approve", TEMPLATE, "--as", "qc-manager", "--comment", "torque item")
    assert done.exit_code == 0 and f"{TEMPLATE} version 2 in force" in done.stdout
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "qc-manager"
    after = run("new", "final-inspection", "--data", str(data), "--lot", "L2026-099")
    assert after.exit_code == 0 and "waiting for approval" not in after.stderr
    shown = json.loads(run("show", after.stdout.strip(), "--json").stdout)
    assert shown["template_sha256"] == changed and shown["forms"]["template"]["version"] == 2
    assert json.loads(run("show", record.id, "--json").stdout)["forms"]["template"]["version"] == 1
    verified = run("verify")
    assert verified.exit_code == 0, verified.stdout


def test_a_form_that_does_not_fit_the_catalog_cannot_be_approved(signing, repo_path: Path):
    run = signing
    _edit_template(repo_path, "{{ torque_value }}")
    state = repository_state(repo_path)
    refused = run("forms", "approve", "--as", "qc-manager")
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "unknown variable 'torque_value'" in refused.stderr and repository_state(repo_path) == state


def test_a_form_committed_with_plain_git_and_never_approved_is_reported(signing, repo_path: Path):
    run = signing
    _edit_template(repo_path, "修订 unapproved")
    git(repo_path, "add", TEMPLATE)
    git(repo_path, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "new template")
    found = run("verify", "--json")
    assert found.exit_code == 1
    findings = json.loads(found.stdout)["findings"]
    assert [(finding["record"], finding["kind"]) for finding in findings] == [(TEMPLATE, "form")]
    assert "never approved" in findings[0]["message"]
    approve_forms(repo_path)
    assert run("verify").exit_code == 0
