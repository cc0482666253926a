"""``qdocs sync`` and ``qdocs status``: several sites, one record set, through any git server.

Each site works in its own copy and numbers its records with its own site code, in files
only that site writes (its records, its events, its sequence file), so the histories of two
sites join without textual conflicts.  A sync, step by step:

1. **fetch** the remote's branches (``refs/remotes/<remote>/``);
2. **merge** what came in, without touching the work tree: a fast-forward when this copy
   made nothing new, else a merge commit (``git merge-tree``; never a rebase: history is
   evidence) authored by the acting user, with its trailers (``Action: sync``), under the
   repository lock and journal like every action.  A record changed at both sites is merged
   by the table of :mod:`qdocs.mergeoutcomes` (void wins, a revision wins over signatures of
   the old one, signatures of one revision are joined where they fit), its files written
   into the merge's tree with a ``merge`` event of this site; a user's file or the
   approved-forms file changed at both sides is written for the trust state of both sides'
   trust logs (per site, they never conflict); what that table does not
   settle (the same revision revised at both sites, a file changed outside qdocs) stops
   here: nothing is merged and each record is named with what each side did;
3. **check** the would-be result before taking it, in proportion to what changed
   (:mod:`qdocs.incomingcheck`): the merge commit (or the incoming head) is checked out in a
   temporary copy outside the work tree (:mod:`qdocs.store.scratch`) with only the
   repository's own files (trust logs, event chains, sequences, forms) and the record
   folders changed since the last commit both sides held, and must pass the checks of
   ``qdocs verify`` for them (signatures, trust chain, the event chains of every site, the
   numbering, changes made with plain git; records a new trust entry may affect are
   checked too); a finding stops here with nothing merged;
4. **take** the checked commit (a fast-forward of the branch, index and work tree to it);
   the search index, where one exists, catches up through the after-commit hook;
5. **push**; a push refused because another site pushed meanwhile starts again at 1
   (at most :data:`ATTEMPTS` times); a push the server's hook refuses stops with its findings.

The verification is a feature, so this module sits in the features layer; the git work is
the store's (:mod:`qdocs.store.remotes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import EnvironmentFailure, MergeUnfinishedError, UsageError
from .findings import Finding
from .progress import Report, Steps
from .repository import Repository
from . import yamlio
from .incomingcheck import touched_folders, verify_change
from .store import remotes, scratch
from .store.history import is_ancestor
from .store.runner import Git
from .trust.log import TRUST_FOLDER
from .verification import verify_repository

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_REMOTE = "origin"
SEQUENCES_FOLDER = ".qdocs/sequences"
#: fetch-merge-push rounds before giving up on a remote that keeps moving
ATTEMPTS = 5

IN_SYNC, CONFLICT, REFUSED, REJECTED = "in sync", "conflict", "incoming history refused", "push refused"


@dataclass
class SyncReport:
    """What one sync did; ``state`` is :data:`IN_SYNC` unless a person is needed."""

    remote: str
    url: str
    state: str = IN_SYNC
    received: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    events_received: int = 0
    events_sent: int = 0
    merges: int = 0
    attempts: int = 0
    sites: list[str] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    merged: list[dict[str, Any]] = field(default_factory=list)  # records changed at both sides, merged
    views: list[str] = field(default_factory=list)  # users' / approved-forms files changed at both sides
    resolved: dict[str, str] = field(default_factory=dict)  # record -> site whose revision a person kept
    findings: list[Finding] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def needs_person(self) -> bool:
        return self.state != IN_SYNC

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "url": self.url, "state": self.state, "in_sync": not self.needs_person,
                "records_received": sorted(set(self.received)), "records_sent": sorted(set(self.sent)),
                "events_received": self.events_received, "events_sent": self.events_sent, "merges": self.merges,
                "attempts": self.attempts, "sites": self.sites, "conflicts": self.conflicts,
                "merged": [{"record": entry["record"], "outcome": entry["outcome"],
                            "superseded": [item["note"] for item in entry["superseded"]]} for entry in self.merged],
                "trust_views_merged": self.views, "resolved": self.resolved,
                "findings": [finding.to_json() for finding in self.findings], "messages": self.messages}


class _Refused(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} finding(s)")
        self.findings = findings


def sync(repository: Repository, actor: str, remote: str = DEFAULT_REMOTE, report: Report | None = None,
         resolutions: dict[str, str] | None = None, reason: str = "") -> SyncReport:
    """Fetch, check, merge and push until this copy and ``remote`` hold the same history.

    ``resolutions`` (record → site, with ``reason``): a person's decision for records both
    sides revised (the conflict a sync without it stopped on): the revision made at that site
    stands.  A resolution that does not name such a record is refused before anything is
    written."""
    resolutions = dict(resolutions or {})
    if resolutions and not reason.strip():
        raise UsageError("--resolve needs --reason: say why the kept revision stands (it goes into the history)")
    git = repository.git
    git.require()
    url = remotes.require_remote(git, remote)
    unfinished = repository.unfinished_merge()  # stat calls; the index is read before anything is taken in
    if unfinished:
        raise MergeUnfinishedError(unfinished)
    branch = remotes.current_branch(git)
    steps = Steps(report)
    result = SyncReport(remote, url)
    for attempt in range(1, ATTEMPTS + 1):
        result.attempts = attempt
        steps.start(f"fetching from {remote} ({url})")
        remotes.fetch(git, remote)
        theirs = remotes.tracking_head(git, remote, branch)
        if resolutions and not result.resolved and (theirs is None or is_ancestor(git, theirs)):
            raise UsageError(f"nothing to resolve: {remote} brings no change to {', '.join(sorted(resolutions))} "
                             "(run qdocs sync without --resolve)")
        pending = {} if result.resolved else resolutions
        if theirs is not None and not _take_in(repository, theirs, actor, remote, steps, result, pending, reason):
            return result
        head = git.head()
        if head is None or head == theirs:
            break
        steps.start(f"sending to {remote}")
        outgoing = remotes.changed_paths(git, theirs, head)
        pushed = remotes.push(git, remote, branch)
        if pushed.accepted:
            result.sent.extend(record_ids(outgoing))
            result.events_sent += len(event_files(remotes.changed_paths(git, theirs, head, added_only=True)
                                                  if theirs else outgoing))
            break
        if not pushed.behind:
            result.state, result.messages = REJECTED, pushed.messages
            return result
    else:
        raise EnvironmentFailure(f"remote {remote} kept changing during {ATTEMPTS} attempts (other sites "
                                 "pushing meanwhile); nothing is lost: run qdocs sync again")
    steps.start("in sync")
    result.sites = repository.registered_sites()
    return result


def verify_incoming(repository: Repository, base: str | None, commit: str) -> list[Finding]:
    """What :func:`qdocs.incomingcheck.verify_change` finds in ``commit`` as a change from
    ``base`` (the last commit both sides held: what either side did since is checked; None,
    no common history: ``commit`` is checked whole), in a temporary copy that borrows this
    repository's objects and its caches of what was read of the history."""
    return verify_change_of([repository.root / ".git" / "objects"], repository.root / ".git" / "qdocs", base, commit)


def verify_change_of(object_directories: list["Path"], caches: "Path", base: str | None, commit: str,
                     keep_caches: bool = False) -> list[Finding]:
    """``commit`` checked as a change from ``base`` (None: checked whole, as ``qdocs verify``
    does); ``caches``: the folder of the caches of what was read of the history (reused; with
    ``keep_caches``, what this check read is kept there for the next one)."""
    names = ("event-commits.json", "trust-commits.json", "outside-commits.json")
    seeds = {f"qdocs/{name}": (caches / name).read_bytes() for name in names if (caches / name).is_file()}
    with scratch.checkout(object_directories, commit, None if base is None else [], seeds) as folder:
        if base is not None:  # the copy sees every object (a push's quarantine too): asked there
            git = Git(folder)
            touched = touched_folders(remotes.changed_paths(git, base, commit))
            added = record_ids(remotes.changed_paths(git, base, commit, added_only=True))
            present = remotes.files_at(git, commit, [f"{place}/record.yaml" for place in touched])
            scratch.check_out_paths(folder, commit, [*remotes.repository_files(git, commit),
                                                     *(path.rpartition("/")[0] for path in present)])
            counters = sequences_at(git, base)
            new_trust = set(remotes.changed_paths(git, base, commit, added_only=True, under=[TRUST_FOLDER]))

            def locate(record_ids: list[str]) -> list[str]:
                found = remotes.record_folders_of(git, commit, record_ids)
                scratch.check_out_paths(folder, commit, found)
                return found
        copy = Repository.open(folder)
        try:
            if base is None:
                findings = verify_repository(copy).findings
            else:
                findings = verify_change(copy, touched, added, counters, new_trust, locate).findings
        finally:
            copy.close()
        if keep_caches and not findings:
            caches.mkdir(parents=True, exist_ok=True)
            for name in names:
                if (folder / ".git" / "qdocs" / name).is_file():
                    (caches / name).write_bytes((folder / ".git" / "qdocs" / name).read_bytes())
    return findings


def sequences_at(git: Git, commit: str) -> dict[str, dict[str, int]]:
    """Each site's sequence counters at ``commit`` (``.qdocs/sequences/<SITE>.yaml``)."""
    counters: dict[str, dict[str, int]] = {}
    for path, content in remotes.files_under(git, commit, SEQUENCES_FOLDER).items():
        site = path.rpartition("/")[2].removesuffix(".yaml")
        try:
            loaded = yamlio.load(content.decode("utf-8")) or {}
            counters[site] = {str(key): int(value) for key, value in loaded.items()}
        except (ValueError, TypeError, AttributeError, UnicodeDecodeError, yamlio.YAMLError):
            counters[site] = {}  # unreadable: the counters after it cannot fit, which is the finding
    return counters


def status(repository: Repository, remote: str | None = None, fetch_first: bool = False) -> dict[str, Any]:
    """This copy's site, its remotes and what waits to be sent to and received from each
    (against the remote-tracking branch as last fetched; ``fetch_first`` fetches ``remote``,
    or every remote, first), and whether a git merge is unfinished.  Works offline.  git's
    index is brought up to date first (:mod:`qdocs.store.staging`), so that plain
    ``git status`` agrees with it."""
    git = repository.git
    git.catch_up_index()
    known = remotes.remotes(git)
    if remote is not None:
        remotes.require_remote(git, remote)
    chosen = [remote] if remote is not None else sorted(known)
    if fetch_first:
        for name in chosen:
            remotes.fetch(git, name)
    head = git.head()
    branch = git.text("symbolic-ref", "--quiet", "--short", "HEAD", check=False) or None
    listed = []
    for name in chosen:
        theirs = remotes.tracking_head(git, name, branch) if branch else None
        entry: dict[str, Any] = {"name": name, "url": known[name], "fetched": theirs is not None}
        base = remotes.merge_base(git, head, theirs) if head and theirs else None
        outgoing = remotes.changed_paths(git, base, head, added_only=False) if head else []
        incoming = remotes.changed_paths(git, base, theirs) if theirs else []
        added_out = remotes.changed_paths(git, base, head, added_only=True) if head and base else outgoing
        added_in = remotes.changed_paths(git, base, theirs, added_only=True) if theirs and base else incoming
        entry.update(records_to_send=len(record_ids(outgoing)), events_to_send=len(event_files(added_out)),
                     records_to_receive=len(record_ids(incoming)), events_to_receive=len(event_files(added_in)))
        listed.append(entry)
    return {"site": repository.local_site(), "branch": branch, "head": head, "sites": repository.registered_sites(),
            "remotes": listed, "unfinished_merge": repository.unfinished_merge(thorough=True)}


def record_ids(paths: list[str]) -> list[str]:
    """The records whose ``record.yaml`` is among ``paths``."""
    return sorted({path.split("/")[-2] for path in paths if path.endswith("/record.yaml") and path.count("/") >= 1})


def event_files(paths: list[str]) -> list[str]:
    return [path for path in paths if path.startswith(".qdocs/events/") and path.endswith(".json")]


def _take_in(repository: Repository, theirs: str, actor: str, remote: str, steps: Steps, result: SyncReport,
             resolutions: dict[str, str], reason: str) -> bool:
    """Check and take in ``theirs``; False when a person is needed (``result`` says why)."""
    git = repository.git
    with repository.locked():
        head = git.head()
        if head is None or is_ancestor(git, theirs, head):
            return True
        unfinished = repository.unfinished_merge(thorough=True)  # files left in conflict, e.g. by git stash pop
        if unfinished:
            raise MergeUnfinishedError(unfinished)
        fast_forward = is_ancestor(git, head, theirs)
        if fast_forward and resolutions:
            raise UsageError(f"nothing to resolve: this copy has nothing {remote} lacks, so {remote}'s "
                             f"revisions of {', '.join(sorted(resolutions))} come in as they are "
                             "(run qdocs sync without --resolve)")
        tree = theirs
        merged: list[dict[str, Any]] = []
        views: list[str] = []
        resolved: dict[str, str] = {}
        if not fast_forward:
            from .mergeoutcomes import settle  # rendering and the record actions: only for a merge

            steps.start(f"merging {remote}")
            tree, conflicts = remotes.merge_tree(git, head, theirs)
            settlement = settle(repository, head, theirs, tree, conflicts, actor, remote, resolutions, reason)
            unused = sorted(set(resolutions) - set(settlement.resolved))
            if unused:
                raise UsageError(f"--resolve {unused[0]}: it is not a record revised both here and at {remote}; "
                                 "only such a conflict is resolved by a person (nothing was merged)")
            if settlement.unresolved:
                result.state = CONFLICT
                result.conflicts = settlement.unresolved
                return False
            if settlement.files:
                tree = remotes.tree_with_files(git, tree, settlement.files)
            merged, views, resolved = settlement.merged, settlement.views, settlement.resolved
        paths = remotes.changed_paths(git, head, tree)
        records = record_ids(paths)
        events = len(event_files(remotes.changed_paths(git, head, tree, added_only=True))) - (1 if merged else 0)
        try:
            with repository.transaction("sync", paths, records) as change:
                commit = theirs
                if not fast_forward:
                    site = repository.local_site()
                    trailers: dict[str, Any] = {"Action": "sync", "Remote": remote, "Merged": theirs,
                                                "Records-received": len(records), "Events-received": events}
                    if site:
                        trailers["Site"] = site
                    if merged:
                        trailers["Records-merged"] = [entry["record"] for entry in merged]
                    if views:
                        trailers["Trust-views-merged"] = views
                    if resolved:
                        trailers["Resolved"] = [f"{record} kept {site}" for record, site in sorted(resolved.items())]
                        trailers["Reason"] = " ".join(reason.split())
                    commit = change.merge(tree, theirs, f"sync with {remote}: merge {len(records)} record(s) "
                                                        f"and {events} event(s)", actor, trailers)
                steps.start(f"verifying {len(records)} incoming record(s) and {events} event(s) as merged")
                findings = verify_incoming(repository, remotes.merge_base(git, head, theirs), commit)
                if findings:
                    raise _Refused(findings)
                steps.start(f"taking in {len(records)} record(s)")
                change.adopt(commit)
        except _Refused as refused:
            result.state, result.findings = REFUSED, refused.findings
            return False
    result.received.extend(records)
    result.events_received += events
    result.merged.extend(merged)
    result.views.extend(views)
    result.resolved.update(resolved)
    result.merges += 0 if fast_forward else 1
    return True


def record_of(path: str) -> str:
    """The record a path belongs to (its folder's name), or the path itself for repository files."""
    parts = path.split("/")
    if len(parts) >= 2 and parts[-1] in ("record.yaml", "record.docx", "attachments.yaml"):
        return parts[-2]
    return path
