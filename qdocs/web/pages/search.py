"""Search: the query syntax of ``qdocs search`` (:mod:`qdocs.search`), counts per record type,
snippets with the matched words highlighted, filters and paging.

A snippet is escaped piece by piece and only then are the marks the engine put around
each match turned into ``<mark>``: the record's text is never taken as HTML.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, g, request
from markupsafe import Markup, escape

from ...errors import QdocsError
from ...search.model import MARK_END, MARK_START, Filters, Hit
from ..responses import page, problem, respond
from ..listing import current_listing
from .records import BadQuery, page_number, read_filters

blueprint = Blueprint("search", __name__)

#: the engine ranks at most this many results (``qdocs search --limit``'s bound)
MOST = 10_000


@page(blueprint, "/search")
def search_page() -> Any:
    workspace = g.web.workspace
    repository = workspace.reader()
    query = (request.args.get("q") or "").strip()
    try:
        filters = read_filters(repository)
        number = page_number()
    except BadQuery as bad:
        return problem(str(bad), 400)
    size = g.web.settings.search_page_size
    highlighted: list[Markup] = []
    data: dict[str, Any] = {"query": query, "total": 0, "page": number, "pages": 1, "page_size": size,
                            "per_type": {}, "results": [], "error": None, "index": None}
    if query:
        wanted = min(number * size, MOST)
        try:
            # a writer indexing its commit meanwhile is not waited for: the page says the
            # index is behind (``index.current``) and the next search catches up
            records = len(workspace.derived("listing", current_listing).by_id)
            answer = workspace.searcher.search(
                repository, records, query, Filters(filters.type, filters.product, filters.lot, filters.status,
                                           filters.date_from, filters.date_to), wanted,
                catch_up=workspace.index_here)
            found, indexed = answer.found, answer.indexed
            if indexed != workspace.head() and not workspace.index_here:
                workspace.index_worker.nudge(workspace.root)
            data["index"] = {"commit": indexed, "current": indexed == workspace.head(), "head": workspace.head()}
        except QdocsError as error:
            data["error"] = str(error)
            return respond("search.html", data, 400, query_string=_query_without_page(), highlighted=highlighted)
        hits = found.hits[(number - 1) * size:number * size]
        data.update(total=found.total, pages=max(1, -(-min(found.total, MOST) // size)),
                    per_type=dict(sorted(found.per_type.items(), key=lambda item: (-item[1], item[0]))),
                    results=[_result(hit) for hit in hits])
        highlighted = [marked(hit.snippet) for hit in hits]
    return respond("search.html", data, query_string=_query_without_page(), highlighted=highlighted)


def marked(snippet: str) -> Markup:
    """The snippet as HTML: its text escaped, each match in ``<mark>``."""
    html = Markup("")
    inside = False
    for piece in snippet.replace(MARK_END, MARK_START).split(MARK_START):
        html += Markup("<mark>{}</mark>").format(piece) if inside and piece else escape(piece)
        inside = not inside
    return html


def _result(hit: Hit) -> dict[str, Any]:
    fields = hit.fields
    date = fields.get("date")
    return {"id": fields.get("id"), "type": fields.get("type"), "subject": fields.get("subject"),
            "status": fields.get("status"), "revision": fields.get("revision"),
            "date": date.date().isoformat() if hasattr(date, "date") else date, "score": round(hit.score, 4),
            "snippet": hit.marked("«", "»")}


def _query_without_page() -> str:
    return urlencode([(key, value) for key, value in request.args.items(multi=True) if key != "page" and value])
