"""Signing a record in the browser: the meanings this user may give now, a comment, and
the passphrase asked again for this signature (21 CFR 11.200(a)(1)).

The signature is the library's own (:func:`qdocs.signing.sign_records`, what ``qdocs
sign`` calls): every check is made there, and every refusal it gives is shown on the
form.  A wrong passphrase counts towards the lockout, as at log-in.  The form carries
the revision the user read, so a record revised meanwhile is refused, not signed unseen.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request

from ...errors import QdocsError
from ...keys import PassphraseError
from ...signing import sign_records
from ..identity import offered_meanings
from ..responses import page, problem, respond
from .records import find_record

blueprint = Blueprint("signing", __name__)

READ_ONLY = "审核员只能查看，不能修改 An auditor reads everything and changes nothing"
LOCKED = "口令错误次数过多，请稍后再试 Too many wrong passphrases: try again later"


@page(blueprint, "/records/<record_id>/sign")
def sign_form(record_id: str) -> Any:
    return _form(record_id)


@blueprint.post("/records/<record_id>/sign")
def sign(record_id: str) -> Any:
    web, identity = g.web, g.identity
    if identity.auditor:
        return problem(READ_ONLY, 403)
    record = find_record(web.workspace.reader(), record_id)
    meaning = request.form.get("meaning", "")
    comment = request.form.get("comment") or None
    revision = request.form.get("revision") or None
    address = request.remote_addr
    if web.lockout.locked(identity.name, address):
        return _form(record.id, LOCKED, 429)
    try:
        with web.workspace.writer() as repository:
            signed = sign_records(repository, [record.id], identity.name, meaning, request.form.get("passphrase", ""),
                                  comment, revision, home=web.workspace.keys_home)[0]
    except PassphraseError as error:
        web.lockout.failed(identity.name, address)
        return _form(record.id, str(error), 400)
    except QdocsError as error:
        return _form(record.id, str(error), 503 if error.exit_code == 3 else 400)
    web.lockout.succeeded(identity.name, address)
    g.session.messages.append(f"已签署 Signed {signed.id} rev {signed.revision} as {meaning}: {signed.status}")
    return redirect(f"/records/{signed.id}", 303)


def _form(record_id: str, error: str | None = None, status: int = 200) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    record_type = repository.catalog.get(record.type)
    offered = offered_meanings(repository, record_type, record.status,
                               [(entry["meaning"], entry["signer"]) for entry in record.signatures], g.identity)
    data = {"record": {"id": record.id, "type": record.type, "revision": record.revision, "status": record.status,
                       "subject": record.subject.label()},
            "meanings": offered, "error": error}
    return respond("sign.html", data, status)
