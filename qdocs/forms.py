"""The forms: the catalog, the release rules and the Word templates, as controlled documents
of the records repository (ISO 9001 §7.5.3, 21 CFR 11.10(k)).

``qdocs init`` copies the forms shipped with qdocs into the repository's ``forms/``
folder, approved by the first administrator.  From then on the repository's copies
are the ones in force, for every command and every installation.  The quality
department edits them there (Word for the templates, a text editor for the YAML);
an edit takes effect only once someone holding a role the catalog lists under
``forms: {approve: [...]}`` signs it with ``qdocs forms approve``.  Until then every
command keeps using the last approved version, read from git by its blob id, and
says so.

The approved versions are entries of the trust log (:mod:`qdocs.trust`); the file
``.qdocs/forms.yaml`` is their readable view, so that a command finds the form in
force without folding the log (``qdocs verify`` checks the view against the log).
A record keeps the sha256 of the catalog and of the template it was made with.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import yamlio
from .catalog import Catalog, catalog_from_text, default_template_dir
from .errors import CatalogError, UsageError

if TYPE_CHECKING:
    from .repository import Repository
    from .trust.state import FormVersion, TrustState

FORMS_FOLDER = "forms"
CATALOG_FORM = f"{FORMS_FOLDER}/catalog.yaml"
RULES_FORM = f"{FORMS_FOLDER}/rules.yaml"
FORMS_VIEW = ".qdocs/forms.yaml"
DEFAULT_APPROVERS = ("qc-manager",)
_VIEW_HEADER = ("# The approved version of every form (catalog, rules, Word templates): the view of the\n"
                "# trust log's approvals, written by qdocs.  Change a form in forms/, then: qdocs forms approve\n")


@dataclass(frozen=True)
class FormState:
    """One form file: its approved version and what the work tree holds."""

    path: str
    approved: dict[str, Any] | None
    current_sha256: str | None

    @property
    def state(self) -> str:
        if self.approved is None:
            return "new" if self.current_sha256 else "unknown"
        if self.current_sha256 is None:
            return "removed"
        return "approved" if self.current_sha256 == self.approved["sha256"] else "changed"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "state": self.state, "version": (self.approved or {}).get("version"),
                "approved_sha256": (self.approved or {}).get("sha256"), "current_sha256": self.current_sha256,
                "approved_by": (self.approved or {}).get("by"), "approved_at": (self.approved or {}).get("time")}


def shipped_forms() -> dict[str, bytes]:
    """The forms shipped with qdocs, by their path in a records repository."""
    folder = default_template_dir()
    names = ["catalog.yaml", "rules.yaml", *sorted(path.name for path in folder.glob("*.docx"))]
    return {f"{FORMS_FOLDER}/{name}": (folder / name).read_bytes() for name in names}


def blob_id(content: bytes) -> str:
    """The id git gives a file's content (so the approved version can be read back from git)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def describe(content: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(content).hexdigest(), "blob": blob_id(content)}


def approved_view(root: Path) -> dict[str, dict[str, Any]]:
    """``.qdocs/forms.yaml``: path → version, sha256, blob, time, by, entry."""
    try:
        raw = yamlio.load((Path(root) / FORMS_VIEW).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}
    return {str(path): dict(value) for path, value in raw.items() if isinstance(value, dict)}


def view_text(versions: dict[str, "FormVersion"]) -> str:
    """The view written after every approval, from the trust state's versions in force."""
    body = {path: {"version": version.version, "sha256": version.sha256, "blob": version.blob,
                   "time": version.time_text, "by": version.by, "entry": version.entry}
            for path, version in sorted(versions.items())}
    return _VIEW_HEADER + yamlio.dump(body)


def form_states(repository: "Repository") -> list[FormState]:
    """Every form file, approved or in the work tree, with its state."""
    view = approved_view(repository.root)
    folder = repository.root / FORMS_FOLDER
    present = {f"{FORMS_FOLDER}/{path.name}" for path in folder.iterdir() if path.is_file()} if folder.is_dir() else set()
    states = []
    for path in sorted(set(view) | {path for path in present if _is_form(path)}):
        current = repository.root / path
        digest = hashlib.sha256(current.read_bytes()).hexdigest() if current.is_file() else None
        states.append(FormState(path, view.get(path), digest))
    return states


def read_approved(repository: "Repository", path: str) -> bytes:
    """The approved content of a form: the work tree's file when it is unchanged (the
    common case: one hash), else the approved blob from git, with a notice."""
    entry = approved_view(repository.root).get(path)
    if entry is None:
        raise UsageError(f"{path} has no approved version in {repository.root}; approve it with: qdocs forms approve {path}")
    current = repository.root / path
    try:
        content = current.read_bytes()
        if hashlib.sha256(content).hexdigest() == entry["sha256"]:
            return content
    except OSError:
        pass
    content = repository.git.run("cat-file", "blob", str(entry["blob"]), check=False)
    if hashlib.sha256(content).hexdigest() != entry["sha256"]:
        raise CatalogError(f"the approved version {entry.get('version')} of {path} is not in this repository's git "
                           "objects; run qdocs verify")
    notice = (f"notice: {path} has changes waiting for approval; using its approved version {entry.get('version')} "
              f"(see: qdocs forms status)")
    if notice not in repository.notices:
        repository.notices.append(notice)
    return content


def catalog_in_force(repository: "Repository") -> Catalog:
    """The repository's approved catalog; its templates are read the same way."""
    content = read_approved(repository, CATALOG_FORM)
    catalog = catalog_from_text(content.decode("utf-8"), repository.root / CATALOG_FORM)
    catalog.template_reader = lambda record_type: read_approved(repository, f"{FORMS_FOLDER}/{record_type.template}")
    return catalog


def view_problem(repository: "Repository", state: "TrustState") -> str | None:
    """Why the approved-forms view cannot be trusted for a signature: it names versions the
    trust log did not approve (an edit with plain git putting an unapproved form in force)."""
    view = {path: entry.get("sha256") for path, entry in approved_view(repository.root).items()}
    approved = {path: versions[-1].sha256 for path, versions in state.forms.items() if versions}
    if view == approved:
        return None
    wrong = sorted(path for path in set(view) | set(approved) if view.get(path) != approved.get(path))
    return (f"{FORMS_VIEW} was changed outside qdocs: it puts in force versions of {', '.join(wrong[:3])} the trust "
            "log never approved; nothing is signed under it until that change is reverted (qdocs verify names "
            "the commit)")


def has_forms(root: Path) -> bool:
    return (Path(root) / FORMS_VIEW).is_file()


def approver_roles(catalog: Catalog) -> set[str]:
    return set(catalog.form_approvers or DEFAULT_APPROVERS)


def approver_reader(repository: "Repository") -> Callable[["FormVersion | None"], set[str]]:
    """For the trust state: the roles that approve forms under a catalog version (read from git)."""
    parsed: dict[str, set[str]] = {}

    def roles(version: "FormVersion | None") -> set[str]:
        if version is None:
            return set()
        if version.sha256 not in parsed:
            current = repository._catalog
            if getattr(current, "sha256", None) == version.sha256:  # already parsed: no git process
                parsed[version.sha256] = approver_roles(current)
                return parsed[version.sha256]
            content = repository.git.run("cat-file", "blob", version.blob, check=False)
            try:
                catalog = catalog_from_text(content.decode("utf-8"), Path(CATALOG_FORM))
                parsed[version.sha256] = approver_roles(catalog)
            except (CatalogError, UnicodeDecodeError):
                parsed[version.sha256] = set()
        return parsed[version.sha256]

    return roles


def _is_form(path: str) -> bool:
    return path.endswith((".yaml", ".docx")) and not Path(path).name.startswith((".", "~$"))
