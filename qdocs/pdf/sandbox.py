"""Untrusted PDFs are parsed in a child process with a time and a memory limit.

pypdf and pyHanko leave malformed input to their caller: a reference loop can recurse
or spin, a compressed stream can unpack to gigabytes.  The child (``python -m
qdocs.pdf.inspection``) sets its own limits with ``resource.setrlimit`` before it
reads a byte (address space, CPU seconds, no files written, no core dump) and is
killed when the wall-clock limit passes; it answers with one line of JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import UnsafePdfError

TIME_LIMIT = 20.0
MEMORY_LIMIT_MB = 1024


def limits() -> tuple[float, int]:
    """Seconds and megabytes a child may use (``QDOCS_PDF_TIME_LIMIT``, ``QDOCS_PDF_MEMORY_MB``)."""
    try:
        seconds = float(os.environ.get("QDOCS_PDF_TIME_LIMIT") or TIME_LIMIT)
        megabytes = int(os.environ.get("QDOCS_PDF_MEMORY_MB") or MEMORY_LIMIT_MB)
    except ValueError:
        seconds, megabytes = TIME_LIMIT, MEMORY_LIMIT_MB
    return seconds, megabytes


def run_in_child(task: str, path: Path, label: str, **arguments: Any) -> dict[str, Any]:
    """Run ``task`` on the file at ``path`` in a limited child; returns its answer.

    Raises :class:`UnsafePdfError` when the child refuses the file, runs out of time or
    memory, or dies."""
    seconds, megabytes = limits()
    request = json.dumps({"task": task, "path": str(path), "seconds": seconds, "megabytes": megabytes, **arguments})
    package_root = str(Path(__file__).resolve().parents[2])
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        finished = subprocess.run([sys.executable, "-m", "qdocs.pdf.inspection"], input=request.encode("utf-8"),
                                  capture_output=True, timeout=seconds, env=environment)
    except subprocess.TimeoutExpired:
        raise UnsafePdfError(f"{label}: reading it took longer than {seconds:g} s, so it was stopped and refused "
                             "(a damaged or hostile PDF)") from None
    lines = finished.stdout.decode("utf-8", "replace").strip().splitlines()
    if finished.returncode != 0 or not lines:
        reason = _death(finished.returncode, finished.stderr.decode("utf-8", "replace"), megabytes)
        raise UnsafePdfError(f"{label}: {reason}, so it was refused (a damaged or hostile PDF)")
    answer = json.loads(lines[-1])
    if answer.get("refused"):
        raise UnsafePdfError(f"{label}: {answer['refused']}")
    return answer


def _death(code: int, errors: str, megabytes: int) -> str:
    if "MemoryError" in errors:
        return f"reading it needed more than {megabytes} MB"
    if code < 0:
        return f"the reader was stopped by signal {-code}"
    last = errors.strip().splitlines()[-1] if errors.strip() else f"exit status {code}"
    return f"it could not be read ({last[:200]})"
