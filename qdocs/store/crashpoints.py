"""Named points where a test can make a writer die, to show the repository recovers.

``QDOCS_CRASH_AT=<name>`` makes the process exit at once (no cleanup, as a kill
would) when it reaches that point: ``after-write`` and ``before-commit`` /
``after-commit`` in an action, ``index-write`` and ``index-commit`` while the
search index is written.
"""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    """Die here when ``QDOCS_CRASH_AT`` names this point."""
    if os.environ.get("QDOCS_CRASH_AT") == name:
        os._exit(137)
