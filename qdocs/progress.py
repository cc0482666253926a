"""Progress of a long operation, told as named steps.

``qdocs export`` and ``qdocs pack`` spend most of their time in one LibreOffice run
that converts every document at once.  A single bar counting the documents
LibreOffice reports says nothing while LibreOffice starts (seconds), nothing at all
where its build does not write a line per document as it goes (its only sign of
progress, and not a promised one), and sits full while the contents, the assembly
and the signatures follow.  So these operations report what they are doing, step by
step: preparing each record, converting (a step of unknown length, counted only
when LibreOffice tells), stamping each record, signing.  The command line draws the
steps on a terminal; the library only calls a function with a :class:`Step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Step:
    """``done`` of ``total`` in the step named ``label``; ``total`` is None for a step
    whose length is not known (LibreOffice converting), whose ``done`` counts what
    was seen finished so far, if anything."""

    label: str
    done: int
    total: int | None


Report = Callable[[Step], None]


class Steps:
    """Reports steps to ``report`` (nothing when it is None)."""

    def __init__(self, report: Report | None = None) -> None:
        self.report = report
        self.current: Step | None = None

    def start(self, label: str, total: int | None = None) -> None:
        self._send(Step(label, 0, total))

    def advance(self, done: int) -> None:
        if self.current is not None and done != self.current.done:
            self._send(Step(self.current.label, done, self.current.total))

    def each(self, label: str, items: Iterable[Item]) -> Iterator[Item]:
        """Yield ``items``, one counted step each."""
        items = list(items)
        self.start(label, len(items))
        for number, item in enumerate(items, start=1):
            yield item
            self.advance(number)

    def _send(self, step: Step) -> None:
        self.current = step
        if self.report is not None:
            self.report(step)

