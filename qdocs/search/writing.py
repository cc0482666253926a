"""Indexing the records of one commit into one generation of the index."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from ..store.crashpoints import crash_point
from .build import read_documents
from .generations import Generations
from .source import RecordFiles, list_records, record_listing

if TYPE_CHECKING:
    from ..repository import Repository

Progress = Callable[[int, int], None]


def index_commit(repository: "Repository", generation: Path, commit: str | None, folders: set[str] | None,
                 progress: Progress | None = None) -> int:
    """Index ``folders`` (every record when None: a new generation) as they are in
    ``commit``, then record ``commit`` as indexed, with the files that now make up
    the index (see :mod:`.manifest`).  Returns how many were indexed; records that
    cannot be read are named in the repository's notices."""
    from . import engine

    listing = None
    if commit is None:
        sources: Iterable[RecordFiles] = []
        total = 0
    elif folders is None:  # every record: read from git's listing as the work goes
        listing = record_listing(repository.root, commit)
        sources, total = listing, listing.count
    else:
        sources = list(list_records(repository.root, commit, folders).values())
        total = len(sources)
    try:
        problems = _write(repository, generation, sources, total, folders, progress)
    finally:
        if listing is not None:
            listing.close()
    crash_point("index-commit")
    if problems:
        repository.notices.append(f"not searchable, cannot be read: {'; '.join(problems[:5])}"
                                  + (f" and {len(problems) - 5} more" if len(problems) > 5 else ""))
    Generations.record(generation, commit, *engine.committed_files(generation))
    return total - len(problems)


def _write(repository: "Repository", generation: Path, sources: Iterable[RecordFiles], total: int,
           folders: set[str] | None, progress: Progress | None) -> list[str]:
    from . import engine

    outcomes = read_documents(repository.root, sources, date_fields(repository), total)
    try:
        first = next(outcomes, None)  # worker processes forked before the engine starts its threads
        writer = engine.Writer(generation, bulk=folders is None)
        problems: list[str] = []
        try:
            for done, (folder, document, problem) in enumerate(itertools.chain([first] if first else [], outcomes),
                                                               start=1):
                if document is None:
                    problems.append(f"{folder} ({problem})")
                    writer.delete(folder)
                else:
                    writer.put_prepared(document)
                crash_point("index-write")
                if progress and (done % 50 == 0 or done == total):
                    progress(done, total)
            if folders:  # asked for, and no longer in the commit: removed
                for folder in sorted(folders - {source.folder for source in sources}):
                    writer.delete(folder)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
    finally:
        outcomes.close()
    return problems


def date_fields(repository: "Repository") -> dict[str, tuple[str, ...]]:
    """Each record type's date fields in catalog order (the first one set is the record's date)."""
    return {record_type.id: tuple(item.key for item in record_type.fields if item.type in ("date", "datetime"))
            for record_type in repository.catalog.types.values()}
