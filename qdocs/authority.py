"""Which form and which role were in force when something was done: ``qdocs verify``'s
questions of a record made or signed at a moment.

The trust state knows every approved version of every form and when it was approved
(:mod:`qdocs.trust.state`); the catalog of a version is read from git by its blob id
and parsed once.  A record made before its repository had controlled forms (a
migrated repository) is not asked about its form.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, catalog_from_text
from .errors import CatalogError
from .findings import Finding
from .forms import CATALOG_FORM, FORMS_FOLDER
from .trust.state import parse_moment

if TYPE_CHECKING:
    from .records import Record
    from .repository import Repository
    from .trail import Trail
    from .trust.state import FormVersion, TrustState


class Authority:
    def __init__(self, repository: "Repository", state: "TrustState", trail: "Trail | None" = None) -> None:
        self.repository = repository
        self.state = state
        self.trail = trail
        self._catalogs: dict[str, Catalog | None] = {}
        self._root_time = parse_moment(state.root["time"]) if state.root else None

    def catalog_at(self, moment_text: str) -> Catalog | None:
        """The catalog in force at a moment (the first approved one for earlier moments)."""
        if self.state.root is None:
            return self.repository.catalog
        versions = self.state.forms.get(CATALOG_FORM, [])
        moment = parse_moment(moment_text)
        chosen = None
        for version in versions:
            if chosen is None or (moment is not None and version.time <= moment):
                chosen = version
        return self.catalog_of(chosen) if chosen is not None else None

    def catalog_of(self, version: "FormVersion") -> Catalog | None:
        """An approved version of the catalog, read from git (None when it cannot be read)."""
        if version.sha256 not in self._catalogs:
            current = self.repository.catalog
            if getattr(current, "sha256", None) == version.sha256:
                self._catalogs[version.sha256] = current
                return current
            content = self.repository.git.run("cat-file", "blob", version.blob, check=False)
            try:
                self._catalogs[version.sha256] = catalog_from_text(content.decode("utf-8"), Path(CATALOG_FORM))
            except (CatalogError, UnicodeDecodeError):
                self._catalogs[version.sha256] = None
        return self._catalogs[version.sha256]

    def role_allowed(self, type_id: str, meaning: Any, role: Any, moment_text: str) -> bool:
        catalog = self.catalog_at(moment_text)
        record_type = catalog.types.get(type_id) if catalog else None
        if record_type is None:
            return False
        return any(requirement.meaning == meaning and role in requirement.roles
                   for requirement in record_type.signatures)

    def form_problems(self, record: "Record") -> list[Finding]:
        """A record made with a template or catalog that was never approved before it was made."""
        if self.state.root is None or self.trail is None:
            return []
        made = self.trail.made_at(record.id)
        moment = parse_moment(made) if made else None
        if moment is None or (self._root_time is not None and moment < self._root_time
                              and any(entry.action == "attest" for entry in self.state.entries)):
            return []
        catalog = self.catalog_at(made or "")
        record_type = catalog.types.get(record.type) if catalog else None
        found = []
        template = f"{FORMS_FOLDER}/{record_type.template if record_type else record.type + '.docx'}"
        if record.template_sha256 not in self._approved_before(template, moment):
            found.append(Finding(record.id, f"was made with a version of {template} that was never approved "
                                            f"(sha256 {record.template_sha256[:16]}…)", kind="form"))
        if record.catalog_sha256 and record.catalog_sha256 not in self._approved_before(CATALOG_FORM, moment):
            found.append(Finding(record.id, f"was made with a version of {CATALOG_FORM} that was never approved "
                                            f"(sha256 {record.catalog_sha256[:16]}…)", kind="form"))
        return found

    def _approved_before(self, path: str, moment: Any) -> set[str]:
        return {version.sha256 for version in self.state.forms.get(path, []) if version.time <= moment}
