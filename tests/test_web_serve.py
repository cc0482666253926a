"""``qdocs serve`` as a real process: it listens on loopback, says where, and names the demo log-in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import PROJECT, qdocs_process
from tests.web_support import demo_repo, demo_template  # noqa: F401


def test_serve_listens_on_loopback_and_names_the_demo_log_in(demo_repo: Path):
    environment = {key: value for key, value in os.environ.items() if key != "QDOCS_HOME"}
    process = subprocess.Popen([sys.executable, str(PROJECT / "cli.py"), "--repo", str(demo_repo), "serve", "--port",
                                "0"], stderr=subprocess.PIPE, text=True, env=environment)
    try:
        first = process.stderr.readline()
        assert " at http://127.0.0.1:" in first, first
        assert "demo.inspector" in process.stderr.readline()
        address = first.split(" at ", 1)[1].split(" ", 1)[0]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(address + "login") as answer:
                    assert answer.status == 200 and "登录 Log in" in answer.read().decode("utf-8")
                    assert answer.headers["X-Frame-Options"] == "DENY"
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_what_is_not_a_records_repository(tmp_path: Path):
    result = qdocs_process("--repo", str(tmp_path / "nothing"), "serve")
    assert result.returncode == 2 and "is not a qdocs records repository" in result.stderr


def _children(pid: int) -> set[int]:
    found, pending = set(), [pid]
    while pending:
        current = pending.pop()
        children: set[int] = set()
        for task in os.listdir(f"/proc/{current}/task"):
            with open(f"/proc/{current}/task/{task}/children") as handle:
                children |= {int(child) for child in handle.read().split()}
        found |= children
        pending.extend(children)
    return found


def _gone(pids: set[int], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{pid}") and "zombie" not in _state(pid) for pid in pids):
            return True
        time.sleep(0.2)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (OSError, IndexError):
        return "zombie"


SERVE_WITH_SEARCH_WORKERS = """
import sys
from qdocs.web.server import serve
from qdocs.web.settings import Settings
serve(sys.argv[1], Settings(search_processes=2, search_processes_from=0), port=0,
      ready=lambda address: print(address, flush=True))
"""


def test_stopping_the_server_stops_its_worker_processes(demo_repo: Path):
    """``kill`` (SIGTERM) stops the server and its search workers with it."""
    process = subprocess.Popen([sys.executable, "-c", SERVE_WITH_SEARCH_WORKERS, str(demo_repo)],
                               stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        address = process.stdout.readline().strip()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = opener.open(address + "login").read().decode("utf-8")
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        data = urllib.parse.urlencode({"csrf_token": token, "user": "demo.auditor", "passphrase": "demo-passphrase"})
        opener.open(address + "login", data.encode()).read()
        with opener.open(address + "search.json?q=%E6%A3%80%E9%AA%8C") as answer:  # made by the workers
            assert answer.status == 200
        workers = _children(process.pid)
        assert len(workers) >= 2, workers
        process.terminate()
        assert process.wait(timeout=30) is not None
        assert _gone(workers), f"worker processes left behind: {workers}"
    finally:
        process.kill()


WORKER_OF_A_KILLED_PARENT = """
import os, signal
from qdocs.web.auditing import worker_pool
pool = worker_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_worker_ends_itself_when_its_server_is_killed(tmp_path: Path):
    done = subprocess.run([sys.executable, "-c", WORKER_OF_A_KILLED_PARENT], capture_output=True, text=True,
                          cwd=PROJECT, timeout=60)
    assert done.returncode == -9, done.stderr
    worker = int(done.stdout.split()[0])
    assert _gone({worker}), "the worker outlived its killed server"
