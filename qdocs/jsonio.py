"""Reading user JSON data files: numbers as typed, a key named twice refused.

Numbers stay the text written (``12.50``, ``1e3``), like YAML read by
:func:`qdocs.yamlio.load_as_text`; ``null`` is ``None``.  Python's JSON parser keeps
the last of two equal keys in an object, which would lose a value the user wrote,
so a duplicate raises :class:`~qdocs.errors.DuplicateKeyError`.  The parser tells
which key but not where: only then is the text scanned again for both lines.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import DuplicateKeyError

JSONDecodeError = json.JSONDecodeError


def load_as_text(text: str) -> Any:
    """Parse JSON; raises :class:`json.JSONDecodeError` or :class:`DuplicateKeyError`."""
    try:
        return json.loads(text, parse_float=str, parse_int=str, object_pairs_hook=_unique)
    except _Duplicate as duplicate:
        located = duplicate_key_places(text)
        if located is None:
            raise DuplicateKeyError(duplicate.key, None, None) from None
        raise DuplicateKeyError(*located) from None


def duplicate_key_places(text: str) -> tuple[str, tuple[int, int], tuple[int, int]] | None:
    """(key, (line, column) of the first, of the second) of the first key repeated within one
    object of a JSON text that parses, or None.  A light scan: strings, nesting and lines only."""
    objects: list[dict[str, tuple[int, int]] | None] = []  # per open bracket: keys seen (None: an array)
    line, line_start, index, length = 1, 0, 0, len(text)
    while index < length:
        character = text[index]
        if character == "\n":
            line, line_start = line + 1, index + 1
        elif character in "{[":
            objects.append({} if character == "{" else None)
        elif character in "}]":
            objects.pop()
        elif character == '"':
            end = index + 1
            while text[end] != '"':  # a parsed JSON string has no raw newline and ends
                end += 2 if text[end] == "\\" else 1
            after = end + 1
            while after < length and text[after] in " \t\r\n":
                after += 1
            keys = objects[-1] if objects else None
            if keys is not None and after < length and text[after] == ":":
                key, place = json.loads(text[index:end + 1]), (line, index - line_start + 1)
                if key in keys:
                    return key, keys[key], place
                keys[key] = place
            index = end
        index += 1
    return None


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result
