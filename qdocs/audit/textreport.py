"""The audit and the release check as text for a terminal (coloured when asked).

Without ``--product``/``--lot`` the audit is a matrix, one line per lot and one
column per release rule, followed by every problem found; for selected lots each
lot gets a table of rule, clause, status and evidence.  Returns lines: printing
is the command line's job.

The sentences themselves (:func:`heading_line`, :func:`lot_label`, :func:`verdict_line`,
:func:`result_notes`, :func:`after_sales_line`, :func:`summary_line`) are public, so
that the audit pack (:mod:`qdocs.pdf.auditsection`) states the audit in the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .outcome import Result
from .snapshot import paused_garbage_collector

if TYPE_CHECKING:
    from .evaluation import AuditReport, LotReport

_GREEN, _YELLOW, _RED, _BOLD, _RESET = "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[1m", "\x1b[0m"
AFTER_SALES_SHOWN = 20


class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.colour else text

    def status(self, result: Result, width: int = 0) -> str:
        text = result.status.ljust(width)
        if result.status == "ok":
            return self(text, _GREEN)
        return self(text, _RED if result.rule.blocks else _YELLOW)


def audit_lines(report: "AuditReport", colour: bool = False, detail: bool = False) -> list[str]:
    with paused_garbage_collector():
        return _audit_lines(report, colour, detail)


def _audit_lines(report: "AuditReport", colour: bool, detail: bool) -> list[str]:
    paint = _Paint(colour)
    lines = [paint(heading_line(report), _BOLD)]
    if detail:
        for lot in report.lots:
            lines.extend(lot_table(lot, paint))
    else:
        lines.extend(_matrix(report, paint))
    lines.extend(_after_sales(report, paint))
    for path in report.unreadable:
        lines.append(paint(unreadable_line(path), _RED))
    lines.append(paint(summary_line(report), _BOLD))
    return lines


def heading_line(report: "AuditReport") -> str:
    """What was audited: the commit, the day, how many records, products and lots, which rules."""
    when = f"as of {report.as_of}" if report.as_of else f"today {report.day}"
    lots = sum(1 for lot in report.lots if lot.lot is not None)
    products = len({lot.product for lot in report.lots})
    return (f"audit at {report.commit[:10]} ({when}): {report.records} record(s), {products} product(s), "
            f"{lots} lot(s); rules {report.rules.file or report.rules.source}")


def summary_line(report: "AuditReport") -> str:
    lots = [lot for lot in report.lots if lot.lot is not None]
    blocked = sum(1 for lot in lots if lot.blocked)
    warned = sum(1 for result in report.after_sales if result.status != "ok")
    return (f"{len(lots)} lot(s): {len(lots) - blocked} may ship, {blocked} blocked; "
            f"after-sales: {warned} rule(s) with findings")


def unreadable_line(path: str) -> str:
    return f"unreadable: {path} (not audited; see qdocs verify)"


def lot_label(lot: "LotReport") -> str:
    return f"{lot.product} / {lot.lot}" if lot.lot else f"{lot.product} (no lot yet)"


def _matrix(report: "AuditReport", paint: _Paint) -> list[str]:
    rules = report.rules.release
    widths = [max(len(rule.id), 8) for rule in rules]
    product_width = max([7, *(len(lot.product) for lot in report.lots)])
    lot_width = max([3, *(len(lot.lot or "-") for lot in report.lots)])
    head = f"{'product':<{product_width}}  {'lot':<{lot_width}}  " + " ".join(
        rule.id.ljust(width) for rule, width in zip(rules, widths))
    lines = [paint(head.rstrip(), _BOLD)]
    problems: list[str] = []
    cell_texts: dict[tuple[str, bool, int], str] = {}
    for lot in report.lots:
        cells = []
        for rule, outcome, width in zip(rules, lot.outcomes, widths):
            key = (outcome.status, rule.blocks, width)
            if key not in cell_texts:
                cell_texts[key] = paint.status(Result(rule, outcome), width)
            cells.append(cell_texts[key])
            if outcome.findings:
                label = f"{lot.product} / {lot.lot}" if lot.lot else lot.product
                code = _RED if rule.blocks else _YELLOW
                problems.extend(f"  {label}  {rule.id} {rule.clause}  {paint(status, code)} ({rule.severity}): {text}"
                                for status, text in outcome.findings)
        lines.append(f"{lot.product:<{product_width}}  {(lot.lot or '-'):<{lot_width}}  {' '.join(cells)}".rstrip())
    if problems:
        lines.append(paint("problems:", _BOLD))
        lines.extend(problems)
    return lines


def lot_table(lot: "LotReport", paint: _Paint | None = None) -> list[str]:
    paint = paint or _Paint(False)
    title = lot_label(lot)
    verdict = paint("BLOCKED", _RED) if lot.blocked else paint("may ship", _GREEN)
    lines = ["", paint(title, _BOLD) + f"  {verdict}"]
    clause_width = max([6, *(len(result.rule.clause) for result in lot.results)])
    lines.append(f"  {'rule':<5} {'clause':<{clause_width}}  {'status':<8}  evidence / what is missing")
    for result in lot.results:
        lines.extend(_result_rows(result, clause_width, paint))
    return lines


def result_notes(result: Result) -> list[str]:
    """Each finding as ``status: text``, then the records on file; or, when the rule holds,
    the records that satisfy it."""
    outcome = result.outcome
    notes = [f"{status}: {text}" for status, text in outcome.findings] or [", ".join(outcome.evidence) or "-"]
    if outcome.findings and outcome.evidence:
        notes.append("on file: " + ", ".join(outcome.evidence))
    return notes


def _result_rows(result: Result, clause_width: int, paint: _Paint) -> list[str]:
    notes = result_notes(result)
    prefix = f"  {result.rule.id:<5} {result.rule.clause:<{clause_width}}  {paint.status(result, 8)}  "
    indent = " " * (2 + 5 + 1 + clause_width + 2 + 8 + 2)
    return [prefix + notes[0]] + [indent + note for note in notes[1:]]


def _after_sales(report: "AuditReport", paint: _Paint) -> list[str]:
    if not report.after_sales:
        return []
    lines = ["", paint(after_sales_heading(report), _BOLD)]
    for result in report.after_sales:
        findings = result.outcome.findings
        lines.append(f"  {result.rule.id:<4} {result.rule.clause:<8} {paint.status(result, 8)} "
                     f"({result.rule.severity}) {after_sales_line(result)}")
        for status, text in findings[:AFTER_SALES_SHOWN]:
            lines.append(f"       {status}: {text}")
        if len(findings) > AFTER_SALES_SHOWN:
            lines.append(f"       ... and {len(findings) - AFTER_SALES_SHOWN} more (all of them: --json or --html)")
    return lines


def after_sales_heading(report: "AuditReport") -> str:
    return f"after-sales rules (as of {report.as_of or report.day}):"


def after_sales_line(result: Result) -> str:
    """The rule, how many records it checked and how many findings it has."""
    findings = result.outcome.findings
    checked = f"{len(result.outcome.evidence)} record(s) in order"
    return f"{result.rule.description.en}; {checked}" + (f", {len(findings)} finding(s)" if findings else "")


def verdict_line(lot: "LotReport", report: "AuditReport") -> str:
    """``may ship`` or ``BLOCKED`` and by how many release rules."""
    when = f" as of {report.as_of}" if report.as_of else ""
    if lot.failures:
        return f"{lot_label(lot)}: BLOCKED{when} by {len(lot.failures)} release rule(s)"
    return (f"{lot_label(lot)}: may ship{when}: every blocking release rule holds "
            f"({len(lot.results)} rule(s) checked at {report.commit[:10]})")


def release_lines(lot: "LotReport", report: "AuditReport", colour: bool = False) -> list[str]:
    """``may ship`` or ``BLOCKED`` with every blocking failure, then the warnings."""
    paint = _Paint(colour)
    failures, warnings = lot.failures, lot.warnings
    lines = [paint(verdict_line(lot, report), _RED if failures else _GREEN)]
    for result in failures:
        lines.extend(f"  {result.rule.id} {result.rule.clause} {status}: {text}"
                     for status, text in result.outcome.findings)
    if warnings:
        lines.append(paint("warnings (do not block shipment):", _YELLOW))
        for result in warnings:
            lines.extend(f"  {result.rule.id} {result.rule.clause} {status}: {text}"
                         for status, text in result.outcome.findings)
    return lines
