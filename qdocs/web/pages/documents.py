"""Downloads: a record's Word document, its PDF copy, its attachments.

Nothing of the request becomes a path: the record is found by its id through the
library (:func:`qdocs.queries.get_record`), an attachment by its number in the record's
own list, and the file it names must lie in the record's ``attachments`` folder.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, Response, abort, g

from ...errors import EnvironmentFailure, QdocsError
from ...pdf.attachments import FOLDER, read_attachments
from ...pdf.export import export_records
from ...queries import record_at_revision
from ..responses import problem
from .records import find_record

blueprint = Blueprint("documents", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOT_APPROVED = "{record} 为 {status}：只有已批准的现行记录才有公司签名的 PDF · only an approved, current record gets a company-signed PDF"
NO_SIGNING = "此服务器无法签署 PDF This server cannot sign PDFs: {error}"
NO_PDF = ("此服务器无法生成 PDF No PDF can be made on this server: {error}. "
          "The Word document (.docx) can still be downloaded.")


@blueprint.get("/records/<record_id>/document.docx")
def document_docx(record_id: str) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    _, document = record_at_revision(repository, record.id)
    return download(document, f"{record.id}.docx", DOCX)


@blueprint.get("/records/<record_id>/document.pdf")
def document_pdf(record_id: str) -> Any:
    """A stamped PDF copy made by LibreOffice, as ``qdocs export`` makes it."""
    return _pdf(record_id, inline=False)


@blueprint.get("/records/<record_id>/view.pdf")
def document_view(record_id: str) -> Any:
    """The same copy shown inside the record's page (an ``<iframe>`` of this site only)."""
    return _pdf(record_id, inline=True)


@blueprint.get("/records/<record_id>/document-signed.pdf")
def document_signed(record_id: str) -> Any:
    """The copy signed with the company certificate (PAdES), as ``qdocs export --sign``: for an
    approved, current record, where the server was given the company passphrase
    (``QDOCS_COMPANY_PASSPHRASE``) and the company key is in ``QDOCS_HOME``."""
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    if record.status != "approved":
        return problem(NOT_APPROVED.format(record=record.id, status=record.status), 409)
    passphrase = os.environ.get("QDOCS_COMPANY_PASSPHRASE") or ""
    if not passphrase:
        return problem(NO_SIGNING.format(error="it was started without the company passphrase "
                                               "(QDOCS_COMPANY_PASSPHRASE)"), 503)
    try:
        [(name, content)] = export_records(repository, [record.id], g.identity.name, sign=True, passphrase=passphrase)
    except EnvironmentFailure as error:
        return problem(NO_PDF.format(error=error), 503)
    except QdocsError as error:  # no certificate, the key not here, a wrong passphrase
        return problem(NO_SIGNING.format(error=error), 503)
    return download(content, name.removesuffix(".pdf") + "-signed.pdf", "application/pdf")


def _pdf(record_id: str, inline: bool) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    try:
        [(name, content)] = export_records(repository, [record.id], g.identity.name)
    except EnvironmentFailure as error:
        return problem(NO_PDF.format(error=error), 503)
    response = download(content, name, "application/pdf", inline)
    if inline:
        # the one answer a page of this site may frame (every other answer refuses any framing)
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
    return response


@blueprint.get("/records/<record_id>/attachments/<int:number>")
def attachment(record_id: str, number: int) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    folder = (repository.root / record.path).resolve()
    for entry in read_attachments(folder):
        if entry.get("number") == number:
            path = (folder / str(entry.get("file", ""))).resolve()
            if not path.is_relative_to(folder / FOLDER) or not path.is_file():
                abort(404)
            name = f"{record.id}-{path.name}"
            return download(path.read_bytes(), name, "application/pdf")
    abort(404)


def download(content: bytes, name: str, mimetype: str, inline: bool = False) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    return response
