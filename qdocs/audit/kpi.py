"""Quality figures computed from the records (the audit's facts), never typed.

For a period (``start`` to ``end``, both days included; by default the twelve calendar
months that end with the clock's today, in the company's time zone) and optionally one
product, over the repository as it stands (HEAD, the same listing and fact cache as
``qdocs audit``).  Void records never count anywhere.

- **First-pass yield by month**: the final inspections (``final-inspection``, not void)
  whose ``inspection_date`` falls in the month; passed at the first revision = the record
  is still at revision A (never revised) and its ``conclusion`` is ``pass``.  Yield = those
  / all of the month (none when the month has no inspection).  A record that was revised,
  whatever its conclusion now, did not pass first time: its first revision was corrected.
- **Nonconformances** (``nonconformance``, not void, ``found_date`` in the period): counted
  by product (a lot's product; those raised on a material lot under ``material-lot``) and
  by cause: the ``cause`` text as typed, spaces collapsed (empty: ``(no cause stated)``);
  also by where they were found (``source``).  A Pareto table: counts sorted from the
  largest (ties by name), each with its share and the cumulative share of all.
- **Customer cases** (``customer-inquiry``, not void, received in the period; with a product,
  those whose ``product_id`` is it): reply time = ``replied_at`` - ``received_at`` in hours,
  against the limit of the after-sales rule of kind ``reply-time`` (A1, 24 h in the
  shipped rules): within (≤ limit), over (> limit), or without a valid reply time.
- **Supplier evaluations** (as rule A3 judges them, on the period's last day): each
  supplier's latest counting evaluation (approved, signatures authorised) with a qualified
  conclusion is valid until its next assessment date, capped at the validity months;
  *expired* when that day is before the period's last day, *due* when it falls within the
  following :data:`DUE_WITHIN_DAYS` days.
- **Maintenance overdue** (as rule A4 judges it, on the period's last day): each equipment's
  latest counting maintenance record whose ``next_due`` is before that day.

The records' dates are compared as typed (``YYYY-MM-DD``; date-times by their own day).
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import clock
from ..errors import UsageError
from ..subjects import subject_id_problem
from .dates import add_months, parse_day, parse_moment
from .evaluation import load
from .materials import valid_until
from .outcome import latest

if TYPE_CHECKING:
    from ..repository import Repository
    from .facts import Fact
    from .rules import RuleSet
    from .snapshot import Snapshot

#: an evaluation whose validity ends within this many days after the period is "due"
DUE_WITHIN_DAYS = 30
NO_CAUSE = "(no cause stated)"
MATERIAL_LOT = "material-lot"


@dataclass
class KpiReport:
    start: _dt.date
    end: _dt.date
    product: str | None
    commit: str
    reply_limit_hours: float
    months: list[dict[str, Any]] = field(default_factory=list)
    nonconformances: dict[str, Any] = field(default_factory=dict)
    cases: dict[str, Any] = field(default_factory=dict)
    suppliers: dict[str, Any] = field(default_factory=dict)
    maintenance: dict[str, Any] = field(default_factory=dict)
    products: list[str] = field(default_factory=list)  # every product on file (a choice for the dashboard)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "product": self.product,
                "commit": self.commit, "first_pass_yield": self.months, "nonconformances": self.nonconformances,
                "customer_cases": self.cases, "supplier_evaluations": self.suppliers,
                "maintenance": self.maintenance, "products": self.products}


def quality_figures(repository: "Repository", product: str | None = None, start: _dt.date | None = None,
                    end: _dt.date | None = None) -> KpiReport:
    """The figures of the module docstring; an unknown product or a reversed period is a ``UsageError``."""
    end = end or clock.today(repository.time_zone)
    start = start or add_months(end.replace(day=1), -11)
    if start > end:
        raise UsageError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    if product is not None and (problem := subject_id_problem("product", product)):
        raise UsageError(problem)
    rules, snapshot = load(repository)
    known = sorted({subject[1] for subject in snapshot.subjects if subject[0] in ("product", "lot")})
    if product is not None and product not in known:
        raise UsageError(f"unknown product {product}: no record of it in the repository")
    report = KpiReport(start, end, product, snapshot.commit, _reply_limit(rules), products=known)
    first, last = start.isoformat(), end.isoformat()
    report.months = first_pass_yield(_live(snapshot, "final-inspection", product), start, end)
    report.nonconformances = nonconformances(
        [fact for fact in _live(snapshot, "nonconformance", product) if first <= _day(fact, "found_date") <= last])
    report.cases = customer_cases(snapshot, product, first, last, report.reply_limit_hours)
    report.suppliers = supplier_evaluations(snapshot, end, _parameter(rules, "supplier-renewal", "qualified",
                                                                       ["qualified"]),
                                            _parameter(rules, "supplier-renewal", "evaluation_validity_months", 12))
    report.maintenance = maintenance_overdue(snapshot, end)
    return report


def first_pass_yield(inspections: list["Fact"], start: _dt.date, end: _dt.date) -> list[dict[str, Any]]:
    first, last = start.isoformat(), end.isoformat()
    inspected: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for fact in inspections:
        day = _day(fact, "inspection_date")
        if first <= day <= last:
            inspected[day[:7]] += 1
            passed[day[:7]] += fact.revision == "A" and fact.get("conclusion") == "pass"
    months = []
    month = start.replace(day=1)
    while month <= end:
        key = month.strftime("%Y-%m")
        count = inspected[key]
        months.append({"month": key, "inspections": count, "first_pass": passed[key],
                       "yield": round(passed[key] / count, 4) if count else None})
        month = add_months(month, 1)
    return months


def nonconformances(facts: list["Fact"]) -> dict[str, Any]:
    by_product = Counter(fact.subject[1] if fact.subject[0] == "lot" else MATERIAL_LOT for fact in facts)
    by_cause = Counter(" ".join(str(fact.get("cause") or "").split()) or NO_CAUSE for fact in facts)
    by_source = Counter(str(fact.get("source") or "") for fact in facts)
    return {"total": len(facts), "open": sum(fact.get("status") == "open" for fact in facts),
            "by_product": pareto(by_product, "product"), "by_cause": pareto(by_cause, "cause"),
            "by_source": pareto(by_source, "source")}


def pareto(counts: Counter[str], name: str) -> list[dict[str, Any]]:
    """Counts sorted from the largest (ties by name), with share and cumulative share of the total."""
    total = sum(counts.values())
    rows, running = [], 0
    for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        running += count
        rows.append({name: key, "count": count, "share": round(count / total, 4),
                     "cumulative": round(running / total, 4)})
    return rows


def customer_cases(snapshot: "Snapshot", product: str | None, first: str, last: str,
                   limit: float) -> dict[str, Any]:
    cases = []
    for fact in _live(snapshot, "customer-inquiry", None):
        if product is not None and fact.get("product_id") != product:
            continue
        if not first <= _day(fact, "received_at") <= last:
            continue
        received, replied = parse_moment(fact.get("received_at")), parse_moment(fact.get("replied_at"))
        hours = (replied - received).total_seconds() / 3600 if received and replied and replied >= received else None
        cases.append({"id": fact.id, "case": fact.subject[1], "kind": fact.get("kind"),
                      "hours": None if hours is None else round(hours, 2)})
    timed = [case["hours"] for case in cases if case["hours"] is not None]
    return {"total": len(cases), "limit_hours": limit, "within": sum(hours <= limit for hours in timed),
            "over": sum(hours > limit for hours in timed), "no_reply_time": len(cases) - len(timed),
            "cases": sorted(cases, key=lambda case: case["id"])}


def supplier_evaluations(snapshot: "Snapshot", day: _dt.date, qualified: list[str], months: float) -> dict[str, Any]:
    today, horizon = day.isoformat(), (day + _dt.timedelta(days=DUE_WITHIN_DAYS)).isoformat()
    current = _latest_by_subject(snapshot, "supplier-evaluation", "evaluation_date")
    expired, due = [], []
    for supplier, fact in sorted(current.items()):
        if fact.get("conclusion") not in qualified:
            continue
        until = valid_until(fact, months)
        entry = {"supplier": supplier, "evaluation": fact.id, "valid_until": until}
        if until < today:
            expired.append(entry)
        elif until <= horizon:
            due.append(entry)
    return {"on": today, "due_within_days": DUE_WITHIN_DAYS, "qualified": sum(
        fact.get("conclusion") in qualified for fact in current.values()), "due": due, "expired": expired}


def maintenance_overdue(snapshot: "Snapshot", day: _dt.date) -> dict[str, Any]:
    current = _latest_by_subject(snapshot, "equipment-maintenance", "maintenance_date")
    overdue = []
    for equipment, fact in sorted(current.items()):
        due = parse_day(fact.get("next_due"))
        if due is not None and due < day:
            overdue.append({"equipment": equipment, "record": fact.id, "due": due.isoformat(),
                            "days_overdue": (day - due).days})
    return {"on": day.isoformat(), "equipment": len(current), "overdue": overdue}


def _latest_by_subject(snapshot: "Snapshot", type_id: str, date_field: str) -> dict[str, "Fact"]:
    """Each subject's newest counting record (by ``date_field``, then creation), as the A-rules pick it."""
    counting: dict[str, list["Fact"]] = {}
    for fact in snapshot.of_type(type_id):
        if fact.counts:
            counting.setdefault(fact.subject[1], []).append(fact)
    return {subject: latest(facts, date_field) for subject, facts in counting.items()}


def _live(snapshot: "Snapshot", type_id: str, product: str | None) -> list["Fact"]:
    return [fact for fact in snapshot.of_type(type_id)
            if fact.live and (product is None or (fact.subject[0] == "lot" and fact.subject[1] == product))]


def _day(fact: "Fact", key: str) -> str:
    """The day of a date or date-time field as typed (``YYYY-MM-DD``); empty when missing."""
    return str(fact.get(key) or "")[:10]


def _reply_limit(rules: "RuleSet") -> float:
    return float(_parameter(rules, "reply-time", "hours", 24))


def _parameter(rules: "RuleSet", check: str, name: str, default: Any) -> Any:
    for rule in rules.after_sales:
        if rule.check == check:
            return rule.parameters.get(name, default)
    return default
