"""The query syntax, read into a small tree of nodes.

The syntax is the one qdocs has always documented (it began as Whoosh's): words
(all of them must match), ``"phrases"``, ``AND``, ``OR``, ``NOT``, ``ANDNOT``,
``ANDMAYBE`` and parentheses, ``field:value``, ``field:(a OR b)``,
``field:"two words"``, wildcards ``pump*`` ``p?mp``, dates ``date:2026-03``,
ranges ``created:[2026-03-01 TO 2026-03-31]`` (``{`` ``}`` exclude a bound, either
bound may be left out), comparisons ``signed:>=2026-03-15``; ``*`` is every
record.  ``AND`` binds tighter than ``OR`` (``a OR b c`` is ``a OR (b AND c)``).
Ranges and comparisons are for the date fields only.

:func:`qdocs.search.syntax.query_problem` has already turned away what is not
well formed (unclosed quotes and groups, dangling operators, empty values); what
is left to refuse here is what needs the fields: an unknown field, a date that
is not a date, a range of a field that is not a date.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from typing import NamedTuple, Union

from ..analysis import fold, terms
from ..model import QuerySyntaxError
from .schema import DATE_FIELDS, EXACT_FIELDS, QUERY_FIELDS, TEXT_FIELD, microseconds, stem


class Every(NamedTuple):
    """Every record."""


class Nothing(NamedTuple):
    """No record (a word made only of stop words or punctuation)."""


class Terms(NamedTuple):
    """A word: the terms it was analysed into, all required (检验报告's trigrams,
    PUMP-X200's two parts); for an exact field, the value as one term."""

    field: str
    texts: tuple[str, ...]


class Phrase(NamedTuple):
    """A quoted phrase: ``words`` in order as a query has them (Chinese as the n-grams
    that find it, English stems), ``required`` the same without repeats."""

    field: str
    words: tuple[str, ...]
    required: tuple[str, ...]


class Pattern(NamedTuple):
    """A wildcard (``*`` any characters, ``?`` one), case-folded."""

    field: str
    text: str


class DateRange(NamedTuple):
    field: str
    low: int | None  # microseconds, inclusive
    high: int | None


class And(NamedTuple):
    children: tuple["Node", ...]


class Or(NamedTuple):
    children: tuple["Node", ...]


class Not(NamedTuple):
    child: "Node"


class AndMaybe(NamedTuple):
    """``required ANDMAYBE optional``: the matches of ``required``, ranked higher where
    ``optional`` matches too."""

    required: "Node"
    optional: "Node"


Node = Union[Every, Nothing, Terms, Phrase, Pattern, DateRange, And, Or, Not, AndMaybe]

_PIECE = re.compile(r'"[^"]*"|[()\[\]{}]|[^\s()\[\]{}"]+')
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):(.*)$", re.DOTALL)
_COMPARISON = re.compile(r"^(>=|<=|>|<)(.+)$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}


def parse(text: str) -> Node:
    """The tree of ``text``; :class:`QuerySyntaxError` names what cannot be searched."""
    parser = _Parser([match.group() for match in _PIECE.finditer(text)])
    node = parser.expression(TEXT_FIELD)
    if parser.position < len(parser.pieces):
        raise QuerySyntaxError(f"{parser.pieces[parser.position]!r} is not expected there")
    return node


class _Parser:
    def __init__(self, pieces: list[str]) -> None:
        self.pieces, self.position = pieces, 0

    def peek(self) -> str | None:
        return self.pieces[self.position] if self.position < len(self.pieces) else None

    def take(self) -> str:
        piece = self.pieces[self.position]
        self.position += 1
        return piece

    def expression(self, default: str) -> Node:
        """``a OR b OR c``, each side an :meth:`all_of`."""
        alternatives = [self.all_of(default)]
        while self.peek() == "OR":
            self.take()
            alternatives.append(self.all_of(default))
        alternatives = [node for node in alternatives if not isinstance(node, Nothing)] or [Nothing()]
        return alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives))

    def all_of(self, default: str) -> Node:
        """Items next to each other or joined by ``AND``; ``ANDNOT`` and ``ANDMAYBE``
        apply to everything before them in the group."""
        required: list[Node] = [self.unary(default)]
        while self.peek() not in (None, "OR", ")"):
            operator = self.peek()
            if operator in ("AND", "ANDNOT", "ANDMAYBE"):
                self.take()
            following = self.unary(default)
            if operator == "ANDNOT":
                required.append(Not(following))
            elif operator == "ANDMAYBE":
                required = [AndMaybe(_all(required), following)]
            else:
                required.append(following)
        return _all(required)

    def unary(self, default: str) -> Node:
        if self.peek() == "NOT":
            self.take()
            return Not(self.unary(default))
        return self.item(default)

    def item(self, default: str) -> Node:
        piece = self.take()
        if piece == "(":
            node = self.expression(default)
            self._closing(")")
            return node
        if piece in _OPERATORS or piece == ")":
            raise QuerySyntaxError(f"{piece!r} is not expected there")
        if piece.startswith('"'):
            return phrase(default, piece[1:-1])
        named = _FIELD.match(piece)
        if named:
            name, value = named.group(1), named.group(2)
            if name not in QUERY_FIELDS:
                raise QuerySyntaxError(f"unknown field {name!r}; fields: {', '.join(QUERY_FIELDS)}")
            if value:
                return value_of(name, value)
            following = self.peek()
            if following == "(":
                self.take()
                node = self.expression(name)
                self._closing(")")
                return node
            if following is not None and following.startswith('"'):
                self.take()
                return phrase(name, following[1:-1])
            if following in ("[", "{"):
                return self.range(name)
            raise QuerySyntaxError(f"{piece!r} has no value: write it right after the ':', e.g. status:void")
        if piece in ("[", "{"):
            self.position -= 1
            return self.range(default)
        return value_of(default, piece)

    def range(self, name: str) -> Node:
        opening = self.take()
        bounds: list[str] = []
        while self.peek() not in (None, "]", "}"):
            bounds.append(self.take())
        closing = self.take() if self.peek() is not None else None
        if closing is None:
            raise QuerySyntaxError(f"'{opening}' is not closed")
        if name not in DATE_FIELDS:
            raise QuerySyntaxError(f"a range needs a date field ({', '.join(DATE_FIELDS)}), not {name!r}")
        upper = [bound.upper() for bound in bounds]
        if upper.count("TO") != 1:
            raise QuerySyntaxError(f"a range is written [FROM TO UNTIL], e.g. {name}:[2026-03-01 TO 2026-03-31]")
        split = upper.index("TO")
        low, high = " ".join(bounds[:split]) or None, " ".join(bounds[split + 1:]) or None
        return DateRange(name, _bound(low, low=True, exclusive=opening == "{"),
                         _bound(high, low=False, exclusive=closing == "}"))

    def _closing(self, expected: str) -> None:
        if self.peek() != expected:
            raise QuerySyntaxError(f"'{ {')': '(', ']': '['}[expected]}' is not closed")
        self.take()


def value_of(name: str, value: str) -> Node:
    """A word, a wildcard or (of a date field) a date, a comparison or ``*``."""
    if value == "*":
        return Every() if name == TEXT_FIELD else Pattern(name, "*") if name not in DATE_FIELDS \
            else DateRange(name, None, None)
    if name in DATE_FIELDS:
        compared = _COMPARISON.match(value)
        if compared:
            operator, text = compared.groups()
            if operator.startswith(">"):
                return DateRange(name, _bound(text, low=True, exclusive=operator == ">"), None)
            return DateRange(name, None, _bound(text, low=False, exclusive=operator == "<"))
        return DateRange(name, _bound(value, low=True, exclusive=False), _bound(value, low=False, exclusive=False))
    if "*" in value or "?" in value:
        return Pattern(name, fold(value) if name != "type" and name != "path" else value)
    if name != TEXT_FIELD:
        return Terms(name, (fold(value) if name in EXACT_FIELDS else value,))
    found = tuple(dict.fromkeys(term.text for term in terms(value, stem, query=True)))
    return Terms(name, found) if found else Nothing()


def phrase(name: str, text: str) -> Node:
    if name in DATE_FIELDS:
        return value_of(name, text.strip())
    if name != TEXT_FIELD:
        return Terms(name, (fold(text) if name in EXACT_FIELDS else text,))
    words = tuple(term.text for term in terms(text, stem, query=True))
    return Phrase(name, words, tuple(dict.fromkeys(words))) if words else Nothing()


def _all(nodes: list[Node]) -> Node:
    """``nodes`` all required; a word of stop words alone asks for nothing and is left out."""
    nodes = [node for node in nodes if not isinstance(node, Nothing)
             and not (isinstance(node, Not) and isinstance(node.child, Nothing))] or [Nothing()]
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _bound(text: str | None, low: bool, exclusive: bool) -> int | None:
    """The first (``low``) or last microsecond of the day, month or year ``text`` names;
    excluding it means the microsecond after (or before) that period."""
    if text is None:
        return None
    found = _DATE.match(text.strip())
    try:
        if not found:
            raise ValueError
        year, month, day = int(found.group(1)), int(found.group(2) or 0), int(found.group(3) or 0)
        first = _dt.datetime(year, month or 1, day or 1)
        if day:
            last = first + _dt.timedelta(days=1)
        elif month:
            last = first + _dt.timedelta(days=calendar.monthrange(year, month)[1])
        else:
            last = _dt.datetime(year + 1, 1, 1)
    except (ValueError, OverflowError):
        raise QuerySyntaxError(f"{text.strip()!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD, "
                               "e.g. date:[2026-03-01 TO 2026-03-31]") from None
    start, end = microseconds(first), microseconds(last) - 1
    if low:
        return end + 1 if exclusive else start
    return start - 1 if exclusive else end
