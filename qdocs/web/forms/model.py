"""A record type's form, made from the catalog, and what a posted form gives back.

The form's names are plain and predictable, so that a posted form reads back into
exactly the values a data file gives ``qdocs new`` (text as typed):

- a subject key: ``subject.<key>`` (``subject.lot``);
- a field: ``field.<key>``;
- a table's cell: ``field.<key>.<row>.<column>`` (rows from 0), its row count ``rows.<key>``,
  and for a table that may be none, the box ``none.<key>`` ("there were none").

Tables grow and shrink through submit buttons handled on the server (``action`` =
``add:<key>`` or ``remove:<key>:<row>``), so a form works without any script.

The library's :class:`~qdocs.errors.ValidationError` messages name the field they concern
in quotes (``field 'temperature': ...``, ``missing mandatory field 'conclusion'``,
``field 'results[2].value': ...``) or a subject key; :func:`problems_by_name` places
each one next to that input, and what names nothing is shown above the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...catalog import Field, RecordType
from ...validation import NONE, says_none

MAX_ROWS = 200
_QUOTED = re.compile(r"'([a-z_][a-z0-9_]*)(?:\[(\d+)\](?:\.([a-z_][a-z0-9_]*))?)?'")
_SUBJECT_WORD = re.compile(r"\b(product|lot|supplier|contract|material_lot|equipment|staff|case)\b")


@dataclass
class FormState:
    """What a form shows: the typed values by input name, the table row counts, and the
    problems by input name (``""``: the form's own)."""

    values: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def empty_state(record_type: RecordType) -> FormState:
    """A fresh form: every table with one empty row to fill."""
    return FormState(rows={item.key: 1 for item in record_type.fields if item.type == "table"})


def with_rows(state: FormState, asked: Mapping[str, str]) -> FormState:
    """``state`` with at least the rows ``asked`` (``rows.KEY=N`` in the address: a draft kept
    in the browser asks for the rows it had, so that every typed row finds its inputs)."""
    for key, count in state.rows.items():
        text = asked.get(f"rows.{key}", "")
        if text.isdigit():
            state.rows[key] = max(count, min(int(text), MAX_ROWS))
    return state


def state_from_values(record_type: RecordType, values: Mapping[str, Any]) -> FormState:
    """A form filled with a record's data (revising) or a data file's values."""
    state = FormState()
    for key in record_type.subject_keys:
        if values.get(key) not in (None, ""):
            state.values[f"subject.{key}"] = str(values[key])
    for item in record_type.fields:
        value = values.get(item.key)
        if item.type == "table":
            if says_none(item, value):
                state.values[f"none.{item.key}"] = "none"
            rows = value if isinstance(value, list) else []
            state.rows[item.key] = len(rows)
            for number, row in enumerate(rows):
                for column in item.columns:
                    state.values[f"field.{item.key}.{number}.{column.key}"] = form_text(row.get(column.key))
        else:
            state.values[f"field.{item.key}"] = form_text(value)
    return state


def read_form(record_type: RecordType, form: Mapping[str, str]) -> FormState:
    """The state a posted form carries, with a pressed add-row or remove-row button applied."""
    state = FormState()
    for key in record_type.subject_keys:
        state.values[f"subject.{key}"] = form.get(f"subject.{key}", "")
    for item in record_type.fields:
        if item.type != "table":
            state.values[f"field.{item.key}"] = form.get(f"field.{item.key}", "")
            continue
        if item.allow_none and form.get(f"none.{item.key}"):
            state.values[f"none.{item.key}"] = "none"
        count = _row_count(form.get(f"rows.{item.key}", "0"))
        rows = [{column.key: form.get(f"field.{item.key}.{number}.{column.key}", "") for column in item.columns}
                for number in range(count)]
        rows = _apply_action(item, rows, form.get("action", ""))
        _set_rows(state, item, rows)
    return state


def values_of(record_type: RecordType, state: FormState) -> dict[str, Any]:
    """The values for :func:`qdocs.actions.create_record`, as a data file gives them: the
    subject keys typed, every field as text, each table a list of rows (an empty row left
    out, so a table's last blank row is not a row)."""
    values: dict[str, Any] = {}
    for key in record_type.subject_keys:
        typed = state.value(f"subject.{key}").strip()
        if typed:
            values[key] = typed
    for item in record_type.fields:
        if item.type != "table":
            values[item.key] = state.value(f"field.{item.key}")
            continue
        if state.value(f"none.{item.key}"):
            values[item.key] = NONE  # "there were none", said on purpose (a row typed as well is dropped)
            continue
        rows = []
        for number in range(state.rows.get(item.key, 0)):
            row = {column.key: state.value(f"field.{item.key}.{number}.{column.key}") for column in item.columns}
            if any(cell.strip() for cell in row.values()):
                rows.append(row)
        values[item.key] = rows
    return values


def problems_by_name(record_type: RecordType, problems: list[str], state: FormState) -> dict[str, list[str]]:
    """Each problem under the input it concerns (see the module's description)."""
    placed: dict[str, list[str]] = {}
    for problem in problems:
        placed.setdefault(_input_for(record_type, problem, state), []).append(problem)
    return placed


def form_text(value: Any) -> str:
    """A stored value as the form shows it for editing."""
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _input_for(record_type: RecordType, problem: str, state: FormState) -> str:
    for match in _QUOTED.finditer(problem):
        key, row, column = match.group(1), match.group(2), match.group(3)
        if problem.startswith("subject") and key in record_type.subject_keys:
            return f"subject.{key}"
        item = record_type.field(key)
        if item is not None:
            if item.type == "table" and row and column:
                number = _typed_row(record_type, item, state, int(row))
                return f"field.{key}.{number}.{column}"
            return f"field.{key}"
        if key in record_type.subject_keys:
            return f"subject.{key}"
    if problem.startswith("subject missing"):
        return "subject"
    found = _SUBJECT_WORD.search(problem[:40])
    if found and found.group(1) in record_type.subject_keys:
        return f"subject.{found.group(1)}"
    return ""


def _typed_row(record_type: RecordType, item: Field, state: FormState, number: int) -> int:
    """The form row of the ``number``-th (from 1) row sent, blank rows being left out."""
    seen = 0
    for index in range(state.rows.get(item.key, 0)):
        if any(state.value(f"field.{item.key}.{index}.{column.key}").strip() for column in item.columns):
            seen += 1
            if seen == number:
                return index
    return number - 1


def _row_count(text: str) -> int:
    return min(int(text), MAX_ROWS) if text.isdigit() else 0


def _apply_action(item: Field, rows: list[dict[str, str]], action: str) -> list[dict[str, str]]:
    if action == f"add:{item.key}" and len(rows) < MAX_ROWS:
        return rows + [{column.key: "" for column in item.columns}]
    prefix = f"remove:{item.key}:"
    if action.startswith(prefix) and action[len(prefix):].isdigit():
        number = int(action[len(prefix):])
        return [row for index, row in enumerate(rows) if index != number]
    return rows


def _set_rows(state: FormState, item: Field, rows: list[dict[str, str]]) -> None:
    state.rows[item.key] = len(rows)
    for number, row in enumerate(rows):
        for key, cell in row.items():
            state.values[f"field.{item.key}.{number}.{key}"] = cell
