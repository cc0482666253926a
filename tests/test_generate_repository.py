"""The benchmark's repository generator writes what qdocs writes: qdocs verifies it clean,
its records and every signature.

``bench/generate_repository.py`` builds the 100,000- and 1,000,000-record repositories the
benchmarks measure, through git fast-import instead of the command; its figures only mean
something if every commit is one qdocs itself would have made.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from qdocs.queries import get_record
from qdocs.repository import Repository
from qdocs.store import trailers

PROJECT = Path(__file__).resolve().parent.parent


def _qdocs(root: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), *arguments],
                          capture_output=True, text=True)


def test_generated_repository_is_verified_clean_and_searchable(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    made = subprocess.run([sys.executable, str(PROJECT / "bench" / "generate_repository.py"), "--records", "96",
                           "--batch", "8", "--products", "4", "--out", str(out), "--sign"], capture_output=True,
                          text=True)
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    root = out / "records"
    assert report["records"] == 96 and report["loose_objects"] == 0
    assert report["signatures"] > 96  # every record signed through all its required signatures

    verified = _qdocs(root, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"96 record(s), {report['signatures']} signature(s)" in verified.stdout
    assert verified.stdout.rstrip().endswith("clean")

    listed = json.loads(_qdocs(root, "list", "--json").stdout)
    assert len(listed) == 96
    assert {item["status"] for item in listed} == {"approved"}
    assert len({item["type"] for item in listed}) == 12  # one type per action, taken in turn

    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    assert status.stdout == ""  # work tree and index are HEAD's

    messages = subprocess.run(["git", "log", "--format=%an%x00%B%x01", "-30"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.split("\x01")
    actions = set()
    for message in filter(str.strip, messages):
        author, body = message.strip().split("\x00")
        found = trailers.parse(body)
        actions.add(found["Action"])
        assert trailers.operation(body)
        assert author == ("bench.admin" if found["Action"] == "create" else found["Signer"])
    assert actions == {"create", "sign"}

    repository = Repository.open(root)
    record_id = listed[0]["id"]
    record = get_record(repository, record_id)
    with zipfile.ZipFile(root / record.path / "record.docx") as package:
        document = "".join(package.read(name).decode("utf-8") for name in package.namelist()
                           if name.startswith("word/") and name.endswith(".xml"))
    assert record_id in document and record.subject.label().split(" / ")[0] in document
    repository.close()

    searched = _qdocs(root, "search", record_id, "--json")
    assert searched.returncode == 0, searched.stderr
    assert record_id in searched.stdout
