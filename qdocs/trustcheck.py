"""``qdocs verify``'s checks of authority: the root, the trust log against git and the
event chains, the views people read (users, approved forms), forms waiting for
approval, and the sequence counters against the numbers actually used.

What a signature may count for is decided by :mod:`qdocs.trust.state`; this module
checks that nothing around it was changed by hand.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterable

from . import yamlio
from .findings import Finding
from .forms import FORMS_FOLDER, FORMS_VIEW, view_text
from .records import RECORD_ID
from .store.history import added_and_changed
from .trail import event_commits
from .trust.log import ROOT_PATH, TRUST_FOLDER
from .users import image_path, user_view_text

if TYPE_CHECKING:
    from .repository import Repository
    from .trail import Trail
    from .trust.state import TrustState


def trust_findings(repository: "Repository", state: "TrustState", trail: "Trail") -> list[Finding]:
    findings = list(state.findings)
    if state.root is None:
        findings.append(Finding("trust", "this repository has no root of trust: no signature or user change can be "
                                         "checked against an administrator (qdocs migrate)", kind="trust"))
        return findings
    findings.extend(_root_in_history(repository, state))
    findings.extend(_log_against_git(repository))
    findings.extend(_log_against_events(state, trail))
    findings.extend(_views(repository, state))
    findings.extend(_pending_forms(repository, state))
    return findings


def trust_findings_since(repository: "Repository", state: "TrustState", trail: "Trail", start: str,
                         changes: list[tuple[str, str]]) -> list[Finding]:
    """:func:`trust_findings` for what changed after the commit ``start`` (a checkpoint's):
    ``changes`` are (status, path) from ``start`` to HEAD; ``trail`` holds the events since."""
    if state.root is None:
        return trust_findings(repository, state, trail)
    findings = list(state.findings)
    if any(path == ROOT_PATH for _, path in changes):
        findings.append(Finding(ROOT_PATH, "was changed after the checkpoint: the root was replaced", kind="trust"))
    added, changed = added_and_changed(repository.git, TRUST_FOLDER, start)
    changed += [path for status, path in changes  # also what git's log of the commits since would not show
                if path.startswith(f"{TRUST_FOLDER}/") and path.endswith(".json") and status != "A"]
    findings.extend(Finding(path, "was changed or deleted after it was committed", kind="trust")
                    for path in sorted(set(changed) - {ROOT_PATH}))
    before = set(repository.git.text("ls-tree", "-r", "--name-only", start, "--", TRUST_FOLDER, check=False).split())
    folder = repository.root / TRUST_FOLDER
    for path in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        relative = path.relative_to(repository.root).as_posix()
        if relative not in added and relative not in before:
            findings.append(Finding(relative, "was never committed", kind="trust"))
    findings.extend(_log_against_events(state, trail, set(added)))
    findings.extend(_views(repository, state))
    findings.extend(_pending_forms(repository, state))
    return findings


def sequence_findings_since(repository: "Repository", start: str, added_ids: Iterable[tuple[str, str]],
                            changes: list[tuple[str, str]]) -> list[Finding]:
    """:func:`sequence_findings` for the numbers given after the commit ``start``: each counter
    that moved went up by exactly the records added since, with no number given twice."""
    used = _numbers_used(added_ids)
    sites = {site for site, _, _ in used} | {path.rsplit("/", 1)[-1].removesuffix(".yaml") for _, path in changes
                                              if path.startswith(".qdocs/sequences/")}
    before: dict[tuple[str, str, str], int] = {}
    now: dict[tuple[str, str, str], int] = {}
    for site in sorted(sites):
        earlier = repository.git.show_bytes(start, repository.sequence_path(site))
        _counters(before, site, yamlio.load(earlier.decode("utf-8")) if earlier else {})
        _counters(now, site, repository.read_sequences(site))
    findings: list[Finding] = []
    for key in sorted(set(used) | {key for key in set(before) | set(now) if before.get(key) != now.get(key)}):
        findings.extend(_numbering(key, used.get(key, {}), now.get(key, 0), before.get(key, 0)))
    return findings


def integrity_findings(repository: "Repository", state: "TrustState", trail: "Trail") -> list[Finding]:
    """What makes the trust state itself untrustworthy: an entry changed, deleted or never
    committed, a broken chain, an event naming an entry that is gone, the root replaced.
    (An entry that does not hold is not among them: it is simply not applied.)"""
    rejected = {entry.label for entry in state.rejected}
    findings = [finding for finding in state.findings if finding.record not in rejected]
    if state.root is None:
        return findings
    findings.extend(_root_in_history(repository, state))
    findings.extend(_log_against_git(repository))
    findings.extend(finding for finding in _log_against_events(state, trail)
                    if finding.record.startswith("event chain"))  # an event naming an entry that is gone
    return findings


def sequence_findings(repository: "Repository", record_ids: Iterable[tuple[str, str]]) -> list[Finding]:
    """Every counter equals the highest number used, and every number up to it is used once."""
    used = _numbers_used(record_ids)
    counters: dict[tuple[str, str, str], int] = {}
    for site in repository.registered_sites() + sorted({site for site, _, _ in used}):
        _counters(counters, site, repository.read_sequences(site))
    findings: list[Finding] = []
    for key in sorted(set(used) | set(counters)):
        findings.extend(_numbering(key, used.get(key, {}), counters.get(key, 0)))
    return findings


def _numbers_used(record_ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str, str], dict[int, list[str]]]:
    """(site, prefix, year) -> number -> the folders of the records that have it."""
    used: dict[tuple[str, str, str], dict[int, list[str]]] = {}
    for record_id, folder in record_ids:
        match = RECORD_ID.match(record_id)
        if match:
            key = (match["site"], match["prefix"], match["year"])
            used.setdefault(key, {}).setdefault(int(match["number"]), []).append(folder)
    return used


def _counters(target: dict[tuple[str, str, str], int], site: str, counters: dict[str, Any] | None) -> None:
    for counter, value in (counters or {}).items():
        prefix, _, year = str(counter).rpartition("-")
        target[(site, prefix, year)] = int(value)


def _numbering(key: tuple[str, str, str], numbers: dict[int, list[str]], counter: int, first: int = 0) -> list[Finding]:
    """One counter against the numbers used above ``first`` (a checkpoint's value of it; the
    numbers up to it were checked then, so a number among them given again is given twice)."""
    site, prefix, year = key
    where = f".qdocs/sequences/{site}.yaml"
    findings = []
    for number, folders in sorted(numbers.items()):
        given = len(folders) + (1 if number <= first else 0)
        if given > 1:
            earlier = " and one before the checkpoint" if number <= first else ""
            findings.append(Finding(f"{prefix}-{site}-{year}-{number:04d}", f"the number is used by {given} records "
                                    f"({', '.join(folders)}{earlier})", kind="sequence"))
    highest = max([first, *numbers])
    if counter != highest:
        findings.append(Finding(where, f"counter {prefix}-{year} is {counter} but the highest number used is "
                                       f"{highest}", kind="sequence"))
    missing = sorted(set(range(first + 1, highest + 1)) - set(numbers))
    if missing:
        shown = ", ".join(f"{prefix}-{site}-{year}-{number:04d}" for number in missing[:5])
        findings.append(Finding(where, f"numbers never used below {highest}: {shown}"
                                       f"{' …' if len(missing) > 5 else ''} (a gap in the numbering)",
                                kind="sequence"))
    return findings


def _root_in_history(repository: "Repository", state: "TrustState") -> list[Finding]:
    """The root file was added once, never changed, in the repository's first commit (or by
    the migration that gave an older repository its root)."""
    findings = []
    log = repository.git.text("log", "--format=%H %P", "--no-renames", "--", ROOT_PATH, check=False).splitlines()
    if len(log) > 1:
        findings.append(Finding(ROOT_PATH, f"was changed after the repository's root was made ({len(log)} commits "
                                           "touch it): the root was replaced", kind="trust"))
    migrated = any(entry.action == "attest" for entry in state.entries)
    if log and not migrated and len(log[-1].split()) > 1:
        findings.append(Finding(ROOT_PATH, f"was added by commit {log[-1][:12]}, not by the repository's first "
                                           "commit: the root was made later", kind="trust"))
    return findings


def _log_against_git(repository: "Repository") -> list[Finding]:
    added, changed = event_commits(repository, TRUST_FOLDER, "trust-commits.json")
    findings = [Finding(path, "was changed or deleted after it was committed", kind="trust")
                for path in sorted(set(changed))]
    folder = repository.root / TRUST_FOLDER
    for path in sorted(folder.glob("*/*.json")) if folder.is_dir() else []:
        relative = path.relative_to(repository.root).as_posix()
        if relative not in added:
            findings.append(Finding(relative, "was never committed", kind="trust"))
    return findings


def _log_against_events(state: "TrustState", trail: "Trail", paths: set[str] | None = None) -> list[Finding]:
    """Every trust entry (of ``paths``, when given: those added since a checkpoint, whose events
    the trail holds) has its event in a site's chain (so later signatures cover it), and every
    such event names an entry that exists."""
    findings = []
    known = {entry.hash: entry for entry in (*state.entries, *state.rejected)}
    for digest, entry in sorted(known.items(), key=lambda item: item[1].path):
        if paths is not None and entry.path not in paths:
            continue
        if digest not in trail.trust_events:
            findings.append(Finding(entry.label, "has no event in the event chain: it was added outside qdocs",
                                    kind="trust"))
    for digest, event in sorted(trail.trust_events.items(), key=lambda item: (item[1]["site"], item[1]["seq"])):
        if digest not in known:
            findings.append(Finding(f"event chain {event['site']}", f"event {event['seq']} ({event['action']}) names "
                                                                    "a trust entry that is missing", kind="trust"))
    return findings


def _views(repository: "Repository", state: "TrustState") -> list[Finding]:
    """The users' files and the approved-forms file say what the trust log says."""
    findings = []
    folder = repository.root / ".qdocs" / "users"
    present = {path.stem for path in folder.glob("*.yaml")} if folder.is_dir() else set()
    for name in sorted(present | set(state.users)):
        path = repository.root / f".qdocs/users/{name}.yaml"
        user = state.users.get(name)
        if user is None:
            findings.append(Finding(f".qdocs/users/{name}.yaml", "names a user no authorised entry added: it grants "
                                                                 "nothing", kind="trust"))
            continue
        text = path.read_text(encoding="utf-8") if path.is_file() else None
        if text != user_view_text(user):
            findings.append(Finding(f".qdocs/users/{name}.yaml", _view_difference(text, user), kind="trust"))
        picture = repository.root / image_path(name)
        if user.image_sha256 and (not picture.is_file()
                                  or hashlib.sha256(picture.read_bytes()).hexdigest() != user.image_sha256):
            findings.append(Finding(image_path(name), "is not the signature image registered for the user",
                                    kind="trust"))
    in_force = {path: versions[-1] for path, versions in state.forms.items() if versions}
    view = repository.root / FORMS_VIEW
    if (view.read_text(encoding="utf-8") if view.is_file() else None) != view_text(in_force):
        findings.append(Finding(FORMS_VIEW, "differs from the approvals in the trust log (edited outside qdocs)",
                                kind="form"))
    return findings


def _view_difference(text: str | None, user: Any) -> str:
    if text is None:
        return "is missing"
    try:
        raw = yamlio.load(text) or {}
    except Exception:  # a damaged view is a finding, whatever the parser raises
        return "is not readable"
    if sorted(raw.get("roles") or []) != user.current_roles():
        return (f"lists roles {', '.join(raw.get('roles') or []) or 'none'}, but the trust log grants "
                f"{', '.join(user.current_roles()) or 'none'} (changed outside qdocs)")
    keys = {key.get("fingerprint"): key.get("public_key") for key in raw.get("keys") or []}
    if keys != {key.fingerprint: key.public_text for key in user.keys.values()}:
        return "lists keys the trust log did not register for the user (a key was swapped outside qdocs)"
    return "differs from the user's entries in the trust log (changed outside qdocs)"


def _pending_forms(repository: "Repository", state: "TrustState") -> list[Finding]:
    """Forms committed (with qdocs or plain git) but never approved; edits not yet committed
    are work in progress, shown by ``qdocs forms status``, not findings."""
    findings = []
    committed: dict[str, str] = {}
    for line in repository.git.text("ls-tree", "-r", "HEAD", "--", FORMS_FOLDER, check=False).splitlines():
        meta, _, path = line.partition("\t")
        committed[path] = meta.split()[-1]
    for path in sorted(set(committed) | set(state.forms)):
        in_force = state.form_in_force(path)
        if path not in committed:
            findings.append(Finding(path, "is approved but missing from the repository", kind="form"))
        elif in_force is None or committed[path] != in_force.blob:
            if in_force is None and not path.endswith((".yaml", ".docx")):
                continue
            last = repository.git.text("log", "-1", "--format=%h %s", "--", path, check=False)
            state_word = "added" if in_force is None else "changed"
            findings.append(Finding(path, f"{state_word} in commit {last or '?'} and never approved; approve it "
                                          "(qdocs forms approve) or restore the approved version", kind="form"))
    return findings
