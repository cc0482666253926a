"""The record list's filters over the listing (:mod:`.listing`)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..audit.facts import Fact

if TYPE_CHECKING:
    from .listing import Listing


@dataclass
class RecordFilters:
    type: str | None = None
    product: str | None = None
    lot: str | None = None
    status: str | None = None
    date_from: _dt.date | None = None
    date_to: _dt.date | None = None

    def matches(self, fact: Fact) -> bool:
        if self.type and fact.type != self.type:
            return False
        if self.status and fact.status != self.status:
            return False
        if self.product and (fact.subject[0] not in ("product", "lot") or fact.subject[1] != self.product):
            return False
        if self.lot and (fact.subject[0] != "lot" or fact.subject[2] != self.lot):
            return False
        day = fact.created[:10]  # the day it was made, in the company's time zone (as stored)
        if self.date_from and day < self.date_from.isoformat():
            return False
        if self.date_to and day > self.date_to.isoformat():
            return False
        return True


def filtered(listing: "Listing", filters: RecordFilters) -> list[Fact]:
    if not any(value is not None for value in filters.__dict__.values()):
        return listing.facts
    return [fact for fact in listing.facts if filters.matches(fact)]
