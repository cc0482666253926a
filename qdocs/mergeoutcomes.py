"""The same record or user changed at two sites between two syncs: merged by a fixed table.

``qdocs sync`` merges with ``git merge-tree`` (:mod:`qdocs.store.remotes`), which knows no
record: a record folder changed on both sides comes back in conflict (its ``record.docx``
always does: every action re-renders it).  For each such folder this module reads the
record at the common ancestor and on each side, and the events each side added since the
ancestor about it, and decides by this table (first row that applies):

=========================  =====================================================================
what the two sides did     merged record
=========================  =====================================================================
void / anything            the voided record (voided at both: the earlier void, at the same
                           second the remote's); the other side's actions do not count
revise / sign              the revised record (the new revision, unsigned but for what was
                           signed on it); signatures given to the old revision do not count
sign / sign (same rev.)    both sides' signatures, in the order they were given (at the same
                           second, the remote's first), where each
                           fits (the catalog's order, one signature per meaning, one per
                           person); one that does not fit does not count, the earlier kept;
                           the status follows from the signatures kept
revise / revise            a real conflict: nothing is merged, each side's action is named;
                           a person settles it with ``qdocs sync --resolve ID --keep SITE
                           --reason TEXT``: the revision made at SITE stands, the other
                           side's revision (and what was signed on it) does not count, and
                           the merge event names who decided, what and why
a user / the same user     (users added, roles, keys changed at both sides; forms approved at both)
                           both sides' trust entries count: the trust logs are per site and
                           never conflict, and ``.qdocs/users/<name>.yaml`` and
                           ``.qdocs/forms.yaml`` are written as qdocs writes them for the
                           trust state folded over both logs (in time order)
anything else              (a file changed outside qdocs, an attachment on both sides, a
                           record not at the same revision for sign/sign) a real conflict
=========================  =====================================================================

The trust views are written whenever both sides changed one, even where git could join
their lines: the merged view is then exactly what ``qdocs verify`` expects, and an entry of
one side that the merged fold rejects (made by someone the other side had revoked before
it) is a finding of the check before the merge is taken, so the sync stops.

"Does not count" means: the action stays in history (its commit, its event, its signature
in the other side's ``record.yaml`` of that commit) but not in the merged record.  The
merged ``record.yaml`` lists each such action under ``superseded`` (the event's hash and a
sentence saying what and why), ``record.docx`` is rendered again for the merged state, and
one ``merge`` event in the merging site's own chain names, per merged record, the merged
record's hashes (as every action's event does) and the superseded events.  The trail
(:mod:`qdocs.trail`) leaves superseded events out of what a record must match, and ``show``
and ``verify`` print the sentences as information.

The outcome is computed, and the merged files and the event written into the merge's tree,
before the merge is checked (``verify`` in a temporary copy) and taken: nothing of it
touches the work tree until the whole merge is taken.
"""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actions import write_record
from .errors import QdocsError, UsageError
from .events import EventWriter, sha256_hex
from .forms import FORMS_VIEW, approver_reader
from .records import Record, Stamp
from .signatures import required_meanings
from .store import remotes
from .trust.administration import views
from .trust.log import TRUST_FOLDER
from .trust.state import TrustState, load_trust
from .yamlio import YAMLError

if TYPE_CHECKING:
    from .repository import Repository

RECORD_FILES = ("record.yaml", "record.docx")
USERS_FOLDER = ".qdocs/users"
_NOT_COUNTING = "kept in history, it does not count"


@dataclass
class Settlement:
    """The files to write into the merge's tree, the records merged (their events' entries)
    and the conflicts left (each with what both sides did)."""

    files: dict[str, bytes] = field(default_factory=dict)
    merged: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[dict[str, str]] = field(default_factory=list)
    views: list[str] = field(default_factory=list)  # views of the trust state written
    resolved: dict[str, str] = field(default_factory=dict)  # record -> the site whose revision a person kept


@dataclass
class _Side:
    commit: str
    record: Record | None
    events: list[dict[str, Any]]  # this side's events about the record since the common ancestor

    @property
    def actions(self) -> list[str]:
        return [event["action"] for event in self.events]

    @property
    def site(self) -> str:
        return self.events[-1]["site"] if self.events else "?"


class _Files:
    """Collects what :func:`qdocs.actions.write_record` and the event writer write."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def write(self, path: str, content: str | bytes) -> None:
        self.files[path] = content.encode("utf-8") if isinstance(content, str) else content


def settle(repository: "Repository", head: str, theirs: str, tree: str, conflicts: list[str], actor: str,
           remote: str, resolutions: dict[str, str] | None = None, reason: str = "") -> Settlement:
    """Merge every record folder among ``conflicts`` by the table, and write every view of
    the trust state among them or changed at both sides (from ``tree``, git's merge, which
    holds both sides' trust logs); the merge event is written on ``head`` (this copy's
    branch) in this site's chain.  ``resolutions``: record → the site whose revision stands,
    where both sides revised the same revision (a person's decision, with ``reason``)."""
    git = repository.git
    base = remotes.merge_base(git, head, theirs)
    result = Settlement()
    folders: dict[str, list[str]] = {}
    view_paths: list[str] = []
    for path in conflicts:
        folder, _, name = path.rpartition("/")
        if _is_view(path):
            view_paths.append(path)
        elif folder and name in RECORD_FILES:
            folders.setdefault(folder, []).append(path)
        else:
            result.unresolved.append({"path": path, "record": path, "ours": "changed", "theirs": "changed"})
    if base is not None:  # git may join the lines of a view changed at both sides: written anyway
        both = set(_changed_views(git, base, head)) & set(_changed_views(git, base, theirs))
        view_paths.extend(sorted(both - set(view_paths)))
    if base is None:
        result.unresolved.extend({"path": path, "record": path.rpartition("/")[0].rpartition("/")[2],
                                  "ours": "changed", "theirs": "changed (no common history)"}
                                 for paths in folders.values() for path in paths)
        result.unresolved.extend({"path": path, "record": path, "ours": "changed",
                                  "theirs": "changed (no common history)"} for path in view_paths)
        return result
    ours_events, theirs_events = ((_events_since(git, base, head), _events_since(git, base, theirs)) if folders
                                  else ([], []))
    files = _Files(result.files)
    entries = []
    for folder, paths in sorted(folders.items()):
        record_id = folder.rpartition("/")[2]
        old, ours, other = (_record_at(git, commit, folder) for commit in (base, head, theirs))
        sides = [_Side(head, ours, _about(ours_events, record_id)), _Side(theirs, other, _about(theirs_events, record_id))]
        keep = (resolutions or {}).get(record_id)
        decision = Decision(keep, actor, reason) if keep else None
        merged = _decide(repository, old, sides, decision, record_id) if old is not None else None
        if merged is None:
            result.unresolved.extend({"path": path, "record": record_id, "ours": _did(sides[0]),
                                      "theirs": _did(sides[1])} for path in paths)
            continue
        record, outcome, superseded = merged
        if decision is not None and decision.used:
            result.resolved[record_id] = keep  # type: ignore[assignment]
        record.path = folder
        record.superseded = [*record.superseded, *({"event": item["event"], "note": item["note"]}
                                                   for item in superseded)]
        record_type = repository.catalog.get(record.type)
        entry = write_record(repository, repository.templates, record_type, record, files)
        entries.append({**entry, "outcome": outcome, "superseded": superseded})
    if not result.unresolved and view_paths:
        _write_trust_views(repository, tree, view_paths, result)
    if result.unresolved:
        result.files.clear()
        return result
    if not entries:
        return result
    writer = EventWriter(repository.root, repository.site(), head, files.write)
    details: dict[str, Any] = {}
    if result.resolved:
        details["resolved"] = [{"record": record_id, "kept": site, "reason": reason}
                               for record_id, site in sorted(result.resolved.items())]
    writer.append("merge", actor, Stamp.now(actor, repository.time_zone).time, records=entries,
                  remote=remote, merged=theirs, **details)
    writer.finish()
    result.merged = entries
    return result


def _is_view(path: str) -> bool:
    """A file qdocs writes from the trust state (a user's file, the approved forms)."""
    folder, _, name = path.rpartition("/")
    return path == FORMS_VIEW or (folder == USERS_FOLDER and name.endswith(".yaml"))


def _changed_views(git: Any, base: str, commit: str) -> list[str]:
    return [path for path in remotes.changed_paths(git, base, commit, under=[USERS_FOLDER, FORMS_VIEW])
            if _is_view(path)]


def _write_trust_views(repository: "Repository", tree: str, paths: list[str], result: Settlement) -> None:
    """Each view among ``paths`` as qdocs writes it for the trust state folded over both
    sides' trust logs (as merged in ``tree``); a user that state does not know stays a conflict."""
    state = merged_trust(repository, tree)
    users = [path.rpartition("/")[2][:-len(".yaml")] for path in paths if path != FORMS_VIEW]
    written = views(state, users, FORMS_VIEW in paths)
    for path in paths:
        if path not in written:
            result.unresolved.append({"path": path, "record": path, "ours": "changed",
                                      "theirs": "changed (no user of the merged trust log)"})
            continue
        result.files[path] = written[path].encode("utf-8")
        result.views.append(path)


def merged_trust(repository: "Repository", tree: str) -> TrustState:
    """The trust state of ``tree`` (a commit or tree): its trust logs, folded as ``qdocs
    verify`` folds them (in a temporary folder: the fold reads files)."""
    files = remotes.files_under(repository.git, tree, TRUST_FOLDER)
    with tempfile.TemporaryDirectory(prefix="qdocs-trust-") as folder:
        for path, content in files.items():
            target = Path(folder) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return load_trust(Path(folder), approver_reader(repository))


@dataclass
class Decision:
    """A person's choice for a record revised at two sites: the site whose revision stands."""

    keep: str
    actor: str
    reason: str
    used: bool = False


def _decide(repository: "Repository", base: Record, sides: list[_Side], decision: Decision | None = None,
            record_id: str = "") -> tuple[Record, str, list[dict[str, Any]]] | None:
    """(merged record, outcome, superseded events) by the module's table; None: a real conflict."""
    if any(side.record is None or not side.events for side in sides):
        return None
    if any(action not in ("sign", "revise", "void") for side in sides for action in side.actions):
        return None
    voided = [side for side in sides if "void" in side.actions]
    revised = [side for side in sides if "revise" in side.actions]
    if voided:
        # the earlier void; at the same second, what the remote already holds (it was shared first)
        winner = min(voided, key=lambda side: (_event_time(side, "void"), side is sides[0]))
        loser = sides[1] if winner is sides[0] else sides[0]
        return _winner(winner, loser, "void wins", f"{winner.site} voided the record")
    if len(revised) == 2:
        return _kept(sides, decision, record_id) if decision is not None else None
    if revised:
        winner = revised[0]
        loser = sides[1] if winner is sides[0] else sides[0]
        return _winner(winner, loser, "revise wins",
                       f"{winner.site} revised the record to revision {winner.record.revision}")  # type: ignore[union-attr]
    return _both_signed(repository, base, sides)


def _kept(sides: list[_Side], decision: Decision, record_id: str) -> tuple[Record, str, list[dict[str, Any]]]:
    """The revision a person chose (``decision``) of a record both sides revised."""
    revised_at = [next(event["site"] for event in side.events if event["action"] == "revise") for side in sides]
    if revised_at[0] == revised_at[1] or decision.keep not in revised_at:
        raise UsageError(f"--keep {decision.keep}: {record_id} was revised at {' and '.join(sorted(set(revised_at)))}; "
                         "keep the revision of one of them")
    winner = sides[revised_at.index(decision.keep)]
    loser = sides[1] if winner is sides[0] else sides[0]
    decision.used = True
    return _winner(winner, loser, f"revision of {decision.keep} kept by {decision.actor}",
                   f"{decision.actor} kept the revision made at {decision.keep} ({decision.reason})")


def _winner(winner: _Side, loser: _Side, outcome: str, why: str) -> tuple[Record, str, list[dict[str, Any]]]:
    assert winner.record is not None
    superseded = [_superseded(event, f"{_describe(event)} while {why}; {_NOT_COUNTING}") for event in loser.events]
    return winner.record, outcome, superseded


def _both_signed(repository: "Repository", base: Record,
                 sides: list[_Side]) -> tuple[Record, str, list[dict[str, Any]]] | None:
    ours, theirs = sides[0].record, sides[1].record
    assert ours is not None and theirs is not None
    if not (ours.revision == theirs.revision == base.revision) or ours.content_hash() != theirs.content_hash():
        return None
    if "void" in (ours.status, theirs.status):
        return None
    record_type = repository.catalog.get(ours.type)
    meanings = repository.catalog.meanings
    common = [signature for signature in ours.signatures if signature in base.signatures]
    if common != base.signatures or [s for s in theirs.signatures if s in base.signatures] != base.signatures:
        return None
    added = [(signature, side) for side in sides for signature in side.record.signatures  # type: ignore[union-attr]
             if signature not in base.signatures]
    # in the order given; at the same second, what the remote already holds first (it was shared first)
    added.sort(key=lambda item: (_moment(item[0].get("time", "")), item[1] is sides[0]))
    kept = list(base.signatures)
    superseded = []
    required = required_meanings(record_type)
    for signature, side in added:
        reason = _misfit(signature, kept, required, meanings)
        if reason is None:
            kept.append(signature)
            continue
        event = _sign_event(side, signature)
        if event is None:
            return None
        superseded.append(_superseded(event, f"{_describe(event)} while {reason}; {_NOT_COUNTING}"))
    merged = ours
    merged.signatures = kept
    signed = {signature["meaning"] for signature in kept}
    merged.status = "approved" if signed >= set(required) else ("in-review" if kept else "draft")
    later = max((ours.changed, theirs.changed), key=lambda stamp: _moment(stamp.time))
    merged.changed = later
    return merged, "both signatures" if not superseded else "earlier signature", superseded


def _misfit(signature: dict[str, Any], kept: list[dict[str, Any]], required: list[str],
            meanings: dict[str, Any]) -> str | None:
    """Why ``signature`` cannot join ``kept`` (None: it can)."""
    for other in kept:
        if other["meaning"] == signature["meaning"]:
            return (f"the revision was already signed as {other['meaning']} by {other['signer']} "
                    f"({other.get('time', '')}); the earlier signature counts")
        if other["signer"] == signature["signer"]:
            return (f"{other['signer']} had already signed the revision as {other['meaning']} "
                    "(one person signs a revision once); the earlier signature counts")
    meaning = meanings.get(signature["meaning"])
    if meaning is None or signature["meaning"] not in required:
        return f"the record takes no {signature['meaning']} signature"
    stage = meaning.stage
    missing = [other for other in required if meanings[other].stage < stage
               and not any(entry["meaning"] == other for entry in kept)]
    if missing or any(meanings[entry["meaning"]].stage > stage for entry in kept if entry["meaning"] in meanings):
        return f"it does not fit the signing order with the signatures kept ({', '.join(missing) or 'a later stage'})"
    return None


def _sign_event(side: _Side, signature: dict[str, Any]) -> dict[str, Any] | None:
    digest = sha256_hex(str(signature.get("signature", "")).encode())
    return next((event for event in side.events
                 if event["action"] == "sign" and event.get("signature_sha256") == digest), None)


def _superseded(event: dict[str, Any], note: str) -> dict[str, Any]:
    return {"event": event["hash"], "site": event["site"], "seq": event["seq"], "action": event["action"],
            "actor": event["actor"], "time": event["time"], "note": note}


def _describe(event: dict[str, Any]) -> str:
    if event["action"] == "sign":
        return (f"signature of {event.get('signer')} ({event.get('meaning')}) on revision {event.get('revision')} "
                f"was given at {event['site']}")
    if event["action"] == "revise":
        return f"revision {event.get('revision')} by {event['actor']} was made at {event['site']}"
    return f"{event['action']} by {event['actor']} was made at {event['site']}"


def _did(side: _Side) -> str:
    """What one side did to a record, for a conflict the table does not settle."""
    if not side.events:
        return "changed it outside qdocs' actions"
    return "; ".join(f"{event['action']}" + (f" to revision {event.get('revision')}" if event["action"] == "revise" else
                                             f" as {event.get('meaning')}" if event["action"] == "sign" else "")
                     + f" by {event['actor']} at {event['site']}" for event in side.events)


def _event_time(side: _Side, action: str) -> Any:
    return min(_moment(event["time"]) for event in side.events if event["action"] == action)


def _moment(text: str) -> _dt.datetime:
    moment = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.astimezone()


def _record_at(git: Any, commit: str, folder: str) -> Record | None:
    path = f"{folder}/record.yaml"
    content = remotes.files_at(git, commit, [path]).get(path)
    if content is None:
        return None
    try:
        return Record.from_yaml(content.decode("utf-8"), folder)
    except (YAMLError, QdocsError, KeyError, TypeError, ValueError):
        # conflict markers or a hand-edited file (not YAML, not a record's shape, not UTF-8):
        # no outcome, a real conflict
        return None


def _events_since(git: Any, base: str, commit: str) -> list[dict[str, Any]]:
    """The events ``commit`` has and ``base`` had not, each with its hash, in time order."""
    paths = [path for path in remotes.changed_paths(git, base, commit, added_only=True)
             if path.startswith(".qdocs/events/") and path.endswith(".json")]
    events = []
    for path, content in remotes.files_at(git, commit, paths).items():
        try:
            event = json.loads(content)
        except ValueError:
            continue
        event["hash"] = sha256_hex(content)
        events.append(event)
    events.sort(key=lambda event: (_moment(event["time"]), event.get("site", ""), event.get("seq", 0)))
    return events


def _about(events: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    """Each event about ``record_id``, flattened with its entry for the record."""
    found = []
    for event in events:
        for entry in event.get("records") or []:
            if entry.get("record") == record_id:
                common = {key: value for key, value in event.items() if key != "records"}
                found.append({**common, **entry})
    return found
