"""The last commit qdocs made in this copy (``.git/qdocs/last-commit``), remembered after
every commit, so that a tail of history dropped since is noticed (:mod:`qdocs.checkpoints`).

When the commit remembered before is no longer in the history, it is kept as a local
checkpoint (one JSON line in ``.git/qdocs/checkpoints``), so that the loss stays reported
after later actions.  Costs one small file per action; git is asked only when HEAD was
moved by something other than qdocs.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import clock
from .history import is_ancestor
from .runner import Git

#: local checkpoints, one JSON object a line (read by :mod:`qdocs.checkpoints`)
LOCAL_FILE = "checkpoints"
LAST_COMMIT_FILE = "last-commit"
LAST_COMMIT = "the last commit qdocs made in this copy"


def remember_commit(git: Git, local: Path, parent: str | None, commit: str) -> None:
    """After each commit qdocs makes: remember it in ``local`` (``.git/qdocs``); keep the one
    remembered before as a local checkpoint when it is no longer in the history."""
    path = local / LAST_COMMIT_FILE
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    try:
        if isinstance(previous, dict) and previous.get("commit") not in (None, parent) \
                and not is_ancestor(git, str(previous["commit"]), commit):
            with open(local / LOCAL_FILE, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"commit": previous["commit"], "time": previous.get("time", ""),
                                         "label": LAST_COMMIT}) + "\n")
        path.write_text(json.dumps({"commit": commit, "time": clock.now().isoformat()}), encoding="utf-8")
    except OSError:
        pass  # a copy that cannot keep it only loses this extra warning; the action stands
