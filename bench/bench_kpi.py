#!/usr/bin/env python3
"""Benchmark ``qdocs kpi`` against ``qdocs audit`` on the audit benchmark's repository.

The repository is the one ``bench/bench_audit.py`` builds (1,000 products x 10 lots, about
154,000 records' metadata), built by its own builder, or reused (``--reuse``, a repository
kept by ``--keep`` of either script).  Both commands run as processes on the warm caches
(one audit and one kpi first: the fact cache is filled once), alternately (which goes
first changes every round), several rounds; the medians are compared.

Target: ``qdocs kpi --json`` (every figure, over a period holding every record) <= 1.5x
``qdocs audit``.  Checks that they ran on the same commit, and that the figures agree with
the records: the final inspections and nonconformances counted equal those listed by
``qdocs list`` (not void).

    python bench/bench_kpi.py --keep                   # build (about 6 minutes idle), measure, keep
    python bench/bench_kpi.py --reuse REPO --rounds 7  # measure a kept repository
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(PROJECT / "bench"))
sys.path.insert(0, str(PROJECT))

import bench_audit  # noqa: E402

#: a period holding every record of the benchmark, so every record's figures are computed
PERIOD = ("--from", "2000-01-01", "--to", "2099-12-31")
KPI = ("kpi", "--json", *PERIOD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--lots", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    parser.add_argument("--reuse", metavar="REPO", help="measure a repository kept by an earlier --keep run")
    arguments = parser.parse_args()
    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {' '.join(f'{value:.1f}' for value in os.getloadavg())} at start")
    if arguments.reuse:
        root = Path(arguments.reuse)
    else:
        out = PROJECT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="qdocs-bench-kpi-", dir=out)) / "records"
        started = time.perf_counter()
        count = bench_audit.build(root, arguments.products, arguments.lots)
        print(f"built {count} records ({arguments.products} products x {arguments.lots} lots) "
              f"in {time.perf_counter() - started:.1f} s")
    for name in ("audit", "kpi"):  # warm: the first run parses every record once into the fact cache
        figures = bench_audit.command(root, *(("audit",) if name == "audit" else KPI))
        print(f"first {name}: {figures['wall']:.1f} s")
    check_consistency(root)
    times: dict[str, list[float]] = {"audit": [], "kpi": []}
    for round_ in range(arguments.rounds):
        order = ("audit", "kpi") if round_ % 2 == 0 else ("kpi", "audit")
        for name in order:
            figures = bench_audit.command(root, *(("audit",) if name == "audit" else KPI))
            assert figures["exit"] in (0, 1), figures
            times[name].append(figures["wall"])
    audit, kpi = statistics.median(times["audit"]), statistics.median(times["kpi"])
    for name, values in times.items():
        print(f"qdocs {name:<6} median {statistics.median(values):.2f} s   {[round(value, 2) for value in values]}")
    ratio = kpi / audit
    print(f"ratio qdocs kpi / qdocs audit: {ratio:.2f}x (target <= 1.5x): {'PASS' if ratio <= 1.5 else 'FAIL'}")
    print(f"load average {' '.join(f'{value:.1f}' for value in os.getloadavg())} at end")
    if arguments.keep or arguments.reuse:
        print(f"kept {root}")
    else:
        subprocess.run(["rm", "-rf", str(root.parent)], check=False)


def check_consistency(root: Path) -> None:
    """Same commit for both; the counts of the figures equal the records listed."""
    kpi = json.loads(_output(root, *KPI))
    audit = json.loads(_output(root, "audit", "--json"))
    assert kpi["commit"] == audit["commit"], (kpi["commit"], audit["commit"])
    inspections = sum(month["inspections"] for month in kpi["first_pass_yield"])
    listed = _live(root, "final-inspection")
    assert inspections == listed, (inspections, listed)
    nonconformances = _live(root, "nonconformance")
    assert kpi["nonconformances"]["total"] == nonconformances, (kpi["nonconformances"]["total"], nonconformances)
    first_pass = sum(month["first_pass"] for month in kpi["first_pass_yield"])
    print(f"same commit {kpi['commit'][:12]} ({audit['records']} records); final inspections counted {inspections} "
          f"= listed {listed}, first pass {first_pass}; nonconformances {nonconformances}; customer cases "
          f"{kpi['customer_cases']['total']} ({kpi['customer_cases']['over']} over "
          f"{kpi['customer_cases']['limit_hours']:g} h); suppliers expired {len(kpi['supplier_evaluations']['expired'])}, "
          f"due {len(kpi['supplier_evaluations']['due'])}; maintenance overdue {len(kpi['maintenance']['overdue'])}")


def _live(root: Path, type_id: str) -> int:
    records = json.loads(_output(root, "list", "--type", type_id, "--json"))
    return sum(record["status"] != "void" for record in records)


def _output(root: Path, *arguments: str) -> str:
    process = subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), *arguments],
                             capture_output=True, text=True, check=False)
    assert process.returncode in (0, 1), process.stderr
    return process.stdout


if __name__ == "__main__":
    main()
