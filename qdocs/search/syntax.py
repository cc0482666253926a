"""Checks of a query's shape before it is parsed.

A lenient parser (Whoosh's, which qdocs began with) forgives everything: an unclosed quote or parenthesis, a
dangling ``AND`` or a field without a value (``type:``) silently becomes some
other query.  A user who typed that
meant something else, so qdocs names the problem instead (exit 2).
"""

from __future__ import annotations

import re

_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_BINARY = _OPERATORS - {"NOT"}
_PIECE = re.compile(r'"[^"]*"|[()\[\]{}]|[^\s()\[\]{}"]+')
_CLOSING = {")": "(", "]": "[", "}": "{"}
_OPENING = {opening: closing for closing, opening in _CLOSING.items()}


def query_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed query, or None."""
    if not text.strip():
        return "the query is empty; give words to find, or * for every record"
    if text.count('"') % 2:
        return 'a phrase opened with " is not closed'
    matches = list(_PIECE.finditer(text))
    pieces = [match.group() for match in matches]
    opened: list[str] = []
    previous = None
    for index, piece in enumerate(pieces):
        following = matches[index + 1] if index + 1 < len(matches) else None
        problem = _empty(piece, following, following is not None and following.start() == matches[index].end())
        if problem:
            return problem
        if piece in "([{":
            opened.append(piece)
        elif piece in _CLOSING:
            if not opened or opened[-1] != _CLOSING[piece]:
                return f"'{piece}' has no matching '{_CLOSING[piece]}'"
            opened.pop()
        if piece in _BINARY and (previous is None or previous in _OPERATORS or previous in "([{"):
            return f"'{piece}' needs a word before it"
        if previous in _OPERATORS and (piece in _BINARY or piece in ")]}"):
            return f"'{previous}' needs a word after it"
        previous = piece
    if opened:
        return f"'{opened[-1]}' is not closed"
    if previous in _OPERATORS:
        return f"'{previous}' at the end needs a word after it"
    return None


def _empty(piece: str, following: re.Match | None, adjacent: bool) -> str | None:
    """A field without a value (``type:``, ``type:()``), an empty phrase or group.
    A lenient parser reads ``type:`` as the word "type" and ``lot:""`` as an empty lot, so
    such a query would quietly search for something else."""
    if piece.startswith('"'):
        return None if piece.strip('"').strip() else 'the phrase "" is empty; put words between the quotes'
    if piece.startswith(":"):
        return f"{piece!r} has no field name before the ':'; write field:value, e.g. status:void"
    if piece.endswith(":") and (not adjacent or following is None or following.group() in ")]}"
                                or following.group() == '""'):
        return f"{piece!r} has no value: write it right after the ':', e.g. status:void"
    if piece in _OPENING and following is not None and following.group() == _OPENING[piece]:
        return f"'{piece}{_OPENING[piece]}' holds nothing"
    return None
