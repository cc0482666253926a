"""Users, keys and signatures through the command line: from creation to approved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document

from qdocs.queries import get_record
from qdocs.repository import Repository
from tests.conftest import git, repository_state, write_example
from tests.test_catalog import EXPECTED_TYPES



def _signature_rows(path: Path) -> list[str]:
    document = Document(str(path))
    rows = []
    for table in document.tables:
        for row in table.rows:
            rows.append(" | ".join(cell.text for cell in row.cells))
    return rows


@pytest.mark.parametrize("type_id", EXPECTED_TYPES)
def test_every_type_goes_from_creation_to_approved(type_id, signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    data = write_example(catalog, type_id, tmp_path)
    record_id = run("new", type_id, "--data", str(data)).output.strip()
    record_type = catalog.get(type_id)
    for number, requirement in enumerate(record_type.signatures, start=1):
        signer = requirement.roles[0]
        result = run("sign", record_id, "--as", signer, "--meaning", requirement.meaning, "--comment", f"ok {number}")
        assert result.exit_code == 0, result.output
        expected = "approved" if number == len(record_type.signatures) else "in-review"
        assert result.output.strip() == f"{record_id} rev A {expected}"
    record = get_record(Repository.open(repo_path), record_id)
    assert record.status == "approved"
    rows = _signature_rows(repo_path / record.path / "record.docx")
    for signature in record.signatures:
        meaning = catalog.meanings[signature["meaning"]].label
        role = catalog.roles[signature["role"]]
        row = next((row for row in rows if meaning.zh in row and signature["full_name"] in row), None)
        assert row is not None, (signature, rows)
        assert f"{role.zh} {role.en}" in row
        assert signature["time"][:4] in row and "+" in row.split("|")[3] or "-" in row.split("|")[3]
    verify = run("verify", "--json")
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.output)["clean"] is True


def test_approved_record_is_locked_until_revised(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))).output.strip()
    run("sign", record_id, "--as", "inspector", "--meaning", "inspected")
    run("sign", record_id, "--as", "qc-manager", "--meaning", "approved")
    before = repository_state(repo_path)
    locked = run("sign", record_id, "--as", "qa-engineer", "--meaning", "approved")
    assert locked.exit_code == 2 and "approved and locked" in locked.output
    assert repository_state(repo_path) == before
    revised = run("revise", record_id, "--set", "conclusion=fail", "--reason", "re-test")
    assert revised.exit_code == 0
    record = get_record(Repository.open(repo_path), record_id)
    assert record.status == "draft" and record.signatures == [] and record.revision == "B"
    stale = run("sign", record_id, "--as", "inspector", "--meaning", "inspected", "--rev", "A")
    assert stale.exit_code == 2 and "superseded" in stale.output
    assert run("sign", record_id, "--as", "inspector", "--meaning", "inspected", "--rev", "B").exit_code == 0
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("case", [
    "wrong passphrase", "unknown user", "revoked user", "role not allowed", "same person twice", "void record",
    "out of order", "meaning not needed", "no key",
])
def test_refusals_change_nothing(case, signing, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    run = signing
    record_id = run("new", "design-review", "--data", str(write_example(catalog, "design-review", tmp_path))).output.strip()
    run("users", "add", "multi", "--full-name", "多角色", "--role", "rd-engineer", "--role", "qa-engineer", "--as", "admin")
    run("keys", "create", "multi", "--as", "admin")
    run("users", "add", "keyless", "--full-name", "无钥匙", "--role", "rd-engineer", "--as", "admin")
    arguments = ["sign", record_id, "--as", "rd-engineer", "--meaning", "prepared"]
    expected = ""
    if case == "wrong passphrase":
        monkeypatch.setenv("QDOCS_PASSPHRASE", "not the passphrase")
        expected = "wrong passphrase"
    elif case == "unknown user":
        arguments[3] = "nobody"
        expected = "unknown user 'nobody'"
    elif case == "revoked user":
        run("users", "revoke", "rd-engineer", "--reason", "left the company", "--as", "admin")
        expected = "was revoked"
    elif case == "role not allowed":
        arguments[3] = "legal"
        expected = "needs role rd-engineer"
    elif case == "same person twice":
        run("sign", record_id, "--as", "multi", "--meaning", "prepared")
        arguments = ["sign", record_id, "--as", "multi", "--meaning", "reviewed"]
        expected = "at most once"
    elif case == "void record":
        run("void", record_id, "--reason", "duplicate")
        expected = "is void"
    elif case == "out of order":
        arguments = ["sign", record_id, "--as", "rd-manager", "--meaning", "approved"]
        expected = "must first be signed as prepared, reviewed"
    elif case == "meaning not needed":
        arguments = ["sign", record_id, "--as", "inspector", "--meaning", "inspected"]
        expected = "takes no 'inspected' signature"
    elif case == "no key":
        arguments[3] = "keyless"
        expected = "has no signing key"
    before = repository_state(repo_path)
    result = run(*arguments)
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert repository_state(repo_path) == before


def test_users_and_keys(signing, repo_path: Path, tmp_path: Path):
    run = signing
    listing = json.loads(run("users", "list", "--json").output)
    inspector = next(user for user in listing if user["name"] == "inspector")
    assert inspector["roles"] == ["inspector"] and inspector["keys"][0]["fingerprint"].startswith("ed25519:")
    # the private key is outside the repository, encrypted; the public key is committed
    assert not list(repo_path.rglob("*.pem"))
    pem = next((tmp_path / "home" / "keys").glob("inspector-*.pem")).read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert "Action: key-register" in git(repo_path, "log", "--format=%B")
    assert run("keys", "create", "inspector").exit_code == 2  # already has one
    assert run("keys", "create", "inspector", "--replace").exit_code == 0  # rotated with the current key
    assert "Action: key-rotate" in git(repo_path, "log", "-1", "--format=%B")
    assert git(repo_path, "log", "-1", "--format=%an").strip() == "inspector"  # the signer, not --actor
    from qdocs.trust.administration import trust_state

    user = trust_state(Repository.open(repo_path)).users["inspector"]
    first, second = user.keys.values()
    assert first.retired is not None and second.retired is None
    for bad in (["users", "add", "Bad Name", "--full-name", "x", "--role", "inspector", "--as", "admin"],
                ["users", "add", "newbie", "--full-name", "x", "--role", "astronaut", "--as", "admin"],
                ["users", "add", "inspector", "--full-name", "x", "--role", "inspector", "--as", "admin"],
                ["users", "add", "newbie", "--full-name", "x", "--role", "inspector", "--as", "inspector"]):
        before = repository_state(repo_path)
        assert run(*bad).exit_code == 2
        assert repository_state(repo_path) == before


def test_signature_image_is_shown(signing, catalog, repo_path: Path, tmp_path: Path):
    import base64

    run = signing
    png = tmp_path / "sig.png"
    png.write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="))
    assert run("users", "add", "zhao.liu", "--full-name", "赵六", "--role", "inspector", "--image", str(png),
               "--as", "admin").exit_code == 0
    run("keys", "create", "zhao.liu", "--as", "admin")
    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", tmp_path))).output.strip()
    assert run("sign", record_id, "--as", "zhao.liu", "--meaning", "inspected").exit_code == 0
    record = get_record(Repository.open(repo_path), record_id)
    document = Document(str(repo_path / record.path / "record.docx"))
    assert any(shape for shape in document.inline_shapes)
    cell = _signature_cell(repo_path / record.path / "record.docx", "检验")
    assert cell._tc.xpath(".//pic:pic") and "电子签名 Signed electronically" in cell.text
    assert "检验 Inspected by: 赵六" in cell.text


def _signature_cell(path: Path, meaning_zh: str):
    """The 签名 Signature cell of the row of the signature block that starts with ``meaning_zh``."""
    for table in Document(str(path)).tables:
        if table.rows[0].cells[-1].text.startswith("签名"):
            return next(row.cells[-1] for row in table.rows[1:] if row.cells[0].text.startswith(meaning_zh))
    raise AssertionError(f"no signature block in {path}")


def test_signature_cell_shows_the_electronic_signature_without_an_image(signing, catalog, repo_path: Path,
                                                                          tmp_path: Path):
    """21 CFR 11.50: a signed record shows the printed name, the date and time and the meaning of
    each signature; in the signature cell, where a signer without an image left it empty."""
    from tests.conftest import docx_text, inspected_final_inspection

    repository, record = inspected_final_inspection(signing, catalog, repo_path, tmp_path)
    path = repo_path / record.path / "record.docx"
    from qdocs.timezones import display_text

    shown = display_text(record.signatures[0]["time"], repository.time_zone)
    cell = _signature_cell(path, "检验")
    assert cell.text.splitlines() == ["电子签名 Signed electronically", "检验 Inspected by: inspector 姓名", shown]
    assert not cell._tc.xpath(".//pic:pic")
    assert _signature_cell(path, "批准").text.strip() == ""  # not signed yet: room to sign a printed form
    text = docx_text(path.read_bytes())
    assert "{%" not in text and "{{" not in text
    assert text.count("电子签名 Signed electronically") == 1


def test_several_records_signed_in_one_commit_or_none(signing, catalog, repo_path: Path, tmp_path: Path):
    run = signing
    data = write_example(catalog, "final-inspection", tmp_path)
    ids = [run("new", "final-inspection", "--data", str(data), "--lot", f"L{n}").output.strip() for n in range(3)]
    head = git(repo_path, "rev-parse", "HEAD").strip()
    result = run("sign", *ids, "--as", "inspector", "--meaning", "inspected")
    assert result.exit_code == 0 and result.output.split("\n")[0] == f"{ids[0]} rev A in-review"
    assert git(repo_path, "rev-list", "--count", f"{head}..HEAD").strip() == "1"
    run("void", ids[2], "--reason", "wrong lot")
    before = repository_state(repo_path)
    refused = run("sign", *ids, "--as", "qc-manager", "--meaning", "approved")
    assert refused.exit_code == 2 and f"{ids[2]} is void" in refused.output
    assert repository_state(repo_path) == before
    assert run("sign", ids[0], ids[1], "--as", "qc-manager", "--meaning", "approved").exit_code == 0
    assert run("verify").exit_code == 0
