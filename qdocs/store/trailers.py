"""The ``Key: value`` lines that end every commit message qdocs writes.

An action's commit message is its subject, a blank line, then one line per
trailer (a list value gives one line per item; values are single lines), ending with ``Operation:``, the
id of the action's journal (:mod:`.journal`)::

    revise FIR-S1-2026-0001 to revision B

    Action: revise
    Record: FIR-S1-2026-0001
    Revision: B
    Reason: count corrected
    Operation: 3f2a...

The format is written by :func:`message` and read by :func:`parse`, and nowhere
else: the journal's recovery looks for the ``Operation:`` of an interrupted
action, the history of a record reads ``Action``, ``Revision`` and ``Reason``.
"""

from __future__ import annotations

from typing import Any

OPERATION = "Operation"


def message(subject: str, trailers: dict[str, Any], operation: str) -> str:
    """The commit message of an action: ``subject``, then ``trailers`` and the operation id."""
    lines = [subject, ""]
    for key, value in trailers.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {item}")
    lines.append(f"{OPERATION}: {operation}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, str]:
    """Each trailer's first value, by key, from the paragraphs after the subject
    (a key is one word; other lines are ignored)."""
    found: dict[str, str] = {}
    _, separator, body = text.partition("\n\n")
    for line in body.splitlines() if separator else ():
        key, colon, value = line.partition(": ")
        if colon and key and " " not in key and key not in found:
            found[key] = value.strip()
    return found


def operation(text: str) -> str | None:
    """The journal operation a commit message names (None for a commit made outside qdocs)."""
    return parse(text).get(OPERATION)

