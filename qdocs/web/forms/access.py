"""Who gets a record type's form, and the ids its subject inputs offer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...subjects import SCOPES
from ..identity import Identity

if TYPE_CHECKING:
    from ...catalog import Catalog, RecordType


def may_create(identity: Identity, catalog: "Catalog", record_type: "RecordType") -> bool:
    """A user holding a role of the type's first signature (who prepares or performs it:
    the inspector for an inspection, the author for a procedure); never an auditor."""
    if identity.auditor or not record_type.signatures:
        return False
    first = min(catalog.meanings[requirement.meaning].stage for requirement in record_type.signatures)
    return any(role in identity.roles
               for requirement in record_type.signatures
               if catalog.meanings[requirement.meaning].stage == first
               for role in requirement.roles)


def creatable_types(identity: Identity, catalog: "Catalog") -> list["RecordType"]:
    return [record_type for record_type in catalog.types.values() if may_create(identity, catalog, record_type)]


def subject_choices(listing: Any) -> dict[str, list[str]]:
    """Subject key -> the ids the repository's records are filed under (offered, not imposed:
    a new lot or supplier is typed)."""
    found: dict[str, set[str]] = {}
    for fact in listing.facts:
        scope, *values = fact.subject
        for key, value in zip(SCOPES.get(scope, ()), values):
            found.setdefault(key, set()).add(value)
    return {key: sorted(values) for key, values in found.items()}
