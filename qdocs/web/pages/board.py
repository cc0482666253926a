"""The release board: every product and lot against the release rules (R1-R11) in colour,
what each rule found (its evidence, or what is missing) a click away, the after-sales
rules (A1-A4), and a lot's audit pack to download.

The audit is the library's (:func:`qdocs.audit.evaluation.run_audit`, what ``qdocs
audit`` runs), made once per commit; a lot's page adds the release gate's own check
(:func:`qdocs.audit.evaluation.release_check`, what ``qdocs release-check`` runs:
every record the release relies on is verified).  The pack is ``qdocs pack``'s.
"""

from __future__ import annotations

from typing import Any

from urllib.parse import urlencode

from flask import Blueprint, abort, g, request

from ...audit.evaluation import release_check
from ...errors import EnvironmentFailure
from ...pdf.pack import build_pack
from ...subjects import subject_id_problem
from ..auditing import NO_LOT, Audit, audit_here
from ..responses import page, problem, respond
from .documents import download
from .records import BadQuery, page_number

blueprint = Blueprint("board", __name__)

NO_PACK = ("此服务器无法生成审核资料包 The audit pack cannot be made on this server: {error}")


@page(blueprint, "/board")
def board() -> Any:
    """The lots, a page at a time (a repository of years holds thousands), filtered by product
    and by whether they may ship."""
    audit, current = _audit()
    if audit.problem is not None:
        return problem(audit.problem, 503)
    values = request.args
    product, shipping = values.get("product") or None, values.get("shipping") or None
    try:
        if product and subject_id_problem("product", product):
            raise BadQuery(subject_id_problem("product", product))
        if shipping not in (None, "may-ship", "blocked"):
            raise BadQuery(f"shipping {shipping!r}: choose may-ship or blocked")
        number = page_number()
    except BadQuery as bad:
        return problem(str(bad), 400)
    rows = [row for row in audit.rows if (product is None or row["product"] == product)
            and (shipping is None or row["may_ship"] == (shipping == "may-ship"))]
    size = g.web.settings.page_size
    data = {"commit": audit.commit, "current": current, "head": g.web.workspace.head(), "day": audit.day,
            "records": audit.records, "rules": audit.rules, "filters": {"product": product, "shipping": shipping},
            "total": len(rows), "page": number, "pages": max(1, -(-len(rows) // size)), "page_size": size,
            "lots": rows[(number - 1) * size:number * size], "after_sales": audit.after_sales,
            "unreadable": audit.unreadable}
    return respond("board.html", data, products=sorted({row["product"] for row in audit.rows}),
                   query_string=urlencode([(key, value) for key, value in values.items(multi=True)
                                           if key != "page" and value]))


@page(blueprint, "/board/<product>/<lot>")
def lot_page(product: str, lot: str) -> Any:
    audit, (product, wanted) = _find_lot(product, lot)
    descriptions = {rule["id"]: rule["description"] for rule in audit.rules}
    if wanted is not None:
        # the release gate itself, of the request's commit: as the audit, and every record the
        # release relies on verified
        audited, _ = release_check(g.web.workspace.reader(), product, wanted)
        commit, blocked = g.web.workspace.head(), audited.blocked
        results = [result.to_json() for result in audited.results]
    else:  # a product's own records, as the audit found them
        own = audit.product_results.get(product, {"may_ship": True, "results": []})
        commit, blocked, results = audit.commit, not own["may_ship"], own["results"]
    data = {"commit": commit, "product": product, "lot": wanted, "may_ship": not blocked,
            "results": [{**result, "description": descriptions.get(result["rule"], {})} for result in results],
            "pack": f"/board/{product}/{wanted or NO_LOT}/pack.pdf"}
    return respond("lot.html", data)


@blueprint.get("/board/<product>/<lot>/pack.pdf")
def pack(product: str, lot: str) -> Any:
    _, (product, wanted) = _find_lot(product, lot)
    try:
        content, _ = build_pack(g.web.workspace.reader(), product, wanted, g.identity.name)
    except EnvironmentFailure as error:
        return problem(NO_PACK.format(error=error), 503)
    name = f"pack-{product}{'-' + wanted if wanted else ''}.pdf"
    return download(content, name, "application/pdf")


def _audit() -> tuple[Audit, bool]:
    """The audit of the request's commit, or the last one finished while it is being made
    (``False``: the page says so)."""
    web = g.web
    return web.workspace.latest("audit", audit_here, web.settings.audit_wait, web.workspace.audit_worker)


def _find_lot(product: str, lot: str) -> tuple[Audit, tuple[str, str | None]]:
    """The audited lot named in the address (found in the audit, never used as a path), else
    404; a lot the last audit finished does not know is looked for in the request's commit."""
    audit, current = _audit()
    wanted = None if lot == NO_LOT else lot
    if audit.problem is None and (product, wanted) not in audit.lots and not current:
        audit = g.web.workspace.derived("audit", audit_here)
    if audit.problem is not None:
        raise EnvironmentFailure(audit.problem)  # answered 503 with the reason
    if (product, wanted) not in audit.lots:
        abort(404)
    return audit, (product, wanted)
