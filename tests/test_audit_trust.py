"""The audit counts a record as approved only when the trust state authorises its signatures.

``status: approved`` is what record.yaml says; what counts is who signed, in which role,
with which key, under which catalog (:mod:`qdocs.audit.authorised`).  The lookup is
checked against the trust state's own answer at the edges of every window.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

from qdocs import yamlio
from qdocs.audit.authorised import SignatureJudge
from qdocs.audit.facts import Fact
from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.trust.administration import trust_state
from tests.conftest import ADMIN, USERS_MADE, git
from tests.test_audit_helpers import LOT, PRODUCT, complete, ids_of, results_of  # noqa: F401


def _edit_final_inspection(complete, change) -> str:
    (final,) = ids_of(complete, "final-inspection")
    path = complete.repo / get_record(Repository.open(complete.repo), final).path / "record.yaml"
    raw = yamlio.load(path.read_text(encoding="utf-8"))
    change(raw)
    path.write_text(yamlio.dump(raw), encoding="utf-8")
    git(complete.repo, "add", "-A")
    git(complete.repo, "-c", "user.name=mallory", "-c", "user.email=m@example.com", "commit", "-q", "-m", "edit")
    return final


def _approval_removed(raw: dict) -> None:
    raw["signatures"] = raw["signatures"][:1]


def _role_changed(raw: dict) -> None:
    raw["signatures"][1]["role"] = "inspector"


def _signed_twice(raw: dict) -> None:
    raw["signatures"][1].update(signer="inspector", key=raw["signatures"][0]["key"], role="inspector")


def _signer_unknown(raw: dict) -> None:
    raw["signatures"][1]["signer"] = "mallory"


@pytest.mark.parametrize("change, reason", [
    (_approval_removed, "not signed as approved (final-inspection needs inspected, approved)"),
    (_role_changed, "signature 'approved' by qc-manager does not count: the signer did not hold role 'inspector'"),
    (_signed_twice, "signature 'approved' by inspector does not count: the catalog in force at "),
    (_signer_unknown, "signature 'approved' by mallory does not count: the signer is not a user registered by "
                      "an administrator"),
])
def test_a_record_that_says_approved_counts_only_with_authorised_signatures(change, reason, complete):
    assert complete.audit_json("--lot", LOT)[0] == 0
    final = _edit_final_inspection(complete, change)
    code, report = complete.audit_json("--lot", LOT)
    r11 = results_of(report)["R11"]
    assert code == 1 and r11["status"] == "unsigned"
    assert f"{final} (unsigned) is not fully signed; {final}: {reason}" in r11["findings"][0]["text"]
    listed = complete("list", "--type", "final-inspection", "--json")  # the record itself still says approved
    assert '"status": "approved"' in listed.stdout


def test_the_lookup_agrees_with_the_trust_state_at_every_edge(signing, repo_path: Path, monkeypatch):
    """Signatures at, just before and just after each window's edge (a key registered and
    retired, a role granted and removed, a user revoked), in the UTC form qdocs writes and
    in another form: the audit's text comparisons say what the trust state says."""
    run = signing
    monkeypatch.setenv("QDOCS_CLOCK", "2026-05-01T10:00:00+08:00")
    assert run("keys", "create", "inspector", "--replace", "--as", ADMIN, "--reason", "lost").exit_code == 0
    monkeypatch.setenv("QDOCS_CLOCK", "2026-05-02T10:00:00+08:00")
    assert run("users", "remove-role", "inspector", "--role", "inspector", "--reason", "moved", "--as",
               ADMIN).exit_code == 0
    monkeypatch.setenv("QDOCS_CLOCK", "2026-05-03T10:00:00+08:00")
    assert run("users", "grant", "inspector", "--role", "inspector", "--as", ADMIN).exit_code == 0
    monkeypatch.setenv("QDOCS_CLOCK", "2026-05-04T10:00:00+08:00")
    assert run("users", "revoke", "inspector", "--reason", "left", "--as", ADMIN).exit_code == 0
    repository = Repository.open(repo_path)
    state = trust_state(repository)
    judge = SignatureJudge(repository, state)
    first, second = state.users["inspector"].keys
    edges = [_dt.datetime.fromisoformat(text) for text in (
        USERS_MADE, "2026-05-01T10:00:00+08:00", "2026-05-02T10:00:00+08:00", "2026-05-03T10:00:00+08:00",
        "2026-05-04T10:00:00+08:00")]
    times = []
    for edge in edges:
        for seconds in (-1, 0, 1):
            moment = (edge + _dt.timedelta(seconds=seconds)).astimezone(_dt.timezone.utc)
            times += [moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.astimezone().isoformat()]
    counted = 0
    for key in (first, second):
        for role in ("inspector", "qc-manager"):
            for time in times:
                fact = Fact("FIR-S1-2026-0001", "final-inspection", "approved", ("lot", "P", "L"), time, {},
                            (("inspected", "inspector", key, role, time),))
                _, expected = state.signing_problem("inspector", role, key, time)
                if expected is None and role != "inspector":
                    expected = "the catalog"
                problem = judge.problem(fact.type, fact.signatures)
                assert (problem is None or "not signed as approved" in problem) == (expected is None), \
                    (key, role, time, problem, expected)
                counted += expected is None
    # in both forms: the first key at and after its registration and just before it was replaced (3); the
    # second at and after its registration, before the role was removed, at and after it was granted again,
    # and just before the revocation (6)
    assert counted == 2 * (3 + 6)


def test_the_lookup_takes_the_catalog_in_force_at_each_signature(signing, repo_path: Path, monkeypatch):
    """After an approved catalog change, the roles it allows count from the second it was approved."""
    from qdocs.authority import Authority
    from tests.conftest import approve_forms

    path = repo_path / "forms" / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    at = text.index("  - id: final-inspection")
    old = "{meaning: approved, roles: [qc-manager]}"
    changed = text[:at] + text[at:].replace(old, "{meaning: approved, roles: [qa-engineer]}", 1)
    path.write_text(changed, encoding="utf-8")
    monkeypatch.setenv("QDOCS_CLOCK", "2026-07-01T10:00:00+08:00")
    approve_forms(repo_path)
    repository = Repository.open(repo_path)
    state = trust_state(repository)
    judge, authority = SignatureJudge(repository, state), Authority(repository, state)
    answers = {}
    for time in ("2026-07-01T01:59:59Z", "2026-07-01T02:00:00Z", "2026-07-01T02:00:01Z"):
        for role in ("qc-manager", "qa-engineer"):
            signer = role
            key = state.users[signer].current_key().fingerprint
            fact = Fact("FIR-S1-2026-0001", "final-inspection", "approved", ("lot", "P", "L"), time, {},
                        (("inspected", "inspector", state.users["inspector"].current_key().fingerprint, "inspector",
                          time), ("approved", signer, key, role, time)))
            problem = judge.problem(fact.type, fact.signatures)
            assert (problem is None) == authority.role_allowed("final-inspection", "approved", role, time), problem
            answers[(time[11:19], role)] = problem is None
    assert answers == {("01:59:59", "qc-manager"): True, ("01:59:59", "qa-engineer"): False,
                       ("02:00:00", "qc-manager"): False, ("02:00:00", "qa-engineer"): True,
                       ("02:00:01", "qc-manager"): False, ("02:00:01", "qa-engineer"): True}
