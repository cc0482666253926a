"""``qdocs trust``: the root fingerprint to compare with paper, the administrators, the forms in force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..forms import form_states
from .administration import forget_trust_state, trust_state

if TYPE_CHECKING:
    from ..repository import Repository


def trust_report(repository: "Repository") -> dict[str, Any]:
    forget_trust_state(repository)
    state = trust_state(repository)
    root = None
    if state.root is not None:
        root = {"user": state.root["user"], "full_name": state.root.get("full_name", ""),
                "fingerprint": state.root["fingerprint"], "created": state.root["time"], "entry": state.root["entry"]}
    return {"root": root, "admins": state.admins(), "users": len(state.users),
            "forms": [form.to_json() for form in form_states(repository)],
            "findings": [finding.to_json() for finding in state.findings]}
