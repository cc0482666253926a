"""qdocs: controlled quality records from Word templates, kept in git.

The library behind the ``qdocs`` command.  Start with :class:`Repository`::

    from qdocs import Repository
    repository, _ = Repository.init("records", site="S1")
    record = repository.create("final-inspection", data, actor="li.si")
"""

from .catalog import Catalog, RecordType, load_catalog
from .errors import QdocsError
from .records import Record
from .repository import Repository

__all__ = ["Catalog", "QdocsError", "Record", "RecordType", "Repository", "load_catalog"]
__version__ = "0.1.0"
