"""The event chains read back and checked, and what they say: the last action on
every record, its signing events, and the events that carry trust entries.  Who
held which role and key comes from the trust log (:mod:`qdocs.trust.state`)."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .events import GENESIS, chain_sites, event_path, iter_event_files, read_head, sha256_hex
from .findings import Finding
from .store.history import added_and_changed, is_ancestor

if TYPE_CHECKING:
    from .repository import Repository


@dataclass
class Trail:
    """Every site's event chain, checked, and what it says about each record."""

    last_event: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trust_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # every event's hash -> its time
    #: per record, the actions of other sites a sync's merge set aside (each with its note)
    superseded: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    event_count: int = 0

    @classmethod
    def load(cls, repository: "Repository", findings: list[Finding]) -> "Trail":
        trail = cls()
        events: list[dict[str, Any]] = []
        for site in chain_sites(repository.root):
            events.extend(_read_chain(repository, site, findings))
        added, changed = event_commits(repository)
        check_against_git(events, added, changed, findings)
        trail.take(events)
        return trail

    def take(self, events: list[dict[str, Any]],
             older: Callable[[str, dict[str, Any]], set[str]] | None = None) -> None:
        """Apply checked events in the order they happened (every site's, by time).
        ``older(record, item)``: more hashes to set aside for a superseded event this trail
        does not hold (:mod:`qdocs.verifysince` starts from a checkpoint)."""
        events.sort(key=lambda event: (_moment(event["time"]), event["site"], event["seq"]))
        for event in events:
            self._apply(event)
        self._set_aside_superseded(older)
        self.event_count += len(events)

    def _set_aside_superseded(self, older: Callable[[str, dict[str, Any]], set[str]] | None = None) -> None:
        """Events a sync's merge superseded (:mod:`qdocs.mergeoutcomes`) stay in the chain but
        no longer say what a record holds: they leave the record's events, their notes stay."""
        for record_id, events in self.record_events.items():
            dropped = set()
            for event in events:
                if event["action"] == "merge":
                    for item in event.get("superseded") or []:
                        dropped.add(item.get("event"))
                        if older is not None and all(held["hash"] != item.get("event") for held in events):
                            dropped |= older(record_id, item)  # an event before the trail's first
                        self.superseded.setdefault(record_id, []).append(item)
            if dropped:
                kept = [event for event in events if event["hash"] not in dropped]
                self.record_events[record_id] = kept
                if kept:
                    self.last_event[record_id] = kept[-1]

    def _apply(self, event: dict[str, Any]) -> None:
        self.hashes[event["hash"]] = event["time"]
        if event.get("trust_entry"):
            self.trust_events[event["trust_entry"]] = event
        if event.get("records"):
            common = {key: value for key, value in event.items() if key != "records"}
            for entry in event["records"]:
                merged = {**common, **entry}
                self.last_event[entry["record"]] = merged
                self.record_events.setdefault(entry["record"], []).append(merged)

    def has_event_hash(self, digest: str | None) -> bool:
        return digest == GENESIS or digest in self.hashes

    def event_time(self, digest: str | None) -> str | None:
        """When the event with this hash was made (None for the chain's start or an unknown hash)."""
        return self.hashes.get(digest or "")

    def sign_events(self, record_id: str, revision: str) -> list[dict[str, Any]]:
        """Sign events of the record's current revision (after its last create or revise)."""
        found: list[dict[str, Any]] = []
        for event in self.record_events.get(record_id, []):
            if event["action"] in ("create", "revise"):
                found = []
            elif event["action"] == "sign" and event.get("revision") == revision:
                found.append(event)
        return found

    def made_at(self, record_id: str) -> str | None:
        """When the record's current revision was made (its last create or revise event)."""
        made = None
        for event in self.record_events.get(record_id, []):
            if event["action"] in ("create", "revise"):
                made = event["time"]
        return made


def _read_chain(repository: "Repository", site: str, findings: list["Finding"]) -> list[dict[str, Any]]:
    return _follow(repository.root, site, iter_event_files(repository.root, site), 0, GENESIS, findings)


def read_chain_after(root: Path, site: str, sequence: int, digest: str, findings: list["Finding"]) -> list[dict[str, Any]]:
    """A site's events after its event ``sequence`` (whose hash is ``digest``), checked as the
    whole chain is: numbering, links, hashes, the head file; earlier files are not read."""
    def files() -> Iterator[tuple[str, bytes]]:
        number = sequence + 1
        while True:
            path = event_path(site, number)
            try:
                with open(root / path, "rb") as handle:
                    yield path, handle.read()
            except (FileNotFoundError, NotADirectoryError):
                return
            number += 1
    return _follow(root, site, files(), sequence, digest, findings)


def _follow(root: Path, site: str, files: Iterable[tuple[str, bytes]], start: int, previous: str,
            findings: list["Finding"]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    where = f"event chain {site}"
    for path, content in files:
        try:
            event = json.loads(content)
        except ValueError:
            findings.append(Finding(where, f"{path} is not readable JSON"))
            return events
        event["_path"] = path
        event["hash"] = sha256_hex(content)
        expected_sequence = start + len(events) + 1
        if event.get("seq") != expected_sequence or not path.endswith(f"{expected_sequence:08d}.json"):
            findings.append(Finding(where, f"event {expected_sequence} is missing (found {path}): "
                                           "an action was dropped from the trail"))
            return events
        if event.get("prev") != previous:
            findings.append(Finding(_label(event, where), f"event {expected_sequence} does not follow event "
                                                                   f"{expected_sequence - 1}: the chain is broken"))
        previous = event.get("hash", "")
        events.append(event)
    head = read_head(root, site)
    last = start + len(events)
    if head.sequence != last or head.hash != previous:
        findings.append(Finding(where, f"the chain head ({head.sequence}) does not match its last event ({last})"))
    return events


def check_against_git(events: list[dict[str, Any]], added: dict[str, list[str]], changed: list[str],
                      findings: list["Finding"]) -> None:
    """Each event file was added by a commit made on the commit the event names, and never
    changed (``added``, ``changed``: :func:`event_commits` or :func:`qdocs.store.history.added_and_changed`)."""
    for path in sorted(set(changed)):
        findings.append(Finding("event chain", f"{path} was changed or deleted after it was committed"))
    for event in events:
        parents = added.get(event["_path"])
        label = _label(event)
        if parents is None:
            findings.append(Finding(label, f"event {event['seq']} ({event['action']}) was never committed"))
        elif (event.get("parent_commit") or "") not in (parents or [""]):
            findings.append(Finding(label, f"event {event['seq']} ({event['action']} at {event['time']}) was made on "
                                           f"commit {str(event.get('parent_commit'))[:10]}, which is not its commit's parent: "
                                           "the history before it was rewritten (amended, dropped or reordered)"))


def event_commits(repository: "Repository", folder: str = ".qdocs/events",
                  cache_name: str = "event-commits.json") -> tuple[dict[str, list[str]], list[str]]:
    """For every file of an append-only log (``folder``: the events, or the trust log): the
    parents of the commit that added it; and its files changed or deleted later.

    Read from ``git log`` (:func:`qdocs.store.history.added_and_changed`); what was read up
    to a commit is kept in ``.git/qdocs/<cache_name>`` and reused while that commit is still
    an ancestor of HEAD (commit ids chain their whole history, so an ancestor's past cannot
    have changed); only newer commits are read again.
    """
    cache_path = repository.root / ".git" / "qdocs" / cache_name
    head = repository.git.head()
    added: dict[str, list[str]] = {}
    changed: list[str] = []
    since = None
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
        if cached.get("commit") and is_ancestor(repository.git, cached["commit"]):
            added, changed, since = cached["added"], cached["changed"], cached["commit"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if head:
        new, newly_changed = added_and_changed(repository.git, folder, since)
        for path, parents in new.items():
            added.setdefault(path, parents)
        changed = changed + newly_changed
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache_path.write_text(json.dumps({"commit": head, "added": added, "changed": changed}), encoding="utf-8")
    except OSError:
        pass
    return added, changed


def _label(event: dict[str, Any], default: str = "") -> str:
    """The record an event is about (the first, for an action on several), for findings."""
    records = event.get("records") or []
    if records:
        return records[0]["record"] + (f" (and {len(records) - 1} more)" if len(records) > 1 else "")
    return default or f"event chain {event.get('site')}"


def _moment(text: str) -> _dt.datetime:
    moment = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.astimezone()
