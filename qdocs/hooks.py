"""What runs after an action has been committed: keeping caches derived from the
records (such as the search index) current.  Caches are optional: each hook does
nothing when its cache does not exist, and a failure here never undoes the action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .search import index_exists

if TYPE_CHECKING:
    from .repository import Repository


def run_after_commit(repository: "Repository", record_ids: list[str]) -> None:
    """Called once per committed action with the ids of the records it changed.

    The search index catches up from the commit it holds to HEAD, which covers
    ``record_ids`` and anything committed since; without an index this is one
    ``stat`` and the search engine is never imported.
    """
    if not index_exists(repository.root):
        return
    from .search.index import SearchIndex

    SearchIndex(repository).update_after_commit()
