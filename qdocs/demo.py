"""The demonstration: a full, signed record set for one product and lot.

Creates the repository when it does not exist yet, one user with a signing key
for every role of the catalog, then one record of every type from the catalog's
examples (product PUMP-X200, lot L2026-031, supplier SUP-HUATAI, material lot
ML-88, ...), plus the few more the release rules need for that lot (the plan's
second material lot and machine, the other key operations, the trainings of the
demo service user and service manager), each signed by the people its type
needs until it is approved.  Records that others refer to come first (an
incoming inspection before the plan that uses its material lot).  It ends with the release check of
the lot.  Running it again adds only what is missing, so it is safe to repeat.

The demo's private keys are kept inside the repository's ``.git/qdocs/demo-keys``
(never committed) under a published passphrase: they show how signing works
and are worth nothing as signatures.  The demo ends by printing how to sign as
its users (``QDOCS_HOME`` naming that folder, ``QDOCS_PASSPHRASE`` the
passphrase), so the records a user adds to the demo can be taken through their
signatures too.  Real users create their keys with ``qdocs keys create NAME`` and
a passphrase of their own.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .actions import create_record, prepare
from .audit.demorecords import DEMO_LOT, DEMO_PRODUCT, demo_records
from .audit.evaluation import release_check
from .founding import init_repository
from .queries import iter_records
from .repository import CONFIG_PATH, Repository
from .signing import sign_records
from .trust.administration import add_user, register_key
from .trust.credentials import Credentials, trust_state
from .trust.genesis import Enrollment
from .trust.state import ADMIN_ROLE
from .verification import verify_repository

DEMO_PASSPHRASE = "demo-passphrase"
DEMO_ADMIN = "demo.admin"


def run_demo(path: str | Path, actor: str) -> list[str]:
    report: list[str] = []
    if (Path(path) / CONFIG_PATH).is_file():
        repository = Repository.open(path)
    else:
        home = Path(path).resolve() / ".git" / "qdocs" / "demo-keys"
        administrator = Enrollment(DEMO_ADMIN, "系统管理员（演示）", DEMO_PASSPHRASE, home)
        repository, message = init_repository(path, None, actor, administrator=administrator)
        report.append(message)
    report.extend(repository.notices)
    repository.notices.clear()
    home = demo_keys(repository)
    signers = _demo_users(repository, home, report)
    # a demo record is there when a record of its type and subject is (in-process inspections: of its operation)
    existing = {(record.type, record.subject, record.data.get("operation")): record for record in iter_records(repository)}
    created = signed = 0
    for record_type, values in demo_records(repository.catalog):
        subject, data = prepare(record_type, values)
        record = existing.get((record_type.id, subject, data.get("operation")))
        if record is None:
            record = create_record(repository, record_type.id, values, actor)
            created += 1
            report.append(f"created {record.id:<22} {record_type.name.zh} {record_type.name.en}  ({record.path})")
        done = {signature["meaning"] for signature in record.signatures}
        for requirement in record_type.signatures:
            if requirement.meaning in done or record.status in ("approved", "void"):
                continue
            signer = signers[requirement.roles[0]]
            record = sign_records(repository, [record.id], signer, requirement.meaning, DEMO_PASSPHRASE, home=home)[0]
            signed += 1
    total = sum(1 for _ in iter_records(repository))
    report.append(f"{created} record(s) created, {signed} signature(s) added; "
                  f"the repository {repository.root} holds {total} record(s)")
    verified = verify_repository(repository)
    report.append(f"verify: {verified.records_checked} record(s), {verified.signatures_checked} signature(s), "
                  f"{verified.events_checked} event(s): "
                  + ("clean" if verified.clean else f"{len(verified.findings)} finding(s), e.g. {verified.findings[0]}"))
    report.append(_release_line(repository))
    report.append(f"try: qdocs --repo {path} list    qdocs --repo {path} show <ID>    "
                  f"qdocs --repo {path} open <ID>    qdocs --repo {path} verify    qdocs --repo {path} audit")
    report.append(f"in a browser: qdocs --repo {shlex.quote(str(path))} serve, then open http://127.0.0.1:8000/ and "
                  f"log in as a demo user (demo.inspector, demo.qc-manager, demo.auditor, ... demo.ROLE) with the "
                  f"passphrase {DEMO_PASSPHRASE}")
    report.append(signing_hint(repository, path, home))
    return report


def demo_keys(repository: Repository) -> Path:
    """Where the demo users' private keys are: inside ``.git``, so never committed or cloned."""
    return repository.root / ".git" / "qdocs" / "demo-keys"


def signing_hint(repository: Repository, path: str | Path, home: Path) -> str:
    """The command that signs as a demo user: their keys' folder and passphrase given in the
    environment, for the first signature a final inspection (else the catalog's first type) needs."""
    types = repository.catalog.types
    record_type = types.get("final-inspection") or next(iter(types.values()))
    requirement = record_type.signatures[0]
    return (f"sign as the demo users (demo.ROLE) with: QDOCS_HOME={shlex.quote(str(home.resolve()))} "
            f"QDOCS_PASSPHRASE={shlex.quote(DEMO_PASSPHRASE)} qdocs --repo {shlex.quote(str(path))} sign <ID> "
            f"--as demo.{requirement.roles[0]} --meaning {requirement.meaning}")


def _demo_users(repository: Repository, home: Path, report: list[str]) -> dict[str, str]:
    """One demo user per role, named after it (role ``qc-manager`` → user ``demo.qc-manager``),
    added and given a key by the demo administrator."""
    admin = Credentials(DEMO_ADMIN, DEMO_PASSPHRASE, home)
    signers: dict[str, str] = {}
    for role, label in repository.catalog.roles.items():
        name = DEMO_ADMIN if role == ADMIN_ROLE else f"demo.{role}"
        state = trust_state(repository)
        if state.user(name) is None:
            add_user(repository, admin, name, f"{label.zh}（演示）", [role])
            report.append(f"added user {name} ({label.en}, demo)")
        if trust_state(repository).users[name].current_key() is None:
            register_key(repository, admin, name, DEMO_PASSPHRASE)
        signers[role] = name
    return signers


def _release_line(repository: Repository) -> str:
    """The release check of the demo lot, as one line (the audit library, issue 5)."""
    lot, report = release_check(repository, DEMO_PRODUCT, DEMO_LOT)
    if not lot.blocked:
        return (f"release-check {DEMO_PRODUCT} {DEMO_LOT}: may ship, {len(lot.results)} release rule(s) hold "
                f"(qdocs --repo {repository.root} audit for the after-sales rules)")
    failures = "; ".join(f"{result.rule.id} {result.status}" for result in lot.failures)
    return f"release-check {DEMO_PRODUCT} {DEMO_LOT}: BLOCKED ({failures})"
