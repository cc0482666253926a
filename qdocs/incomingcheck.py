"""What a sync takes in, checked in proportion to what changed (``qdocs sync``, the server's hook).

``qdocs verify`` checks a whole repository: every record, every signature, every chain.  A
sync must check what comes in before it is accepted, and at 100,000 records a full check per
sync would cost a minute while a sync brings a handful of records.  So a sync checks the
*change* from a commit this copy already holds (``base``: its branch, or the shared branch
before a push) to the commit it would take (``commit``: the merge, or the incoming head):

1. **the trust chain and every site's event chain, whole**: the trust logs and the event
   files are small (one event per action, not per record); they are folded and checked as
   ``verify`` does, and their history in git read only from ``base`` on (the caches of what
   was read are keyed by commit and reused while that commit is an ancestor);
2. **the commits since** ``base``: a change to users, forms, sequences, the trust root or an
   event made with plain git (:mod:`qdocs.outsidecheck`), read from ``base`` on;
3. **each record folder the change touches**: every check of ``verify`` for that record
   (its document, its ``record.yaml`` against its last action, its signatures, keys, roles
   and signing order, its attachments); a record the chain knows that the change removed is
   a finding;
4. **the numbering of what came in**: for each counter, the records the change added carry
   exactly the numbers between the counter at ``base`` and the counter at ``commit`` (a gap,
   a number used twice or a counter that does not fit is a finding).

What is not checked again is what ``base`` already holds: the records no commit since
``base`` touched.  A sync accepts what this copy holds as its starting point; ``qdocs
verify`` remains the check of everything, and the server's hook checks every push against
the shared branch it extends.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import TYPE_CHECKING, Callable, Iterable

from .findings import Finding
from .outsidecheck import outside_findings
from .records import RECORD_ID, Record
from .trail import Trail
from .trust.credentials import forget_trust_state, trust_state
from .trust.state import CLOCK_SKEW, parse_moment
from .trustcheck import trust_findings
from .verification import VerifyReport, check_record, migration_commit
from .authority import Authority

if TYPE_CHECKING:
    from .repository import Repository
    from .trust.state import TrustState

RECORD_FILES = ("record.yaml", "record.docx", "attachments.yaml")


def verify_change(repository: "Repository", touched: list[str], added: list[str],
                  counters_before: dict[str, dict[str, int]], new_trust_files: set[str],
                  locate: Callable[[list[str]], list[str]]) -> VerifyReport:
    """The findings of ``repository`` (a copy of the commit to take, holding at least its
    repository files and the folders ``touched``) for a change that touched the record
    folders ``touched`` (:func:`touched_folders`), added the records ``added`` and the
    trust entries in ``new_trust_files``; ``counters_before``: each site's sequence counters
    at the base; ``locate``: record ids → their folders, checked out in the copy (for the
    records a new trust entry may affect)."""
    findings: list[Finding] = []
    forget_trust_state(repository)
    state = trust_state(repository)
    trail = Trail.load(repository, findings)
    affected = affected_by_trust(state, trail, new_trust_files)
    touched = sorted(set(touched) | set(locate(sorted(affected - {folder.rpartition("/")[2] for folder in touched}))))
    folders = [folder for folder in touched if (repository.root / folder / "record.yaml").is_file()]
    removed = [folder.rpartition("/")[2] for folder in touched if folder not in folders]
    findings.extend(trust_findings(repository, state, trail))
    findings.extend(outside_findings(repository, migration_commit(repository, state)))
    for record_id in sorted(removed):
        event = trail.last_event.get(record_id)
        if event is not None:
            findings.append(Finding(record_id, f"missing from the repository: its folder is gone "
                                               f"(last action: {event['action']} by {event['actor']} at {event['time']})"))
    findings.extend(numbering_findings(repository, added, counters_before))
    authority = Authority(repository, state, trail)
    notes: list[Finding] = []
    signatures = 0
    for folder in folders:
        names = os.listdir(repository.root / folder)
        with open(repository.root / folder / "record.yaml", encoding="utf-8") as handle:
            record = Record.from_yaml(handle.read(), folder)
        signatures += len(record.signatures)
        notes.extend(Finding(record.id, item.get("note", ""), severity="info", kind="merge")
                     for item in trail.superseded.get(record.id, []))
        findings.extend(check_record(repository, trail, record, names, authority))
    return VerifyReport(findings, len(folders), signatures, trail.event_count, None,
                        len(state.entries) + len(state.rejected), notes)


def affected_by_trust(state: "TrustState", trail: Trail, new_files: set[str]) -> set[str]:
    """The records whose checks a new trust entry can change: those a user named in one
    (revoked, a role or key taken away, added) acted on or signed from the entry's time on,
    and, for an entry about no user (an approved form), every record acted on from its time
    on (the catalog in force then decides who may sign).  Clocks may differ by ``CLOCK_SKEW``."""
    since: dict[str | None, _dt.datetime] = {}
    for entry in [*state.entries, *state.rejected]:
        if entry.path not in new_files:
            continue
        moment = parse_moment(entry.fields.get("time"))
        if moment is None:
            continue
        user = entry.fields.get("user")  # None: an approved form (forms-approve), about every signer
        since[user] = min(since.get(user, moment), moment)
    if not since:
        return set()
    anyone = since.get(None)
    affected = set()
    for record_id, events in trail.record_events.items():
        for event in events:
            moment = parse_moment(event.get("time"))
            if moment is None:
                continue
            people = {event.get("actor"), event.get("signer")}
            starts = [since[person] for person in people if person in since]
            if anyone is not None:
                starts.append(anyone)
            if any(moment >= start - CLOCK_SKEW for start in starts):
                affected.add(record_id)
                break
    return affected


def numbering_findings(repository: "Repository", added: Iterable[str],
                       counters_before: dict[str, dict[str, int]]) -> list[Finding]:
    """Each counter moved by exactly the records added under it, numbered without a gap."""
    numbers: dict[tuple[str, str], list[int]] = {}
    for record_id in added:
        match = RECORD_ID.match(record_id)
        if match:
            numbers.setdefault((match["site"], f"{match['prefix']}-{match['year']}"), []).append(int(match["number"]))
    sites = set(counters_before) | {site for site, _ in numbers} | set(repository.registered_sites())
    findings: list[Finding] = []
    for site in sorted(sites):
        before, after = counters_before.get(site, {}), repository.read_sequences(site)
        for counter in sorted(set(before) | set(after) | {name for owner, name in numbers if owner == site}):
            old, new = before.get(counter, 0), after.get(counter, 0)
            used = sorted(numbers.get((site, counter), []))
            if used == list(range(old + 1, new + 1)):
                continue
            prefix, _, year = counter.rpartition("-")
            shown = ", ".join(f"{prefix}-{site}-{year}-{number:04d}" for number in used[:5]) or "none"
            findings.append(Finding(f".qdocs/sequences/{site}.yaml",
                                    f"counter {counter} went from {old} to {new}, but the records that came in "
                                    f"under it are numbered {shown}{' …' if len(used) > 5 else ''} "
                                    "(a gap, a number used twice, or a counter changed by hand)", kind="sequence"))
    return findings


def touched_folders(paths: Iterable[str]) -> list[str]:
    """The record folders that the changed files ``paths`` are in (a record's own files and
    its attachments), sorted."""
    folders = set()
    for path in paths:
        if "/attachments/" in path:
            folders.add(path.split("/attachments/")[0])
        else:
            folder, _, name = path.rpartition("/")
            if folder and name in RECORD_FILES:
                folders.add(folder)
    return sorted(folders)
