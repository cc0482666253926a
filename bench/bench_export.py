#!/usr/bin/env python3
"""``qdocs export`` of 40 records as a process, against LibreOffice alone converting the same
``.docx`` files in one call.

The records are approved records of four lot types made and signed through the library
(``bench_pdf.build``), as a user has them.  The peer is the least any export must do:
``soffice --convert-to pdf`` of the 40 documents (taken from the repository first, not
timed) in one call, with a new profile of its own as qdocs gives each run.  Before timing,
both sides' outputs are checked: one PDF per record, each starting with ``%PDF-``.  The two
commands are alternated, ``--runs`` times each; medians and their ratio.

Target (issue 16): qdocs / LibreOffice <= 1.1.

    python bench/bench_export.py --runs 3
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bench_pdf import build  # noqa: E402
from bench_search import compile_project, machine  # noqa: E402

TARGET = 1.1


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(command: list[str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({done.returncode}): {done.stderr[-500:]}")
    return seconds


def check(out: Path, ids: list[str]) -> None:
    found = {path.stem: path.read_bytes()[:5] for path in out.glob("*.pdf")}
    missing = [record_id for record_id in ids if found.get(record_id) != b"%PDF-"]
    if missing:
        raise SystemExit(f"{out}: no PDF for {missing[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    compile_project()
    work = Path(tempfile.mkdtemp(prefix="qdocs-bench-export-"))
    log(f"{arguments.records} approved records in {work}")
    repository, ids = build(work / "records", arguments.records, work / "home")
    from qdocs.queries import record_at_revision

    documents = work / "documents"
    documents.mkdir()
    for record_id in ids:
        (documents / f"{record_id}.docx").write_bytes(record_at_revision(repository, record_id)[1])
    repository.close()
    soffice = shutil.which("soffice") or "soffice"
    commands = {
        "qdocs": [sys.executable, str(PROJECT / "cli.py"), "--repo", str(work / "records"), "--actor", "bench",
                  "export", *ids, "-o", str(work / "out-qdocs")],
        "libreoffice": [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(work / "out-libreoffice"),
                        *[str(documents / f"{record_id}.docx") for record_id in ids]],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(arguments.runs):
        for name in (("qdocs", "libreoffice") if index % 2 == 0 else ("libreoffice", "qdocs")):
            command = list(commands[name])
            if name == "libreoffice":  # a new profile each run, as qdocs gives each of its runs
                profile = work / f"profile-{index}"
                command.insert(1, f"-env:UserInstallation={profile.as_uri()}")
            out = work / f"out-{name}"
            times[name].append(run(command, out))
            check(out, ids)
            log(f"  {name}: {times[name][-1]:.1f} s")
    medians = {name: round(statistics.median(values), 2) for name, values in times.items()}
    report = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "machine": machine(),
        "load_average": round(os.getloadavg()[0], 1), "records": len(ids), "runs": arguments.runs,
        "seconds": times, "median_s": medians,
        "per_record_s": {name: round(value / len(ids), 3) for name, value in medians.items()},
        "qdocs_over_libreoffice": round(medians["qdocs"] / medians["libreoffice"], 2), "target": TARGET,
        "pass": medians["qdocs"] / medians["libreoffice"] <= TARGET,
    }
    print(json.dumps(report, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
