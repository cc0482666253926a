"""What may run after an action has been committed: keeping caches derived from the
records (such as the search index) current.  Caches are optional: the hook does nothing
when its cache does not exist, and a failure here never undoes the action.

The command line registers no hook: a ``qdocs new`` (or sign, revise, void...) leaves the
search index where it is, and the next ``qdocs search`` brings it up to HEAD first (the
index names the commit it holds; the records changed since are found with ``git diff``).
Keeping the index current inside each action cost more than the action itself: loading
the search engine and writing a segment, 0.3 s on a small repository and about a second
at 100,000 records, where the engine merged its segments; a batch of actions paid it each
time.  ``qdocs index update`` brings the index up to date at once (a scheduled job after
a large import, say).  The web server, where many people search and nobody should wait
for another's change to be indexed, registers :func:`run_after_commit` on its writes
(:mod:`qdocs.web.workspace`).

The store knows nothing of these caches: whoever opens a repository for actions
registers the hooks it wants on :attr:`Repository.after_commit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .search import index_exists

if TYPE_CHECKING:
    from .store.repository import Repository


def run_after_commit(repository: "Repository", record_ids: list[str]) -> None:
    """Called once per committed action with the ids of the records it changed.

    The search index catches up from the commit it holds to HEAD, which covers
    ``record_ids`` and anything committed since; without an index this is one
    ``stat`` and the search engine is never imported.
    """
    if not index_exists(repository.root):
        return
    from .search.index import SearchIndex  # the search engine (tantivy) loads only when an index exists

    SearchIndex(repository).update_after_commit()  # type: ignore[arg-type]
