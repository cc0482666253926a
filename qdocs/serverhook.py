"""The shared repository's guard: a ``pre-receive`` hook that refuses a push that does not verify.

``qdocs server install-hook PATH`` writes the hook into a bare repository on the git server.
For each branch a push updates, the hook checks the pushed commit in a temporary copy
(:mod:`qdocs.store.scratch`: the commits still in the push's quarantine are read from there):
a new branch whole (:func:`qdocs.verification.verify_repository`), an update as the change
from the commit the branch held (:mod:`qdocs.incomingcheck`: the chains and the trust log
whole, the records the pushed commits touched, their numbering; the caches of what was read
of the history kept in ``<repository>/qdocs/``); any finding refuses the whole push,
and the findings are printed, which git shows the pusher (``remote: ...``).  The hook names
the Python interpreter that installed it, so the server needs qdocs installed for that
interpreter, nothing on its ``PATH``.  The repository is also told to refuse forced pushes
and deleted branches: the shared history is evidence.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
from pathlib import Path
from typing import Iterable

from .errors import UsageError
from .store import remotes, scratch
from .syncing import verify_change_of

MARKER = "qdocs pre-receive hook"
#: findings printed per refused branch before "... and N more"
SHOWN = 40


def install_hook(path: str | Path) -> Path:
    """Install (or renew) the hook in the bare repository at ``path``; returns the hook's file."""
    git_dir = remotes.bare_repository(Path(path))
    hook = git_dir / "hooks" / "pre-receive"
    if hook.exists() and MARKER not in hook.read_text(encoding="utf-8", errors="replace"):
        raise UsageError(f"{hook} exists and was not written by qdocs: merge it by hand, or move it away "
                         "and install again")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(hook_script(sys.executable), encoding="utf-8")
    hook.chmod(0o755)
    remotes.configure_server(git_dir)
    return hook


def hook_script(python: str) -> str:
    """The hook: ``python`` runs ``qdocs server check-push``, finding the ``cli`` module where
    it was found when the hook was installed (an installed qdocs, or a source checkout)."""
    spec = importlib.util.find_spec("cli")
    folder = str(Path(spec.origin).parent) if spec is not None and spec.origin else ""
    command = (f"import sys; sys.path.append({folder!r}); import cli; sys.argv[0] = 'qdocs'; cli.main()"
               if folder else "import sys, cli; sys.argv[0] = 'qdocs'; cli.main()")
    return ("#!/bin/sh\n"
            f"# {MARKER} (written by: qdocs server install-hook): refuses a push whose records do not pass\n"
            "# qdocs verify, and prints the findings to the pusher.\n"
            f"exec {shlex.quote(python)} -c {shlex.quote(command)} server check-push\n")


def check_push(updates: Iterable[str]) -> list[str]:
    """Inside the hook: the lines of ``updates`` (``OLD NEW REF``, as git gives them) checked;
    returns what to print when the push must be refused (nothing: accept it)."""
    git_dir, object_directories = scratch.take_hook_environment()
    problems: list[str] = []
    for line in updates:
        parts = line.split()
        if len(parts) != 3 or parts[1] == remotes.NO_COMMIT:
            continue
        old, new, reference = parts
        # a new branch is checked whole; an update as the change from what the branch held
        # (accepted by this hook before; forced pushes are refused, so ``new`` extends it)
        base = None if old == remotes.NO_COMMIT else old
        findings = verify_change_of(object_directories, git_dir / "qdocs", base, new, keep_caches=True)
        if findings:
            problems.append(f"qdocs: refused {reference} ({new[:12]}): {len(findings)} finding(s) of qdocs verify")
            problems.extend(f"  {finding}" for finding in findings[:SHOWN])
            if len(findings) > SHOWN:
                problems.append(f"  ... and {len(findings) - SHOWN} more")
    return problems
