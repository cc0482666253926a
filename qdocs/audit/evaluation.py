"""Running the audit: every lot against the release rules, the repository against the
after-sales rules, as of now (HEAD) or of the end of a day; and the release gate."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .. import clock
from ..errors import UsageError
from ..subjects import subject_id_problem
from .context import Context
from .dates import commit_as_of
from .facts import projection_for
from .outcome import Outcome, Result
from .authorised import SignatureJudge
from .parallel import evaluate
from .release import evaluate_lot
from .rules import Rule, RuleSet, load_rules
from .snapshot import Listing, Snapshot, list_records, paused_garbage_collector
from .verified import RecordVerifier

if TYPE_CHECKING:
    from ..repository import Repository


class LotReport:
    """One lot (or a product without a lot: ``lot`` None) against the release rules."""

    def __init__(self, product: str, lot: str | None, rules: tuple[Rule, ...], outcomes: list[Outcome]) -> None:
        self.product, self.lot = product, lot
        self.rules, self.outcomes = rules, outcomes
        self._results: list[Result] | None = None

    @property
    def results(self) -> list[Result]:
        if self._results is None:
            self._results = [Result(rule, outcome) for rule, outcome in zip(self.rules, self.outcomes)]
        return self._results

    @property
    def blocked(self) -> bool:
        return any(rule.blocks and outcome.findings for rule, outcome in zip(self.rules, self.outcomes))

    @property
    def failures(self) -> list[Result]:
        return [result for result in self.results if result.blocking]

    @property
    def warnings(self) -> list[Result]:
        return [result for result in self.results if result.status != "ok" and not result.rule.blocks]

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product, "lot": self.lot, "may_ship": not self.blocked,
                "results": [result.to_json() for result in self.results]}


@dataclass
class AuditReport:
    commit: str
    as_of: _dt.date | None
    day: _dt.date
    rules: RuleSet
    lots: list[LotReport]
    after_sales: list[Result] = field(default_factory=list)
    records: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return any(lot.blocked for lot in self.lots) or any(result.blocking for result in self.after_sales)

    def json_text(self, indent: int | None = None) -> str:
        """The report as JSON text (``indent`` None: compact, for large reports read by tools)."""
        import json

        with paused_garbage_collector():
            return json.dumps(self.to_json(), ensure_ascii=False, indent=indent)

    def to_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit, "as_of": self.as_of.isoformat() if self.as_of else None,
            "day": self.day.isoformat(), "rules_file": self.rules.file or self.rules.source, "records": self.records,
            "blocking": self.blocking, "unreadable": self.unreadable,
            "rules": [{"id": rule.id, "clause": rule.clause, "severity": rule.severity, "check": rule.check,
                       "section": rule.section, "description": {"zh": rule.description.zh,
                                                                "en": rule.description.en}}
                      for rule in (*self.rules.release, *self.rules.after_sales)],
            "lots": [lot.to_json() for lot in self.lots],
            "after_sales": [result.to_json() for result in self.after_sales],
        }


def load(repository: "Repository", as_of: _dt.date | None = None,
         progress: Callable[[int, int], None] | None = None) -> tuple[RuleSet, Snapshot]:
    """The rules and the records' facts as of HEAD or of the end of ``as_of``, each approved
    record counting only when the trust state authorises its signatures (:mod:`.authorised`)."""
    with paused_garbage_collector():
        rules, listing = _listing(repository, as_of)
        snapshot = listing.read(progress, SignatureJudge(repository).judge)
        listing.save()
    return rules, snapshot


def _listing(repository: "Repository", as_of: _dt.date | None) -> tuple[RuleSet, Listing]:
    rules = load_rules(repository, as_of=as_of)
    commit = commit_as_of(repository.root, as_of, repository.time_zone) if as_of else None
    return rules, list_records(repository.root, projection_for([rules]), commit)


def run_audit(repository: "Repository", product: str | None = None, lot: str | None = None,
              as_of: _dt.date | None = None, progress: Callable[[int, int], None] | None = None,
              after_sales: bool = True, verified: bool = False) -> AuditReport:
    """Every lot (of ``product``, named ``lot``) against the release rules, and the after-sales rules.

    ``verified``: when one lot is audited as it stands now, every record its release relies
    on is also verified (:mod:`.verified`), as ``release-check`` does."""
    with paused_garbage_collector():
        report, snapshot = _audit(repository, product, lot, as_of, progress, after_sales)
        if verified and as_of is None and product is not None and lot is not None:
            report = _verified(repository, report, snapshot, product, lot)
        return report


def _audit(repository: "Repository", product: str | None, lot: str | None, as_of: _dt.date | None,
           progress: Callable[[int, int], None] | None, after_sales: bool) -> tuple[AuditReport, Snapshot]:
    rules, listing = _listing(repository, as_of)
    judge = SignatureJudge(repository)
    snapshot = listing.read(progress, judge.judge)
    selected = select_lots(snapshot.subjects, product, lot, as_of)  # refuses bad input
    listing.save()  # only then are newly parsed records kept in the cache
    day = as_of or clock.today(repository.time_zone)
    context = Context(snapshot, repository.catalog, day)
    checked = rules.after_sales if after_sales else ()
    lot_outcomes, after_sales_outcomes = evaluate(rules.release, checked, context, selected)
    lots = [LotReport(name, lot_name, rules.release, outcomes)
            for (name, lot_name), outcomes in zip(selected, lot_outcomes)]
    audited = [Result(rule, outcome) for rule, outcome in zip(checked, after_sales_outcomes)]
    return AuditReport(snapshot.commit, as_of, day, rules, lots, audited, len(snapshot.facts),
                       snapshot.unreadable), snapshot


def release_check(repository: "Repository", product: str, lot: str, as_of: _dt.date | None = None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[LotReport, AuditReport]:
    """One lot against the release rules; unknown product or lot is a ``UsageError``.

    For the current state, every record the lot's release relies on is also verified
    (:mod:`.verified`): one with a finding does not count."""
    report = run_audit(repository, product, lot, as_of, progress, after_sales=False, verified=True)
    return report.lots[0], report


def _verified(repository: "Repository", report: AuditReport, snapshot: Snapshot, product: str,
              lot: str) -> AuditReport:
    """The lot evaluated again until every record it relies on has been verified."""
    verifier = RecordVerifier(repository)
    subject = ("lot", product, lot)
    while True:
        relied = snapshot.of_subject(subject, repository.catalog.types)
        relied += [snapshot.fact(record_id) for outcome in report.lots[0].outcomes for record_id in outcome.evidence]
        problems = verifier.problems(fact for fact in relied if fact is not None)
        if not snapshot.mark_unverified(problems):
            return report
        context = Context(snapshot, repository.catalog, report.day)
        lot_report = LotReport(product, lot, report.rules.release, evaluate_lot(report.rules.release, context,
                                                                                product, lot))
        report = AuditReport(report.commit, report.as_of, report.day, report.rules, [lot_report],
                             report.after_sales, report.records, report.unreadable)


def select_lots(subjects: set[tuple[str, ...]], product: str | None, lot: str | None,
                as_of: _dt.date | None) -> list[tuple[str, str | None]]:
    """The lots to audit (and products without a lot); an unknown product or lot is refused."""
    for key, value in (("product", product), ("lot", lot)):
        problem = subject_id_problem(key, value) if value is not None else None
        if problem:
            raise UsageError(problem)
    when = f" as of {as_of.isoformat()}" if as_of else ""
    products = sorted({subject[1] for subject in subjects if subject[0] in ("product", "lot")})
    all_lots = sorted((subject[1], subject[2]) for subject in subjects if subject[0] == "lot")
    if product is not None and product not in products:
        raise UsageError(f"unknown product {product}: no record of it in the repository{when} "
                         f"(products: {', '.join(products[:10]) or 'none'}{' ...' if len(products) > 10 else ''})")
    lots = [(name, lot_name) for name, lot_name in all_lots
            if (product is None or name == product) and (lot is None or lot_name == lot)]
    if lot is not None and not lots:
        known = [lot_name for name, lot_name in all_lots if product is None or name == product]
        raise UsageError(f"unknown lot {lot}{' of ' + product if product else ''}: no record of it{when} "
                         f"(lots: {', '.join(known[:10]) or 'none'}{' ...' if len(known) > 10 else ''})")
    if lot is None:
        with_lots = {name for name, _ in lots}
        lots += [(name, None) for name in products if name not in with_lots and (product is None or name == product)]
        lots.sort(key=lambda item: (item[0], item[1] or ""))
    return lots
