#!/usr/bin/env python3
"""One ``qdocs new`` process in a large repository as a user has it, against a bare docxtpl script.

The repository is given (``--repo``) and must be what a user's is after years of work: packed
by ``git gc``, with a search index; the benchmark checks both before it measures.  The data
comes from a YAML file, as users give it.

Measured, alternated run by run so that drift hits every side alike (median of ``--runs``):

qdocs    ``qdocs --repo R --actor A new final-inspection --data F`` (the command, a process);
old      the same command from another checkout (``--old DIR``: its ``cli.py``), to compare
         two versions of qdocs in one run;
bare     a Python process that reads a YAML file holding what qdocs gives the template (the
         record's context), renders the same template with docxtpl and saves the ``.docx``;
python   ``python -c pass``: the interpreter's start, for context.

In a large repository git's index is caught up just after each action by a process of its
own (``qdocs.store.staging``); the script waits for it after each qdocs run, outside the
timing, so that it never runs beside the next command, and reports how long it took.

After the runs, one ``qdocs search`` (a process) shows what the records made cost the next
search (it indexes them first), and a second one what a search costs once the index is current.

small    with ``--small R2``: the same command in a small repository built the same way, for
         the cost of a record by the repository's size.

Targets (issue 16): qdocs / bare <= 1.3 at 100,000 records; qdocs at 1,000,000 records /
small at 100 records <= 1.1.

    python bench/bench_new.py --repo /tmp/qweb100k/records --actor bench.inspector --runs 10
    python bench/bench_new.py --repo R --actor A --old /path/to/older/checkout
    python bench/bench_new.py --repo /tmp/q1m/records --small /tmp/q100/records --actor bench.admin
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
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

from bench_search import compile_project, machine  # noqa: E402

TYPE_ID = "final-inspection"
TARGET = 1.3
BARE_SCRIPT = """
import sys
import yaml
from docxtpl import DocxTemplate

template, context_file, output = sys.argv[1:4]
with open(context_file, encoding="utf-8") as handle:
    context = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
document = DocxTemplate(template)
document.render(context)
document.save(output)
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=True).stdout


def check_repository(repo: Path, qdocs: list[str], index: bool = True) -> dict[str, Any]:
    """The repository is packed and has a search index, or the figures would not be the user's
    (``index`` False: a repository whose index is not built yet, said in the report)."""
    objects = dict(line.split(": ", 1) for line in git(repo, "count-objects", "-v").splitlines())
    # loose objects up to git's own threshold for packing them (gc.auto, 6,700) are a user's normal state
    if int(objects["in-pack"]) == 0 or int(objects["count"]) > max(6700, int(objects["in-pack"]) // 10):
        raise SystemExit(f"{repo} is not packed ({objects['count']} loose objects, {objects['in-pack']} packed): "
                         "run git gc in it first")
    if not index:
        return {"loose_objects": int(objects["count"]), "packed_objects": int(objects["in-pack"]),
                "pack_size_gib": round(int(objects["size-pack"]) / 2 ** 20, 2), "indexed_records": None,
                "search_index": "not built"}
    status = subprocess.run([*qdocs, "--repo", str(repo), "index", "status", "--json"], capture_output=True, text=True)
    report = json.loads(status.stdout)
    if not report["exists"]:
        raise SystemExit(f"{repo} has no search index: run qdocs index rebuild in it first")
    return {"loose_objects": int(objects["count"]), "packed_objects": int(objects["in-pack"]),
            "pack_size_gib": round(int(objects["size-pack"]) / 2 ** 20, 2), "indexed_records": report["records"],
            "records_behind": len(report["missing"]) + len(report["stale"]) + len(report["removed"])}


def run(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} ... failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def wait_for_index(repo: Path, limit: float = 30.0) -> float:
    """Seconds until git's index has caught up with the last action (in a large repository
    a process of its own does it just after the action: :mod:`qdocs.store.staging`), so that
    it never runs beside the next timed command."""
    started = time.perf_counter()
    pending = repo / ".git" / "qdocs" / "index-behind"
    while time.perf_counter() - started < limit:
        try:
            if pending.stat().st_size == 0:
                break
        except FileNotFoundError:
            break
        time.sleep(0.002)
    return time.perf_counter() - started


def main() -> None:
    compile_project()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a packed repository with a search index")
    parser.add_argument("--actor", required=True, help="a user who may prepare final inspections")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--old", type=Path, help="another checkout of qdocs to run side by side")
    parser.add_argument("--without-index", action="store_true",
                        help="the large repository has no search index yet (qdocs new neither reads nor writes it; "
                             "a run with an index shows that); said in the report")
    parser.add_argument("--small", type=Path, help="a small repository (say 100 records, built the same way): "
                        "the same command in it, side by side, for the cost of a record by the repository's size")
    arguments = parser.parse_args()
    repo = arguments.repo.resolve()
    qdocs = [sys.executable, str(PROJECT / "cli.py")]
    log(f"checking {repo}")
    state = check_repository(repo, qdocs, index=not arguments.without_index)
    log(f"  {state}")

    from qdocs import yamlio
    from qdocs.actions import prepare
    from qdocs.examples import example_values
    from qdocs.rendering import DocumentHeader, build_context
    from qdocs.repository import Repository

    repository = Repository.open(repo)
    catalog, record_type = repository.catalog, repository.catalog.get(TYPE_ID)
    records = sum(1 for line in git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
                  if line.endswith("/record.yaml"))
    work = Path(tempfile.mkdtemp(prefix="qdocs-bench-new-"))
    values = example_values(catalog, record_type)
    data_file = work / f"{TYPE_ID}.yaml"
    data_file.write_text(yamlio.dump(values), encoding="utf-8")
    subject, data = prepare(record_type, values)
    today = _dt.date.today().isoformat()
    company = " ".join(part for part in (catalog.company.zh, catalog.company.en) if part)
    header = DocumentHeader(id="FIR-S1-2026-0001", revision="A", status="draft", company=company,
                            site=repository.site(), created=today, changed=today, subject_label=subject.label(),
                            subject=subject.as_dict())
    context_file = work / "context.yaml"
    context_file.write_text(yamlio.dump(json.loads(json.dumps(build_context(catalog, record_type, header, data),
                                                              default=str))), encoding="utf-8")
    script = work / "bare_render.py"
    script.write_text(BARE_SCRIPT, encoding="utf-8")
    template = work / record_type.template  # the template in force, as qdocs reads it
    template.write_bytes(catalog.template_bytes(record_type))
    repository.close()

    commands = {
        "qdocs": [*qdocs, "--repo", str(repo), "--actor", arguments.actor, "new", TYPE_ID, "--data", str(data_file)],
        "bare": [sys.executable, str(script), str(template), str(context_file), str(work / "bare.docx")],
        "python": [sys.executable, "-c", "pass"],
    }
    if arguments.old:
        commands["old"] = [sys.executable, str(arguments.old.resolve() / "cli.py"), *commands["qdocs"][2:]]
    small = arguments.small.resolve() if arguments.small else None
    if small:
        small_state = check_repository(small, qdocs)
        commands["small"] = [*qdocs, "--repo", str(small), "--actor", arguments.actor, "new", TYPE_ID, "--data",
                             str(data_file)]
    times: dict[str, list[float]] = {name: [] for name in commands}
    catch_up: list[float] = []
    log(f"{records} records; warm-up, then {arguments.runs} alternated runs of {', '.join(commands)}")
    for name, command in commands.items():
        run(command, work)
    names = list(commands)
    for index in range(arguments.runs):
        order = names[index % len(names):] + names[:index % len(names)]
        for name in order:
            seconds, output = run(commands[name], work)
            if name in ("qdocs", "old", "small") and not output.strip().startswith(record_type.prefix + "-"):
                raise SystemExit(f"{name} printed {output!r}, not a record id")
            times[name].append(seconds)
            if name == "qdocs":
                catch_up.append(wait_for_index(repo))
            elif name == "small":
                wait_for_index(small)
    made = 2 * (arguments.runs + 1) if arguments.old else arguments.runs + 1
    first_search = second_search = None
    if not arguments.without_index:
        first_search, _ = run([*qdocs, "--repo", str(repo), "search", "出厂检验", "--limit", "5"], work)
        second_search, _ = run([*qdocs, "--repo", str(repo), "search", "出厂检验", "--limit", "5"], work)
    medians = {name: round(statistics.median(values), 3) for name, values in times.items()}
    report = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "machine": machine(),
        "load_average": round(os.getloadavg()[0], 1), "repository": {"records": records, **state},
        "runs": arguments.runs, "seconds": times, "median_s": medians,
        "qdocs_over_bare": round(medians["qdocs"] / medians["bare"], 2),
        **({"old_over_bare": round(medians["old"] / medians["bare"], 2)} if arguments.old else {}),
        **({"small_repository": {"records": small_state["indexed_records"], **small_state},
            "large_over_small": round(medians["qdocs"] / medians["small"], 2), "large_over_small_target": 1.1}
           if small else {}),
        "target": TARGET, "pass": medians["qdocs"] / medians["bare"] <= TARGET,
        "index_caught_up_after_s": {"median": round(statistics.median(catch_up), 3), "max": round(max(catch_up), 3),
                                    "note": "after the command ended, by its catch-up process; not in the command's time"},
        "next_search_s": None if first_search is None else {
            "after_records_made": made, "first": round(first_search, 2), "again": round(second_search, 2)},
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
