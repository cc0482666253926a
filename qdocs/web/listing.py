"""Every record of one commit as the pages list them, kept current commit by commit.

The first listing is the audit's snapshot of HEAD (:mod:`qdocs.audit.snapshot`: the facts
of every ``record.yaml``, listed from git's index, parsed once per content ever).  After
that, each new commit's listing is the previous one changed where the commits changed it:
``git diff-tree`` between the two commits names the ``record.yaml`` files added, changed or
removed (:func:`qdocs.store.listing.changed_record_yamls`), only those are read, and the
lists are copied and changed, never changed in place, because other requests may still be
reading the previous listing.  The outcome is the listing a full read of the new commit
would give; a full read is made instead when the catalog or the rules changed (they decide
what a fact holds and who signs next), or when more records changed than a full read costs.

The listing also knows each record's folder by its id, so a record's page finds the record
without asking git (``git ls-files`` with a glob over every record, per request, was most
of a record page's time at 100,000 records).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from .. import yamlio
from ..audit.facts import Fact, extract, projection_digest, projection_for
from ..audit.rules import load_rules
from ..audit.snapshot import read_snapshot
from ..store.listing import changed_record_yamls
from ..store.objects import stream
from ..subjects import SCOPES

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..repository import Repository

Value = TypeVar("Value")
#: filtered lists kept per listing
REMEMBERED = 64
#: more changed records than this between two listings: read the whole commit again (from the fact cache)
MOST_CHANGES = 2000


@dataclass
class Listing:
    """Every record of one commit, and the indexes the pages ask."""

    commit: str
    #: what the facts and the waiting lists were made with (the catalog's and the projection's digests)
    basis: tuple[str, str]
    ids: list[str]  # sorted
    facts: list[Fact]  # in the order of ``ids``
    by_id: dict[str, Fact]
    #: (type, meaning) -> records waiting for that signature now (earlier stages signed, not void or
    #: approved), oldest first
    waiting: dict[tuple[str, str], list[Fact]] = field(default_factory=dict)
    drafts: list[Fact] = field(default_factory=list)  # sorted by id
    #: per user: what waits for their signature, made when first asked (:mod:`.pages.inbox`)
    inboxes: dict[Any, Any] = field(default_factory=dict)
    _drafts_by_user: dict[str, list[Fact]] | None = None
    _products: list[str] | None = None
    _lots: list[str] | None = None
    _remembered: dict[Any, Any] = field(default_factory=dict)

    @staticmethod
    def folder(fact: Fact) -> str:
        return "/".join((*fact.subject, fact.id))

    def products(self) -> list[str]:
        if self._products is None:
            self._products = sorted({fact.subject[1] for fact in self.facts if fact.subject[0] in ("product", "lot")})
        return self._products

    def lots(self) -> list[str]:
        if self._lots is None:
            self._lots = sorted({fact.subject[2] for fact in self.facts if fact.subject[0] == "lot"})
        return self._lots

    def remembered(self, key: Any, make: Callable[[], Value]) -> Value:
        """``make()`` once per listing and ``key`` (a page's filters), the last few kept."""
        known = self._remembered.get(key)
        if known is None:
            known = make()
            if len(self._remembered) >= REMEMBERED:
                self._remembered.pop(next(iter(self._remembered)), None)
            self._remembered[key] = known
        return known

    def authors_of_drafts(self) -> dict[str, list[Fact]]:
        """Who made or began the current revision of each draft: user name -> drafts, by id."""
        if self._drafts_by_user is None:
            by_user: dict[str, list[Fact]] = {}
            for fact in self.drafts:
                for name in fact.actors:
                    by_user.setdefault(name, []).append(fact)
            self._drafts_by_user = by_user
        return self._drafts_by_user


def current_listing(repository: "Repository", previous: Listing | None) -> Listing:
    """The listing of ``repository``'s HEAD: ``previous`` brought up to it where that is
    cheaper than reading the commit whole (see the module's description)."""
    rules = load_rules(repository, notify=False)
    projection = projection_for([rules])
    basis = (repository.catalog.sha256, projection_digest(projection))
    head = repository.git.head()
    if previous is not None and previous.commit == head and previous.basis == basis:
        return previous
    if previous is not None and previous.basis == basis and head is not None:
        changes = _changes(repository, previous.commit, head)
        if changes is not None and len(changes) <= MOST_CHANGES:
            return _updated(repository, previous, head, changes, projection)
    snapshot = read_snapshot(repository.root, projection)
    facts = sorted(snapshot.facts, key=lambda fact: fact.id)
    listing = Listing(snapshot.commit, basis, [fact.id for fact in facts], facts, {fact.id: fact for fact in facts})
    catalog = repository.catalog
    for fact in facts:
        if fact.status == "draft":
            listing.drafts.append(fact)
        for meaning in _waiting_meanings(catalog, fact):
            listing.waiting.setdefault((fact.type, meaning), []).append(fact)
    for facts_waiting in listing.waiting.values():
        facts_waiting.sort(key=_age)
    return listing


def _changes(repository: "Repository", old: str, new: str) -> list[tuple[bytes | None, bytes]] | None:
    try:
        return changed_record_yamls(repository.root, old, new, list(SCOPES))
    except Exception:  # noqa: BLE001 - the old commit is gone (a reset, a gc): read the new one whole
        return None


def _updated(repository: "Repository", previous: Listing, head: str, changes: list[tuple[bytes | None, bytes]],
             projection: Any) -> Listing:
    """``previous`` with the changed ``record.yaml`` files read again (copies, never in place)."""
    read = _read_blobs(repository, [blob for blob, _ in changes if blob is not None], projection)
    listing = Listing(head, previous.basis, list(previous.ids), list(previous.facts), dict(previous.by_id),
                      dict(previous.waiting), list(previous.drafts))
    if previous._drafts_by_user is not None:
        listing._drafts_by_user = dict(previous._drafts_by_user)  # each user's list copied when changed
    touched: set[Any] = set()  # the lists this listing copied already
    catalog = repository.catalog
    removed = False
    # removals first: a record that moved folder is removed from the old one and added at the new one
    for blob, path in sorted(changes, key=lambda change: change[0] is not None):
        folder = path.decode("utf-8", "replace")[:-len("/record.yaml")]
        record_id = folder.rsplit("/", 1)[-1]
        old = listing.by_id.get(record_id)
        new = read.get(blob) if blob is not None else None
        if blob is None and (old is None or listing.folder(old) != folder):
            continue  # not the folder the listing knows the record at
        if old is not None:
            _forget(listing, catalog, old, touched)
        if new is not None:  # else removed, or unreadable (``qdocs verify`` names it)
            _remember(listing, catalog, new, touched)
        removed = removed or new is None
    if not removed and previous._products is not None and previous._lots is not None:
        # records only added or changed in place (a record keeps its subject): the products and
        # lots named so far, and those of the records read now
        added = [fact for fact in read.values()]
        listing._products = sorted({*previous._products, *(fact.subject[1] for fact in added
                                                           if fact.subject[0] in ("product", "lot"))})
        listing._lots = sorted({*previous._lots, *(fact.subject[2] for fact in added if fact.subject[0] == "lot")})
    return listing


def _forget(listing: Listing, catalog: "Catalog", fact: Fact, touched: set[Any]) -> None:
    position = bisect.bisect_left(listing.ids, fact.id)
    del listing.ids[position], listing.facts[position]
    del listing.by_id[fact.id]
    if fact.status == "draft":
        listing.drafts.pop(_draft_position(listing.drafts, fact.id))
        for drafts in _drafts_of_authors(listing, fact, touched):
            drafts.pop(_draft_position(drafts, fact.id))
    for meaning in _waiting_meanings(catalog, fact):
        key = (fact.type, meaning)
        waiting = _own_list(listing, key, touched)
        waiting.remove(fact)


def _remember(listing: Listing, catalog: "Catalog", fact: Fact, touched: set[Any]) -> None:
    position = bisect.bisect_left(listing.ids, fact.id)
    listing.ids.insert(position, fact.id)
    listing.facts.insert(position, fact)
    listing.by_id[fact.id] = fact
    if fact.status == "draft":
        listing.drafts.insert(_draft_position(listing.drafts, fact.id), fact)
        for drafts in _drafts_of_authors(listing, fact, touched):
            drafts.insert(_draft_position(drafts, fact.id), fact)
    for meaning in _waiting_meanings(catalog, fact):
        waiting = _own_list(listing, (fact.type, meaning), touched)
        bisect.insort(waiting, fact, key=_age)


def _own_list(listing: Listing, key: tuple[str, str], touched: set[Any]) -> list[Fact]:
    """The listing's own copy of one waiting list (the previous listing's stays as it was)."""
    if key not in touched:
        listing.waiting[key] = list(listing.waiting.get(key, ()))
        touched.add(key)
    return listing.waiting[key]


def _drafts_of_authors(listing: Listing, fact: Fact, touched: set[Any]) -> list[list[Fact]]:
    """The listing's own copies of the draft lists of ``fact``'s authors (when they are kept)."""
    by_user = listing._drafts_by_user
    if by_user is None:
        return []
    lists = []
    for name in fact.actors:
        if ("drafts", name) not in touched:
            by_user[name] = list(by_user.get(name, ()))
            touched.add(("drafts", name))
        lists.append(by_user[name])
    return lists


def _draft_position(drafts: list[Fact], record_id: str) -> int:
    return bisect.bisect_left(drafts, record_id, key=_id)


def _id(fact: Fact) -> str:
    return fact.id


def _age(fact: Fact) -> tuple[str, str]:
    return fact.created, fact.id


def _waiting_meanings(catalog: "Catalog", fact: Fact) -> list[str]:
    """The signatures ``fact``'s record waits for now: those whose earlier stages are signed."""
    if fact.status not in ("draft", "in-review"):
        return []
    record_type = catalog.types.get(fact.type)
    if record_type is None:
        return []
    signed = {signature[0] for signature in fact.signatures}
    waiting = []
    for requirement in record_type.signatures:
        stage = catalog.meanings[requirement.meaning].stage
        if requirement.meaning not in signed and all(
                other.meaning in signed for other in record_type.signatures
                if catalog.meanings[other.meaning].stage < stage):
            waiting.append(requirement.meaning)
    return waiting


def _read_blobs(repository: "Repository", blobs: list[bytes], projection: Any) -> dict[bytes, Fact]:
    """blob -> fact of each readable ``record.yaml`` blob."""
    read: dict[bytes, Fact] = {}
    for blob, answer in zip(blobs, stream(repository.root, blobs)):
        if answer is None or answer[0] != b"blob":
            continue
        try:
            read[blob] = Fact._make(extract(yamlio.load(answer[1].decode("utf-8")), projection))
        except (yamlio.YAMLError, UnicodeDecodeError, KeyError, TypeError, AttributeError, ValueError):
            continue
    return read
