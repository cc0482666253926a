"""After-sales audit rules, over the whole repository as of the audit day.

A1 replies within the set time (§3.2.1); A2 trained staff (§3.1.2); A3 supplier
evaluations renewed in time (§2.2.1); A4 no equipment maintenance overdue (§2.3.4).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Callable

from .dates import parse_day, parse_moment
from .materials import valid_until
from .outcome import Outcome, latest, not_signed

if TYPE_CHECKING:
    from .context import Context
    from .facts import Fact
    from .rules import Rule


def check_reply_time(rule: "Rule", context: "Context") -> Outcome:
    outcome = Outcome()
    limit = float(rule.parameters["hours"])
    for inquiry in _live(context, "customer-inquiry"):
        case = inquiry.subject[1]
        if not inquiry.counts:
            outcome.add("unsigned", not_signed([inquiry], f"inquiry of case {case}:"))
            continue
        received, replied = parse_moment(inquiry.get("received_at")), parse_moment(inquiry.get("replied_at"))
        if received is None or replied is None:
            outcome.add("failed", f"{inquiry.id} (case {case}): no valid received or replied time")
        elif replied < received:
            outcome.add("failed", f"{inquiry.id} (case {case}): replied at {inquiry.get('replied_at')}, "
                                  f"before it was received at {inquiry.get('received_at')}")
        elif (replied - received).total_seconds() > limit * 3600:
            hours = (replied - received).total_seconds() / 3600
            outcome.add("overdue", f"{inquiry.id} (case {case}, received {inquiry.get('received_at')}): "
                                   f"replied after {hours:.1f} h, the limit is {limit:g} h")
        else:
            outcome.use(inquiry.id)
    return outcome


def check_trained_staff(rule: "Rule", context: "Context") -> Outcome:
    """Whoever handled a case, performed or signed a service record had passed a training
    assessment before that day (§3.1.2: only staff who passed may take up the post).

    Every person is checked, each on the day of their own act: the handler on the day the
    inquiry was received; the service's performer (``performed_by``) and whoever signed with a
    first-stage meaning (``performed``: the signature attests the work itself) on the day of the
    service (its start, else its close); a later-stage signer (``reviewed``) on the day they
    signed, since that is when they judged it.  Signing times are UTC: their day is the local
    one.  "Before" is strict, a training on the very day does not count, unless the rule's
    ``training_same_day_counts`` is true."""
    outcome = Outcome()
    meanings = rule.parameters["signature_meanings"]
    for inquiry in _live(context, "customer-inquiry"):
        _trained(rule, context, inquiry.get("handled_by"), _day(inquiry.get("received_at")),
                 f"handled case {inquiry.subject[1]} ({inquiry.id})", outcome)
    for service in _live(context, "service-record"):
        service_day = _day(service.get("started_at") or service.get("closed_at"))
        _trained(rule, context, service.get("performed_by"), service_day,
                 f"performed the service of case {service.subject[1]} ({service.id})", outcome)
        for meaning, signer, _, _, time in service.signatures:
            if meaning not in meanings:
                continue
            signed = _day(time, local=True)
            known = context.catalog.meanings.get(meaning)
            attests_the_work = known is not None and known.stage == 1
            day = (service_day or signed) if attests_the_work else signed
            _trained(rule, context, signer, day, f"signed {service.id} as {meaning}", outcome)
    return outcome


def _day(when: object, local: bool = False) -> _dt.date | None:
    """The day of a record's date-time as typed (in its own offset); of a UTC signing time,
    the local day (``local``)."""
    moment = parse_moment(when)
    if moment is None:
        return None
    return (moment.astimezone() if local else moment).date()


def _trained(rule: "Rule", context: "Context", staff: object, day: _dt.date | None, did: str,
             outcome: Outcome) -> None:
    if not staff or day is None:
        return
    day_text = day.isoformat()
    same_day = rule.parameters["training_same_day_counts"]
    trainings = context.records(("staff", str(staff)), "staff-training")
    counting = [fact for fact in trainings if fact.counts]
    passed = [fact for fact in counting if fact.get("result") in rule.parameters["passed"]
              and _before(str(fact.get("training_date") or ""), day_text, same_day)]
    if passed:
        outcome.use(latest(passed, "training_date").id)
    elif not trainings:
        outcome.add("missing", f"{staff} {did} on {day_text} with no training assessment on file")
    elif not counting:
        outcome.add("unsigned", f"{staff} {did} on {day_text}: " + not_signed(trainings, "training record"))
    else:
        on_file = ", ".join(f"{fact.id} {fact.get('result')} on {fact.get('training_date')}" for fact in counting)
        before = "on or before that day" if same_day else "before that day"
        outcome.add("failed", f"{staff} {did} on {day_text} without a passed training assessment {before} "
                              f"(on file: {on_file})")


def _before(training_day: str, day: str, same_day_counts: bool) -> bool:
    """Dates as typed (``YYYY-MM-DD``, checked at entry) compare as text."""
    if not training_day:
        return False
    return training_day <= day if same_day_counts else training_day < day


def check_supplier_renewal(rule: "Rule", context: "Context") -> Outcome:
    """Each qualified supplier's evaluation renewed before it expired, and in date today."""
    outcome = Outcome()
    today = context.today.isoformat()
    months = rule.parameters["evaluation_validity_months"]
    by_supplier: dict[str, list["Fact"]] = {}
    for evaluation in _live(context, "supplier-evaluation"):
        by_supplier.setdefault(evaluation.subject[1], []).append(evaluation)
    for supplier, evaluations in sorted(by_supplier.items()):
        counting = sorted((fact for fact in evaluations if fact.counts),
                          key=lambda fact: (str(fact.get("evaluation_date")), fact.created))
        if not counting:
            outcome.add("unsigned", not_signed(evaluations, f"supplier evaluation of {supplier}:"))
            continue
        for earlier, later in zip(counting, counting[1:]):
            until = valid_until(earlier, months)
            if earlier.get("conclusion") in rule.parameters["qualified"] and str(later.get("evaluation_date")) > until:
                outcome.add("expired", f"supplier {supplier}: {earlier.id} was valid until {until}, "
                                       f"renewed late by {later.id} on {later.get('evaluation_date')}")
        current = counting[-1]
        until = valid_until(current, months)
        if current.get("conclusion") not in rule.parameters["qualified"]:
            outcome.use(current.id)  # not a qualified supplier: nothing to renew
        elif today > until:
            outcome.add("expired", f"supplier {supplier}: evaluation {current.id} expired on {until}, not renewed")
        else:
            outcome.use(current.id)
    return outcome


def check_maintenance_due(rule: "Rule", context: "Context") -> Outcome:
    outcome = Outcome()
    today = context.today
    by_equipment: dict[str, list["Fact"]] = {}
    for record in _live(context, "equipment-maintenance"):
        by_equipment.setdefault(record.subject[1], []).append(record)
    for equipment, records in sorted(by_equipment.items()):
        counting = [fact for fact in records if fact.counts]
        if not counting:
            outcome.add("unsigned", not_signed(records, f"maintenance of equipment {equipment}:"))
            continue
        current = latest(counting, "maintenance_date")
        due = parse_day(current.get("next_due"))
        if due is not None and due < today:
            outcome.add("overdue", f"equipment {equipment}: maintenance was due {due} ({current.id}), "
                                   f"{(today - due).days} day(s) overdue on {today}")
        else:
            outcome.use(current.id)
    return outcome


def _live(context: "Context", type_id: str) -> list["Fact"]:
    return sorted((fact for fact in context.snapshot.of_type(type_id) if fact.live), key=lambda fact: fact.id)


CHECKS: dict[str, Callable[["Rule", "Context"], Outcome]] = {
    "reply-time": check_reply_time,
    "trained-staff": check_trained_staff,
    "supplier-renewal": check_supplier_renewal,
    "maintenance-due": check_maintenance_due,
}
