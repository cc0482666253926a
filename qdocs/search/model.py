"""What a search asks and answers, independent of the engine behind it."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

#: A snippet marks each matched piece of text with these two characters.
MARK_START, MARK_END = "\x02", "\x03"


class QuerySyntaxError(Exception):
    """The query text does not parse; the message names the problem."""


@dataclass
class Filters:
    type: str | None = None
    product: str | None = None
    lot: str | None = None
    status: str | None = None
    date_from: _dt.date | None = None
    date_to: _dt.date | None = None


@dataclass
class Hit:
    fields: dict[str, Any]
    score: float
    snippet: str  # matched text between MARK_START and MARK_END

    def marked(self, start: str, end: str) -> str:
        return self.snippet.replace(MARK_START, start).replace(MARK_END, end)


@dataclass
class Found:
    hits: list[Hit]
    total: int
    per_type: dict[str, int] = field(default_factory=dict)
