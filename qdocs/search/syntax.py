"""Checks of a query's shape before it is parsed.

Whoosh's parser forgives everything: an unclosed quote or parenthesis, or a
dangling ``AND``, silently becomes some other query.  A user who typed that
meant something else, so qdocs names the problem instead (exit 2).
"""

from __future__ import annotations

import re

_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
_BINARY = _OPERATORS - {"NOT"}
_PIECE = re.compile(r'"[^"]*"|[()\[\]{}]|[^\s()\[\]{}"]+')
_CLOSING = {")": "(", "]": "[", "}": "{"}


def query_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed query, or None."""
    if not text.strip():
        return "the query is empty; give words to find, or * for every record"
    if text.count('"') % 2:
        return 'a phrase opened with " is not closed'
    pieces = _PIECE.findall(text)
    opened: list[str] = []
    previous = None
    for piece in pieces:
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
