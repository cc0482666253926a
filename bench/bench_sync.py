#!/usr/bin/env python3
"""Benchmark ``qdocs sync`` between two sites sharing a repository of 100,000 records.

Set-up (not timed, except where logged):

base      a records repository of site S1 with ``--records`` records of every type, each
          with its ``record.yaml`` and its ``.docx`` (the generator of ``bench_search.py``:
          records validated and rendered by qdocs, varied text), committed in one commit
          and packed (``git gc``), with the search index built by ``qdocs index rebuild``.
          The base is the starting point that both sites already hold and accepted: a
          sync checks what changed since then, so the base's records are never checked by
          the sync measured here (they carry no signing events: ``qdocs verify`` of the
          whole repository would report them; the numbering counters of the base are not
          written for the same reason).
server    a bare clone of the base with qdocs' pre-receive hook installed
          (``qdocs server install-hook``), served from a path.
S1        the base itself (``qdocs sync`` is measured here) and a plain clone of the server
          with a copy of the same search index (``git pull`` is measured there).
S2        a clone of the server with ``qdocs init --site S2``; each round it creates
          ``--new`` records with ``qdocs new final-inspection --batch FILE`` (a YAML list,
          each with a word of its own round) and sends them with ``qdocs sync`` (through the
          server's hook: the push's time is reported).

Measured per round, alternating which side goes first:

qdocs     ``qdocs sync`` at S1: fetch, check what came in, fast-forward, the search index
          catching up with the new records, nothing to push;
peer      ``git pull --no-rebase --quiet origin main`` in the plain clone, then the search
          index catching up with the same commits (``SearchIndex.catch_up`` in a process of
          its own, as the first ``qdocs search`` after a pull would do it).

Before a round's times count, both sides are asserted to hold the same commit and the
same records: ``qdocs search ROUND-WORD --json`` returns the same ids on both, and they are
exactly the ids S2 created.  Then ``qdocs sync`` with nothing new, three times.

Targets: sync ≤ 1.5× the peer; a sync with nothing new ≤ 0.5 s.

    python bench/bench_sync.py                                   # 100,000 records, 5 rounds
    python bench/bench_sync.py --records 5000 --rounds 2         # quick look
    python bench/bench_sync.py --workdir /tmp/qsync --keep       # keep the sites (a later run reuses them)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

import bench_search  # noqa: E402
from bench_search import _write_record, compile_project, machine, make_templates, new_repository  # noqa: E402

TARGETS = {"sync_over_pull": 1.5, "nothing_new_s": 0.5}
QDOCS = [sys.executable, str(PROJECT / "cli.py")]
CATCH_UP = ("import sys; from qdocs.repository import Repository; from qdocs.search.index import SearchIndex; "
            "repository = Repository.open(sys.argv[1]); SearchIndex(repository).catch_up(); repository.close()")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def qdocs(repo: Path, *arguments: str, actor: str = "bench") -> str:
    done = subprocess.run([*QDOCS, "--repo", str(repo), "--actor", actor, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"qdocs {' '.join(arguments)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def timed(command: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def build(workdir: Path, size: int) -> dict[str, Any]:
    """The base at S1, the server, the plain clone and S2 (see the module's docstring)."""
    started = time.monotonic()
    s1, server, plain, s2 = (workdir / name for name in ("s1", "server.git", "plain", "s2"))
    log(f"base: {size} records")
    rng = random.Random(7)
    templates = make_templates(workdir)
    repository = new_repository(s1)
    for key, value in (("core.looseCompression", "1"), ("gc.auto", "0")):
        git(s1, "config", key, value)
    by_type: dict[str, list[Any]] = {}
    for template in templates:
        by_type.setdefault(template.record.type, []).append(template)
    type_ids = sorted(by_type)
    numbers: dict[str, int] = {}
    for index in range(size):
        type_id = type_ids[index % len(type_ids)]
        _write_record(s1, by_type[type_id][0 if rng.random() < 0.85 else 1], numbers, rng)
        if (index + 1) % 20_000 == 0:
            log(f"  {index + 1} records written")
    repository.close()
    git(s1, "add", "-A")
    git(s1, "-c", "user.name=bench", "-c", "user.email=bench@qdocs.local", "commit", "-qm", f"base of {size} records")
    log("base: git gc (packed, as a repository that has lived a while is)")
    git(s1, "gc", "--quiet")
    log("base: qdocs index rebuild")
    index_started = time.monotonic()
    qdocs(s1, "index", "rebuild")
    index_seconds = time.monotonic() - index_started
    log(f"server: bare clone and qdocs' hook ({time.monotonic() - started:.0f} s so far)")
    subprocess.run(["git", "clone", "--quiet", "--bare", str(s1), str(server)], check=True)
    qdocs(s1, "server", "install-hook", str(server))
    git(s1, "remote", "add", "origin", str(server))
    git(s1, "fetch", "--quiet", "origin")
    git(s1, "branch", "--quiet", "--set-upstream-to=origin/main")
    for clone in (plain, s2):
        subprocess.run(["git", "clone", "--quiet", str(server), str(clone)], check=True)
        shutil.copytree(s1 / ".qdocs" / "index", clone / ".qdocs" / "index")
    qdocs(s2, "init", "--site", "S2")
    git(s2, "config", "user.name", "bench")
    git(plain, "config", "user.name", "bench")
    git(plain, "config", "user.email", "bench@qdocs.local")
    return {"records": size, "build_s": round(time.monotonic() - started, 1), "index_rebuild_s": round(index_seconds, 1),
            "objects": git(s1, "count-objects", "-v").splitlines()}


def new_records(workdir: Path, s2: Path, round_number: int, count: int) -> tuple[str, list[str]]:
    """``count`` final inspections made at S2 from a data file, each naming this round's word."""
    word = f"zqsyncround{round_number:03d}x{random.Random().randint(0, 10**6):06d}"
    example = qdocs(s2, "types", "show", "final-inspection", "--example")
    import yaml

    data = yaml.safe_load(example)
    rows = []
    for number in range(count):
        row = dict(data)
        row.update(product=f"PUMP-S{round_number:02d}", lot=f"L2026-{round_number:02d}{number:03d}",
                   specification=f"{word} Q 50 m³/h H 32 m")
        rows.append(row)
    path = workdir / f"batch-{round_number}.yaml"
    path.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    created = json.loads(qdocs(s2, "new", "final-inspection", "--batch", str(path), "--json"))
    return word, sorted(record["id"] for record in created)


def found(repo: Path, word: str) -> list[str]:
    answer = json.loads(qdocs(repo, "search", word, "--json", "--limit", "1000"))
    return sorted(hit["id"] for hit in answer["results"])


def run_rounds(workdir: Path, rounds: int, count: int) -> dict[str, Any]:
    s1, plain, s2 = workdir / "s1", workdir / "plain", workdir / "s2"
    sync_times, peer_times, push_times, idle_times = [], [], [], []
    for round_number in range(1, rounds + 1):
        word, created = new_records(workdir, s2, round_number, count)
        push_times.append(timed([*QDOCS, "--repo", str(s2), "--actor", "bench", "sync"]))
        sides = [("qdocs", lambda: timed([*QDOCS, "--repo", str(s1), "--actor", "bench", "sync"])),
                 ("peer", lambda: timed(["git", "pull", "--no-rebase", "--quiet", "origin", "main"], plain)
                  + timed([sys.executable, "-c", CATCH_UP, str(plain)], PROJECT))]
        if round_number % 2 == 0:
            sides.reverse()
        measured = {name: run() for name, run in sides}
        assert git(s1, "rev-parse", "HEAD") == git(plain, "rev-parse", "HEAD") == git(s2, "rev-parse", "HEAD"), \
            "both sides hold the commit S2 sent"
        ours, theirs = found(s1, word), found(plain, word)
        assert ours == theirs == created, (len(ours), len(theirs), len(created))
        sync_times.append(measured["qdocs"])
        peer_times.append(measured["peer"])
        log(f"round {round_number}: {count} records; sync {measured['qdocs']:.2f} s, pull + index "
            f"{measured['peer']:.2f} s, S2's sync (push through the hook) {push_times[-1]:.2f} s")
        for _ in range(3):
            idle_times.append(timed([*QDOCS, "--repo", str(s1), "--actor", "bench", "sync"]))
    sync_median, peer_median = statistics.median(sync_times), statistics.median(peer_times)
    return {"rounds": rounds, "new_records_per_round": count, "sync_s": [round(t, 3) for t in sync_times],
            "peer_s": [round(t, 3) for t in peer_times], "push_with_hook_s": [round(t, 3) for t in push_times],
            "nothing_new_s": [round(t, 3) for t in idle_times],
            "sync_median_s": round(sync_median, 3), "peer_median_s": round(peer_median, 3),
            "ratio": round(sync_median / peer_median, 2), "nothing_new_median_s": round(statistics.median(idle_times), 3),
            "nothing_new_worst_s": round(max(idle_times), 3)}


def main() -> None:
    compile_project()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records of the base (default 100,000)")
    parser.add_argument("--new", type=int, default=100, help="records S2 sends per round (default 100)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="where the sites are made (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the sites (a later run with --workdir reuses them)")
    arguments = parser.parse_args()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qdocs-sync-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QDOCS_PASSPHRASE", "benchmark passphrase")
    report: dict[str, Any] = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="minutes"),
                              "machine": machine(), "targets": TARGETS,
                              "commit": git(PROJECT, "rev-parse", "--short", "HEAD")}
    if (workdir / "s2" / ".git").exists():
        log(f"reusing the sites in {workdir}")
        report["build"] = None
    else:
        report["build"] = build(workdir, arguments.records)
    report["load_average_before"] = round(os.getloadavg()[0], 1)
    report["sync"] = run_rounds(workdir, arguments.rounds, arguments.new)
    report["load_average_after"] = round(os.getloadavg()[0], 1)
    report["sync"]["pass"] = (report["sync"]["ratio"] <= TARGETS["sync_over_pull"]
                              and report["sync"]["nothing_new_median_s"] <= TARGETS["nothing_new_s"])
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if not arguments.keep and not arguments.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    bench_search.log = log
    main()
