"""Chinese and English labels, as the documents have them: record types, fields, roles
and meanings from the catalog in force; the statuses and the pages' own words here."""

from __future__ import annotations

from typing import Any, Callable

from flask import g

from ..timezones import display_text

#: a record's status
STATUS = {"draft": "草稿 Draft", "in-review": "审核中 In review", "approved": "已批准 Approved", "void": "作废 Void"}
#: an audit rule's outcome
OUTCOME = {"ok": "符合 OK", "missing": "缺失 Missing", "unsigned": "未签署 Unsigned", "failed": "不符合 Failed",
           "open": "未关闭 Open", "expired": "已过期 Expired", "overdue": "逾期 Overdue"}
#: the colour class of an outcome on the board: green, amber (a warning rule or a date), red (blocks)
OUTCOME_CLASS = {"ok": "ok", "open": "warn", "expired": "warn", "overdue": "warn"}


def template_globals() -> dict[str, Callable[..., Any]]:
    return {"type_name": type_name, "role_name": role_name, "meaning_name": meaning_name,
            "status_name": status_name, "outcome_name": outcome_name, "outcome_class": outcome_class,
            "local_time": local_time, "form_token": form_token, "catalog": catalog}


def catalog() -> Any:
    return g.web.workspace.reader().catalog


def type_name(type_id: str) -> str:
    record_type = catalog().types.get(type_id)
    return str(record_type.name) if record_type else type_id


def role_name(role: str) -> str:
    label = catalog().roles.get(role)
    return f"{label.zh} {label.en}" if label else role


def meaning_name(meaning: str) -> str:
    known = catalog().meanings.get(meaning)
    return f"{known.label.zh} {known.label.en}" if known else meaning


def status_name(status: str) -> str:
    return STATUS.get(status, status)


def outcome_name(status: str) -> str:
    return OUTCOME.get(status, status)


def outcome_class(status: str, blocks: bool = True) -> str:
    if status == "ok":
        return "ok"
    return "bad" if blocks and status not in OUTCOME_CLASS else "warn"


def local_time(text: str | None) -> str:
    """A stored moment in the company's time zone, as ``qdocs show`` prints it."""
    if not text:
        return ""
    return display_text(str(text), g.web.workspace.reader().time_zone)


def form_token() -> str:
    session = g.get("session")
    return session.csrf if session is not None else ""
