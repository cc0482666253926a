"""Changes made with plain git (outside qdocs) to what only qdocs may change.

Who holds which role and key, the approved forms and the document numbering live
in files anyone with write access could edit and commit.  qdocs changes them only
together with what justifies the change, in the same commit:

- ``.qdocs/users/*`` and ``.qdocs/forms.yaml``: a new entry of the trust log;
- ``.qdocs/sequences/<SITE>.yaml``: new events in that site's chain (records created);
- ``.qdocs/trust/root.yaml``: only the commit that made the root.

A commit that changes one of them without its justification is a finding naming the
file and the commit, whatever its content (the views' content is checked too, in
:mod:`qdocs.trustcheck`).  Merge commits are left to the content checks: they join
histories, each of which was checked commit by commit.  What was read is kept in
``.git/qdocs/outside-commits.json`` and only newer commits are read again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .findings import Finding
from .store.history import is_ancestor

if TYPE_CHECKING:
    from .repository import Repository

_WATCHED = (".qdocs/users", ".qdocs/forms.yaml", ".qdocs/sequences", ".qdocs/trust", ".qdocs/events")
_CACHE = "outside-commits.json"


def outside_findings(repository: "Repository", since: str | None = None) -> list[Finding]:
    """``since``: the commit that gave a migrated repository its root; what came before it was
    made before these files were controlled, and the migration attested it."""
    head = repository.git.head()
    if not head:
        return []
    cache = repository.root / ".git" / "qdocs" / _CACHE
    migrated_at, since = since, None
    known: list[list[str]] = []
    try:
        raw = json.loads(cache.read_text(encoding="utf-8"))
        if raw.get("commit") and raw.get("from") == migrated_at and is_ancestor(repository.git, raw["commit"]):
            known, since = raw["findings"], raw["commit"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    revisions = [f"{since}..HEAD"] if since else ["HEAD"]
    if since is None and migrated_at is not None:
        revisions = [f"{migrated_at}..HEAD"]
    output = repository.git.run("log", "--no-merges", "--format=%x00%H%x01%s", "--name-status", "--no-renames",
                                *revisions, "--", *_WATCHED, check=False).decode("utf-8", "replace")
    found = [list(item) for item in _unjustified(output)]
    known = known + found
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"commit": head, "from": migrated_at, "findings": known}), encoding="utf-8")
    except OSError:
        pass
    return [Finding(path, message, kind="outside-qdocs") for path, message in known]


def outside_findings_between(repository: "Repository", start: str, migrated_at: str | None = None) -> list[Finding]:
    """:func:`outside_findings` for the commits after ``start`` only (a checkpoint's commit;
    those before it were read then), none cached."""
    if not repository.git.head():
        return []
    excluded = [f"^{start}"] + ([f"^{migrated_at}"] if migrated_at else [])
    output = repository.git.run("log", "--no-merges", "--format=%x00%H%x01%s", "--name-status", "--no-renames",
                                "HEAD", *excluded, "--", *_WATCHED, check=False).decode("utf-8", "replace")
    return [Finding(path, message, kind="outside-qdocs") for path, message in _unjustified(output)]


def _unjustified(output: str) -> list[tuple[str, str]]:
    findings = []
    for block in output.split("\0")[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        commit, _, subject = lines[0].partition("\x01")
        changes = [line.split("\t", 1) for line in lines[1:] if "\t" in line]
        added = {path for status, path in changes if status == "A"}
        trust_entries = [path for path in added if path.startswith(".qdocs/trust/") and path.endswith(".json")]
        event_sites = {path.split("/")[2] for path in added if path.startswith(".qdocs/events/") and path.count("/") >= 4}
        where = f"commit {commit[:12]} ({subject[:60]})"
        for status, path in changes:
            if path.startswith(".qdocs/users/") or path == ".qdocs/forms.yaml":
                if not trust_entries:
                    findings.append((path, f"was changed in {where} outside qdocs: no signed trust entry made "
                                           "the change"))
            elif path.startswith(".qdocs/sequences/"):
                site = path.rsplit("/", 1)[-1].removesuffix(".yaml")
                if site not in event_sites:
                    findings.append((path, f"was changed in {where} outside qdocs: no record was created with it"))
            elif path == ".qdocs/trust/root.yaml" and status != "A":
                findings.append((path, f"was changed in {where}: the root of trust was replaced"))
    return findings
