"""LibreOffice headless as a converter to PDF.

Pitfalls this module guards against:

- LibreOffice exits 0 even when it could not load a file, so every expected output
  is checked to exist and to start with ``%PDF-``;
- two runs sharing one user profile fail silently, so each :class:`Office` has its
  own profile directory (``-env:UserInstallation``), removed when it closes;
- a conversion can hang (a dialog nobody sees), so a run is killed, with every
  process it started, after a time limit;
- the Noto CJK collections name every face after the Japanese one, so LibreOffice
  gets simplified-Chinese fonts of their own (:mod:`.chinesefonts`).

Many documents go through one run: starting LibreOffice costs seconds, converting
one more page a fraction of that.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..progress import Steps
from . import ConversionError, ToolMissingError
from .chinesefonts import office_environment

INSTALL_HINT = ("install it with: sudo apt-get install -y libreoffice-writer-nogui fonts-noto-cjk poppler-utils "
                "(macOS: brew install --cask libreoffice)")
BASE_SECONDS = 60.0
SECONDS_PER_DOCUMENT = 10.0


def find_office() -> str:
    """The ``soffice`` program (``QDOCS_SOFFICE`` names another), with a Chinese font present."""
    program = os.environ.get("QDOCS_SOFFICE") or shutil.which("soffice") or shutil.which("libreoffice")
    if not program or not os.access(program, os.X_OK):
        raise ToolMissingError(f"LibreOffice is needed to make PDFs and was not found; {INSTALL_HINT}")
    if not os.environ.get("QDOCS_SOFFICE") and not _chinese_font_installed():
        raise ToolMissingError(f"no Chinese font is installed, so PDFs would show empty boxes; {INSTALL_HINT}")
    return program


def _chinese_font_installed() -> bool:
    if not shutil.which("fc-list"):
        return True  # no fontconfig to ask (macOS ships Chinese fonts)
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return True
    return bool(found.strip())


class Office:
    """One LibreOffice profile, used by one or more sequential conversion runs.  The
    simplified-Chinese fonts are prepared first when they are not yet (told to ``steps``)."""

    def __init__(self, time_limit: float | None = None, steps: Steps | None = None) -> None:
        self.program = find_office()
        self.environment = office_environment(steps)
        self.time_limit = time_limit if time_limit is not None else _time_limit_from_environment()
        self.folder = Path(tempfile.mkdtemp(prefix="qdocs-office-"))
        self.profile = self.folder / "profile"

    def __enter__(self) -> "Office":
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def convert(self, documents: dict[str, bytes], progress: Callable[[int], None] | None = None) -> dict[str, bytes]:
        """Convert ``{name.docx|name.fodt: bytes}`` in one run; returns ``{name: pdf bytes}``."""
        run = Path(tempfile.mkdtemp(prefix="run-", dir=self.folder))
        source, target = run / "in", run / "out"
        source.mkdir()
        target.mkdir()
        inputs = []
        for name, content in documents.items():
            path = source / name
            path.write_bytes(content)
            inputs.append(path)
        command = [self.program, f"-env:UserInstallation={self.profile.as_uri()}", "--headless", "--invisible",
                   "--nologo", "--nodefault", "--norestore", "--nolockcheck", "--convert-to", "pdf",
                   "--outdir", str(target), *map(str, inputs)]
        limit = self.time_limit or BASE_SECONDS + SECONDS_PER_DOCUMENT * len(inputs)
        output = _run_with_limit(command, limit, progress, run, self.environment)
        results: dict[str, bytes] = {}
        for path in inputs:
            produced = target / f"{path.stem}.pdf"
            content = produced.read_bytes() if produced.is_file() else b""
            if not content.startswith(b"%PDF-"):
                detail = output.strip().splitlines()[-1] if output.strip() else "no message"
                raise ConversionError(f"LibreOffice did not convert {path.name} to PDF ({detail}); nothing was written")
            results[path.name] = content
        shutil.rmtree(run, ignore_errors=True)
        return results


def _time_limit_from_environment() -> float | None:
    text = os.environ.get("QDOCS_OFFICE_TIME_LIMIT")
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _run_with_limit(command: list[str], limit: float, progress: Callable[[int], None] | None, folder: Path,
                    variables: dict[str, str]) -> str:
    """Run LibreOffice (with ``variables`` added to the environment) in its own process group;
    count ``convert`` lines for progress; kill the whole group when ``limit`` seconds have passed."""
    environment = {**os.environ, **variables, "HOME": str(folder), "SAL_USE_VCLPLUGIN": "svp"}
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=environment, start_new_session=True)
    except OSError as error:
        raise ToolMissingError(f"cannot start LibreOffice ({command[0]}): {error.strerror}; {INSTALL_HINT}") from None
    deadline = time.monotonic() + limit
    received = bytearray()
    converted = 0
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(process)
                raise ConversionError(f"LibreOffice took longer than {limit:.0f} s and was stopped; nothing was written "
                                      "(QDOCS_OFFICE_TIME_LIMIT sets the limit in seconds)")
            if not selector.select(min(remaining, 1.0)):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            received.extend(chunk)
            count = received.count(b"\nconvert ") + received.startswith(b"convert ")
            if progress and count != converted:
                converted = count
                progress(count)
        process.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ConversionError(f"LibreOffice did not exit within {limit:.0f} s and was stopped; nothing was written") from None
    finally:
        selector.close()
        process.stdout.close()
    return received.decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
