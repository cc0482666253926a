#!/usr/bin/env python3
"""Peak memory of ``qdocs new --batch`` from a YAML file, as a user runs it.

A YAML list of ``--rows`` final inspections is written first (the type's example with varied
lots, quantities, product names and inspection rows, Chinese and English), then in a new
repository (``qdocs init``) the command ``qdocs new final-inspection --batch rows.yaml`` runs
as a process while this script samples, every 50 ms, the proportional set size (PSS) of its
whole process tree: the command and the git processes it starts, shared pages counted once.
Afterwards the repository must hold exactly the rows given.

Target (issue 16): peak <= 200 MiB for 10,000 rows.

    python bench/bench_batch.py                 # 10,000 rows
    python bench/bench_batch.py --rows 2000     # a quick look
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bench_search import compile_project, machine, run_with_peak  # noqa: E402

TYPE_ID = "final-inspection"
TARGET_MIB = 200
PASSPHRASE = "benchmark passphrase"


def rows(count: int, seed: int = 16) -> list[dict]:
    from qdocs.catalog import load_catalog
    from qdocs.examples import example_values

    catalog = load_catalog()
    example = example_values(catalog, catalog.get(TYPE_ID))
    rng = random.Random(seed)
    made = []
    for number in range(count):
        row = dict(example, product="PUMP-X200", lot=f"L2026-{number % 400:03d}", quantity=rng.randint(1, 500))
        row["product_name"] = f"离心泵 Centrifugal pump {number} " + "出厂检验 final inspection " * rng.randint(1, 12)
        row["items"] = [dict(item, result=f"{item['result']} #{number}") for item in example["items"]]
        made.append(row)
    return made


def main() -> None:
    compile_project()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    arguments = parser.parse_args()
    from qdocs import yamlio

    work = Path(tempfile.mkdtemp(prefix="qdocs-bench-batch-"))
    environment = {**os.environ, "QDOCS_HOME": str(work / "home"), "QDOCS_PASSPHRASE": PASSPHRASE,
                   "QDOCS_NEW_PASSPHRASE": PASSPHRASE}
    qdocs = [sys.executable, str(PROJECT / "cli.py"), "--repo", str(work / "records")]
    data = work / "rows.yaml"
    data.write_text(yamlio.dump(rows(arguments.rows)), encoding="utf-8")
    subprocess.run([*qdocs, "init", "--site", "S1", "--admin", "bench.admin", "--full-name", "Bench"],
                   check=True, env=environment, capture_output=True)
    print(f"[{time.strftime('%H:%M:%S')}] {arguments.rows} rows, {data.stat().st_size / 2 ** 20:.1f} MiB of YAML",
          file=sys.stderr, flush=True)
    done, seconds, peak = run_with_peak([*qdocs, "--actor", "bench.admin", "new", TYPE_ID, "--batch", str(data)],
                                        env=environment)
    if done.returncode != 0:
        raise SystemExit(f"qdocs new --batch failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    output = done.stdout
    made = [line for line in output.splitlines() if line.startswith("FIR-")]
    listed = subprocess.run(["git", "-C", str(work / "records"), "ls-files", "*/record.yaml"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    if len(made) != arguments.rows or len(listed) != arguments.rows:
        raise SystemExit(f"{arguments.rows} rows given, {len(made)} ids printed, {len(listed)} records in git")
    report = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "machine": machine(),
              "rows": arguments.rows, "yaml_mib": round(data.stat().st_size / 2 ** 20, 1),
              "seconds": round(seconds, 1), "records_per_s": round(arguments.rows / seconds, 1),
              "peak_tree_pss_mib": round(peak / 2 ** 20, 1), "target_mib": TARGET_MIB,
              "pass": peak / 2 ** 20 <= TARGET_MIB, "load_average_end": round(os.getloadavg()[0], 1)}
    print(json.dumps(report, ensure_ascii=False, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
