"""The records repository as the records layer sees it: the storage
(:class:`qdocs.store.repository.Repository`: open, lock, transactions, sequences, the
plain configuration) plus what the records mean there: the catalog in force and its
templates, and the trust state folded once per process (:mod:`qdocs.trust.credentials`).

Creating a repository is an action (:mod:`qdocs.founding`); records are created,
revised and voided through :mod:`qdocs.actions` and read through :mod:`qdocs.queries`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .store.repository import Repository as StoredRepository
from .store.repository import CONFIG_PATH, DEFAULT_SITE, FORMAT_VERSION, SITE_CODE, Change

if TYPE_CHECKING:
    from .catalog import Catalog
    from .rendering import TemplateCache

__all__ = ["CONFIG_PATH", "DEFAULT_SITE", "FORMAT_VERSION", "SITE_CODE", "Change", "Repository"]


class Repository(StoredRepository):
    """One records repository on disk.  Open it with :meth:`open`; create one with
    :func:`qdocs.founding.init_repository`.  ``catalog`` overrides the catalog in force."""

    def __init__(self, root: Path, catalog: "Catalog | None" = None) -> None:
        super().__init__(root)
        self._catalog = catalog
        self._templates: "TemplateCache | None" = None
        self._trust_state: Any = None  # qdocs.trust.credentials.trust_state keeps it here
        #: where a record's folder is, from a reader that already knows (the web application's
        #: listing of HEAD): ``record id -> folder`` or None; :func:`qdocs.queries.find_record_path`
        #: asks it first and checks its answer against the work tree
        self.known_folder: Callable[[str], str | None] | None = None

    @classmethod
    def open(cls, path: str | Path, catalog: "Catalog | None" = None, during_merge: bool = False) -> "Repository":
        repository = super().open(path, during_merge, catalog=catalog)
        assert isinstance(repository, Repository)
        return repository

    @property
    def catalog(self) -> "Catalog":
        """The catalog in force: the repository's approved form (:mod:`qdocs.forms`), or
        the one shipped with qdocs for a repository made before forms were controlled."""
        if self._catalog is None:
            from .catalog import load_catalog
            from .forms import catalog_in_force, has_forms


            self._catalog = catalog_in_force(self) if has_forms(self.root) else load_catalog()
        return self._catalog

    @property
    def templates(self) -> "TemplateCache":
        """The catalog's templates, read and compiled once per process."""
        if self._templates is None:
            from .rendering import TemplateCache


            self._templates = TemplateCache(self.catalog)
        return self._templates
