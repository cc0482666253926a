"""The records: a list with filters and paging, a record's page, its history from git."""

from __future__ import annotations

import datetime as _dt
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, g, request

from ... import yamlio
from ...errors import QdocsError, RecordNotFoundError
from ...queries import get_record, history as record_history
from ...records import STATUSES, RECORD_ID, Record
from ...subjects import subject_id_problem
from ..identity import may_change, offered_meanings
from ..listing import current_listing
from ..overview import RecordFilters, filtered
from ..recordview import attachments, chain_check, field_rows, timeline, verify_status
from ..responses import page, problem, respond
from .inbox import fact_summary

blueprint = Blueprint("records", __name__)


class BadQuery(Exception):
    """A filter or page number that cannot be used (answered 400 with the reason)."""


@page(blueprint, "/records")
def record_list() -> Any:
    workspace = g.web.workspace
    repository = workspace.reader()
    try:
        filters = read_filters(repository)
        number = page_number()
    except BadQuery as bad:
        return problem(str(bad), 400)
    listing = workspace.derived("listing", current_listing)
    found = listing.remembered(("records", *filters.__dict__.values()), lambda: filtered(listing, filters))
    size = g.web.settings.page_size
    pages = max(1, -(-len(found) // size))
    shown = found[(number - 1) * size:number * size]
    data = {"filters": {key: (value.isoformat() if isinstance(value, _dt.date) else value)
                        for key, value in filters.__dict__.items()},
            "total": len(found), "page": number, "pages": pages, "page_size": size,
            "records": [fact_summary(fact) for fact in shown]}
    return respond("records.html", data, products=listing.products(), lots=listing.lots(), statuses=STATUSES,
                   query_string=_query_without_page())


@page(blueprint, "/records/<record_id>")
def record_page(record_id: str) -> Any:
    workspace, identity = g.web.workspace, g.identity
    repository = workspace.reader()
    record = find_record(repository, record_id)
    record_type = repository.catalog.get(record.type)
    chain = workspace.derived("chain", chain_check)
    offered = offered_meanings(repository, record_type, record.status,
                               [(entry["meaning"], entry["signer"]) for entry in record.signatures], identity)
    changeable = may_change(identity, record_type)
    data = {
        "record": record.to_json(),
        "fields": field_rows(record_type, record.data),
        "timeline": timeline(record),
        "attachments": attachments(repository, record),
        "verify": verify_status(repository, chain, record),
        "may": {"sign": offered, "revise": changeable and record.status != "void",
                "void": changeable and record.status != "void", "attach": changeable and record.status != "void"},
        "downloads": {"docx": f"/records/{record.id}/document.docx", "pdf": f"/records/{record.id}/document.pdf",
                      "view": f"/records/{record.id}/view.pdf",
                      "signed_pdf": f"/records/{record.id}/document-signed.pdf" if record.status == "approved" else None},
    }
    return respond("record.html", data, record_type=record_type, messages=_messages())


@page(blueprint, "/records/<record_id>/history")
def record_history_page(record_id: str) -> Any:
    repository = g.web.workspace.reader()
    record = find_record(repository, record_id)
    entries = record_history(repository, record.id)
    return respond("history.html", {"record": {"id": record.id, "type": record.type},
                                    "history": [entry.to_json() for entry in entries]})


def find_record(repository: Any, record_id: str) -> Record:
    """The record with this id; anything else is 404.  Its folder comes from the listing of
    the request's commit (:mod:`..listing`, kept current commit by commit), its content from
    the work tree as the library reads it; the library's own search by id (``git ls-files``)
    answers only when the folder the listing knows no longer holds the record."""
    if not RECORD_ID.match(record_id or ""):
        abort(404)
    listing = g.web.workspace.derived("listing", current_listing)
    fact = listing.by_id.get(record_id)
    if fact is None:
        abort(404)
    folder = listing.folder(fact)
    try:
        record = Record.from_yaml((repository.root / folder / "record.yaml").read_text(encoding="utf-8"), folder)
        if record.id == record_id:
            return record
    except (OSError, QdocsError, ValueError, KeyError, TypeError, AttributeError, yamlio.YAMLError):
        pass  # the library says what is wrong, or that there is no such record
    try:
        return get_record(repository, record_id)
    except (RecordNotFoundError, QdocsError):
        abort(404)


def read_filters(repository: Any) -> RecordFilters:
    values = request.args
    type_id = values.get("type") or None
    if type_id and type_id not in repository.catalog.types:
        raise BadQuery(f"unknown record type {type_id!r}")
    status = values.get("status") or None
    if status and status not in STATUSES:
        raise BadQuery(f"status {status!r}: choose one of {', '.join(STATUSES)}")
    product, lot = values.get("product") or None, values.get("lot") or None
    for key, value in (("product", product), ("lot", lot)):
        problem_text = subject_id_problem(key, value) if value else None
        if problem_text:
            raise BadQuery(problem_text)
    return RecordFilters(type_id, product, lot, status, _day(values.get("from")), _day(values.get("to")))


def page_number() -> int:
    text = request.args.get("page") or "1"
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise BadQuery(f"page {text!r}: give a whole number from 1")
    return int(text)


def _day(text: str | None) -> _dt.date | None:
    if not text:
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"date {text!r}: write it as YYYY-MM-DD, e.g. 2026-03-01") from None


def _query_without_page() -> str:
    return urlencode([(key, value) for key, value in request.args.items(multi=True) if key != "page" and value])


def _messages() -> list[str]:
    session = g.session
    if session is None or not session.messages:
        return []
    shown, session.messages = session.messages, []
    return shown
