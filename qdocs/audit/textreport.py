"""The audit and the release check as text for a terminal (coloured when asked).

Without ``--product``/``--lot`` the audit is a matrix, one line per lot and one
column per release rule, followed by every problem found; for selected lots each
lot gets a table of rule, clause, status and evidence.  Returns lines: printing
is the command line's job.
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
    when = f"as of {report.as_of}" if report.as_of else f"today {report.day}"
    lots = [lot for lot in report.lots if lot.lot is not None]
    products = len({lot.product for lot in report.lots})
    lines = [paint(f"audit at {report.commit[:10]} ({when}): {report.records} record(s), {products} product(s), "
                   f"{len(lots)} lot(s); rules {report.rules.file or report.rules.source}", _BOLD)]
    if detail:
        for lot in report.lots:
            lines.extend(lot_table(lot, paint))
    else:
        lines.extend(_matrix(report, paint))
    lines.extend(_after_sales(report, paint))
    for path in report.unreadable:
        lines.append(paint(f"unreadable: {path} (not audited; see qdocs verify)", _RED))
    blocked = sum(1 for lot in lots if lot.blocked)
    warned = sum(1 for result in report.after_sales if result.status != "ok")
    lines.append(paint(f"{len(lots)} lot(s): {len(lots) - blocked} may ship, {blocked} blocked; "
                       f"after-sales: {warned} rule(s) with findings", _BOLD))
    return lines


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
    title = f"{lot.product} / {lot.lot}" if lot.lot else f"{lot.product} (no lot yet)"
    verdict = paint("BLOCKED", _RED) if lot.blocked else paint("may ship", _GREEN)
    lines = ["", paint(title, _BOLD) + f"  {verdict}"]
    clause_width = max([6, *(len(result.rule.clause) for result in lot.results)])
    lines.append(f"  {'rule':<5} {'clause':<{clause_width}}  {'status':<8}  evidence / what is missing")
    for result in lot.results:
        lines.extend(_result_rows(result, clause_width, paint))
    return lines


def _result_rows(result: Result, clause_width: int, paint: _Paint) -> list[str]:
    outcome = result.outcome
    notes = [f"{status}: {text}" for status, text in outcome.findings] or [", ".join(outcome.evidence) or "-"]
    if outcome.findings and outcome.evidence:
        notes.append("on file: " + ", ".join(outcome.evidence))
    prefix = f"  {result.rule.id:<5} {result.rule.clause:<{clause_width}}  {paint.status(result, 8)}  "
    indent = " " * (2 + 5 + 1 + clause_width + 2 + 8 + 2)
    return [prefix + notes[0]] + [indent + note for note in notes[1:]]


def _after_sales(report: "AuditReport", paint: _Paint) -> list[str]:
    if not report.after_sales:
        return []
    when = report.as_of or report.day
    lines = ["", paint(f"after-sales rules (as of {when}):", _BOLD)]
    for result in report.after_sales:
        findings = result.outcome.findings
        checked = f"{len(result.outcome.evidence)} record(s) in order"
        lines.append(f"  {result.rule.id:<4} {result.rule.clause:<8} {paint.status(result, 8)} "
                     f"({result.rule.severity}) {result.rule.description.en}; {checked}"
                     + (f", {len(findings)} finding(s)" if findings else ""))
        for status, text in findings[:AFTER_SALES_SHOWN]:
            lines.append(f"       {status}: {text}")
        if len(findings) > AFTER_SALES_SHOWN:
            lines.append(f"       ... and {len(findings) - AFTER_SALES_SHOWN} more (all of them: --json or --html)")
    return lines


def release_lines(lot: "LotReport", report: "AuditReport", colour: bool = False) -> list[str]:
    """``may ship`` or ``BLOCKED`` with every blocking failure, then the warnings."""
    paint = _Paint(colour)
    when = f" as of {report.as_of}" if report.as_of else ""
    failures, warnings = lot.failures, lot.warnings
    if failures:
        lines = [paint(f"{lot.product} / {lot.lot}: BLOCKED{when} by {len(failures)} release rule(s)", _RED)]
    else:
        lines = [paint(f"{lot.product} / {lot.lot}: may ship{when}: every blocking release rule holds "
                       f"({len(lot.results)} rule(s) checked at {report.commit[:10]})", _GREEN)]
    for result in failures:
        lines.extend(f"  {result.rule.id} {result.rule.clause} {status}: {text}"
                     for status, text in result.outcome.findings)
    if warnings:
        lines.append(paint("warnings (do not block shipment):", _YELLOW))
        for result in warnings:
            lines.extend(f"  {result.rule.id} {result.rule.clause} {status}: {text}"
                         for status, text in result.outcome.findings)
    return lines
