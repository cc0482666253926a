"""Shared fixtures: a fresh records repository per test, and ways to run qdocs.

CLI tests run the real command (click's CliRunner in-process, or a real
subprocess where processes matter) and then check the result through the
library and through git.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs import yamlio
from qdocs.catalog import load_catalog
from qdocs.examples import example_yaml
from qdocs.repository import Repository

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    path = tmp_path / "records"
    Repository.init(path, "S1", "tester")
    return path


@pytest.fixture
def run(repo_path: Path):
    """Run ``qdocs --repo REPO ARGS`` in process; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, actor: str = "tester"):
        return runner.invoke(cli.cli, ["--repo", str(repo_path), "--actor", actor, *args], input=input,
                             catch_exceptions=False)

    return invoke


def example_values(catalog, type_id: str) -> dict:
    """The ``--example`` data of a type, read as a user's file would be."""
    return yamlio.load_as_text(example_yaml(catalog, catalog.get(type_id)))


def write_example(catalog, type_id: str, folder: Path, **changes) -> Path:
    values = example_values(catalog, type_id)
    values.update(changes)
    path = folder / f"{type_id}.yaml"
    path.write_text(yamlio.dump(values), encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def repository_state(repo: Path) -> tuple[str, str, list[str]]:
    """HEAD, porcelain status and every file: equal before and after means nothing was written."""
    files = sorted(str(path.relative_to(repo)) for path in repo.rglob("*") if ".git" not in path.parts)
    return git(repo, "rev-parse", "HEAD").strip(), git(repo, "status", "--porcelain"), files


def qdocs_process(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run qdocs as a real process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, str(PROJECT / "cli.py"), *args], capture_output=True, text=True,
                          env=full_env, **kwargs)
