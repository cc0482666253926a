"""A per-user cache of values that are pure functions of their input.

Each command is a new process, so anything it derives from a file that rarely
changes (the parsed catalog, a template part cleaned up and compiled by Jinja)
would otherwise be derived again by every command.  Entries live in
``$XDG_CACHE_HOME/qdocs`` (default ``~/.cache/qdocs``), one file each, named by
the sha256 of what they were derived from together with the versions of the
code that derived them, so an entry can never be stale: a changed input or an
upgraded library simply gives another name.  A missing, unreadable or damaged
entry is derived again; failing to store one costs speed, never correctness.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any


def cache_directory() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qdocs"


def entry_path(kind: str, *parts: str) -> Path:
    """The file of the entry derived from ``parts`` (texts), for one kind of value."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return cache_directory() / kind / f"{digest.hexdigest()[:40]}.marshal"


def load(path: Path) -> Any:
    """The value stored at ``path``, or None when there is none (or it is damaged)."""
    try:
        with open(path, "rb") as handle:
            return marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def store(path: Path, value: Any) -> None:
    """Keep ``value`` (strings, numbers, containers, code objects) at ``path``, atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump(value, handle)
        os.replace(temporary, path)
    except (OSError, ValueError):
        try:
            temporary.unlink()
        except OSError:
            pass


def python_tag() -> str:
    """Compiled code depends on the interpreter's bytecode version."""
    return f"{sys.implementation.cache_tag}-{sys.version_info[0]}.{sys.version_info[1]}"
