"""The result of one rule for one lot (or for the repository): status, evidence, findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .facts import Fact
    from .rules import Rule

#: the statuses of a finding, the first the most serious: a rule takes its worst finding's status
SEVERITY_ORDER = ("missing", "unsigned", "failed", "open", "expired", "overdue")
_RANK = {status: rank for rank, status in enumerate(SEVERITY_ORDER)}


class Outcome:
    """What a check found: the record ids that satisfy the rule, and every problem as (status, text)."""

    __slots__ = ("findings", "_evidence")

    def __init__(self, findings: list[tuple[str, str]] | None = None, evidence: list[str] | None = None) -> None:
        self.findings = findings if findings is not None else []
        self._evidence = evidence if evidence is not None else []

    @property
    def evidence(self) -> list[str]:
        """The ids, each once, in the order first used."""
        return list(dict.fromkeys(self._evidence))

    def add(self, status: str, text: str) -> None:
        self.findings.append((status, text))

    def use(self, *record_ids: str) -> None:
        self._evidence.extend(record_ids)

    def merge(self, other: "Outcome") -> None:
        self._evidence.extend(other._evidence)
        for finding in other.findings:
            if finding not in self.findings:
                self.findings.append(finding)

    @property
    def status(self) -> str:
        if not self.findings:
            return "ok"
        return min((status for status, _ in self.findings), key=lambda status: _RANK.get(status, 0))


@dataclass
class Result:
    rule: "Rule"
    outcome: Outcome

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def blocking(self) -> bool:
        return self.rule.blocks and self.status != "ok"

    def to_json(self) -> dict[str, Any]:
        """The rule's descriptions are listed once, in the report's ``rules``."""
        return {
            "rule": self.rule.id, "clause": self.rule.clause, "severity": self.rule.severity,
            "status": self.status, "evidence": list(self.outcome.evidence),
            "findings": [{"status": status, "text": text} for status, text in self.outcome.findings],
        }


class Namer:
    """Record type names for messages: ``final inspection report / inspection certificate``."""

    def __init__(self, catalog: "Catalog") -> None:
        self.catalog = catalog

    def __call__(self, type_id: str) -> str:
        record_type = self.catalog.types.get(type_id)
        name = record_type.name.en if record_type else type_id
        return name[:1].lower() + name[1:]


def latest(facts: list["Fact"], date_field: str | None = None) -> "Fact":
    """The newest of ``facts``: by ``date_field`` when given, then by creation time and id."""
    if len(facts) == 1:
        return facts[0]
    if date_field:
        return max(facts, key=lambda fact: (str(fact.get(date_field) or ""), fact.created, fact.id))
    return max(facts, key=lambda fact: (fact.created, fact.id))


def not_signed(facts: list["Fact"], what: str) -> str:
    """``final inspection FIR-… (in-review) is not fully signed``, and for each record whose
    signatures do not count (status ``unsigned``), why: ``; FIR-…: signature 'approved' by …``."""
    listed = ", ".join(f"{fact.id} ({fact.status})" for fact in facts)
    why = "".join(f"; {fact.id}: {fact.problem}" for fact in facts if fact.problem)
    return f"{what} {listed} {'is' if len(facts) == 1 else 'are'} not fully signed{why}"


def counting(outcome: Outcome, facts: list["Fact"], missing: str | Callable[[], str],
             unsigned: str | Callable[[], str]) -> list["Fact"]:
    """The ``facts`` that count (approved, current revision); when none do, ``outcome``
    says why: ``missing`` when there are no facts at all, else which are not fully signed
    (``unsigned`` names them).  Messages may be given as functions, made only when needed."""
    counted = [fact for fact in facts if fact.counts]
    if not facts:
        outcome.add("missing", missing if isinstance(missing, str) else missing())
    elif not counted:
        outcome.add("unsigned", not_signed(facts, unsigned if isinstance(unsigned, str) else unsigned()))
    return counted
