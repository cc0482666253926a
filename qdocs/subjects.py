"""Subjects: what a record is about (a product, a lot, a supplier, ...).

The scopes are structural, so they live in code; which scope each record type
has is data (the catalog).  A subject maps subject keys to ids, and decides the
record's folder in the repository: ``lot/PUMP-X200/L2026-031/<record id>/``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .errors import UsageError

#: scope -> its subject keys, in path order.
SCOPES: dict[str, tuple[str, ...]] = {
    "product": ("product",),
    "lot": ("product", "lot"),
    "supplier": ("supplier",),
    "contract": ("supplier", "contract"),
    "material-lot": ("material_lot",),
    "equipment": ("equipment",),
    "staff": ("staff",),
    "case": ("case",),
}

#: every subject key, in a stable order (used for command options).
SUBJECT_KEYS: tuple[str, ...] = (
    "product", "lot", "supplier", "contract", "material_lot", "equipment", "staff", "case",
)

MAX_ID_LENGTH = 64
_FORBIDDEN_CHARACTERS = set('/\\<>:"|?*')


@dataclass(frozen=True)
class Subject:
    """A scope and its key values, e.g. ``lot`` with product and lot."""

    scope: str
    keys: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        return dict(self.keys)

    def folder(self) -> str:
        """Repository-relative folder holding this subject's records."""
        return "/".join([self.scope, *(value for _, value in self.keys)])

    def label(self) -> str:
        return " / ".join(value for _, value in self.keys)


def placeholder(key: str, example: str) -> str:
    """What an example data file shows for a subject key: ``<lot id, e.g. L2026-031>``.

    An example file with a concrete lot would file a record on the demo lot without
    a word when its user forgets ``--lot``; a placeholder cannot be taken for an id
    (``<`` and ``>`` are not allowed in one), so ``qdocs new`` refuses it until it is
    replaced."""
    return f"<{key.replace('_', ' ')} id, e.g. {example}>"


def is_placeholder(value: object) -> bool:
    """Whether ``value`` is an example's subject placeholder left as it was."""
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


def placeholder_problem(key: str) -> str:
    return (f"{key}: replace the example's placeholder with the {key.replace('_', ' ')} id "
            f"(or give --{key.replace('_', '-')})")


def subject_id_problem(key: str, value: object) -> str | None:
    """Why ``value`` cannot be a subject id, or None when it can."""
    if not isinstance(value, str):
        return f"subject '{key}' must be text, got {type(value).__name__}"
    if value == "" or value.strip() == "":
        return f"subject '{key}' is empty"
    if value != value.strip():
        return f"subject '{key}' {value!r} starts or ends with a space"
    if value in {".", ".."} or value.startswith("."):
        return f"subject '{key}' {value!r} may not start with '.'"
    if len(value) > MAX_ID_LENGTH:
        return f"subject '{key}' is longer than {MAX_ID_LENGTH} characters"
    for character in value:
        if character in _FORBIDDEN_CHARACTERS:
            return f"subject '{key}' {value!r} contains {character!r} (not allowed in an id)"
        if unicodedata.category(character).startswith("C"):
            return f"subject '{key}' {value!r} contains a control character U+{ord(character):04X}"
    return None


def resolve_subject(scopes: tuple[str, ...], given: dict[str, str], record_type: str) -> tuple[Subject | None, list[str]]:
    """Pick the scope the given keys fit and check the ids.

    Returns the subject (or None) and the problems found.  When a type allows
    several scopes (nonconformance: lot or material lot), the first scope whose
    keys are all given wins.  An example's placeholder (``<lot id, e.g. ...>``)
    counts as not given: when the other keys complete a scope, the placeholders
    are what the example showed for another scope and are left aside; when no
    scope is complete, each placeholder left is refused by its key.
    """
    placeholders = [key for key, value in given.items() if is_placeholder(value)]
    given = {key: value for key, value in given.items() if key not in placeholders}
    problems: list[str] = []
    chosen = None
    for scope in scopes:
        if all(given.get(key) not in (None, "") for key in SCOPES[scope]):
            chosen = scope
            break
    if chosen is None and placeholders:
        return None, [placeholder_problem(key) for key in placeholders]
    if chosen is None:
        needed = " or ".join(
            "+".join("--" + key.replace("_", "-") for key in SCOPES[scope]) for scope in scopes
        )
        return None, [f"subject missing: {record_type} needs {needed}"]
    wanted = SCOPES[chosen]
    for key, value in given.items():
        if value in (None, ""):
            continue
        if key not in wanted:
            problems.append(
                f"subject '{key}' does not apply to {record_type} (its subject is {', '.join(wanted)})"
            )
    for key in wanted:
        problem = subject_id_problem(key, given[key])
        if problem:
            problems.append(problem)
    if problems:
        return None, problems
    return Subject(chosen, tuple((key, given[key]) for key in wanted)), []


def subject_from_dict(scope: str, values: dict[str, str]) -> Subject:
    """Rebuild a stored subject (trusted data from record.yaml)."""
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}")
    return Subject(scope, tuple((key, str(values[key])) for key in SCOPES[scope]))
