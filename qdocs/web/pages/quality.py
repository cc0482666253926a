"""The quality dashboard: the figures of ``qdocs kpi`` (:func:`qdocs.audit.kpi.quality_figures`)
for a chosen period and product, each as a table and a chart, with its JSON twin.

The charts are SVG drawn on the server (:mod:`qdocs.audit.kpicharts`) and served from this
origin as images (``/quality/charts/NAME.svg`` with the same period and product), so the
page needs no script and no inline style (the Content-Security-Policy forbids both).
Period and product come from the address (``?product=P&from=D&to=D``); a bad date or an
unknown product is the library's refusal, answered 400 with its message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, g, request

from ...audit.dates import day_option
from ...audit.kpi import KpiReport, quality_figures
from ...audit.kpicharts import NAMES, draw_chart
from ..responses import page, respond

blueprint = Blueprint("quality", __name__)


@page(blueprint, "/quality")
def dashboard() -> Any:
    report = _figures()
    query = _query(report)
    data = {**report.to_json(),
            "charts": {name: f"/quality/charts/{name}.svg" + (f"?{query}" if query else "") for name in NAMES}}
    return respond("quality.html", data, this_from=data["from"], this_to=data["to"], query=query)


@blueprint.get("/quality/charts/<name>.svg")
def chart(name: str) -> Any:
    if name not in NAMES:
        abort(404)
    content = draw_chart(_figures().to_json(), name, "svg")
    return Response(content, mimetype="image/svg+xml")


def _figures() -> KpiReport:
    arguments = request.args
    product = arguments.get("product") or None
    start = day_option(arguments["from"], "from") if arguments.get("from") else None
    end = day_option(arguments["to"], "to") if arguments.get("to") else None
    return quality_figures(g.web.workspace.reader(), product, start, end)


def _query(report: KpiReport) -> str:
    given = {"product": report.product, "from": request.args.get("from"), "to": request.args.get("to")}
    return urlencode({key: value for key, value in given.items() if value})

