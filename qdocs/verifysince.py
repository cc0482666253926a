"""``qdocs verify --since CHECKPOINT``: check what changed after a checkpoint, not everything.

A full verify reads every record, every event and the whole history: minutes at a million
records.  A checkpoint (a file ``qdocs checkpoint -o`` wrote, or ``verified``: the last full
verify of this copy that found nothing, :mod:`qdocs.checkpoints`) is the anchor: what the
repository held at its commit is taken as checked then, and what changed after it is checked
as a full verify checks it:

1. the anchor's commit is still in the history of HEAD and the chain entries it names are
   unchanged (with this copy's own checkpoints, as every verify does);
2. between the anchor's commit and HEAD (git compares the two trees; older history is not
   walked), the event chains and the trust log only gained files; every event after the
   anchor's head follows it (numbering, links, hashes, the head file), and each was added by a
   commit made on the commit it names;
3. every record whose folder changed between the two commits, or that an event since names,
   is checked by the full verify's own :func:`qdocs.verification.check_record`: its document's
   hash, its ``record.yaml`` against its last action (against what it was at the anchor when
   no action since names it), its attachments, its signatures under the keys and roles of
   their time.  A signature it already had at the anchor, on the same revision, was checked
   then and stays expected; every other one needs its sign event after the anchor, and its
   chain head among the events since or the anchor's heads.  A record deleted is a finding;
4. trust entries added since have their events, the root file is unchanged, the users' and
   forms' views say what the trust log says, no form waits unapproved, and no commit after the
   anchor changed controlled files without their justification (:mod:`qdocs.outsidecheck`);
5. the numbers given since continue each counter, without a gap or a number given twice.

What it does not do, and says so in its report: it does not open the files of records that
git shows unchanged since the anchor, so a file edited in the work tree and never committed is
found by the next full verify (which hashes every file), not by this one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable

from .authority import Authority
from .checkpoints import Checkpoint, check_checkpoints, kept_checkpoints
from .events import GENESIS, chain_sites, event_path, sha256_hex
from .findings import Finding
from .outsidecheck import outside_findings_between
from .records import RECORD_ID, Record
from .store.history import added_and_changed, is_ancestor
from .store.objects import read_once
from .trail import Trail, check_against_git, read_chain_after
from .trust.credentials import forget_trust_state, trust_state
from .trustcheck import sequence_findings_since, trust_findings_since
from .verification import VerifyReport, check_record, migration_commit

if TYPE_CHECKING:
    from .repository import Repository

#: what the report says it left out
NOT_READ = ("records git shows unchanged since the checkpoint were not read again "
            "(a file edited in the work tree and never committed is found by a full qdocs verify)")


def verify_since(repository: "Repository", anchor: Checkpoint,
                 progress: Callable[[int, int], None] | None = None,
                 checkpoints: list[Checkpoint] | None = None) -> VerifyReport:
    findings = check_checkpoints(repository, [*kept_checkpoints(repository), anchor, *(checkpoints or [])])
    since = {"commit": anchor.commit, "time": anchor.time, "source": anchor.source or anchor.label,
             "not_read": NOT_READ}
    forget_trust_state(repository)
    state = trust_state(repository)
    root = None
    if state.root is not None:
        root = {"user": state.root["user"], "fingerprint": state.root["fingerprint"], "created": state.root["time"]}
    if not repository.git.commit_exists(anchor.commit) or not is_ancestor(repository.git, anchor.commit):
        return VerifyReport(findings, 0, 0, 0, root, len(state.entries) + len(state.rejected), since=since)
    changes = _changes(repository, anchor.commit)
    events = _events_since(repository, anchor, changes, findings)
    folders, deleted = _record_folders(changes)
    trail = Trail()
    named = {entry["record"] for event in events for entry in event.get("records") or []}
    for record_id in sorted(named - set(folders) - set(deleted)):
        findings.append(Finding(record_id, "an action since the checkpoint names this record, but its folder did not "
                                           "change in git (the action's files were not committed)"))
    baseline = _baseline(repository, anchor, folders)
    for record in baseline.values():
        _start_from(trail, anchor, record)
    for site, (sequence, digest) in anchor.events.items():
        trail.hashes[digest] = _event_time(repository, site, sequence)
    trail.take(events, lambda record_id, item: _older_superseded(repository, record_id, item))
    for record_id, folder in sorted(deleted.items()):
        event = trail.last_event.get(record_id)
        findings.append(Finding(record_id, f"missing from the repository: its folder {folder} was deleted after the "
                                           "checkpoint" + (f" (last action: {event['action']} by {event['actor']} at "
                                                           f"{event['time']})" if event else "")))
    findings.extend(trust_findings_since(repository, state, trail, anchor.commit, changes))
    authority = Authority(repository, state, trail)
    signatures = 0
    notes: list[Finding] = []
    total = len(folders)
    for number, (record_id, folder) in enumerate(sorted(folders.items()), start=1):
        try:
            content = (repository.root / folder / "record.yaml").read_bytes()  # hashed as it is, byte for byte
            record = Record.from_yaml(content.decode("utf-8"), folder)
        except FileNotFoundError:
            findings.append(Finding(record_id, f"missing from the repository: {folder}/record.yaml is gone"))
            continue
        except Exception as error:  # a damaged record.yaml is a finding, whatever the parser raises
            findings.append(Finding(record_id, f"{folder}/record.yaml cannot be read ({type(error).__name__})"))
            continue
        record.yaml_sha256 = sha256_hex(content)
        findings.extend(check_record(repository, trail, record, None, authority))
        signatures += len(record.signatures)
        notes.extend(Finding(record_id, entry.get("note", ""), severity="info", kind="merge")
                     for entry in trail.superseded.get(record_id, []))
        if progress:
            progress(number, total)
    added = [(record_id, folder) for record_id, folder in folders.items() if record_id not in baseline]
    findings.extend(sequence_findings_since(repository, anchor.commit, added, changes))
    findings.extend(outside_findings_between(repository, anchor.commit, migration_commit(repository, state)))
    return VerifyReport(findings, total, signatures, len(events), root, len(state.entries) + len(state.rejected),
                        notes, since=since)


def _changes(repository: "Repository", start: str) -> list[tuple[str, str]]:
    """(status, path) of every file that differs between the commit ``start`` and HEAD."""
    output = repository.git.run("diff", "--name-status", "-z", "--no-renames", start, "HEAD", "--")
    words = output.decode("utf-8", "replace").split("\0")
    return [(words[index][:1], words[index + 1]) for index in range(0, len(words) - 1, 2)]


def _events_since(repository: "Repository", anchor: Checkpoint, changes: list[tuple[str, str]],
                  findings: list[Finding]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for site in sorted(set(chain_sites(repository.root)) | set(anchor.events)):
        sequence, digest = anchor.events.get(site, (0, GENESIS))
        events.extend(read_chain_after(repository.root, site, sequence, digest, findings))
    added, changed = added_and_changed(repository.git, ".qdocs/events", anchor.commit)
    changed += [path for status, path in changes  # also what git's log of the commits since would not show
                if path.startswith(".qdocs/events/") and path.endswith(".json") and status != "A"]
    check_against_git(events, added, changed, findings)
    return events


def _record_folders(changes: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Record id -> folder of the records whose files changed, and of those whose
    ``record.yaml`` was deleted (and not put back)."""
    folders: dict[str, str] = {}
    deleted: dict[str, str] = {}
    for status, path in changes:
        if path.startswith(".qdocs/") or "/" not in path:
            continue
        parts = path.split("/")
        for index in range(len(parts) - 2, -1, -1):
            if RECORD_ID.match(parts[index]):
                folder = "/".join(parts[:index + 1])
                if status == "D" and path == f"{folder}/record.yaml":
                    deleted[parts[index]] = folder
                elif status == "D":  # a file of the folder deleted: the record is checked (unless it went too)
                    folders.setdefault(parts[index], folder)
                else:
                    folders[parts[index]] = folder
                break
    for record_id, folder in list(deleted.items()):
        if folders.get(record_id, folder) == folder:
            folders.pop(record_id, None)  # the folder is gone (what else changed in it went with it)
        else:
            del deleted[record_id]  # it moved: checked where it is now
    return folders, deleted


def _baseline(repository: "Repository", anchor: Checkpoint, folders: dict[str, str]) -> dict[str, Record]:
    """The changed records as they were at the anchor (those that existed then)."""
    names = {f"{anchor.commit}:{folder}/record.yaml": record_id for record_id, folder in folders.items()}
    found: dict[str, Record] = {}
    for name, answer in zip(names, read_once(repository.root, list(names))):
        if answer is None:
            continue
        content = answer[1]
        try:
            record = Record.from_yaml(content.decode("utf-8"), folders[names[name]])
        except Exception:  # unreadable then: the record is checked as one made since (its actions must be there)
            continue
        record.yaml_sha256 = sha256_hex(content)
        found[names[name]] = record
    return found


def _start_from(trail: Trail, anchor: Checkpoint, record: Record) -> None:
    """What the anchor holds of a record, as the events it had then: its last action wrote
    this ``record.yaml``, and each signature it had was given (checked by the verify then)."""
    common = {"site": "", "seq": 0, "time": anchor.time, "actor": f"commit {anchor.commit[:12]}",
              "record": record.id, "revision": record.revision}
    start = {**common, "action": "as at the checkpoint", "hash": f"checkpoint:{record.id}",
             "record_sha256": record.yaml_sha256, "docx_sha256": record.docx_sha256}
    trail.last_event[record.id] = start
    events = trail.record_events.setdefault(record.id, [start])
    for signature in record.signatures:
        digest = sha256_hex(str(signature.get("signature", "")).encode())
        events.append({**common, "action": "sign", "hash": f"checkpoint:{digest}", "meaning": signature.get("meaning"),
                       "signer": signature.get("signer"), "signature_sha256": digest})
        trail.hashes.setdefault(str(signature.get("chain_head")), "")


def _older_superseded(repository: "Repository", record_id: str, item: dict[str, Any]) -> set[str]:
    """A merge since the anchor set aside an action from before it: the signature that action
    gave, as the anchor's events for the record name it."""
    try:
        content = (repository.root / event_path(str(item["site"]), int(item["seq"]))).read_bytes()
    except (OSError, KeyError, TypeError, ValueError):
        return set()
    if sha256_hex(content) != item.get("event"):
        return set()
    event = json.loads(content)
    return {f"checkpoint:{entry.get('signature_sha256')}" for entry in event.get("records") or []
            if entry.get("record") == record_id and entry.get("signature_sha256")}


def _event_time(repository: "Repository", site: str, sequence: int) -> str:
    """When a site's event was made (the anchor's heads: later signatures follow them)."""
    if sequence == 0:
        return ""
    try:
        return str(json.loads((repository.root / event_path(site, sequence)).read_bytes()).get("time", ""))
    except (OSError, ValueError):
        return ""
