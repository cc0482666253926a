#!/usr/bin/env python3
"""``qdocs index rebuild`` on a given repository: records per second and the peak memory
of its whole process tree (the command, its worker processes and their git readers: the sum
of their PSS, sampled every 50 ms).

The repository is one a user has (``bench/generate_repository.py`` writes one of any size).
Targets (issue 16) at 1,000,000 records: at least 500 records/s with both cores, at most
1 GiB peak.

    python bench/bench_rebuild.py --repo /tmp/q1m/records
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_search import compile_project, machine, measure_rebuild  # noqa: E402

TARGETS = {"records_per_s": 500, "peak_tree_pss_mib": 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    arguments = parser.parse_args()
    compile_project()
    load = os.getloadavg()[0]
    result = measure_rebuild(arguments.repo.resolve())
    result.update(date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), machine=machine(),
                  load_average_before=round(load, 1), load_average_after=round(os.getloadavg()[0], 1),
                  targets=TARGETS, pass_speed=result["records_per_s"] >= TARGETS["records_per_s"],
                  pass_memory=result["peak_tree_pss_mib"] <= TARGETS["peak_tree_pss_mib"])
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
