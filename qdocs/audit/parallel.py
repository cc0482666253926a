"""Evaluating many lots on two cores.

The records are read once; then a forked child (sharing them copy-on-write)
evaluates the second half of the lots while this process evaluates the first,
and sends back its outcomes as plain tuples through a pipe.  Lots of one product
stay on one side, so what is shared between them is computed once.  Anything
going wrong in the child (or no ``fork``) falls back to evaluating here.
"""

from __future__ import annotations

import marshal
import os
from typing import TYPE_CHECKING, Any

from .outcome import Outcome
from .release import evaluate_lot

if TYPE_CHECKING:
    from .context import Context
    from .rules import Rule

PARALLEL_FROM = 400  # lots; below this a fork costs more than it saves


def evaluate_lots(rules: tuple["Rule", ...], context: "Context",
                  lots: list[tuple[str, str | None]]) -> list[list[Outcome]]:
    if len(lots) < PARALLEL_FROM or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return [evaluate_lot(rules, context, product, lot) for product, lot in lots]
    middle = _split(lots)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe, then exits
        status = 1
        try:
            os.close(reader)
            outcomes = [evaluate_lot(rules, context, product, lot) for product, lot in lots[middle:]]
            _write_all(writer, marshal.dumps([[(outcome.findings, outcome.evidence) for outcome in lot]
                                              for lot in outcomes]))
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    mine = [evaluate_lot(rules, context, product, lot) for product, lot in lots[:middle]]
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(child, 0)
    theirs = _decode(data) if os.waitstatus_to_exitcode(status) == 0 else None
    if theirs is None or len(theirs) != len(lots) - middle:
        theirs = [evaluate_lot(rules, context, product, lot) for product, lot in lots[middle:]]
    return mine + theirs


def _split(lots: list[tuple[str, str | None]]) -> int:
    """About half, moved forward to the start of a product."""
    middle = len(lots) // 2
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
