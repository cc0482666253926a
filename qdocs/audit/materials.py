"""Rule R6 (§2.2.3, §2.2.1, §2.2.2): the material lots a production plan uses.

For every material lot the lot's plan lists: an incoming inspection with a passing
conclusion; on its inspection date, the supplier's evaluation then in force
(the latest made on or before that day) qualified it and was still valid (until
its next assessment date, at most ``evaluation_validity_months``); and a purchase
contract review of that supplier (of the inspection's contract, when it names
one) reviewed with an accepted legal conclusion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .context import table_values
from .dates import add_months, parse_day
from .outcome import Outcome, counting, latest

if TYPE_CHECKING:
    from .context import Context
    from .facts import Fact
    from .rules import Rule

#: stands for the inspection's id in findings shared by the inspections of one supplier and day
#: (a control character: never part of an id)
INSPECTION = "\x00inspection\x00"


def check_material_lots(rule: "Rule", context: "Context", product: str, lot: str | None) -> Outcome:
    outcome = Outcome()
    plans = context.plans(product, lot, outcome)
    if not plans:
        return outcome
    rows = table_values(plans, "material_lots", "material_lot")
    if not rows:
        outcome.add("missing", f"the production plan {plans[0].id} lists no material lot")
    for row in rows:
        key = (rule.id, row.get("material_lot"), row.get("material"), row.get("supplier_id"))
        outcome.merge(context.memo(key, lambda: _material_lot(rule, context, row)))
    return outcome


def _material_lot(rule: "Rule", context: "Context", row: dict[str, Any]) -> Outcome:
    parameters = rule.parameters
    outcome = Outcome()
    material_lot, planned_supplier = row.get("material_lot"), row.get("supplier_id")

    def described() -> str:
        return f"material lot {material_lot} ({row.get('material') or '?'}, {planned_supplier or '?'})"

    inspections = context.records(("material-lot", material_lot), "incoming-inspection")
    on_file = counting(outcome, inspections, lambda: f"no incoming inspection for {described()}",
                       lambda: f"incoming inspection of {described()}:")
    if not on_file:
        return outcome
    passed = [fact for fact in on_file if fact.get("conclusion") in parameters["passed"]]
    if not passed:
        record = latest(on_file, "inspection_date")
        outcome.use(record.id)
        outcome.add("failed", f"incoming inspection {record.id} of {described()}: conclusion "
                              f"{record.get('conclusion')} (needs {' or '.join(parameters['passed'])})")
        return outcome
    inspection = latest(passed, "inspection_date")
    outcome.use(inspection.id)
    supplier = inspection.get("supplier_id") or planned_supplier
    if planned_supplier and supplier != planned_supplier:
        outcome.add("failed", f"{described()}: the plan names supplier {planned_supplier}, "
                              f"its incoming inspection {inspection.id} names {supplier}")
    day = str(inspection.get("inspection_date") or "")
    outcome.merge(context.memo(("evaluation", rule.id, supplier, day),
                               lambda: _supplier_in_date(parameters, context, supplier, day)))
    contract = inspection.get("contract_no")
    outcome.merge(context.memo(("contract", rule.id, supplier, contract),
                               lambda: _contract_reviewed(parameters, context, supplier, contract)))
    if outcome.findings:
        outcome.findings = [(status, text.replace(INSPECTION, inspection.id)) for status, text in outcome.findings]
    return outcome


def valid_until(evaluation: "Fact", months: float) -> str:
    """The last day an evaluation qualifies its supplier (its next assessment date, capped)."""
    due = str(evaluation.get("next_assessment_due") or "")
    start = parse_day(evaluation.get("evaluation_date"))
    if start is None:
        return due
    cap = add_months(start, months).isoformat()
    return min(due, cap) if due else cap


def _supplier_in_date(parameters: dict[str, Any], context: "Context", supplier: str, day: str) -> Outcome:
    """The supplier's evaluation in force on ``day`` qualified it and was still valid."""
    outcome = Outcome()
    evaluations = context.of_supplier(supplier, "supplier-evaluation")
    on_file = counting(outcome, evaluations,
                       lambda: f"no supplier evaluation for {supplier} (supplier of {INSPECTION})",
                       lambda: f"supplier evaluation of {supplier}:")
    if not on_file:
        return outcome
    before = [fact for fact in on_file if str(fact.get("evaluation_date") or "") <= day]
    if not before:
        first = min(on_file, key=lambda fact: str(fact.get("evaluation_date")))
        outcome.add("missing", f"supplier {supplier} was not evaluated by {day}, the inspection date of "
                               f"{INSPECTION} (first evaluation {first.id} of {first.get('evaluation_date')})")
        return outcome
    in_force = latest(before, "evaluation_date")
    outcome.use(in_force.id)
    if in_force.get("conclusion") not in parameters["qualified"]:
        outcome.add("failed", f"supplier {supplier} was evaluated {in_force.get('conclusion')} in {in_force.id} "
                              f"({in_force.get('evaluation_date')}), in force on {day} when {INSPECTION} inspected")
        return outcome
    until = valid_until(in_force, parameters["evaluation_validity_months"])
    if day > until:
        outcome.add("expired", f"supplier {supplier}: evaluation {in_force.id} was valid until {until}, "
                               f"before {day}, the inspection date of {INSPECTION}")
    return outcome


def _contract_reviewed(parameters: dict[str, Any], context: "Context", supplier: str,
                       contract: str | None) -> Outcome:
    outcome = Outcome()
    reviews = [fact for fact in context.of_supplier(supplier, "purchase-contract-review")
               if not contract or fact.subject[2] == contract]
    named = f"{supplier}" + (f" contract {contract}" if contract else "")
    on_file = counting(outcome, reviews, lambda: f"no purchase contract review for {named} (named by {INSPECTION})",
                       lambda: f"purchase contract review of {named}:")
    if not on_file:
        return outcome
    review = latest(on_file)
    outcome.use(review.id)
    if review.get("legal_conclusion") not in parameters["contract_conclusions"]:
        outcome.add("failed", f"purchase contract review {review.id} of {named}: legal conclusion "
                              f"{review.get('legal_conclusion')}")
    return outcome
