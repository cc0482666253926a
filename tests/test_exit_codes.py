"""Exit codes: 2 when the input is wrong, 3 when the environment failed (the repository busy,
the disk full, git or LibreOffice missing or failing); either way one line and nothing written.

A script or a scheduler reads the difference: input is corrected, an environment failure is
retried or reported to an administrator.  LibreOffice's own cases (missing, exits without a PDF,
hangs) are in test_pdf_office.py."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from qdocs.repository import Repository
from tests.conftest import qdocs_process, repository_state, write_example


def _one_error_line(stderr: str, *expected: str) -> None:
    assert stderr.startswith("qdocs: error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    for text in expected:
        assert text in stderr, stderr


def test_every_environment_failure_exits_3():
    from qdocs.errors import (EnvironmentFailure, QdocsError, RepositoryBusyError, StorageError, ToolMissingError,
                              UsageError, ValidationError)
    from qdocs.pdf import ConversionError
    from qdocs.pdf import ToolMissingError as PdfToolMissingError

    for error in (RepositoryBusyError, StorageError, ToolMissingError, ConversionError):
        assert issubclass(error, EnvironmentFailure) and error.exit_code == 3
    assert PdfToolMissingError is ToolMissingError
    for error in (UsageError, ValidationError):
        assert error.exit_code == 2 and not issubclass(error, EnvironmentFailure)
    assert QdocsError.exit_code == 2


def test_a_busy_repository_exits_3(run, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    data = write_example(catalog, "final-inspection", tmp_path)
    monkeypatch.setenv("QDOCS_LOCK_TIMEOUT", "0.3")
    before = repository_state(repo_path)
    holder = Repository.open(repo_path).lock  # another writer, holding the lock
    holder.acquire()
    try:
        result = run("new", "final-inspection", "--data", str(data))
    finally:
        holder.release()
    assert result.exit_code == 3
    _one_error_line(result.stderr, "the records repository is busy")
    assert repository_state(repo_path) == before
    assert run("new", "final-inspection", "--data", str(data)).exit_code == 0  # the same command, later


def test_a_full_disk_exits_3(run, catalog, repo_path: Path, tmp_path: Path, monkeypatch):
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    real_replace = os.replace

    def full(source, target):
        if "records" in str(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", full)
    result = run("new", "final-inspection", "--data", str(data))
    monkeypatch.undo()
    assert result.exit_code == 3
    _one_error_line(result.stderr, "disk full during create: nothing was kept")
    assert repository_state(repo_path) == before


def test_git_missing_exits_3(catalog, repo_path: Path, tmp_path: Path):
    empty = tmp_path / "bin"
    empty.mkdir()
    data = write_example(catalog, "final-inspection", tmp_path)
    before = repository_state(repo_path)
    for arguments in (["--repo", str(repo_path), "new", "final-inspection", "--data", str(data)],
                      ["--repo", str(tmp_path / "new"), "init"]):
        process = qdocs_process(*arguments, env={"PATH": str(empty)})
        assert process.returncode == 3, process.stderr
        _one_error_line(process.stderr, "git is not installed: install git")
    assert repository_state(repo_path) == before
    assert not (tmp_path / "new").exists()


def test_input_errors_still_exit_2(run, catalog, repo_path: Path, tmp_path: Path):
    data = write_example(catalog, "final-inspection", tmp_path, conclusion="maybe")
    assert run("new", "final-inspection", "--data", str(data)).exit_code == 2
    assert run("show", "FIR-S1-2026-0999").exit_code == 2
    assert run("release-check", "PUMP-X999", "--lot", "L1").exit_code == 2
