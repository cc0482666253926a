"""The audit result the pack states: the verdict of ``qdocs audit`` on the pack's lot (or
on every lot of its product), rule by rule, and the after-sales rules as of the pack's day.

Nothing is judged here.  :func:`pack_audit` runs the audit library with the same call
as ``qdocs audit --product P [--lot L]`` (committed records at HEAD, the rules file of
the repository, after-sales rules as of today, the day the pack is printed), so a lot's
verdict, statuses, evidence and findings are those ``qdocs release-check`` gives; the
functions below only lay that outcome out, in the sentences of
:mod:`qdocs.audit.textreport`, with Chinese words beside the English ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..audit.evaluation import run_audit
from ..audit.textreport import (AFTER_SALES_SHOWN, after_sales_heading, after_sales_line, heading_line, lot_label,
                                result_notes, summary_line, unreadable_line, verdict_line)
from .sheets import paragraph, table

if TYPE_CHECKING:
    from ..audit.evaluation import AuditReport, LotReport
    from ..audit.outcome import Result
    from ..repository import Repository

STATUS_WORDS = {"ok": "符合", "missing": "缺失", "unsigned": "未签全", "failed": "不合格", "open": "未关闭",
                "expired": "已过期", "overdue": "逾期"}
RELEASE_WIDTH = [12, 22, 52, 16, 72]
AFTER_SALES_WIDTH = [12, 22, 16, 124]
COVER_LOTS_SHOWN = 12


def pack_audit(repository: "Repository", product: str, lot: str | None,
               progress: Callable[[int, int], None] | None = None) -> "AuditReport":
    """The audit of ``product`` (its lot ``lot``, or every lot) and the after-sales rules; a
    lot's pack verifies the records its release relies on, as ``release-check`` does."""
    return run_audit(repository, product, lot, progress=progress, verified=True)


def lot_verdict(lot: "LotReport") -> str:
    """``PUMP-X200 / L2026-031 may ship`` or ``... blocked by R6, R11``."""
    if lot.blocked:
        return f"{lot_label(lot)} blocked by {', '.join(result.rule.id for result in lot.failures)}"
    return f"{lot_label(lot)} may ship"


def verdict_summary(report: "AuditReport") -> dict[str, Any]:
    """The verdict for the pack's summary (``--json``, ``manifest.json``): every lot's
    results as ``release-check --json`` gives them, the after-sales results, and one line."""
    blocked = [lot for lot in report.lots if lot.blocked]
    if len(report.lots) == 1:
        line = lot_verdict(report.lots[0])
    else:
        line = _count_line(report) + (f" ({'; '.join(lot_verdict(lot) for lot in blocked)})" if blocked else "")
    return {"verdict": "blocked" if blocked else "may ship", "may_ship": not blocked, "line": line,
            "blocked": [{"product": lot.product, "lot": lot.lot, "failing": [result.rule.id for result in lot.failures]}
                        for lot in blocked],
            "blocking": report.blocking, "commit": report.commit, "day": report.day.isoformat(),
            "rules_file": report.rules.source, "records_audited": report.records, "unreadable": report.unreadable,
            "lots": [lot.to_json() for lot in report.lots],
            "after_sales": [result.to_json() for result in report.after_sales]}


def cover_verdict(report: "AuditReport") -> str:
    """The cover's line: the lot's verdict, or each lot's (blocked ones first) for a product."""
    def one(lot: "LotReport") -> str:
        return f"不得放行 {lot_verdict(lot)}" if lot.blocked else f"可以放行 {lot_verdict(lot)}"

    if len(report.lots) == 1:
        return one(report.lots[0])
    ordered = sorted(report.lots, key=lambda lot: not lot.blocked)
    lines = [_count_line(report), *(one(lot) for lot in ordered[:COVER_LOTS_SHOWN])]
    if len(ordered) > COVER_LOTS_SHOWN:
        lines.append(f"... {len(ordered) - COVER_LOTS_SHOWN} more: see 审核结果 Audit result")
    return "\n".join(lines)


def audit_blocks(report: "AuditReport") -> list[str]:
    """The audit result pages: what was audited, each lot's verdict and rules, the after-sales rules."""
    blocks = [paragraph("审核结果 Audit result", "Heading"), paragraph(heading_line(report), "Small")]
    for lot in report.lots:
        blocks.append(paragraph(("不得放行 " if lot.blocked else "可以放行 ") + verdict_line(lot, report), "Body"))
        rows = [["规则 Rule", "条款 Clause", "要求 Requirement", "状态 Status", "证据 Evidence / 问题 Findings"]]
        rows += [[result.rule.id, result.rule.clause, f"{result.rule.description.zh}\n{result.rule.description.en}",
                  _status(result, release=True), "\n".join(result_notes(result))] for result in lot.results]
        blocks += [table(rows, RELEASE_WIDTH), paragraph("")]
    if report.after_sales:
        blocks.append(paragraph("售后规则 " + after_sales_heading(report), "Body"))
        rows = [["规则 Rule", "条款 Clause", "状态 Status", "规则与发现 Rule and findings"]]
        rows += [[result.rule.id, result.rule.clause, _status(result), _after_sales_text(result)]
                 for result in report.after_sales]
        blocks.append(table(rows, AFTER_SALES_WIDTH))
    blocks += [paragraph(unreadable_line(path), "Small") for path in report.unreadable]
    blocks.append(paragraph(summary_line(report), "Body"))
    return blocks


def _count_line(report: "AuditReport") -> str:
    blocked = sum(1 for lot in report.lots if lot.blocked)
    return f"{len(report.lots)} lot(s): {len(report.lots) - blocked} may ship, {blocked} blocked"


def _status(result: "Result", release: bool = False) -> str:
    """The status, in Chinese too; a release rule that fails but only warns says so
    (an after-sales rule's severity is in its line)."""
    text = f"{result.status}\n{STATUS_WORDS.get(result.status, '')}".rstrip()
    if release and result.status != "ok" and not result.rule.blocks:
        text += "\n(warn)"
    return text


def _after_sales_text(result: "Result") -> str:
    findings = result.outcome.findings
    lines = [f"{result.rule.description.zh}\n({result.rule.severity}) {after_sales_line(result)}"]
    lines += [f"{status}: {text}" for status, text in findings[:AFTER_SALES_SHOWN]]
    if len(findings) > AFTER_SALES_SHOWN:
        lines.append(f"... and {len(findings) - AFTER_SALES_SHOWN} more (all of them: manifest.json embedded "
                     "in this PDF, or qdocs audit --json)")
    return "\n".join(lines)
