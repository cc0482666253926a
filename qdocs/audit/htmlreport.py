"""The audit as one standalone HTML file a QA manager can e-mail (no scripts, no links out).

A summary, the matrix of lots against release rules (one ``<table id="matrix">``,
each cell carrying its status as class and text), then per lot with problems the
rule, clause, status and what is missing, and the after-sales rules with every
finding.  All text is escaped.  The report names what a reader elsewhere can check it
against: the commit of the records, the rules file by its place in the repository
(``.qdocs/rules.yaml``) and the commit that last changed it (:func:`.rules.rules_version`),
never a path on the machine that made it; times are in the company's time zone.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import clock, timezones
from ..errors import StorageError

if TYPE_CHECKING:
    from .evaluation import AuditReport, LotReport
    from .outcome import Result

_STYLE = """
body { font-family: Arial, "Microsoft YaHei", "SimSun", sans-serif; font-size: 13px; margin: 24px; color: #222; }
h1 { font-size: 20px; margin-bottom: 4px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #bbb; padding: 3px 6px;
vertical-align: top; text-align: left; } th { background: #e6e6e6; }
td.ok { background: #e3f4e1; color: #1b5e20; } td.block { background: #fde0dc; color: #b71c1c; font-weight: bold; }
td.warn { background: #fff4d6; color: #8a5a00; } .meta { color: #555; } .evidence { color: #555; font-size: 12px; }
"""


def render_html(report: "AuditReport", company: str, zone: _dt.tzinfo, rules_version: str) -> str:
    """The report; ``zone`` is the company's time zone, ``rules_version`` says which rules
    were applied (:func:`.rules.rules_version`)."""
    e = html.escape
    lots = [lot for lot in report.lots if lot.lot is not None]
    blocked = [lot for lot in report.lots if lot.blocked]
    when = f"as of the end of {report.as_of}" if report.as_of else f"on {report.day}"
    generated = timezones.display(clock.now(), zone)
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>质量记录审核 Quality records audit {e(str(report.day))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>质量记录审核 Quality records audit</h1><p class=\"meta\">{e(company)}</p>",
        f'<p class="meta">Records at commit {e(report.commit[:12])}, {e(when)}; {report.records} record(s); '
        f'rules <span id="rules-version">{e(rules_version)}</span>; generated {e(generated)}.</p>',
        f'<p id="summary">{len(lots)} lot(s): {len(lots) - sum(1 for lot in blocked if lot.lot)} may ship, '
        f"{sum(1 for lot in blocked if lot.lot)} blocked. Audit result: "
        f"<strong>{'blocking problems found' if report.blocking else 'nothing blocking'}</strong>.</p>",
        "<h2>发货放行矩阵 Release matrix</h2>", _matrix(report),
    ]
    if blocked or any(lot.warnings for lot in report.lots):
        parts.append("<h2>问题 Problems by lot</h2>")
        for lot in report.lots:
            if lot.blocked or lot.warnings:
                parts.append(_lot_details(lot))
    if report.after_sales:
        parts.append(f"<h2>售后审核 After-sales rules ({e(str(report.as_of or report.day))})</h2>")
        parts.append(_results_table("after-sales", report.after_sales))
    parts.append("<h2>规则 Rules</h2><table id=\"rules\"><tr><th>Rule</th><th>Clause</th><th>Severity</th>"
                 "<th>Description</th></tr>")
    for rule in (*report.rules.release, *report.rules.after_sales):
        parts.append(f"<tr><td>{e(rule.id)}</td><td>{e(rule.clause)}</td><td>{e(rule.severity)}</td>"
                     f"<td>{e(rule.description.zh)}<br>{e(rule.description.en)}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def _cell_class(result: "Result") -> str:
    return "ok" if result.status == "ok" else ("block" if result.rule.blocks else "warn")


def _matrix(report: "AuditReport") -> str:
    e = html.escape
    rows = ['<table id="matrix"><tr><th>Product</th><th>Lot</th>'
            + "".join(f'<th title="{e(rule.description.en)}">{e(rule.id)}<br>{e(rule.clause)}</th>'
                      for rule in report.rules.release) + "<th>Verdict</th></tr>"]
    for lot in report.lots:
        cells = "".join(f'<td class="{_cell_class(result)}">{e(result.status)}</td>' for result in lot.results)
        verdict = "BLOCKED" if lot.blocked else ("may ship" if lot.lot else "no lot")
        rows.append(f'<tr><td>{e(lot.product)}</td><td>{e(lot.lot or "-")}</td>{cells}'
                    f'<td class="{"block" if lot.blocked else "ok"}">{verdict}</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def _lot_details(lot: "LotReport") -> str:
    e = html.escape
    title = f"{lot.product} / {lot.lot}" if lot.lot else lot.product
    anchor = e(f"lot-{lot.product}-{lot.lot or ''}")
    return f'<h3 id="{anchor}">{e(title)}</h3>' + _results_table(anchor, lot.results)


def _results_table(name: str, results: list["Result"]) -> str:
    e = html.escape
    rows = [f'<table class="results" data-for="{e(name)}"><tr><th>Rule</th><th>Clause</th><th>Status</th>'
            "<th>Evidence / what is missing</th></tr>"]
    for result in results:
        notes = "".join(f"<div>{e(status)}: {e(text)}</div>" for status, text in result.outcome.findings)
        evidence = ", ".join(result.outcome.evidence)
        if evidence:
            notes += f'<div class="evidence">on file: {e(evidence)}</div>'
        rows.append(f"<tr><td>{e(result.rule.id)}</td><td>{e(result.rule.clause)}</td>"
                    f'<td class="{_cell_class(result)}">{e(result.status)}</td><td>{notes or "-"}</td></tr>')
    rows.append("</table>")
    return "\n".join(rows)


def write_html(report: "AuditReport", target: Path, company: str, zone: _dt.tzinfo, rules_version: str) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(render_html(report, company, zone, rules_version), encoding="utf-8")
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise StorageError(f"cannot write {target}: {error.strerror or error}") from None
