"""Electronic signatures: prepared, inspected, performed, reviewed, approved.

A signature is an Ed25519 signature over the canonical JSON of: the record id,
revision and content hash (input data and template hash, not the ``.docx``
bytes, which carry save times), the meaning, the signer and the role signed in,
the UTC time, the comment, the key's fingerprint, and the head of the event
chain just before signing.  So it cannot be cut from one record and pasted onto
another, and dropping or altering an earlier action breaks it.

Rules enforced when signing (21 CFR Part 11 §11.50, §11.70; ISO 9001 §7.5.3):
the type needs that meaning; the signer is an active user holding a role the
catalog allows for it; stages come in order (prepared/inspected/performed, then
reviewed, then approved); one person signs a revision at most once; a void,
superseded or already approved revision cannot be signed.
"""

from __future__ import annotations

import base64
import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import clock, timezones
from .catalog import RecordType
from .errors import RecordStateError, UsageError
from .events import canonical_json, sha256_hex
from .forms import has_forms, view_problem
from .records import Record, Stamp
from .suggestions import unknown
from .trust.administration import Credentials, forget_trust_state, trust_state, unlock
from .users import image_path

if TYPE_CHECKING:
    from .repository import Repository

SIGNED_ELECTRONICALLY = "电子签名 Signed electronically"


def signature_payload(record: Record, signature: dict[str, Any], content_hash: str | None = None) -> bytes:
    """What a signature signs; ``content_hash`` saves recomputing ``record.content_hash()``."""
    return canonical_json({
        "record": record.id, "revision": record.revision, "content": content_hash or record.content_hash(),
        "meaning": signature["meaning"], "signer": signature["signer"], "role": signature["role"],
        "time": signature["time"], "comment": signature.get("comment") or "", "key": signature["key"],
        "chain_head": signature["chain_head"],
    })


def required_meanings(record_type: RecordType) -> list[str]:
    return [requirement.meaning for requirement in record_type.signatures]


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
    from .actions import write_record

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
        plans = [_plan(repository, repository.get(record_id), user, meaning, revision) for record_id in record_ids]
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


def signature_rows(repository: "Repository", record_type: RecordType, record: Record) -> list[dict[str, Any]]:
    """The signature block of the document: one row per required signature.

    A signed row shows, besides its columns, the manifestation of the electronic
    signature in the signature cell (21 CFR 11.50): that it was signed
    electronically, the signer's printed name, the meaning and the date and time
    in the company's time zone; with the signer's image above it when there is one.
    A row not yet signed stays empty, a place to sign a printed form by hand."""
    rows = []
    by_meaning = {entry["meaning"]: entry for entry in record.signatures}
    for requirement in record_type.signatures:
        meaning = repository.catalog.meanings[requirement.meaning]
        row: dict[str, Any] = {"meaning": requirement.meaning, "meaning_zh": meaning.label.zh,
                               "meaning_en": meaning.label.en, "name": "", "role": "", "time": "",
                               "comment": "", "image": "", "manifestation": ""}
        entry = by_meaning.get(requirement.meaning)
        if entry:
            role = repository.catalog.roles.get(entry["role"])
            time = display_time(entry["time"], repository.time_zone)
            row.update({
                "name": f"{entry['full_name']} ({entry['signer']})",
                "role": f"{role.zh} {role.en}" if role else entry["role"],
                "time": time,
                "comment": entry.get("comment") or "",
                "manifestation": manifestation(entry["full_name"], f"{meaning.label.zh} {meaning.label.en}", time),
            })
            picture = repository.root / image_path(entry["signer"])
            if picture.is_file():
                row["image_path"] = str(picture)
        rows.append(row)
    return rows


def manifestation(full_name: str, meaning: str, time: str) -> str:
    """What a signed document says in the signature cell, one item a line::

        电子签名 Signed electronically
        检验 Inspected by: 赵六
        2026-03-25 14:03:05 +08:00
    """
    return f"{SIGNED_ELECTRONICALLY}\n{meaning}: {full_name}\n{time}"


def display_time(utc_text: str, zone: _dt.tzinfo) -> str:
    """``2026-03-25 14:03:05 +08:00``: a stored UTC time in ``zone``, to the second, with its offset."""
    return timezones.display_text(utc_text, zone)


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
