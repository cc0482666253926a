"""Benchmark: ``qdocs verify`` over many signed records against its floor.

The floor is the least any verifier must do: read and hash every ``record.yaml``
and ``record.docx`` and check every signature with the raw ``cryptography``
library, in one loop (payloads and keys prepared beforehand, outside the timing).
qdocs does that plus parsing the metadata, replaying and checking the event chain
against git history, folding the trust log, and checking the authority behind every
signature (key registered by an authorised entry, role held, catalog in force),
the forms, the numbering and the commits that touched users, forms and sequences.

Both are run alternately, several times, in one process; the figure that
matters is the ratio of medians (target: at most 2x).

    python bench/bench_verify.py                 # 10,000 signed records (about 20 minutes, mostly building)
    python bench/bench_verify.py --records 1000  # quick
    python bench/bench_verify.py --keep /tmp/v10k   # keep the built repository ...
    python bench/bench_verify.py --reuse /tmp/v10k  # ... and measure it again later
    python bench/bench_verify.py --repo /tmp/q100k/records   # a generated repository (--sign), qdocs verify as a process
"""

from __future__ import annotations

import argparse
import base64
import hashlib
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

from qdocs.actions import create_records  # noqa: E402
from qdocs.examples import example_values  # noqa: E402
from qdocs.founding import init_repository  # noqa: E402
from qdocs.keys import public_key_from_text  # noqa: E402
from qdocs.queries import iter_records  # noqa: E402
from qdocs.repository import Repository  # noqa: E402
from qdocs.signatures import signature_payload  # noqa: E402
from qdocs.signing import sign_records  # noqa: E402
from qdocs.trust.administration import Credentials, add_user, register_key, trust_state  # noqa: E402
from qdocs.trust.genesis import Enrollment  # noqa: E402
from qdocs.verification import verify_repository  # noqa: E402

PASSPHRASE = "benchmark passphrase"


def build(root: Path, count: int) -> Repository:
    """``count`` final inspections, each inspected and approved (three commits in all per chunk)."""
    home = root / "home"
    repository, _ = init_repository(root / "records", "S1", "bench",
                                    administrator=Enrollment("admin", "管理员 Admin", PASSPHRASE, home))
    admin = Credentials("admin", PASSPHRASE, home)
    add_user(repository, admin, "inspector", "检验员 Inspector", ["inspector"])
    add_user(repository, admin, "manager", "质量经理 Manager", ["qc-manager"])
    register_key(repository, admin, "inspector", PASSPHRASE)
    register_key(repository, admin, "manager", PASSPHRASE)
    values = example_values(repository.catalog, repository.catalog.get("final-inspection"))
    chunk = 1000
    for start in range(0, count, chunk):
        size = min(chunk, count - start)
        records = create_records(
            repository, "final-inspection", [{**values, "lot": f"L{start + n:06d}"} for n in range(size)], "bench")
        ids = [record.id for record in records]
        sign_records(repository, ids, "inspector", "inspected", PASSPHRASE, home=home)
        sign_records(repository, ids, "manager", "approved", PASSPHRASE, home=home)
        print(f"  built {start + size} signed records", file=sys.stderr, flush=True)
    return repository


def prepare_floor(repository: Repository) -> list[tuple[Path, Path, list[tuple[object, bytes, bytes]]]]:
    keys = {}
    for user in trust_state(repository).users.values():
        for key in user.keys.values():
            keys[key.fingerprint] = public_key_from_text(key.public_text)
    work = []
    for record in iter_records(repository):
        folder = repository.root / record.path
        checks = [(keys[s["key"]], base64.b64decode(s["signature"]), signature_payload(record, s)) for s in record.signatures]
        work.append((folder / "record.yaml", folder / "record.docx", checks))
    return work


def floor(work) -> int:
    checked = 0
    for yaml_path, docx_path, checks in work:
        hashlib.sha256(yaml_path.read_bytes()).hexdigest()
        hashlib.sha256(docx_path.read_bytes()).hexdigest()
        for public_key, signature, payload in checks:
            public_key.verify(signature, payload)
            checked += 1
    return checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the repository in DIR and keep it (a later --reuse DIR measures it again)")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="measure the repository kept by --keep DIR")
    parser.add_argument("--repo", type=Path, metavar="R", help="measure this repository (bench/generate_repository.py "
                        "--sign writes one of any size), qdocs verify run as a whole process")
    arguments = parser.parse_args()
    print(f"machine: {platform.node()} {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="qdocs-bench-verify-") as directory:
        started = time.perf_counter()
        if arguments.repo:
            repository = Repository.open(arguments.repo)
            arguments.records = sum(1 for _ in iter_records(repository))
            print(f"{arguments.records} records in {arguments.repo}")
        elif arguments.reuse:
            repository = Repository.open(arguments.reuse / "records")
            arguments.records = sum(1 for _ in iter_records(repository))
            print(f"reusing {arguments.records} signed records in {arguments.reuse}")
        else:
            target = arguments.keep or Path(directory)
            target.mkdir(parents=True, exist_ok=True)
            repository = build(target, arguments.records)
            print(f"built {arguments.records} signed records in {time.perf_counter() - started:.0f} s")
        work = prepare_floor(repository)
        qdocs_times, floor_times = [], []
        for _ in range(arguments.rounds):
            started = time.perf_counter()
            signatures = floor(work)
            floor_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            if arguments.repo:  # the command, as a process
                done = subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(repository.root),
                                       "verify"], capture_output=True, text=True)
                qdocs_times.append(time.perf_counter() - started)
                assert done.returncode == 0 and done.stdout.rstrip().endswith("clean"), done.stdout[-500:]
                events = done.stdout.rstrip().splitlines()[-1]
                continue
            report = verify_repository(Repository.open(repository.root))
            qdocs_times.append(time.perf_counter() - started)
            assert report.clean, report.findings[:3]
            events = f"events {report.events_checked}"
        qdocs_median, floor_median = statistics.median(qdocs_times), statistics.median(floor_times)
        print(f"records {arguments.records}, signatures {signatures}, {events}")
        print(f"floor (hash files + verify signatures): median {floor_median:.2f} s  {[round(t, 2) for t in floor_times]}")
        print(f"qdocs verify:                           median {qdocs_median:.2f} s  {[round(t, 2) for t in qdocs_times]}")
        print(f"ratio qdocs / floor: {qdocs_median / floor_median:.2f}x (target <= 1.5x; the floor's payloads and keys "
              "are prepared beforehand, in this process)")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
