"""``qdocs serve`` as a real process: it listens on loopback, says where, and names the demo log-in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
