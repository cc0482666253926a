"""New records from forms made from the catalog (:mod:`qdocs.web.forms`).

``/records/new`` lists the types this user may create; ``/records/new/<type>`` is the
form.  A post either changes a table (add or remove a row, answered with the form
again) or creates the record through :func:`qdocs.actions.create_record`, the function
``qdocs new`` calls: its refusals are shown next to the inputs they concern, with
everything typed kept, and the new record opens on its page.  Revising uses the same
form filled with the record's data, and a reason (:func:`revise_page`, :func:`revise_posted`,
called from :mod:`.changes`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, request

from ...actions import create_record, revise_record
from ...errors import QdocsError, ValidationError
from ...examples import describe_type
from ..forms.access import creatable_types, may_create, subject_choices
from ..forms.model import (FormState, empty_state, problems_by_name, read_form, state_from_values, values_of,
                           with_rows)
from ..forms.tokens import FormTokens
from ..listing import current_listing
from ..responses import page, problem, respond
from .signing import READ_ONLY

blueprint = Blueprint("forms", __name__)

NOT_YOURS = "只有编制或执行此类记录的人员可以新建 Only people who prepare or perform this type of record may create it"


@page(blueprint, "/records/new")
def new_record_types() -> Any:
    catalog = g.web.workspace.reader().catalog
    types = [{"id": record_type.id, "name": {"zh": record_type.name.zh, "en": record_type.name.en},
              "form": f"/records/new/{record_type.id}"} for record_type in creatable_types(g.identity, catalog)]
    return respond("new_types.html", {"types": types})


@page(blueprint, "/records/new/<type_id>")
def new_record_form(type_id: str) -> Any:
    record_type, refused = _allowed(type_id)
    if refused:
        return refused
    if request.path.endswith(".json"):
        return respond("record_form.html", {"type": describe_type(g.web.workspace.reader().catalog, record_type)})
    return _form_page(record_type, with_rows(empty_state(record_type), request.args), tokens().new(), fresh=True)


@blueprint.post("/records/new/<type_id>")
def create(type_id: str) -> Any:
    record_type, refused = _allowed(type_id)
    if refused:
        return refused
    state = read_form(record_type, request.form)
    token = request.form.get("form_once", "")
    if request.form.get("action", "create") != "create":
        return _form_page(record_type, state, token or tokens().new())
    if not token:
        return problem("the form has no one-time token; reload it 表单缺少一次性令牌，请重新打开", 400)
    session_id = g.session.id
    made = tokens().claim(session_id, token)
    if made is not None:
        return redirect(f"/records/{made}", 303)  # the same form posted again: the record it made
    try:
        with g.web.workspace.writer() as repository:
            record = create_record(repository, record_type.id, values_of(record_type, state), g.identity.name)
    except ValidationError as error:
        tokens().release(session_id, token)
        state.problems = problems_by_name(record_type, error.problems, state)
        return _form_page(record_type, state, token, status=400)
    except QdocsError as error:
        tokens().release(session_id, token)
        state.problems = {"": [str(error)]}
        return _form_page(record_type, state, token, status=503 if error.exit_code == 3 else 400)
    tokens().made(session_id, token, record.id)
    g.session.messages.append(f"已创建 Created {record.id}, waiting for its first signature 待首个签署")
    return redirect(f"/records/{record.id}", 303)


def tokens() -> FormTokens:
    return current_app.extensions.setdefault("qdocs-form-tokens", FormTokens())


def _allowed(type_id: str) -> tuple[Any, Any]:
    catalog = g.web.workspace.reader().catalog
    record_type = catalog.types.get(type_id)
    if record_type is None:
        abort(404)
    if g.identity.auditor:
        return record_type, problem(READ_ONLY, 403)
    if not may_create(g.identity, catalog, record_type):
        return record_type, problem(NOT_YOURS, 403)
    return record_type, None


def _form_page(record_type: Any, state: FormState, token: str, status: int = 200, fresh: bool = False) -> Any:
    choices = subject_choices(g.web.workspace.derived("listing", current_listing))
    data = {"type": record_type.id, "values": state.values, "rows": state.rows, "problems": state.problems}
    return respond("record_form.html", data, status, record_type=record_type, state=state, form_once=token,
                   choices=choices, action=f"/records/new/{record_type.id}", fresh=fresh,
                   draft_key=f"qdocs-draft:{g.identity.name}:new:{record_type.id}", reason=None)


def revise_page(record: Any, record_type: Any, data: dict[str, Any], status: int = 200,
                state: FormState | None = None, reason: str = "") -> Any:
    """The revise form: the record's form filled with its current data (or with what was
    posted), and a reason.  ``data`` is the page's JSON twin."""
    if state is None:
        state = with_rows(state_from_values(record_type, record.data), request.args)
        if data.get("error"):
            state.problems = {"": [data["error"]]}
    return respond("record_form.html", data, status, record_type=record_type, state=state, form_once="",
                   choices={}, action=f"/records/{record.id}/revise", fresh=True, reason=reason,
                   draft_key=f"qdocs-draft:{g.identity.name}:revise:{record.id}:{record.revision}")


def revise_posted(record: Any, record_type: Any, data: dict[str, Any]) -> Any:
    """A posted revise form: a table changed (the form again) or the revision made through
    :func:`qdocs.actions.revise_record`, its refusals shown by the inputs they concern."""
    state = read_form(record_type, request.form)
    reason = request.form.get("reason", "")
    if request.form.get("action", "create") != "create":
        return revise_page(record, record_type, data, state=state, reason=reason)
    values = {key: value for key, value in values_of(record_type, state).items() if key not in record_type.subject_keys}
    try:
        with g.web.workspace.writer() as repository:
            revised = revise_record(repository, record.id, values, reason, g.identity.name)
    except ValidationError as error:
        state.problems = problems_by_name(record_type, error.problems, state)
        return revise_page(record, record_type, data, 400, state, reason)
    except QdocsError as error:
        state.problems = {("reason" if "reason" in str(error) else ""): [str(error)]}
        return revise_page(record, record_type, data, 503 if error.exit_code == 3 else 400, state, reason)
    g.session.messages.append(f"已修订 Revised {revised.id} to revision {revised.revision}")
    return redirect(f"/records/{revised.id}", 303)
