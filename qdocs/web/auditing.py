"""The audit as the pages use it, made in this process or in a process of its own.

The audit reads every record of a commit (:func:`qdocs.audit.evaluation.run_audit`, what
``qdocs audit`` runs): about two seconds of Python at 100,000 records.  Made in a thread of
the server, it would hold the interpreter's lock for those seconds, so that every page
served meanwhile waits its turn: with writers committing every second, the audit never
stops and every page gets slow.  So the audit of a large repository is made by one worker
process (:class:`WorkerProcess`, started on first need with ``spawn``: a fresh interpreter,
nothing of the server's threads copied), which hands back only what the pages show
(:class:`Audit`, plain data); the server's threads go on serving meanwhile.  A small
repository is audited in the request's own thread, as before.  The same holds for keeping
the search index current after a commit (at 100,000 records the engine merging its segments
takes about a second): a second worker does it once it is seen to be slow.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..audit.evaluation import run_audit
from ..errors import QdocsError
from ..repository import Repository
from ..search.index import SearchIndex
from .due import rule_states

if TYPE_CHECKING:
    from ..audit.evaluation import AuditReport, LotReport

#: the lot part of the address of a product's own records (a product audited without a lot)
NO_LOT = "-"


@dataclass
class DueRule:
    """What an after-sales rule needs to say what comes due next (:func:`.due.due_items`)."""

    id: str
    check: str
    parameters: dict[str, Any]
    evidence: list[str]


@dataclass
class Audit:
    """The audit of one commit as the pages show it (``problem`` says why there is none)."""

    commit: str | None
    problem: str | None = None
    day: str = ""
    records: int = 0
    rules: list[dict[str, Any]] = field(default_factory=list)  # the release rules
    rows: list[dict[str, Any]] = field(default_factory=list)  # the board's rows, one per lot
    lots: set[tuple[str, str | None]] = field(default_factory=set)
    #: a product's own records (no lot): may it ship, each rule's outcome with findings and evidence
    product_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    after_sales: list[dict[str, Any]] = field(default_factory=list)  # :func:`.due.rule_states`
    due_rules: list[DueRule] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    #: how long it took (seconds): whether a page waits for the next one (:meth:`.workspace.Workspace.latest`)
    seconds: float = 0.0


def audit_here(repository: Repository, previous: object = None) -> Audit:
    """The audit of HEAD, made in this thread (``previous`` is not used: made whole each time)."""
    started = time.monotonic()
    try:
        report = run_audit(repository)
    except QdocsError as error:
        return Audit(None, str(error), seconds=time.monotonic() - started)
    audit = summary(report)
    audit.seconds = time.monotonic() - started
    return audit


def summary(report: "AuditReport") -> Audit:
    return Audit(
        report.commit, None, report.day.isoformat(), report.records,
        [rule_json(rule) for rule in report.rules.release], [lot_row(lot) for lot in report.lots],
        {(lot.product, lot.lot) for lot in report.lots},
        {lot.product: {"may_ship": not lot.blocked, "results": [result.to_json() for result in lot.results]}
         for lot in report.lots if lot.lot is None},
        rule_states(report),
        [DueRule(result.rule.id, result.rule.check, dict(result.rule.parameters), list(result.outcome.evidence))
         for result in report.after_sales],
        list(report.unreadable))


def rule_json(rule: Any) -> dict[str, Any]:
    return {"id": rule.id, "clause": rule.clause, "severity": rule.severity, "check": rule.check,
            "description": {"zh": rule.description.zh, "en": rule.description.en}}


def lot_row(lot: "LotReport") -> dict[str, Any]:
    """A lot as the board shows it: may it ship, and each release rule's outcome."""
    return {"product": lot.product, "lot": lot.lot, "may_ship": not lot.blocked,
            "link": f"/board/{lot.product}/{lot.lot or NO_LOT}",
            "results": [{"rule": result.rule.id, "status": result.status, "blocks": result.rule.blocks}
                        for result in lot.results]}


class WorkerProcess:
    """One process that runs ``job(root)`` on request (see the module's description): waited
    for (:meth:`__call__`), or only started (:meth:`nudge`: at most one waiting at a time)."""

    def __init__(self, job: Callable[[str], Any]) -> None:
        self.job = job
        self.workers = WorkerPool(1, lowest_priority=True)
        self._pending: Future | None = None
        self._lock = threading.Lock()

    def __call__(self, repository: Repository, previous: object = None) -> Any:
        return self.workers.get().submit(self.job, str(repository.root)).result()

    def nudge(self, root: Path) -> None:
        with self._lock:
            if self._pending is None or self._pending.done():
                self._pending = self.workers.get().submit(self.job, str(root))

    def close(self) -> None:
        self.workers.close()


class WorkerPool:
    """Worker processes (:func:`worker_pool`) started on first need and stopped by :meth:`close`;
    used again after a close, they start anew."""

    def __init__(self, processes: int, lowest_priority: bool = False) -> None:
        self.processes, self.lowest_priority = processes, lowest_priority
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = worker_pool(self.processes, self.lowest_priority)
            return self._executor

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


def worker_pool(processes: int, lowest_priority: bool = False) -> ProcessPoolExecutor:
    """``processes`` worker processes started with ``spawn`` (fresh interpreters, nothing of
    the server's threads copied), each ending itself when the server's process is gone."""
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(os.getpid(), lowest_priority))


#: how often a worker looks whether the server's process is still there (seconds)
PARENT_CHECK = 1.0


def _start_worker(parent: int, lowest_priority: bool) -> None:
    """In a new worker: at the lowest priority if asked (the worker yields the processor to
    the server and to writers: pages first, the audit after), and watching the server's
    process.  A worker waits for work on a pipe its own process also holds open, so it would
    wait forever for a server killed without closing it (``kill -9``, a crash): it ends
    itself once its parent is no longer the server."""
    if lowest_priority:
        try:
            os.nice(10)
        except (AttributeError, OSError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), name="qdocs-parent-watch", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(0)


def audit_in_worker(root: str) -> Audit:
    repository = Repository.open(Path(root))
    try:
        return audit_here(repository)
    finally:
        repository.close()


def index_in_worker(root: str) -> int:
    """Bring the search index up to HEAD (the after-commit hook's work, done out of the server)."""
    repository = Repository.open(Path(root))
    try:
        return SearchIndex(repository).catch_up()
    finally:
        repository.close()
