"""What the web tests share: the demo repository built once, a copy per test, an app and
its test client, logging in, and the form token of a session."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qdocs.actions import revise_record
from qdocs.demo import DEMO_PASSPHRASE, run_demo
from qdocs.queries import iter_records
from qdocs.repository import Repository
from qdocs.web.app import create_app
from qdocs.web.settings import Settings

#: when the demo was made (users, keys, records, signatures), whatever the real date
DEMO_MADE = "2026-03-25T09:00:00+08:00"
#: the tests' today: the day after (the clock runs from the start of it on)
TODAY = "2026-03-26"
PASSPHRASE = DEMO_PASSPHRASE


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """Built once: the demo repository (22 approved records of PUMP-X200 / L2026-031)."""
    path = tmp_path_factory.mktemp("web-demo") / "records"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QDOCS_CLOCK", DEMO_MADE)
        run_demo(path, "demo.setup")
    return path


@pytest.fixture
def demo_repo(demo_template: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the demo repository for one test, with the clock at :data:`TODAY`."""
    path = tmp_path / "demo"
    shutil.copytree(demo_template, path, symlinks=True)
    monkeypatch.setenv("QDOCS_CLOCK", TODAY)
    return path


def final_inspection(repo: Path) -> str:
    return next(record.id for record in iter_records(Repository.open(repo), type_id="final-inspection"))


def revise_final_inspection(repo: Path, actor: str = "demo.inspector") -> str:
    """The demo lot's final inspection taken back to a draft (revision B): the lot is blocked
    until the inspector and the QC manager sign it again.  Returns its id."""
    record_id = final_inspection(repo)
    repository = Repository.open(repo)
    record = next(iter_records(repository, type_id="final-inspection"))
    revise_record(repository, record_id, {**record.data, "specification": f"{record.data['specification']} 复检 re-checked"}, "re-check after a complaint",
                  actor)
    repository.close()
    return record_id


def make_client(repo: Path, **settings):
    app = create_app(repo, Settings(**settings))
    return app, app.test_client()


def login(client, user: str, passphrase: str = PASSPHRASE):
    token = form_token(client)
    return client.post("/login", data={"user": user, "passphrase": passphrase, "csrf_token": token, "next": "/inbox"})


def form_token(client) -> str:
    """The CSRF token of the client's session (a log-in form's session when not logged in)."""
    page = client.get("/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post(client, url: str, data: dict | None = None, **options):
    """A form post with the session's token."""
    return client.post(url, data={**(data or {}), "csrf_token": form_token(client)}, **options)
