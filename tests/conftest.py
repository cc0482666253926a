"""Shared fixtures: a fresh records repository per test, and ways to run qdocs.

CLI tests run the real command (click's CliRunner in-process, or a real
subprocess where processes matter) and then check the result through the
library and through git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from qdocs import yamlio
from qdocs.catalog import load_catalog
from qdocs.examples import example_values as library_example_values
from qdocs.founding import init_repository
from qdocs.repository import Repository
from qdocs.trust.genesis import Enrollment

PROJECT = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct horse 1"
# The company of the tests is in China, whatever zone the machine running them is in: the
# dates the tests expect (QDOCS_CLOCK moments, days of --as-of) are its days.
TIME_ZONE = "Asia/Shanghai"

ADMIN = "admin"  # every test repository's first administrator (also a role of the catalog)


def administrator(home: Path | None) -> Enrollment:
    return Enrollment(ADMIN, "管理员 Admin", PASSPHRASE, home)


def new_repository(path: Path, site: str = "S1", home: Path | None = None, actor: str = "tester") -> Repository:
    """A new records repository whose first administrator is ``admin`` (key in ``home``,
    default ``QDOCS_HOME``), passphrase :data:`PASSPHRASE`."""
    repository, _ = init_repository(path, site, actor, time_zone=TIME_ZONE, administrator=administrator(home))
    return repository


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


def approve_forms(repo: Path, *files: str, approver: str = "qc-manager") -> None:
    """Approve changed forms (default: all) as ``approver``, who holds role qc-manager
    (added and given a key by the administrator when the repository lacks them)."""
    from qdocs.trust.administration import Credentials, add_user, approve_forms as approve, register_key, trust_state

    repository = Repository.open(repo)
    home = Path(os.environ["QDOCS_HOME"])
    admin = Credentials(ADMIN, PASSPHRASE, home)
    if trust_state(repository).user(approver) is None:
        add_user(repository, admin, approver, f"{approver} 姓名", ["qc-manager"])
    if trust_state(repository).users[approver].current_key() is None:
        register_key(repository, admin, approver, PASSPHRASE)
    approve(repository, Credentials(approver, PASSPHRASE, home), list(files), "changed by a test")
    repository.close()


@pytest.fixture(autouse=True)
def keys_home(tmp_path: Path, monkeypatch) -> Path:
    """Every test keeps private keys in its own folder; passphrases for automation are set
    (a test about prompting unsets them)."""
    home = tmp_path / "home"
    monkeypatch.setenv("QDOCS_HOME", str(home))
    monkeypatch.setenv("QDOCS_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("QDOCS_NEW_PASSPHRASE", PASSPHRASE)
    return home


@pytest.fixture
def repo_path(tmp_path: Path, keys_home: Path) -> Path:
    path = tmp_path / "records"
    new_repository(path, home=keys_home)
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
    """The ``--example`` data of a type, read as a user's file would be, filed on the demo's
    subject (PUMP-X200 / L2026-031, ...) where the printed example has placeholders."""
    return library_example_values(catalog, catalog.get(type_id))


def write_example(catalog, type_id: str, folder: Path, **changes) -> Path:
    values = example_values(catalog, type_id)
    values.update(changes)
    path = folder / f"{type_id}.yaml"
    path.write_text(yamlio.dump(values), encoding="utf-8")
    return path



def inspected_final_inspection(run, catalog, repo_path: Path, folder: Path):
    """A final inspection made from the example data and signed ``inspected`` by ``inspector``
    through ``run`` (the ``signing`` fixture); returns (the repository, the record read back)."""
    from qdocs.queries import get_record

    record_id = run("new", "final-inspection", "--data", str(write_example(catalog, "final-inspection", folder))
                    ).output.strip()
    assert run("sign", record_id, "--as", "inspector", "--meaning", "inspected").exit_code == 0
    repository = Repository.open(repo_path)
    return repository, get_record(repository, record_id)

def record_folder(repo: Path, record_id: str) -> Path:
    """The folder of a record in the work tree."""
    from qdocs.queries import get_record

    return repo / get_record(Repository.open(repo), record_id).path


def commit_outside_qdocs(repo: Path, message: str) -> None:
    """Everything changed in the work tree committed with plain git, by someone else."""
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=mallory", "-c", "user.email=m@x", "commit", "-q", "-m", message)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def repository_state(repo: Path) -> tuple[str, str, list[str]]:
    """HEAD, porcelain status and every file: equal before and after means nothing was written.
    (git's index is first caught up with what qdocs committed, as any qdocs command that
    lists records would: the index is git's cache, not a record.)"""
    from qdocs.store.runner import Git

    Git(repo).run("status", "--porcelain")
    files = sorted(str(path.relative_to(repo)) for path in repo.rglob("*") if ".git" not in path.parts)
    return git(repo, "rev-parse", "HEAD").strip(), git(repo, "status", "--porcelain"), files


def qdocs_process(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run qdocs as a real process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, str(PROJECT / "cli.py"), *args], capture_output=True, text=True,
                          env=full_env, **kwargs)


#: when the signing repository's users and keys were made: before anything the tests sign, whatever
#: the real date or QDOCS_CLOCK (a signature dated before its key was registered does not count)
USERS_MADE = "2026-01-02T08:00:00+08:00"


@pytest.fixture(scope="session")
def signing_template(tmp_path_factory, catalog):
    """Built once: a repository with one user and key for every role of the catalog
    (user '<role>', full name '<role> 姓名'; the administrator 'admin' is the root), and
    the home folder holding the keys, all made at :data:`USERS_MADE`."""
    from click.testing import CliRunner

    import cli

    base = tmp_path_factory.mktemp("signing")
    repo, home = base / "records", base / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QDOCS_CLOCK", USERS_MADE)
        new_repository(repo, home=home)
    runner = CliRunner()
    environment = {"QDOCS_HOME": str(home), "QDOCS_PASSPHRASE": PASSPHRASE, "QDOCS_NEW_PASSPHRASE": PASSPHRASE,
                   "QDOCS_CLOCK": USERS_MADE}
    for role in catalog.roles:
        if role == ADMIN:
            continue
        for arguments in (["users", "add", role, "--full-name", f"{role} 姓名", "--role", role, "--as", ADMIN],
                          ["keys", "create", role, "--as", ADMIN]):
            result = runner.invoke(cli.cli, ["--repo", str(repo), "--actor", "tester", *arguments], env=environment)
            assert result.exit_code == 0, result.output
    return repo, home


@pytest.fixture
def signing(run, signing_template, repo_path: Path, monkeypatch, tmp_path: Path):
    """``run`` on a fresh copy of the signing repository."""
    repo, home = signing_template
    shutil.rmtree(repo_path)
    shutil.copytree(repo, repo_path)
    shutil.copytree(home, tmp_path / "home", dirs_exist_ok=True)
    monkeypatch.setenv("QDOCS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("QDOCS_PASSPHRASE", PASSPHRASE)
    return run


def docx_text(content: bytes) -> str:
    """Everything python-docx reads from a document: header and footer paragraphs and
    tables, body paragraphs and tables (nested too), one line each.  Tests read
    documents back with python-docx itself, independently of qdocs' own text extraction."""
    import io

    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def blocks(container) -> list[str]:
        lines: list[str] = []
        for block in container.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                for row in block.rows:
                    for cell in row.cells:
                        lines.extend(blocks(cell))
        return lines

    document = Document(io.BytesIO(content))
    lines: list[str] = []
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            lines.extend(blocks(part))
    lines.extend(blocks(document))
    return "\n".join(lines)
