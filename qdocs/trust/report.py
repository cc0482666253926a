"""``qdocs trust``: the root fingerprint to compare with paper, the administrators, the forms in force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..forms import CATALOG_FORM, FORMS_FOLDER, form_states
from .credentials import forget_trust_state, trust_state

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


def record_forms(repository: "Repository", record: Any) -> dict[str, Any]:
    """The approved versions of the template and catalog a record was made with (``version``
    is None for a form that was never approved, or for records made before forms were controlled)."""
    state = trust_state(repository)
    record_type = repository.catalog.types.get(record.type)
    template = f"{FORMS_FOLDER}/{record_type.template if record_type else record.type + '.docx'}"

    def version(path: str, digest: str) -> dict[str, Any]:
        found = next((item for item in state.forms.get(path, []) if item.sha256 == digest), None)
        return {"path": path, "sha256": digest, "version": found.version if found else None,
                "approved_by": found.by if found else None, "approved_at": found.time_text if found else None}

    forms = {"template": version(template, record.template_sha256)}
    if record.catalog_sha256:
        forms["catalog"] = version(CATALOG_FORM, record.catalog_sha256)
    return forms
