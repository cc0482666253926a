"""Checkpoints: the head of the history, kept outside the repository, so that a dropped or
rewritten tail of history is noticed.

Anyone who can write to the records repository can ``git reset --hard HEAD~3``: the
last three actions vanish, and what remains is a consistent history.  A checkpoint
names the commit and the last entry of every chain at one moment; kept on paper, in
an e-mail or in another site's copy, it lets ``qdocs verify --checkpoint FILE`` say
that the history no longer contains it.  Every checkpoint taken in this copy is also
kept in ``.git/qdocs/checkpoints`` (local, never pushed) and checked by every verify.

Each copy also remembers the last commit qdocs made in it (``.git/qdocs/last-commit``,
written by the store after every commit: :mod:`qdocs.store.lastcommit`), so a tail
dropped after the last checkpoint is noticed by the copy that made it (and by every
copy that had pulled it).

A full ``qdocs verify`` that finds nothing keeps the commit and chain heads it checked in
``.git/qdocs/verified`` (local, replaced each time): ``qdocs verify --since verified``
starts from there (:mod:`qdocs.verifysince`), and every verify checks it like a checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import clock
from .errors import StorageError, UsageError
from .events import chain_sites, event_path, read_head, sha256_hex
from .findings import Finding
from .store.history import is_ancestor
from .store.lastcommit import LAST_COMMIT, LAST_COMMIT_FILE, LOCAL_FILE
from .trust.log import entry_path, read_head as read_trust_head, trust_sites

if TYPE_CHECKING:
    from .repository import Repository

_MAGIC = "qdocs checkpoint"
#: the last full verify of this copy that found nothing (one JSON object)
VERIFIED_FILE = "verified"
VERIFIED = "last clean verify"


@dataclass
class Checkpoint:
    commit: str
    time: str
    events: dict[str, tuple[int, str]] = field(default_factory=dict)
    trust: dict[str, tuple[int, str]] = field(default_factory=dict)
    source: str = ""
    label: str = ""  # what it is, when not a checkpoint taken with qdocs checkpoint

    def text(self) -> str:
        lines = [f"{_MAGIC} {self.time}", f"commit {self.commit}"]
        lines += [f"events {site} {sequence} {digest}" for site, (sequence, digest) in sorted(self.events.items())]
        lines += [f"trust {site} {sequence} {digest}" for site, (sequence, digest) in sorted(self.trust.items())]
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "time": self.time,
                "events": {site: {"seq": sequence, "hash": digest} for site, (sequence, digest) in self.events.items()},
                "trust": {site: {"seq": sequence, "hash": digest} for site, (sequence, digest) in self.trust.items()}}


def current_point(repository: "Repository") -> Checkpoint | None:
    """The commit and every chain's head now, as a checkpoint (None before the first commit)."""
    commit = repository.git.head()
    if not commit:
        return None
    return Checkpoint(commit, clock.now(repository.time_zone).isoformat(),
                      {site: _pair(read_head(repository.root, site)) for site in chain_sites(repository.root)},
                      {site: read_trust_head(repository.root, site) for site in trust_sites(repository.root)})


def take_checkpoint(repository: "Repository", output: Path | None = None) -> Checkpoint:
    point = current_point(repository)
    if point is None:
        raise UsageError(f"{repository.root} has no commit yet")
    local = repository.root / ".git" / "qdocs" / LOCAL_FILE
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
        with open(local, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(point.to_json()) + "\n")
        if output is not None:
            Path(output).write_text(point.text(), encoding="utf-8")
    except OSError as error:
        raise StorageError(f"cannot write the checkpoint: {error.strerror}") from None
    return point


def read_checkpoint(path: Path, option: str = "--checkpoint") -> Checkpoint:
    """A checkpoint file as ``qdocs checkpoint -o`` wrote it (or its JSON)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{option} {path}: cannot read: {error.strerror}") from None
    if text.lstrip().startswith("{"):
        try:
            return _from_json(json.loads(text), str(path))
        except (ValueError, KeyError, TypeError):
            raise UsageError(f"{option} {path}: not a qdocs checkpoint") from None
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or " ".join(lines[0][:2]) != _MAGIC or len(lines) < 2 or lines[1][0] != "commit":
        raise UsageError(f"{option} {path}: not a qdocs checkpoint (it starts with '{_MAGIC}')")
    point = Checkpoint(lines[1][1], lines[0][2] if len(lines[0]) > 2 else "", source=str(path))
    for words in lines[2:]:
        if len(words) != 4 or words[0] not in ("events", "trust") or not words[2].isdigit():
            raise UsageError(f"{option} {path}: unreadable line {' '.join(words)!r}")
        getattr(point, words[0])[words[1]] = (int(words[2]), words[3])
    return point


def record_verified(repository: "Repository", point: Checkpoint) -> None:
    """Keep ``point`` as the last clean full verify (written whole, then renamed: never half)."""
    folder = repository.root / ".git" / "qdocs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{VERIFIED_FILE}.partial"
        partial.write_text(json.dumps({**point.to_json(), "label": VERIFIED}) + "\n", encoding="utf-8")
        partial.replace(folder / VERIFIED_FILE)
    except OSError:
        pass  # bookkeeping of this copy: the verify's answer stands without it


def last_verified(repository: "Repository") -> list[Checkpoint]:
    """The last clean full verify of this copy, as a checkpoint (none yet: empty)."""
    try:
        raw = json.loads((repository.root / ".git" / "qdocs" / VERIFIED_FILE).read_text(encoding="utf-8"))
        return [_from_json(raw, f".git/qdocs/{VERIFIED_FILE}")]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def since_point(repository: "Repository", given: str) -> Checkpoint:
    """What ``verify --since`` starts from: ``verified`` (the last clean full verify of this
    copy) or a checkpoint file."""
    if given == "verified":
        found = last_verified(repository)
        if not found:
            raise UsageError("--since verified: no full qdocs verify of this copy has found nothing yet; "
                             "run qdocs verify first, or give a checkpoint file")
        return found[0]
    return read_checkpoint(Path(given), "--since")


def local_checkpoints(repository: "Repository") -> list[Checkpoint]:
    path = repository.root / ".git" / "qdocs" / LOCAL_FILE
    points = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for number, line in enumerate(lines, start=1):
        try:
            points.append(_from_json(json.loads(line), f".git/qdocs/{LOCAL_FILE} line {number}"))
        except (ValueError, KeyError, TypeError):
            continue
    return points


def last_commit(repository: "Repository") -> list[Checkpoint]:
    """The last commit qdocs made in this copy, as a checkpoint (none before the first action)."""
    try:
        raw = json.loads((repository.root / ".git" / "qdocs" / LAST_COMMIT_FILE).read_text(encoding="utf-8"))
        return [Checkpoint(str(raw["commit"]), str(raw.get("time", "")), source=f".git/qdocs/{LAST_COMMIT_FILE}",
                           label=LAST_COMMIT)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def kept_checkpoints(repository: "Repository") -> list[Checkpoint]:
    """Every checkpoint this copy keeps of itself: its last commit, its last clean verify, and
    those ``qdocs checkpoint`` took; every verify checks them."""
    return [*last_commit(repository), *last_verified(repository), *local_checkpoints(repository)]


def check_checkpoints(repository: "Repository", points: list[Checkpoint]) -> list[Finding]:
    """A checkpoint whose commit is no longer in the history, or whose chain entries changed."""
    findings = []
    for point in points:
        where = f"{point.label or 'checkpoint'} of {point.time or '?'} ({point.source or 'given'})"
        if not is_ancestor(repository.git, point.commit):
            findings.append(Finding(where, f"commit {point.commit[:12]} is no longer in the history of HEAD: "
                                           "what was committed after it (or it) was dropped or rewritten",
                                    kind="checkpoint"))
            continue
        for kind, pairs, path_of in (("event", point.events, event_path), ("trust entry", point.trust, entry_path)):
            for site, (sequence, digest) in sorted(pairs.items()):
                if sequence == 0:
                    continue
                content = repository.git.run("show", f"HEAD:{path_of(site, sequence)}", check=False)
                if sha256_hex(content) != digest:
                    findings.append(Finding(where, f"{kind} {site}/{sequence} is not the one the checkpoint saw",
                                            kind="checkpoint"))
    return findings


def _pair(head: Any) -> tuple[int, str]:
    return head.sequence, head.hash


def _from_json(raw: dict[str, Any], source: str) -> Checkpoint:
    return Checkpoint(str(raw["commit"]), str(raw.get("time", "")),
                      {site: (int(value["seq"]), str(value["hash"])) for site, value in (raw.get("events") or {}).items()},
                      {site: (int(value["seq"]), str(value["hash"])) for site, value in (raw.get("trust") or {}).items()},
                      source, str(raw.get("label", "")))
