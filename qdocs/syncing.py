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
3. **check** the would-be result before taking it: the merge commit (or the incoming head)
   is checked out in a temporary copy outside the work tree (:mod:`qdocs.store.scratch`) and
   must pass :func:`qdocs.verification.verify_repository` (signatures, trust chain, the
   event chains of every site); a finding stops here with nothing merged.  Cost: a checkout
   of the whole tree and a full verification per sync that brings something in, in
   proportion to the size of the repository;
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

from .errors import EnvironmentFailure, MergeUnfinishedError
from .findings import Finding
from .mergeoutcomes import settle
from .progress import Report, Steps
from .repository import Repository
from .store import remotes, scratch
from .store.history import is_ancestor
from .verification import verify_repository

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_REMOTE = "origin"
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
                "trust_views_merged": self.views,
                "findings": [finding.to_json() for finding in self.findings], "messages": self.messages}


class _Refused(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} finding(s)")
        self.findings = findings


def sync(repository: Repository, actor: str, remote: str = DEFAULT_REMOTE, report: Report | None = None) -> SyncReport:
    """Fetch, check, merge and push until this copy and ``remote`` hold the same history."""
    git = repository.git
    git.require()
    url = remotes.require_remote(git, remote)
    unfinished = repository.unfinished_merge(thorough=True)
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
        if theirs is not None and not _take_in(repository, theirs, actor, remote, steps, result):
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


def verify_commit(repository: Repository, commit: str) -> list[Finding]:
    """What :func:`verify_repository` finds in ``commit`` (checked out in a temporary copy
    that borrows this repository's objects)."""
    return verify_checkout([repository.root / ".git" / "objects"], commit)


def verify_checkout(object_directories: list["Path"], commit: str) -> list[Finding]:
    with scratch.checkout(object_directories, commit) as folder:
        copy = Repository.open(folder)
        try:
            return verify_repository(copy).findings
        finally:
            copy.close()


def status(repository: Repository, remote: str | None = None, fetch_first: bool = False) -> dict[str, Any]:
    """This copy's site, its remotes and what waits to be sent to and received from each
    (against the remote-tracking branch as last fetched; ``fetch_first`` fetches ``remote``,
    or every remote, first), and whether a git merge is unfinished.  Works offline."""
    git = repository.git
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


def _take_in(repository: Repository, theirs: str, actor: str, remote: str, steps: Steps, result: SyncReport) -> bool:
    """Check and take in ``theirs``; False when a person is needed (``result`` says why)."""
    git = repository.git
    with repository.locked():
        head = git.head()
        if head is None or is_ancestor(git, theirs, head):
            return True
        fast_forward = is_ancestor(git, head, theirs)
        tree = theirs
        merged: list[dict[str, Any]] = []
        views: list[str] = []
        if not fast_forward:
            steps.start(f"merging {remote}")
            tree, conflicts = remotes.merge_tree(git, head, theirs)
            settlement = settle(repository, head, theirs, tree, conflicts, actor, remote)
            if settlement.unresolved:
                result.state = CONFLICT
                result.conflicts = settlement.unresolved
                return False
            if settlement.files:
                tree = remotes.tree_with_files(git, tree, settlement.files)
            merged, views = settlement.merged, settlement.views
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
                    commit = change.merge(tree, theirs, f"sync with {remote}: merge {len(records)} record(s) "
                                                        f"and {events} event(s)", actor, trailers)
                steps.start(f"verifying {len(records)} incoming record(s) and {events} event(s) as merged")
                findings = verify_commit(repository, commit)
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
    result.merges += 0 if fast_forward else 1
    return True


def record_of(path: str) -> str:
    """The record a path belongs to (its folder's name), or the path itself for repository files."""
    parts = path.split("/")
    if len(parts) >= 2 and parts[-1] in ("record.yaml", "record.docx", "attachments.yaml"):
        return parts[-2]
    return path
