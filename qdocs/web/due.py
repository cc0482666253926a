"""What is due under the after-sales rules (A1-A4), with how long is left.

The audit says what is already late (its findings); the inbox also shows what comes
next, read from the records the audit used as evidence: each piece of equipment's next
maintenance (A4), each qualified supplier's evaluation running out (A3), each inquiry
not yet answered and the end of its reply time (A1).  Dates are the audit's own
(:mod:`qdocs.audit.dates`, :func:`qdocs.audit.materials.valid_until`).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..audit.dates import parse_day, parse_moment
from ..audit.materials import valid_until

if TYPE_CHECKING:
    from ..audit.evaluation import AuditReport
    from .auditing import Audit
    from .listing import Listing


def due_items(audit: "Audit", listing: "Listing", now: _dt.datetime) -> list[dict[str, Any]]:
    """Upcoming and overdue items, soonest first: rule, record, what, due, days left."""
    today = now.date()
    items: list[dict[str, Any]] = []
    for rule in audit.due_rules:
        if rule.check == "maintenance-due":
            for record_id in rule.evidence:
                fact = listing.by_id.get(record_id)
                due = parse_day(fact.get("next_due")) if fact else None
                if fact is not None and due is not None:
                    items.append(_item(rule.id, record_id, f"设备 Equipment {fact.subject[1]}: 下次保养 next maintenance",
                                       due.isoformat(), (due - today).days))
        elif rule.check == "supplier-renewal":
            months = rule.parameters["evaluation_validity_months"]
            for record_id in rule.evidence:
                fact = listing.by_id.get(record_id)
                if fact is None or fact.get("conclusion") not in rule.parameters["qualified"]:
                    continue
                until = parse_day(valid_until(fact, months))
                if until is not None:
                    items.append(_item(rule.id, record_id, f"供应商 Supplier {fact.subject[1]}: 重新评价 re-evaluation",
                                       until.isoformat(), (until - today).days))
        elif rule.check == "reply-time":
            hours = float(rule.parameters["hours"])
            for fact in listing.facts:
                if fact.type != "customer-inquiry" or fact.status == "void" or fact.get("replied_at"):
                    continue
                received = parse_moment(fact.get("received_at"))
                if received is not None:
                    due = received + _dt.timedelta(hours=hours)
                    left = (due - now).total_seconds() / 86400
                    items.append(_item(rule.id, fact.id, f"案例 Case {fact.subject[1]}: 答复 reply",
                                       due.isoformat(timespec="minutes"), round(left, 1)))
    return sorted(items, key=lambda item: item["days_left"])


def rule_states(report: "AuditReport", most: int = 50) -> list[dict[str, Any]]:
    """Each after-sales rule: its outcome and its first ``most`` findings and pieces of
    evidence, as ``qdocs audit`` reports them, with how many there are in all (a repository
    of years has thousands: ``qdocs audit --json`` lists every one)."""
    return [{"rule": result.rule.id, "clause": result.rule.clause, "severity": result.rule.severity,
             "description": {"zh": result.rule.description.zh, "en": result.rule.description.en},
             "status": result.status, "evidence": result.outcome.evidence[:most],
             "evidence_total": len(result.outcome.evidence),
             "findings": [{"status": status, "text": _shortened(text)} for status, text in result.outcome.findings[:most]],
             "findings_total": len(result.outcome.findings)}
            for result in report.after_sales]


#: a finding longer than this is cut (one names every record of a supplier: tens of thousands of characters)
LONGEST = 600


def _shortened(text: str) -> str:
    if len(text) <= LONGEST:
        return text
    return f"{text[:LONGEST]} … (+{len(text) - LONGEST} characters: qdocs audit)"


def _item(rule: str, record: str, what: str, due: str, days_left: float) -> dict[str, Any]:
    return {"rule": rule, "record": record, "what": what, "due": due, "days_left": days_left,
            "overdue": days_left < 0}
