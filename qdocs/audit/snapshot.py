"""Every record's facts as they stand in one commit, read from git.

The audit judges what is committed: HEAD, or the last commit on or before a
date.  The store lists the ``record.yaml`` blobs of that commit
(:func:`qdocs.store.listing.list_record_yamls`: for HEAD, git's index when it
matches HEAD).  Only blobs not yet in the fact cache are read (one stream of
git objects) and parsed, on two cores when there are many.  Nothing is checked
out and no ``.docx`` is read.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..store.listing import list_record_yamls
from ..subjects import SCOPES
from .extraction import extract_blobs
from .facts import Fact, FactCache, Projection

Progress = Callable[[int, int], None]
Judge = Callable[[list[Fact]], list[Fact]]
_ID = operator.attrgetter("id")


class Snapshot:
    """The facts of every record of one commit, indexed by subject and type."""

    def __init__(self, commit: str, facts: list[Fact], unreadable: list[str] | None = None) -> None:
        self.commit = commit
        self.facts = facts
        self.unreadable = unreadable or []  # record.yaml paths that could not be parsed
        self.subjects: set[tuple[str, ...]] = set()  # every subject with a record, even a void one
        self._live: dict[tuple[tuple[str, ...], str], list[Fact]] = {}
        self._of_type: dict[str, list[Fact]] = {}
        self._by_id: dict[str, int] | None = None
        subjects, live = self.subjects, self._live
        for fact in facts:
            subjects.add(fact.subject)
            if fact.status != "void":
                key = (fact.subject, fact.type)
                found = live.get(key)
                if found is None:
                    live[key] = [fact]
                else:
                    found.append(fact)

    def fact(self, record_id: str) -> Fact | None:
        """The fact of a record by its id (an index made on first use)."""
        index = self._positions().get(record_id)
        return None if index is None else self.facts[index]

    def of_subject(self, subject: tuple[str, ...], type_ids: Iterable[str]) -> list[Fact]:
        """Every record of these types on ``subject`` that is not void."""
        return [fact for type_id in type_ids for fact in self._live.get((subject, type_id), ())]

    def mark_unverified(self, problems: dict[str, str]) -> list[str]:
        """Make the approved records named in ``problems`` (id -> what verify found) unsigned,
        in place; returns their ids."""
        marked = []
        positions = self._positions()
        for record_id, problem in problems.items():
            index = positions.get(record_id)
            fact = None if index is None else self.facts[index]
            if fact is None or fact.status != "approved":
                continue
            replaced = fact._replace(status="unsigned", problem=problem)
            self.facts[index] = replaced
            live = self._live.get((fact.subject, fact.type), [])
            live[:] = [replaced if other is fact else other for other in live]
            self._of_type.pop(fact.type, None)
            marked.append(record_id)
        return marked

    def _positions(self) -> dict[str, int]:
        if self._by_id is None:
            self._by_id = dict(zip(map(_ID, self.facts), range(len(self.facts))))
        return self._by_id

    def live(self, subject: tuple[str, ...], type_id: str) -> list[Fact]:
        """Records of ``type_id`` on ``subject`` (e.g. ``("lot", "PUMP-X200", "L2026-031")``), not void."""
        return self._live.get((subject, type_id), [])

    def live_of_scopes(self, *scopes: str) -> Iterator[tuple[tuple[str, ...], str, list[Fact]]]:
        """(subject, type, records not void) of every subject of these scopes."""
        for (subject, type_id), facts in self._live.items():
            if subject[0] in scopes:
                yield subject, type_id, facts

    def of_type(self, type_id: str) -> list[Fact]:
        """Every record of a type, void ones too."""
        if type_id not in self._of_type:
            self._of_type[type_id] = [fact for fact in self.facts if fact.type == type_id]
        return self._of_type[type_id]


@dataclass
class Listing:
    """The ``record.yaml`` blobs of one commit, and the fact cache, before anything is parsed."""

    root: Path
    commit: str
    entries: list[tuple[bytes, bytes]]  # (blob id, path)
    cache: FactCache
    projection: Projection

    def read(self, progress: Progress | None = None, judge: Judge | None = None) -> Snapshot:
        """Every record's facts: from the cache, or parsed when new (kept by :meth:`save`);
        ``judge`` makes those whose signatures do not count unsigned (:mod:`.authorised`)."""
        known = self.cache.facts
        found = [known.get(blob) for blob, _ in self.entries]
        facts = list(map(Fact._make, filter(None, found)))
        missing = [(blob, path.decode("utf-8", "replace"))
                   for (blob, path), fact in zip(self.entries, found) if fact is None]
        unreadable: list[str] = []
        if missing:
            for blob, path, fact in extract_blobs(self.root, missing, self.projection, progress):
                if fact is None:
                    unreadable.append(path)
                else:
                    facts.append(Fact._make(self.cache.add(blob, fact)))
        return Snapshot(self.commit, judge(facts) if judge else facts, unreadable)

    def save(self) -> None:
        """Keep newly parsed facts in the cache (after the caller has checked its input)."""
        self.cache.save([blob for blob, _ in self.entries])


def list_records(root: Path, projection: Projection, commit: str | None = None,
                 cache: FactCache | None = None) -> Listing:
    """The records of ``commit`` (None: HEAD, listed from the index when it matches HEAD),
    with the fact cache loaded while git lists them."""
    root = Path(root)
    if cache is None:
        cache = FactCache(root, projection)
        listed, entries = list_record_yamls(root, list(SCOPES), commit, meanwhile=cache.load)
    else:
        listed, entries = list_record_yamls(root, list(SCOPES), commit)
    return Listing(root, listed, entries, cache, projection)


@contextlib.contextmanager
def paused_garbage_collector() -> Iterator[None]:
    """Facts are millions of small acyclic objects (150,000 records): Python's cyclic garbage
    collector would walk them again and again for nothing (a second of an audit's three).
    Reference counting still frees everything; collection resumes afterwards.

    When it resumes, everything made meanwhile is still in the youngest generation, and the
    next allocation would make the collector walk it all, and again when it reaches the
    oldest (a quarter of a second each, at whatever line happens to allocate then).  So what
    is alive then is set aside (``gc.freeze``): freed by reference counting as usual, never
    walked.  The few cycles an audit leaves are given back to the collector when the next
    pause begins (``gc.unfreeze``), so a process that audits many times does not keep them."""
    was_enabled = gc.isenabled()
    gc.disable()
    if was_enabled:
        gc.unfreeze()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def read_snapshot(root: Path, projection: Projection, commit: str | None = None,
                  progress: Progress | None = None, judge: Judge | None = None) -> Snapshot:
    """The facts of every record in ``commit`` (None: HEAD); newly parsed ones are cached."""
    listing = list_records(root, projection, commit)
    snapshot = listing.read(progress, judge)
    listing.save()
    return snapshot
