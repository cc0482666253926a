"""qdocs: controlled quality records from Word templates, kept in git.

The library behind the ``qdocs`` command.  Start with :func:`qdocs.founding.init_repository` (or :meth:`Repository.open`)::

    from qdocs.actions import create_record
    from qdocs.founding import init_repository
    from qdocs.trust.genesis import Enrollment
    administrator = Enrollment("li.admin", "李管理", passphrase="a long passphrase")
    repository, _ = init_repository("records", site="S1", administrator=administrator)
    record = create_record(repository, "final-inspection", data, actor="li.si")

Names are imported on first use, so that a command which needs only a part of
the library does not pay for loading all of it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Catalog", "QdocsError", "Record", "RecordType", "Repository", "load_catalog"]
#: the one place the version is written: pyproject.toml reads it into the package metadata
__version__ = "0.1.0"

_WHERE = {
    "Catalog": "catalog", "RecordType": "catalog", "load_catalog": "catalog",
    "QdocsError": "errors", "Record": "records", "Repository": "repository",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        from importlib import import_module

        return getattr(import_module(f"qdocs.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'qdocs' has no attribute {name!r}")
