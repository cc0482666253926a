#!/usr/bin/env python3
"""Benchmark ``qdocs verify --since CHECKPOINT``: the records changed after a checkpoint, in a
large repository (``bench/generate_repository.py``, packed, users and keys of the bench).

What a user does, all through the ``qdocs`` command:

1. ``qdocs checkpoint -o FILE`` (the anchor);
2. 100 records change: ``qdocs new --batch`` of 50 final inspections from a YAML file, signed
   ``inspected`` in one ``qdocs sign``; 50 records that were there before signed (when drafts)
   or revised (``qdocs revise --set``, when already approved), each by its own command;
3. ``qdocs verify --since FILE --json``, as a process, several rounds: the report must be clean,
   name the 100 records checked, and the events since.

Side by side in the same rounds, the floor: the least any verifier of those 100 records does —
read and hash their two files and check each of their signatures with the raw ``cryptography``
library, in one loop (the keys and payloads prepared beforehand, outside the timing).

Target (issue 16): ``verify --since`` of the 100 records changed, in a 1,000,000-record
repository, at most 1 s.

    python bench/bench_verify_since.py --repo /tmp/gen1m/records --rounds 5
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "bench"))

from generate_repository import ACTOR, PASSPHRASE, root_keys  # noqa: E402
from qdocs import yamlio  # noqa: E402
from qdocs.examples import example_values  # noqa: E402
from qdocs.keys import public_key_from_text  # noqa: E402
from qdocs.queries import get_record  # noqa: E402
from qdocs.repository import Repository  # noqa: E402
from qdocs.signatures import signature_payload  # noqa: E402
from qdocs.trust.credentials import trust_state  # noqa: E402

NEW, OLD = 50, 50
INSPECTOR, MANAGER = "bench.inspector", "bench.qc-manager"


def qdocs(repo: Path, *arguments: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(repo), "--actor", ACTOR, *arguments],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    if done.returncode not in (0,):
        raise SystemExit(f"qdocs {' '.join(arguments[:3])} … failed ({done.returncode}): "
                         f"{(done.stderr or done.stdout).strip()[:400]}")
    return done.stdout


def prepare(repo: Path, work: Path) -> tuple[Path, list[str]]:
    """The checkpoint, then 100 records changed after it; (the checkpoint file, their ids)."""
    environment = {"QDOCS_HOME": str(root_keys(repo)), "QDOCS_PASSPHRASE": PASSPHRASE,
                   "QDOCS_NEW_PASSPHRASE": PASSPHRASE}
    repository = Repository.open(repo)
    state = trust_state(repository)
    for name, role in ((INSPECTOR, "inspector"), (MANAGER, "qc-manager")):
        if state.user(name) is None:  # a generated repository without signatures has no users yet
            qdocs(repo, "users", "add", name, "--full-name", f"{role}（测试）", "--role", role, "--as", ACTOR,
                  env=environment)
            qdocs(repo, "keys", "create", name, "--as", ACTOR, env=environment)
    existing = _existing_inspections(repo, OLD)
    point = work / "before.checkpoint"
    qdocs(repo, "checkpoint", "-o", str(point))
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    batch = work / "batch.yaml"
    batch.write_text(yamlio.dump([{**values, "lot": f"LSINCE{number:04d}"} for number in range(NEW)]), encoding="utf-8")
    created = qdocs(repo, "new", "final-inspection", "--batch", str(batch)).split()
    qdocs(repo, "sign", *created, "--as", INSPECTOR, "--meaning", "inspected", env=environment)
    for record_id, status in existing:
        if status == "draft":
            qdocs(repo, "sign", record_id, "--as", INSPECTOR, "--meaning", "inspected", env=environment)
        else:
            qdocs(repo, "revise", record_id, "--set", "specification=复检 re-checked & <ok>", "--reason", "bench revision")
    return point, created + [record_id for record_id, _ in existing]


def _existing_inspections(repo: Path, count: int) -> list[tuple[str, str]]:
    """(id, status) of ``count`` final inspections already there (read, not timed)."""
    from qdocs.records import Record

    paths = Repository.open(repo).git.find_files("**/FIR-*/record.yaml")[:count]
    found = []
    for path in paths:
        record = Record.from_yaml((repo / path).read_text(encoding="utf-8"), path.rsplit("/", 1)[0])
        found.append((record.id, record.status))
    return found


def prepare_floor(repo: Path, ids: list[str]) -> list[tuple[Path, Path, list[tuple[object, bytes, bytes]]]]:
    repository = Repository.open(repo)
    keys = {}
    for user in trust_state(repository).users.values():
        for key in user.keys.values():
            keys[key.fingerprint] = public_key_from_text(key.public_text)
    work = []
    for record_id in ids:
        record = get_record(repository, record_id)
        folder = repo / record.path
        checks = [(keys[signature["key"]], base64.b64decode(signature["signature"]),
                   signature_payload(record, signature)) for signature in record.signatures]
        work.append((folder / "record.yaml", folder / "record.docx", checks))
    return work


def floor(work) -> None:
    for yaml_path, docx_path, checks in work:
        hashlib.sha256(yaml_path.read_bytes()).hexdigest()
        hashlib.sha256(docx_path.read_bytes()).hexdigest()
        for key, signature, payload in checks:
            key.verify(signature, payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="a repository made by bench/generate_repository.py")
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    repo = arguments.repo.resolve()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    records = sum(1 for _ in Repository.open(repo).git.find_files("**/record.yaml"))
    print(f"{records:,} records in {repo}")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        point, ids = prepare(repo, Path(folder))
        print(f"checkpoint, then {len(ids)} records changed through qdocs in {time.perf_counter() - started:.0f} s")
        work = prepare_floor(repo, ids)
        command = [sys.executable, str(PROJECT / "cli.py"), "--repo", str(repo), "verify", "--since", str(point),
                   "--json"]
        since_times, floor_times, first = [], [], None
        for number in range(arguments.rounds + 1):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            report = json.loads(done.stdout)
            if done.returncode != 0 or not report["clean"] or report["records_checked"] != len(ids):
                raise SystemExit(f"verify --since is not the expected answer (exit {done.returncode}, "
                                 f"{report['records_checked']} records checked, findings "
                                 f"{report['findings'][:3]})")
            if number == 0:
                first = elapsed
                print(f"first verify --since: {elapsed:.3f} s ({report['records_checked']} records, "
                      f"{report['signatures_checked']} signatures, {report['events_checked']} events since)")
                continue
            since_times.append(elapsed)
            started = time.perf_counter()
            floor(work)
            floor_times.append(time.perf_counter() - started)
        since, base = statistics.median(since_times), statistics.median(floor_times)
        print(f"qdocs verify --since (process), median of {arguments.rounds}: {since:.3f} s "
              f"(first {first:.3f} s); target <= 1 s: {'PASS' if since <= 1.0 else 'FAIL'}")
        print(f"floor (hash the 100 records' files, check their signatures, one loop): {base * 1000:.1f} ms; "
              f"ratio {since / base:.0f}x (the process's start, imports and git's answers dominate)")


if __name__ == "__main__":
    main()
