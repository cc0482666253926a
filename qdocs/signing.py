"""Signing records: the sign action, one commit for one or many records.

What a signature signs and how a signed document shows it is :mod:`qdocs.signatures`
(the records layer, read by every check); this module performs the signature.

Rules enforced when signing (21 CFR Part 11 §11.50, §11.70; ISO 9001 §7.5.3):
the type needs that meaning; the signer is an active user holding a role the
catalog allows for it; stages come in order (prepared/inspected/performed, then
reviewed, then approved); one person signs a revision at most once; a void,
superseded or already approved revision cannot be signed.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import clock
from .actions import write_record
from .catalog import RecordType
from .errors import RecordStateError, UsageError
from .events import sha256_hex
from .forms import has_forms, view_problem
from .queries import get_record
from .records import Record, Stamp
from .signatures import required_meanings, signature_payload
from .suggestions import unknown
from .trust.credentials import Credentials, forget_trust_state, trust_state, unlock

if TYPE_CHECKING:
    from .repository import Repository


def sign_record(repository: "Repository", record_id: str, signer: str, meaning: str,
                passphrase: str | Callable[[], str] | None, comment: str | None = None,
                revision: str | None = None) -> Record:
    """Sign the current revision of a record as ``signer`` with ``meaning``; one commit."""
    return sign_records(repository, [record_id], signer, meaning, passphrase, comment, revision)[0]


def sign_records(repository: "Repository", record_ids: list[str], signer: str, meaning: str,
                 passphrase: str | Callable[[], str] | None, comment: str | None = None,
                 revision: str | None = None, progress: Callable[[int], None] | None = None,
                 home: Path | None = None) -> list[Record]:
    """Sign several records with one meaning in one commit (a manager approving a day's
    certificates).  Every record is checked before anything is signed.

    ``passphrase`` may be a function, called only once every check passed (so a
    refused signature never asks for it)."""
    comment = " ".join((comment or "").split())
    if not record_ids:
        raise UsageError("name at least one record to sign")
    if meaning not in repository.catalog.meanings:
        raise UsageError(unknown("meaning", meaning, repository.catalog.meanings))
    with repository.locked():
        forget_trust_state(repository)
        state = trust_state(repository)
        if state.root is None:
            raise UsageError(f"{repository.root} has no root of trust, so no signature can be checked; "
                             "create one with: qdocs migrate --admin NAME --full-name TEXT")
        forged_forms = view_problem(repository, state) if has_forms(repository.root) else None
        if forged_forms:
            raise UsageError(forged_forms)
        user = state.user(signer)
        if user is None:
            raise UsageError(f"unknown user {signer!r}: an administrator adds users (qdocs users add {signer} ... --as ADMIN)")
        if user.revoked is not None:
            raise UsageError(f"user {signer} was revoked on {user.revoked_text} and cannot sign")
        plans = [_plan(repository, get_record(repository, record_id), user, meaning, revision) for record_id in record_ids]
        if user.current_key() is None:
            raise UsageError(f"{signer} has no signing key; an administrator registers one with: "
                             f"qdocs keys create {signer} --as ADMIN")
        _, registered, private_key = unlock(state, Credentials(signer, passphrase, home))
        key = {"fingerprint": registered.fingerprint}
        stamp = Stamp.now(signer, repository.time_zone)
        moment = clock.utc_now().isoformat().replace("+00:00", "Z")
        cache = repository.templates
        with repository.transaction("sign", [record.path for record, _, _ in plans], list(record_ids)) as change:
            head = change.events.head.hash
            entries = []
            for number, (record, record_type, role) in enumerate(plans, start=1):
                signature = {
                    "meaning": meaning, "signer": signer, "full_name": user.full_name, "role": role,
                    "time": moment, "comment": comment, "key": key["fingerprint"],
                    "chain_head": head,
                }
                signature["signature"] = base64.b64encode(private_key.sign(signature_payload(record, signature))).decode()
                record.signatures.append(signature)
                signed = {entry["meaning"] for entry in record.signatures}
                record.status = "approved" if signed >= set(required_meanings(record_type)) else "in-review"
                record.changed = stamp
                entries.append(write_record(repository, cache, record_type, record, change, role=role,
                                            signature_sha256=sha256_hex(signature["signature"].encode())))
                if progress:
                    progress(number)
            change.events.append("sign", signer, stamp.time, records=entries, meaning=meaning, signer=signer,
                                 key=key["fingerprint"])
            first = plans[0][0]
            subject = (f"sign {first.id} rev {first.revision} as {meaning} by {signer} ({user.full_name})"
                       if len(plans) == 1 else f"sign {len(plans)} records as {meaning} by {signer} ({user.full_name})")
            change.commit(subject, signer, {"Action": "sign", "Type": sorted({r.type for r, _, _ in plans}),
                                            "Revision": first.revision, "Record": list(record_ids),
                                            "Meaning": meaning, "Signer": signer})
    return [record for record, _, _ in plans]


def _plan(repository: "Repository", record: Record, user: Any, meaning: str, revision: str | None) -> tuple:
    """Check that ``user`` may sign ``record`` as ``meaning`` now; returns (record, type, role)."""
    record_type = repository.catalog.get(record.type)
    _check_state(record, revision)
    requirement = _check_meaning(repository, record_type, record, meaning)
    roles = user.current_roles()
    allowed = [role for role in requirement.roles if role in roles]
    if not allowed:
        raise UsageError(
            f"{user.name} may not sign {record.type} as {meaning}: that needs role {' or '.join(requirement.roles)}; "
            f"{user.name} has {', '.join(roles) or 'no role'}")
    if any(existing["signer"] == user.name for existing in record.signatures):
        raise UsageError(f"{user.name} already signed {record.id} revision {record.revision}; "
                         "one person signs a record at most once (separation of duties)")
    return record, record_type, allowed[0]


def _check_state(record: Record, revision: str | None) -> None:
    if record.status == "void":
        raise RecordStateError(f"{record.id} is void and cannot be signed")
    if revision and revision != record.revision:
        raise RecordStateError(f"{record.id} revision {revision} is superseded by revision {record.revision} "
                               "and cannot be signed")
    if record.status == "approved":
        raise RecordStateError(f"{record.id} revision {record.revision} is approved and locked; "
                               f"start a new revision with: qdocs revise {record.id}")


def _check_meaning(repository: "Repository", record_type: RecordType, record: Record, meaning: str):  # type: ignore[no-untyped-def]
    requirements = {requirement.meaning: requirement for requirement in record_type.signatures}
    if meaning not in requirements:
        raise UsageError(f"{record.type} takes no '{meaning}' signature; it needs: {', '.join(requirements)}")
    if any(entry["meaning"] == meaning for entry in record.signatures):
        raise UsageError(f"{record.id} revision {record.revision} is already signed as {meaning}")
    stage = repository.catalog.meanings[meaning].stage
    missing = [other for other in requirements
               if repository.catalog.meanings[other].stage < stage
               and not any(entry["meaning"] == other for entry in record.signatures)]
    if missing:
        raise UsageError(f"{record.id} must first be signed as {', '.join(missing)} before {meaning}")
    return requirements[meaning]
