"""Release rules (§2.4.2): what must be on file before a lot of a product ships.

Each check takes a rule, the audit context and one lot, and returns an
:class:`~qdocs.audit.outcome.Outcome`.  A record counts only when approved (not
void, current revision); the latest counting record decides where several
could.  Product-level rules and per-material-lot findings are computed once and
shared by every lot that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from .materials import check_material_lots
from .outcome import Outcome, latest, not_signed
from .production import check_equipment, check_in_process, check_nonconformances

if TYPE_CHECKING:
    from .context import Context
    from .rules import Rule


def check_record(rule: "Rule", context: "Context", product: str, lot: str | None) -> Outcome:
    """``record``: a counting record of a type on the product or lot, meeting the conditions."""
    parameters = rule.parameters
    if parameters["level"] == "product":
        return context.memo(("record", rule.id, product), lambda: _record(rule, context, ("product", product)))
    if lot is None:
        return Outcome(findings=[("missing", f"product {product} has no lot")])
    return _record(rule, context, ("lot", product, lot))


def _record(rule: "Rule", context: "Context", subject: tuple[str, ...]) -> Outcome:
    type_id = rule.parameters["type"]
    outcome = Outcome()
    records = context.records(subject, type_id)
    if not records:
        outcome.add("missing", f"no {context.name(type_id)} for {subject[0]} {' / '.join(subject[1:])}")
        return outcome
    counting = [fact for fact in records if fact.counts]
    if not counting:
        outcome.use(*(fact.id for fact in records))
        outcome.add("unsigned", not_signed(records, context.name(type_id)))
        return outcome
    record = latest(counting)
    outcome.use(record.id)
    for condition in rule.parameters["require"]:
        problem = condition_problem(record.fields, condition)
        if problem:
            outcome.add(condition["otherwise"], f"{record.id}: {problem}")
    return outcome


def condition_problem(fields: dict[str, Any], condition: dict[str, Any]) -> str | None:
    """Why a record's fields break one ``require`` condition, or None."""
    wanted = condition["in"]
    needs = " or ".join(wanted)
    if condition["field"]:
        value = _word(fields.get(condition["field"]))
        return None if value in wanted else f"{condition['field']} is {value or 'empty'} (needs {needs})"
    column = condition["column"]
    rows = fields.get(condition["table"]) or ()
    bad = [f"row {number}: {column} {_word(row.get(column)) or 'empty'}"
           for number, row in enumerate(rows, start=1) if _word(row.get(column)) not in wanted]
    if not rows:
        return f"{condition['table']} has no rows (needs {column} {needs})"
    return f"{condition['table']} {'; '.join(bad)} (needs {needs})" if bad else None


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


CHECKS: dict[str, Callable[["Rule", "Context", str, str | None], Outcome]] = {
    "record": check_record,
    "material-lots": check_material_lots,
    "in-process-inspections": check_in_process,
    "nonconformances": check_nonconformances,
    "equipment-maintenance": check_equipment,
}


def evaluate_lot(rules: tuple["Rule", ...], context: "Context", product: str, lot: str | None) -> list[Outcome]:
    return [CHECKS[rule.check](rule, context, product, lot) for rule in rules]
