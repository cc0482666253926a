"""What runs after an action has been committed: keeping caches derived from the
records (such as the search index) current.  Caches are optional: each hook does
nothing when its cache does not exist, and a failure here never undoes the action.

The store knows nothing of these caches: whoever opens a repository for actions (the
command line, see :func:`qdocs.commands.shared.open_repository`) registers the hooks
on it with :func:`keep_caches_current`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .search import index_exists

if TYPE_CHECKING:
    from .store.repository import Repository


def keep_caches_current(repository: "Repository") -> "Repository":
    """Register :func:`run_after_commit` on ``repository`` (once); returns the repository."""
    if run_after_commit not in repository.after_commit:
        repository.after_commit.append(run_after_commit)
    return repository


def run_after_commit(repository: "Repository", record_ids: list[str]) -> None:
    """Called once per committed action with the ids of the records it changed.

    The search index catches up from the commit it holds to HEAD, which covers
    ``record_ids`` and anything committed since; without an index this is one
    ``stat`` and the search engine is never imported.
    """
    if not index_exists(repository.root):
        return
    from .search.index import SearchIndex  # the search engine (Whoosh, numpy) loads only when an index exists

    SearchIndex(repository).update_after_commit()  # type: ignore[arg-type]
