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

from flask import Blueprint, abort, g

from ...audit.evaluation import AuditReport, LotReport, release_check
from ...errors import EnvironmentFailure
from ...pdf.pack import build_pack
from ..due import rule_states
from ..overview import audit_report
from ..responses import page, problem, respond
from .documents import download

blueprint = Blueprint("board", __name__)

#: the lot part of the address of a product's own records (a product audited without a lot)
NO_LOT = "-"
NO_PACK = ("此服务器无法生成审核资料包 The audit pack cannot be made on this server: {error}")


@page(blueprint, "/board")
def board() -> Any:
    report = _report()
    if isinstance(report, str):
        return problem(report, 503)
    data = {"commit": report.commit, "day": report.day.isoformat(), "records": report.records,
            "rules": [_rule(rule) for rule in report.rules.release],
            "lots": [_lot_row(lot) for lot in report.lots],
            "after_sales": rule_states(report), "unreadable": report.unreadable}
    return respond("board.html", data)


@page(blueprint, "/board/<product>/<lot>")
def lot_page(product: str, lot: str) -> Any:
    report = _report()
    if isinstance(report, str):
        return problem(report, 503)
    audited = _find_lot(report, product, lot)
    if audited.lot is not None:
        # the release gate itself: as the audit, and every record the release relies on verified
        audited, _ = release_check(g.web.workspace.reader(), audited.product, audited.lot)
    rules = {rule.id: rule for rule in report.rules.release}
    data = {"commit": report.commit, "product": audited.product, "lot": audited.lot,
            "may_ship": not audited.blocked,
            "results": [{**result.to_json(), "description": _rule(rules[result.rule.id])["description"]}
                        for result in audited.results],
            "pack": f"/board/{audited.product}/{audited.lot or NO_LOT}/pack.pdf"}
    return respond("lot.html", data)


@blueprint.get("/board/<product>/<lot>/pack.pdf")
def pack(product: str, lot: str) -> Any:
    report = _report()
    if isinstance(report, str):
        return problem(report, 503)
    audited = _find_lot(report, product, lot)
    try:
        content, _ = build_pack(g.web.workspace.reader(), audited.product, audited.lot, g.identity.name)
    except EnvironmentFailure as error:
        return problem(NO_PACK.format(error=error), 503)
    name = f"pack-{audited.product}{'-' + audited.lot if audited.lot else ''}.pdf"
    return download(content, name, "application/pdf")


def _report() -> AuditReport | str:
    return g.web.workspace.derived("audit", audit_report)


def _find_lot(report: AuditReport, product: str, lot: str) -> LotReport:
    """The audited lot named in the address (found in the audit, never used as a path), else 404."""
    wanted = None if lot == NO_LOT else lot
    for audited in report.lots:
        if audited.product == product and audited.lot == wanted:
            return audited
    abort(404)


def _rule(rule: Any) -> dict[str, Any]:
    return {"id": rule.id, "clause": rule.clause, "severity": rule.severity, "check": rule.check,
            "description": {"zh": rule.description.zh, "en": rule.description.en}}


def _lot_row(lot: LotReport) -> dict[str, Any]:
    return {"product": lot.product, "lot": lot.lot, "may_ship": not lot.blocked,
            "link": f"/board/{lot.product}/{lot.lot or NO_LOT}",
            "results": [{"rule": result.rule.id, "status": result.status, "blocks": result.rule.blocks}
                        for result in lot.results]}
