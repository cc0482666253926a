"""Release rules on how the lot was made: R7 in-process inspections (§2.3.3), R8 open
nonconformances (§2.3.3), R9 equipment maintenance over the production period (§2.3.4)."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from .context import table_values
from .dates import parse_day
from .outcome import Outcome, latest, not_signed

if TYPE_CHECKING:
    from .context import Context
    from .facts import Fact
    from .rules import Rule


def check_in_process(rule: "Rule", context: "Context", product: str, lot: str | None) -> Outcome:
    """At least one in-process inspection, and one for every key operation of the process document."""
    outcome = Outcome()
    if lot is None:
        outcome.add("missing", f"product {product} has no lot")
        return outcome
    inspections = context.records(("lot", product, lot), "in-process-inspection")
    counting = [fact for fact in inspections if fact.counts]
    if not inspections:
        outcome.add("missing", f"no in-process inspection record for lot {product} / {lot}")
        return outcome
    if not counting:
        outcome.add("unsigned", not_signed(inspections, "in-process inspection"))
        return outcome
    documents = context.records(("product", product), "process-document")
    approved = [fact for fact in documents if fact.counts]
    if not approved:
        state = "missing" if not documents else "unsigned"
        outcome.use(*(fact.id for fact in counting))
        outcome.add(state, f"no approved process document for {product}, so its key operations cannot be checked")
        return outcome
    document = latest(approved)
    outcome.use(document.id)
    key_operations = context.memo(("key operations", document.id), lambda: [
        row for row in document.get("steps") or () if row.get("key_operation") is True])
    for row in key_operations:
        operation = row.get("operation")
        done = [fact for fact in counting if fact.get("operation") == operation]
        pending = [fact for fact in inspections if fact.get("operation") == operation and not fact.counts]
        if done:
            outcome.use(*(fact.id for fact in done))
        elif pending:
            outcome.add("unsigned", not_signed(pending, f"in-process inspection of key operation {operation}:"))
        else:
            outcome.add("missing", f"no in-process inspection for key operation {row.get('step_no')} "
                                   f"{operation} ({document.id})")
    if not key_operations:
        outcome.use(*(fact.id for fact in counting))
    return outcome


def check_nonconformances(rule: "Rule", context: "Context", product: str, lot: str | None) -> Outcome:
    """No nonconformance report on the lot or on the material lots of its plan still open."""
    outcome = Outcome()
    if lot is None:
        outcome.add("missing", f"product {product} has no lot")
        return outcome
    plans = [fact for fact in context.records(("lot", product, lot), "production-plan") if fact.counts]
    subjects = [("lot", product, lot)] + [("material-lot", row["material_lot"])
                                          for row in table_values(plans, "material_lots", "material_lot")]
    for subject in subjects:
        on = f"lot {product} / {lot}" if subject[0] == "lot" else f"material lot {subject[1]}"
        for report in context.records(subject, "nonconformance"):
            if report.get("status") in rule.parameters["open"]:
                outcome.add("open", f"nonconformance report {report.id} on {on} is {report.get('status')}")
            elif not report.counts:
                outcome.add("unsigned", f"nonconformance report {report.id} on {on} is {report.get('status')} "
                                        f"but not approved ({report.shown_status})")
            else:
                outcome.use(report.id)
    return outcome


def check_equipment(rule: "Rule", context: "Context", product: str, lot: str | None) -> Outcome:
    """Every machine of the plan in maintenance from the first production day to the last."""
    outcome = Outcome()
    plans = context.plans(product, lot, outcome)
    if not plans:
        return outcome
    start, finish = _production_period(plans)
    if start is None or finish is None:
        outcome.add("missing", f"the production plan {plans[0].id} gives no production dates")
        return outcome
    for row in table_values(plans, "equipment_used", "equipment_id"):
        equipment = row["equipment_id"]
        records = context.records(("equipment", equipment), "equipment-maintenance")
        counting = [fact for fact in records if fact.counts]
        if not records:
            outcome.add("missing", f"no maintenance record for equipment {equipment}")
        elif not counting:
            outcome.add("unsigned", not_signed(records, f"maintenance of equipment {equipment}:"))
        else:
            intervals = context.memo(("maintenance", equipment), lambda: _intervals(counting))
            _covered(equipment, intervals, start, finish, outcome)
    return outcome


def _production_period(plans: list["Fact"]) -> tuple[_dt.date | None, _dt.date | None]:
    days = [parse_day(plan.get(key)) for plan in plans for key in ("start_date", "finish_date")]
    days += [parse_day(row.get(key))
             for plan in plans for row in plan.get("tasks") or () for key in ("start", "finish")]
    known = [day for day in days if day is not None]
    return (min(known), max(known)) if known else (None, None)


def _intervals(records: list["Fact"]) -> list[tuple[_dt.date, _dt.date, str]]:
    """(maintenance date, next due date, record id) of counting maintenance records, in order."""
    intervals = [(parse_day(fact.get("maintenance_date")), parse_day(fact.get("next_due")), fact.id)
                 for fact in records]
    return sorted((done, due, record_id) for done, due, record_id in intervals if done and due)


def _covered(equipment: str, intervals: list[tuple[_dt.date, _dt.date, str]], start: _dt.date, finish: _dt.date,
             outcome: Outcome) -> None:
    """Maintenance intervals (maintenance date to next due date) cover every production day."""
    day = start
    while day <= finish:
        covering = [(due, record_id) for done, due, record_id in intervals if done <= day <= due]
        if not covering:
            earlier = [(due, record_id) for done, due, record_id in intervals if done <= day]
            if earlier:
                due, record_id = max(earlier)
                outcome.add("overdue", f"equipment {equipment}: maintenance {record_id} was due {due}, "
                                       f"before production day {day} (production {start} to {finish})")
            else:
                outcome.add("overdue", f"equipment {equipment}: no maintenance on or before production day {day} "
                                       f"(production {start} to {finish})")
            return
        due, record_id = max(covering)
        outcome.use(record_id)
        day = due + _dt.timedelta(days=1)
