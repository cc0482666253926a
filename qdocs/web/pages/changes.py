"""Revising, voiding and attaching in the browser, for the people whose record it is
(:func:`..identity.may_change`); never for an auditor.  The library does the change
(:mod:`qdocs.actions`, :mod:`qdocs.pdf.attachments`) and its refusals are shown."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, request

from ...actions import revise_record, void_record
from ...errors import QdocsError
from ...pdf.attachments import attach_file, safe_name
from ..forms.model import form_text
from ..identity import may_change
from ..recordview import field_rows
from ..responses import page, problem
from . import forms
from .records import find_record
from .signing import READ_ONLY

blueprint = Blueprint("changes", __name__)

NOT_YOURS = "只有签署此类记录的人员可以修改 Only people who sign this type of record may change it"


@page(blueprint, "/records/<record_id>/revise")
def revise_form(record_id: str) -> Any:
    refused = _refused(record_id)
    return refused or _revise_page(record_id)


@blueprint.post("/records/<record_id>/revise")
def revise(record_id: str) -> Any:
    refused = _refused(record_id)
    if refused:
        return refused
    record = find_record(g.web.workspace.reader(), record_id)
    record_type = g.web.workspace.reader().catalog.get(record.type)
    if any(key.startswith("field.") for key in request.form):  # the full form (tables included)
        return forms.revise_posted(record, record_type, _revise_data(record, record_type))
    values = dict(record.data)
    for row in field_rows(record_type, record.data):
        if row["type"] == "table" or row["key"] not in request.form:
            continue  # tables are revised with the command line (qdocs revise --data)
        given = request.form[row["key"]]
        if given != form_text(row.get("value")):
            values[row["key"]] = given
    try:
        with g.web.workspace.writer() as repository:
            revised = revise_record(repository, record.id, values, request.form.get("reason", ""), g.identity.name)
    except QdocsError as error:
        return _revise_page(record.id, str(error), 503 if error.exit_code == 3 else 400)
    g.session.messages.append(f"已修订 Revised {revised.id} to revision {revised.revision}")
    return redirect(f"/records/{revised.id}", 303)


@blueprint.post("/records/<record_id>/void")
def void(record_id: str) -> Any:
    refused = _refused(record_id)
    if refused:
        return refused
    try:
        with g.web.workspace.writer() as repository:
            voided = void_record(repository, record_id, request.form.get("reason", ""), g.identity.name)
    except QdocsError as error:
        return problem(str(error), 503 if error.exit_code == 3 else 400)
    g.session.messages.append(f"已作废 {voided.id} is void")
    return redirect(f"/records/{voided.id}", 303)


@blueprint.post("/records/<record_id>/attach")
def attach(record_id: str) -> Any:
    refused = _refused(record_id)
    if refused:
        return refused
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return problem("choose a PDF file to attach 请选择要附加的 PDF 文件", 400)
    with tempfile.TemporaryDirectory(prefix="qdocs-upload-") as folder:
        # the stored name is made from the uploaded one by the library's own rule (letters, digits, - and _)
        source = Path(folder) / f"{safe_name(upload.filename)}.pdf"
        upload.save(source)
        try:
            with g.web.workspace.writer() as repository:
                entry = attach_file(repository, record_id, source, request.form.get("title", ""), g.identity.name)
        except QdocsError as error:
            return problem(str(error), 503 if error.exit_code == 3 else 400)
    g.session.messages.append(f"已附加 Attached {entry['file']} ({entry['pages']} page(s))")
    return redirect(f"/records/{record_id}", 303)


def _refused(record_id: str) -> Any:
    """The answer when this user may not change the record (None when they may)."""
    if g.identity.auditor:
        return problem(READ_ONLY, 403)
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    if not may_change(g.identity, repository.catalog.get(record.type)):
        return problem(NOT_YOURS, 403)
    return None


def _revise_page(record_id: str, error: str | None = None, status: int = 200) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    record_type = repository.catalog.get(record.type)
    data = _revise_data(record, record_type, error)
    return forms.revise_page(record, record_type, data, status)


def _revise_data(record: Any, record_type: Any, error: str | None = None) -> dict[str, Any]:
    fields = field_rows(record_type, record.data)
    for row in fields:
        if row["type"] != "table":
            row["form_text"] = form_text(row.get("value"))
    return {"record": {"id": record.id, "type": record.type, "revision": record.revision, "status": record.status},
            "fields": fields, "error": error}
