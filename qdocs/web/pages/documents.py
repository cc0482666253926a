"""Downloads: a record's Word document, its PDF copy, its attachments.

Nothing of the request becomes a path: the record is found by its id through the
library (:func:`qdocs.queries.get_record`), an attachment by its number in the record's
own list, and the file it names must lie in the record's ``attachments`` folder.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g

from ...errors import EnvironmentFailure
from ...pdf.attachments import FOLDER, read_attachments
from ...pdf.export import export_records
from ...queries import record_at_revision
from ..responses import problem
from .records import find_record

blueprint = Blueprint("documents", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
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
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    try:
        [(name, content)] = export_records(repository, [record.id], g.identity.name)
    except EnvironmentFailure as error:
        return problem(NO_PDF.format(error=error), 503)
    return download(content, name, "application/pdf")


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


def download(content: bytes, name: str, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
