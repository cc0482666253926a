"""What every check works from: the snapshot of records, the audit day, shared answers."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .outcome import Namer, Outcome, not_signed

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .facts import Fact
    from .snapshot import Snapshot

T = TypeVar("T")


class Context:
    def __init__(self, snapshot: "Snapshot", catalog: "Catalog", today: _dt.date) -> None:
        self.snapshot = snapshot
        self.catalog = catalog
        self.today = today
        self.name = Namer(catalog)
        self._memo: dict[Any, Any] = {}
        self._by_supplier: dict[str, dict[str, list["Fact"]]] | None = None

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per key (shared by every lot asking the same question)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def records(self, subject: tuple[str, ...], type_id: str) -> list["Fact"]:
        """Records of ``type_id`` on ``subject`` that are not void."""
        return self.snapshot.live(subject, type_id)

    def of_supplier(self, supplier: str, type_id: str) -> list["Fact"]:
        """Records of a supplier, including those on its contracts, that are not void."""
        if self._by_supplier is None:
            self._by_supplier = {}
            for subject, kind, facts in self.snapshot.live_of_scopes("supplier", "contract"):
                self._by_supplier.setdefault(subject[1], {}).setdefault(kind, []).extend(facts)
        return self._by_supplier.get(supplier, {}).get(type_id, [])

    def plans(self, product: str, lot: str | None, outcome: Outcome) -> list["Fact"]:
        """The lot's counting production plans; when there is none, says so in ``outcome``."""
        if lot is None:
            outcome.add("missing", f"product {product} has no lot")
            return []
        plans = self.records(("lot", product, lot), "production-plan")
        counting = [fact for fact in plans if fact.counts]
        if not plans:
            outcome.add("missing", f"no production plan for lot {product} / {lot}, so what it uses is unknown")
        elif not counting:
            outcome.add("unsigned", not_signed(plans, "production plan"))
        return counting


def table_values(facts: list["Fact"], table: str, column: str) -> list[dict[str, Any]]:
    """Rows of a table field over several records, first row per distinct ``column`` value."""
    seen: dict[str, dict[str, Any]] = {}
    for fact in facts:
        for row in fact.get(table) or ():
            value = row.get(column)
            if value and value not in seen:
                seen[value] = row
    return list(seen.values())
