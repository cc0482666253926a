"""Evaluating many lots on two cores.

The records are read once; then, when another core is free, a forked child
(sharing them copy-on-write) evaluates the later lots and the after-sales rules
while this process evaluates the first lots, and sends back its outcomes as
plain tuples through a pipe.  Lots of one product stay on one side, so what is
shared between them is computed once.  Anything going wrong in the child (or no
``fork``) falls back to evaluating here.
"""

from __future__ import annotations

import marshal
import os
from typing import TYPE_CHECKING, Any

from .outcome import Outcome
from .aftersales import CHECKS as AFTER_SALES
from .release import evaluate_lot

if TYPE_CHECKING:
    from .context import Context
    from .rules import Rule

PARALLEL_FROM = 400  # lots; below this a fork costs more than it saves
PARENT_SHARE = 60  # per cent of the lots evaluated here; the child also takes the after-sales rules


def evaluate(release: tuple["Rule", ...], after_sales: tuple["Rule", ...], context: "Context",
             lots: list[tuple[str, str | None]]) -> tuple[list[list[Outcome]], list[Outcome]]:
    """The outcomes of the release rules for every lot, and of the after-sales rules."""
    if len(lots) < PARALLEL_FROM or not hasattr(os, "fork") or not second_core_free():
        return _lots(release, context, lots), _after_sales(after_sales, context)
    middle = _split(lots)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe, then exits
        status = 1
        try:
            os.close(reader)
            outcomes = [*_lots(release, context, lots[middle:]), _after_sales(after_sales, context)]
            _write_all(writer, marshal.dumps([[(outcome.findings, outcome.evidence) for outcome in group]
                                              for group in outcomes]))
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    mine = _lots(release, context, lots[:middle])
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(child, 0)
    theirs = _decode(data) if os.waitstatus_to_exitcode(status) == 0 else None
    if theirs is None or len(theirs) != len(lots) - middle + 1:
        return mine + _lots(release, context, lots[middle:]), _after_sales(after_sales, context)
    return mine + theirs[:-1], theirs[-1]


def second_core_free() -> bool:
    """Another core is idle enough to be worth a fork: the child's first writes to the shared
    records copy their memory pages, which only pays off when it runs truly in parallel (on a
    busy machine evaluating here is faster)."""
    cores = os.cpu_count() or 1
    try:
        return cores > 1 and os.getloadavg()[0] < cores - 0.5
    except OSError:  # no load average on this system
        return cores > 1


def _lots(release: tuple["Rule", ...], context: "Context", lots: list[tuple[str, str | None]]) -> list[list[Outcome]]:
    return [evaluate_lot(release, context, product, lot) for product, lot in lots]


def _after_sales(rules: tuple["Rule", ...], context: "Context") -> list[Outcome]:
    return [AFTER_SALES[rule.check](rule, context) for rule in rules]


def _split(lots: list[tuple[str, str | None]]) -> int:
    """A share for this process (which also builds the report from all the outcomes) ending
    where a product's lots end."""
    middle = len(lots) * PARENT_SHARE // 100
    while 0 < middle < len(lots) and lots[middle][0] == lots[middle - 1][0]:
        middle += 1
    return middle


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]
    os.close(descriptor)


def _decode(data: bytes) -> list[list[Outcome]] | None:
    try:
        raw: Any = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return [[Outcome(findings, evidence) for findings, evidence in lot] for lot in raw]
