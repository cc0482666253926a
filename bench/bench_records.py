#!/usr/bin/env python3
"""Benchmark qdocs records against docxtpl alone, side by side in one run.

What is measured (record type ``final-inspection``, varied data: different
products, lots, quantities, dates and inspection rows):

(a) batch    ``qdocs.actions.create_records`` of N records (one commit) against
             rendering the same N documents with docxtpl alone (template bytes
             loaded once, ``DocxTemplate(BytesIO(bytes))`` per record, the same
             context qdocs builds, each ``.docx`` written to a folder).  Run as
             baseline-half / qdocs / baseline-half so drift hits both sides.
(b) process  one ``python cli.py new final-inspection --data F`` process against
             a bare Python process that imports docxtpl, renders the template
             once and saves it.  Alternated, median of several runs each.
(c) growth   ``qdocs.actions.create_record`` (one record, one commit) in a repository
             holding 100 records against one holding 10,000, interleaved.
(d) memory   peak RSS of a child process that runs a 10,000-record
             ``create_records`` (``os.wait4`` of that child: its own RSS and that
             of the git processes it waited for).  That repository is then
             the large repository of (c).

Every comparison is a ratio of runs made in the same process run, interleaved,
because the machine is shared: absolute seconds are printed for context only.

Usage::

    python bench/bench_records.py --snapshot HEAD  # full run on the committed code
    python bench/bench_records.py                  # full run on the working tree
    python bench/bench_records.py --quick          # smaller run (figures not comparable with targets)
    python bench/bench_records.py --json           # JSON on stdout instead of the table
    python bench/bench_records.py --show FILE      # the table of a saved --json result
    python bench/bench_records.py --only a,b       # some sections only

Expected runtime on 2 cores (AMD EPYC, one render 25-60 ms): full about 7
minutes at commit d02fe8e on an idle machine (8 at 9483e58 on a shared one, 13
to 16 at earlier commits, when git's background ``gc --auto`` after the big
batch ran up to 3 minutes).  About 5 of the 7 minutes are the 10,000-record
batch of (d), where every record is rendered; the script then waits for git's
background gc so that
it does not disturb (c).  ``--large 5000`` halves that part (figures then no
longer at the sizes the targets are set for).  --quick takes 1 to 2.5 minutes.
Work happens in a temporary folder under bench/out/ (git-ignored), removed at
the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

#: the qdocs source tree measured (this checkout, or --project / --snapshot);
#: put first on sys.path by use_project() before anything imports qdocs
PROJECT = Path(__file__).resolve().parent.parent
CHECKOUT = PROJECT


def use_project(path: Path) -> None:
    """Measure the qdocs tree at ``path``, byte-compiled first as ``pip install`` does
    (otherwise, with PYTHONDONTWRITEBYTECODE set, every process of (b) would compile
    qdocs' modules from source while docxtpl's come compiled from site-packages)."""
    import compileall

    global PROJECT
    PROJECT = path.resolve()
    compileall.compile_dir(str(PROJECT / "qdocs"), quiet=1)
    compileall.compile_file(str(PROJECT / "cli.py"), quiet=1)
    sys.path.insert(0, str(PROJECT))

TYPE_ID = "final-inspection"
ACTOR = "bench"
SITE = "S1"

TARGETS = {
    "a": ("batch of N: qdocs create_records / docxtpl alone, per record", 1.5),
    "b": ("one process: qdocs new / bare docxtpl script", 1.5),
    "c": ("single create: 10,000-record repo / 100-record repo", 1.3),
    "d": ("peak RSS of a 10,000-record create_records (MiB)", 300.0),
}

FULL = {"a_records": 1000, "a_reps": 1, "b_runs": 10, "c_small": 100, "c_large": 10_000, "c_creates": 50,
        "d_records": 10_000}
QUICK = {"a_records": 100, "a_reps": 1, "b_runs": 3, "c_small": 100, "c_large": 1000, "c_creates": 10,
         "d_records": 1000}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------

PRODUCTS = [
    ("PUMP-X200", "离心泵 Centrifugal pump", "Q 50 m³/h，H 32 m，P 7.5 kW，n 2900 r/min", "GB/T 5657-2013"),
    ("PUMP-X300", "多级离心泵 Multistage centrifugal pump", "Q 80 m³/h，H 60 m，P 22 kW，n 2950 r/min", "GB/T 5656-2008"),
    ("VALVE-DN50", "闸阀 Gate valve", "DN50 PN16，WCB", "GB/T 12234-2019"),
]
CHECKS = [
    ("外观 Appearance", "无划伤、无锈蚀 No scratches or rust", lambda r: "符合 Conforms"),
    ("流量/扬程 Flow/head", "Q 50 m³/h 时 H ≥ 32 m", lambda r: f"H {32 + r.random():.1f} ~ {32.5 + r.random():.1f} m"),
    ("绝缘电阻 Insulation resistance", "≥ 1 MΩ", lambda r: f"≥ {r.randint(50, 500)} MΩ"),
    ("振动 Vibration", "≤ 4.5 mm/s", lambda r: f"{r.uniform(0.8, 4.4):.2f} mm/s"),
    ("噪声 Noise", "≤ 85 dB(A)", lambda r: f"{r.randint(62, 84)} dB(A)"),
    ("密封试验 Seal test", "0.6 MPa 保压 5 min 无泄漏 & no leak", lambda r: "无泄漏 No leak"),
    ("耐压试验 Pressure test", "1.5 × PN, 10 min", lambda r: f"{r.uniform(2.3, 2.5):.2f} MPa 合格"),
    ("标志及随机文件 Marking and documents", "铭牌、合格证、说明书齐全 Complete", lambda r: "齐全 Complete"),
]


def record_values(index: int, rng: random.Random) -> dict[str, Any]:
    """One record's input, as a user's data file reads (every scalar a string)."""
    code, name, specification, standard = PRODUCTS[index % len(PRODUCTS)]
    rows = []
    for item, requirement, result in rng.sample(CHECKS, rng.randint(3, 6)):
        rows.append({"item": item, "requirement": requirement, "result": result(rng),
                     "verdict": "fail" if rng.random() < 0.03 else "pass"})
    if rng.random() < 0.1:
        specification += "\n备注 Note: <特殊订货 special order>"
    if rng.random() < 0.1:
        standard += " & Q/HX 001-2024"
    return {
        "product": code,
        "lot": f"L{2025 + (index // 5000) % 2}-{(index // 15) % 999 + 1:03d}",
        "product_name": name,
        "model": code,
        "specification": specification,
        "standard": standard if rng.random() < 0.95 else "",
        "quantity": str(rng.randint(1, 400)),
        "items": rows,
        "inspection_date": (_dt.date(2026, 1, 5) + _dt.timedelta(days=index % 170)).isoformat(),
        "conclusion": "fail" if any(row["verdict"] == "fail" for row in rows) else "pass",
    }


def make_values(count: int, seed: int, start: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [record_values(start + index, rng) for index in range(count)]


# -- helpers -----------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def new_repository(path: Path):
    """A new repository whose first administrator's key is kept inside its ``.git`` (never committed)."""
    from qdocs.founding import init_repository
    from qdocs.trust.genesis import Enrollment

    home = Path(path).resolve() / ".git" / "qdocs" / "bench-keys"
    administrator = Enrollment("bench.admin", "Bench Admin", "benchmark passphrase", home)
    repository, _ = init_repository(path, SITE, ACTOR, administrator=administrator)
    return repository


def wait_for_git_gc(repo: Path, limit: float = 600.0) -> float:
    """git commit may start ``git gc --auto`` in the background (detached); wait
    for it so it does not eat the CPU of the next measurement.  Returns seconds waited."""
    start = time.perf_counter()
    pid_file = repo / ".git" / "gc.pid"
    while pid_file.exists() and time.perf_counter() - start < limit:
        time.sleep(0.5)
    return time.perf_counter() - start


def run_child(command: list[str], cwd: Path | None = None) -> tuple[float, int, int, str, str]:
    """Run a process; (seconds, exit code, peak RSS in KiB of it and the children it
    waited for, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (seconds, process.returncode, usage.ru_maxrss, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"))


def export_snapshot(revision: str, target: Path) -> Path:
    """The committed tree of ``revision`` of this checkout, as plain files."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=CHECKOUT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    (target / ".bench-revision").write_text(
        subprocess.run(["git", "rev-parse", revision], cwd=CHECKOUT, capture_output=True, text=True).stdout.strip())
    return target


def describe_project(path: Path, snapshot: str | None) -> dict[str, Any]:
    if snapshot:
        commit = (path / ".bench-revision").read_text().strip()
        return {"path": str(path), "revision": f"{snapshot} = {commit[:12]} (snapshot)", "commit": commit, "dirty": False}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()
    changes = subprocess.run(["git", "status", "--porcelain", "--", "qdocs", "cli.py", "templates"], cwd=path,
                             capture_output=True, text=True).stdout.strip()
    dirty = bool(changes)
    label = f"{commit[:12]}{' + uncommitted changes' if dirty else ''}" if commit else "not a git checkout"
    return {"path": str(path), "revision": label, "commit": commit, "dirty": dirty}


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    except OSError:
        nproc = str(len(os.sched_getaffinity(0)))
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    import docxtpl

    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": nproc,
        "cpu": model,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git": git,
        "docxtpl": getattr(docxtpl, "__version__", "?"),
        "loadavg_start": os.getloadavg(),
    }


# -- (a) batch ---------------------------------------------------------------------


def bench_batch(work: Path, count: int, reps: int) -> dict[str, Any]:
    from docxtpl import DocxTemplate
    from qdocs.actions import create_records, prepare
    from qdocs.catalog import load_catalog
    from qdocs.rendering import DocumentHeader, TemplateCache, build_context

    catalog = load_catalog()
    record_type = catalog.get(TYPE_ID)
    company = " ".join(part for part in (catalog.company.zh, catalog.company.en) if part)
    template_bytes = TemplateCache(catalog).template_bytes(record_type)
    today = _dt.date.today()
    values = make_values(count, seed=1)

    # the same contexts qdocs builds: prepared outside the timed baseline
    contexts: list[tuple[str, dict[str, Any]]] = []
    for number, item in enumerate(values, start=1):
        subject, data = prepare(record_type, item)
        record_id = f"{record_type.prefix}-{SITE}-{today.year}-{number:04d}"
        header = DocumentHeader(id=record_id, revision="A", status="draft", company=company, site=SITE,
                                created=today.isoformat(), changed=today.isoformat(),
                                subject_label=subject.label(), subject=subject.as_dict())
        contexts.append((record_id, build_context(catalog, record_type, header, data)))

    def baseline(part: list[tuple[str, dict[str, Any]]], folder: Path) -> float:
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        for record_id, context in part:
            template = DocxTemplate(io.BytesIO(template_bytes))
            template.render(context, autoescape=True)
            template.save(folder / f"{record_id}.docx")
        return time.perf_counter() - start

    def qdocs(folder: Path) -> tuple[float, list[Any], Any]:
        from qdocs.repository import Repository

        new_repository(folder)
        repository = Repository.open(folder, catalog)
        batch = [dict(item) for item in values]
        start = time.perf_counter()
        records = create_records(repository, TYPE_ID, batch, ACTOR)
        seconds = time.perf_counter() - start
        return seconds, records, repository

    # warm-up: imports, caches, first render on each path
    log("(a) warm-up")
    baseline(contexts[:3], work / "a-warm" / "docx")
    qdocs_warm = make_values(3, seed=99)
    repository = new_repository(work / "a-warm" / "repo")
    create_records(repository, TYPE_ID, qdocs_warm, ACTOR)
    shutil.rmtree(work / "a-warm")

    half = count // 2
    runs = []
    same_document = None
    for rep in range(reps):
        folder = work / f"a-{rep}"
        log(f"(a) rep {rep + 1}/{reps}: docxtpl {half} records")
        first = baseline(contexts[:half], folder / "docx")
        log(f"(a) rep {rep + 1}/{reps}: qdocs create_records {count} records")
        q_seconds, records, repository = qdocs(folder / "repo")
        log(f"(a) rep {rep + 1}/{reps}: docxtpl {count - half} records")
        second = baseline(contexts[half:], folder / "docx")
        b_seconds = first + second
        if same_document is None:
            record = records[len(records) // 2]
            ours = zipfile.ZipFile(repository.root / record.path / "record.docx").read("word/document.xml")
            theirs = zipfile.ZipFile(folder / "docx" / f"{record.id}.docx").read("word/document.xml")
            same_document = ours == theirs
        commits = int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repository.root,
                                     capture_output=True, text=True).stdout.strip() or 0)
        wait_for_git_gc(repository.root)
        runs.append({"qdocs_s": q_seconds, "docxtpl_s": b_seconds, "ratio": q_seconds / b_seconds,
                     "commits": commits})
        shutil.rmtree(folder)
    q = median([run["qdocs_s"] for run in runs])
    b = median([run["docxtpl_s"] for run in runs])
    ratio = median([run["ratio"] for run in runs])
    return {
        "records": count, "reps": reps, "runs": runs,
        "qdocs_ms_per_record": q / count * 1000, "docxtpl_ms_per_record": b / count * 1000,
        "ratio": ratio, "target": TARGETS["a"][1], "pass": ratio <= TARGETS["a"][1],
        "same_document_xml": same_document,
    }


# -- (b) one process -----------------------------------------------------------------

BARE_SCRIPT = """\
import json, sys
from docxtpl import DocxTemplate
template = DocxTemplate(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as handle:
    template.render(json.load(handle))
template.save(sys.argv[3])
"""


def bench_process(work: Path, runs: int) -> dict[str, Any]:
    from qdocs import yamlio
    from qdocs.actions import prepare
    from qdocs.catalog import load_catalog
    from qdocs.examples import example_values
    from qdocs.rendering import DocumentHeader, build_context

    catalog = load_catalog()
    record_type = catalog.get(TYPE_ID)
    folder = work / "b"
    folder.mkdir(parents=True)
    repo = folder / "repo"
    new_repository(repo)
    data_file = folder / "final-inspection.yaml"
    example = example_values(catalog, record_type)
    data_file.write_text(yamlio.dump(example), encoding="utf-8")

    # the bare script's context: what qdocs would give the template, as plain JSON
    # (already XML-escaped text, so no autoescape needed)
    subject, data = prepare(record_type, example)
    today = _dt.date.today().isoformat()
    company = " ".join(part for part in (catalog.company.zh, catalog.company.en) if part)
    header = DocumentHeader(id="FIR-S1-2026-0001", revision="A", status="draft", company=company,
                            site=SITE, created=today, changed=today, subject_label=subject.label(),
                            subject=subject.as_dict())
    context = build_context(catalog, record_type, header, data)
    context_file = folder / "context.json"
    context_file.write_text(json.dumps(context, ensure_ascii=False, default=str), encoding="utf-8")
    script = folder / "bare_render.py"
    script.write_text(BARE_SCRIPT, encoding="utf-8")
    template = catalog.template_path(record_type)

    commands = {
        "qdocs": [sys.executable, str(PROJECT / "cli.py"), "--repo", str(repo), "--actor", ACTOR,
                  "new", TYPE_ID, "--data", str(data_file)],
        "bare": [sys.executable, str(script), str(template), str(context_file), str(folder / "bare.docx")],
        "python": [sys.executable, "-c", "pass"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[int]] = {name: [] for name in commands}

    def one(name: str, keep: bool) -> None:
        seconds, code, maxrss, out, err = run_child(commands[name], cwd=folder)
        if code != 0:
            raise RuntimeError(f"(b) {name} failed with exit {code}: {err.strip()[-500:]}")
        if name == "qdocs" and not out.strip().startswith(record_type.prefix + "-"):
            raise RuntimeError(f"(b) qdocs new printed {out!r}, not a record id")
        if keep:
            times[name].append(seconds)
            rss[name].append(maxrss)

    log(f"(b) warm-up, then {runs} alternated runs each")
    for name in commands:
        one(name, keep=False)
    for index in range(runs):
        order = ["bare", "qdocs", "python"] if index % 2 == 0 else ["qdocs", "bare", "python"]
        for name in order:
            one(name, keep=True)
    wait_for_git_gc(repo)
    shutil.rmtree(folder)
    q, b, p = median(times["qdocs"]), median(times["bare"]), median(times["python"])
    ratio = q / b
    return {
        "runs": runs, "qdocs_s": times["qdocs"], "bare_s": times["bare"], "python_startup_s": times["python"],
        "qdocs_median_s": q, "bare_median_s": b, "python_startup_median_s": p,
        "qdocs_peak_rss_mib": median([value / 1024 for value in rss["qdocs"]]),
        "bare_peak_rss_mib": median([value / 1024 for value in rss["bare"]]),
        "ratio": ratio, "ratio_without_startup": (q - p) / (b - p) if b > p else float("nan"),
        "target": TARGETS["b"][1], "pass": ratio <= TARGETS["b"][1],
    }


# -- (d) memory, which also builds the large repository of (c) ------------------------


def child_batch(path: Path, count: int, seed: int) -> None:
    """Run in a child process: one create_records of ``count`` records into a new repository.

    Prints one JSON line: seconds, this process's peak RSS, and its current RSS,
    peak RSS so far and elapsed time every 10 % of the batch (through the
    progress callback)."""
    from qdocs.actions import create_records
    from qdocs.repository import Repository

    new_repository(path)
    repository = Repository.open(path)
    values = make_values(count, seed)
    step = max(1, count // 10)
    samples: list[dict[str, float]] = []
    start = time.perf_counter()

    def progress(done: int) -> None:
        if done % step == 0 or done == count:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            samples.append({"records": done, "seconds": time.perf_counter() - start,
                            "rss_mib": pages * os.sysconf("SC_PAGE_SIZE") / 2**20,
                            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})

    records = create_records(repository, TYPE_ID, values, ACTOR, progress)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"records": len(records), "seconds": seconds, "self_maxrss_kib": own, "samples": samples}))


def bench_memory(work: Path, count: int) -> tuple[dict[str, Any], Path]:
    path = work / "large"
    log(f"(d) child process: create_records of {count} records (this is the long part)")
    seconds, code, maxrss, out, err = run_child(
        [sys.executable, str(Path(__file__).resolve()), "--child-batch", str(path), "--count", str(count),
         "--seed", "2", "--project", str(PROJECT)])
    if code != 0:
        raise RuntimeError(f"(d) child failed with exit {code}: {err.strip()[-2000:]}")
    report = json.loads(out.strip().splitlines()[-1])
    waited = wait_for_git_gc(path)
    peak = maxrss / 1024
    return {
        "records": count, "process_s": seconds, "batch_s": report["seconds"],
        "ms_per_record": report["seconds"] / count * 1000,
        "peak_rss_mib": peak, "python_peak_rss_mib": report["self_maxrss_kib"] / 1024,
        "samples": report["samples"], "background_git_gc_wait_s": waited,
        "target": TARGETS["d"][1], "pass": peak <= TARGETS["d"][1],
    }, path


# -- (c) growth ---------------------------------------------------------------------


def build_repository(path: Path, count: int, seed: int, chunk: int = 1000) -> None:
    from qdocs.actions import create_records
    from qdocs.repository import Repository

    new_repository(path)
    repository = Repository.open(path)
    done = 0
    while done < count:
        size = min(chunk, count - done)
        create_records(repository, TYPE_ID, make_values(size, seed, start=done), ACTOR)
        done += size
    wait_for_git_gc(path)


def bench_growth(work: Path, small_count: int, large: Path | None, large_count: int, creates: int) -> dict[str, Any]:
    from qdocs.actions import create_record
    from qdocs.catalog import load_catalog
    from qdocs.repository import Repository

    catalog = load_catalog()
    small = work / "small"
    log(f"(c) building the {small_count}-record repository")
    build_repository(small, small_count, seed=3)
    if large is None:
        large = work / "large"
        log(f"(c) building the {large_count}-record repository (create_records in chunks)")
        build_repository(large, large_count, seed=2)
    repositories = {"small": Repository.open(small, catalog), "large": Repository.open(large, catalog)}
    # new records go to new lots beyond those already present
    values = make_values(2 * creates + 4, seed=4, start=20_000)
    times: dict[str, list[float]] = {"small": [], "large": []}
    log(f"(c) warm-up, then {creates} single creates in each repository, interleaved")
    for name in ("small", "large"):
        create_record(repositories[name], TYPE_ID, values.pop(), ACTOR)
        create_record(repositories[name], TYPE_ID, values.pop(), ACTOR)
    gc_wait = wait_for_git_gc(large) + wait_for_git_gc(small)
    for index in range(creates):
        order = ("small", "large") if index % 2 == 0 else ("large", "small")
        for name in order:
            item = values.pop()
            start = time.perf_counter()
            create_record(repositories[name], TYPE_ID, item, ACTOR)
            times[name].append(time.perf_counter() - start)
    gc_wait += wait_for_git_gc(large) + wait_for_git_gc(small)
    s, l = median(times["small"]), median(times["large"])
    ratio = l / s
    return {
        "small_records": small_count, "large_records": large_count, "creates": creates,
        "small_ms": [value * 1000 for value in times["small"]], "large_ms": [value * 1000 for value in times["large"]],
        "small_median_ms": s * 1000, "large_median_ms": l * 1000, "ratio": ratio,
        "background_git_gc_wait_s": gc_wait,
        "target": TARGETS["c"][1], "pass": ratio <= TARGETS["c"][1],
    }


# -- report -------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    machine = result["machine"]
    print(f"qdocs records benchmark ({'quick' if result['quick'] else 'full'} run)  {machine['date']}")
    print(f"machine: nproc {machine['nproc']}, {machine['cpu']}, {machine['memory']} RAM; Python {machine['python']}, "
          f"{machine['git']}, docxtpl {machine['docxtpl']}")
    print("load average at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}".format(
        *machine["loadavg_start"], *result["loadavg_end"]))
    print(f"measured: {result.get('project', {}).get('revision', '?')}")
    print(f"total benchmark time {result['total_s']:.0f} s")
    print()
    rows = [("", "measurement", "qdocs", "baseline", "ratio / value", "target", "result")]
    a = result.get("a")
    if a:
        rows.append(("a", f"batch of {a['records']}, per record", f"{a['qdocs_ms_per_record']:.1f} ms",
                     f"{a['docxtpl_ms_per_record']:.1f} ms (docxtpl)", f"{a['ratio']:.2f}x", f"<= {a['target']}x",
                     "PASS" if a["pass"] else "FAIL"))
    b = result.get("b")
    if b:
        rows.append(("b", f"one process, median of {b['runs']}", f"{b['qdocs_median_s'] * 1000:.0f} ms",
                     f"{b['bare_median_s'] * 1000:.0f} ms (bare docxtpl)", f"{b['ratio']:.2f}x",
                     f"<= {b['target']}x", "PASS" if b["pass"] else "FAIL"))
    c = result.get("c")
    if c:
        rows.append(("c", f"create() with {c['large_records']:,} vs {c['small_records']} records, median of {c['creates']}",
                     f"{c['large_median_ms']:.0f} ms", f"{c['small_median_ms']:.0f} ms (small repo)",
                     f"{c['ratio']:.2f}x", f"<= {c['target']}x", "PASS" if c["pass"] else "FAIL"))
    d = result.get("d")
    if d:
        rows.append(("d", f"peak RSS, create_records of {d['records']:,}", f"{d['peak_rss_mib']:.0f} MiB", "",
                     f"{d['peak_rss_mib']:.0f} MiB", f"<= {d['target']:.0f} MiB", "PASS" if d["pass"] else "FAIL"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print()
    if a:
        print("(a) per rep: " + ", ".join(f"qdocs {run['qdocs_s']:.1f} s / docxtpl {run['docxtpl_s']:.1f} s = "
                                          f"{run['ratio']:.2f}x ({run['commits'] - 1} record commit)" for run in a["runs"])
              + f"; same word/document.xml as docxtpl: {a['same_document_xml']}")
    if b:
        print(f"(b) python -c pass {b['python_startup_median_s'] * 1000:.0f} ms; ratio without interpreter start "
              f"{b['ratio_without_startup']:.2f}x; peak RSS qdocs new {b['qdocs_peak_rss_mib']:.0f} MiB, "
              f"bare {b['bare_peak_rss_mib']:.0f} MiB")
    if c:
        print(f"(c) small min/median/max {min(c['small_ms']):.0f}/{c['small_median_ms']:.0f}/{max(c['small_ms']):.0f} ms, "
              f"large {min(c['large_ms']):.0f}/{c['large_median_ms']:.0f}/{max(c['large_ms']):.0f} ms; "
              f"waited {c['background_git_gc_wait_s']:.0f} s for background git gc")
    if d:
        print(f"(d) {d['batch_s']:.0f} s for the batch ({d['ms_per_record']:.1f} ms per record); peak RSS of the "
              f"python process {d['python_peak_rss_mib']:.0f} MiB (the figure above is the process tree, git "
              f"included); waited {d['background_git_gc_wait_s']:.0f} s for background git gc afterwards")
        previous = {"records": 0, "seconds": 0.0}
        parts = []
        for sample in d["samples"]:
            rate = (sample["seconds"] - previous["seconds"]) / max(1, sample["records"] - previous["records"]) * 1000
            peak = f" (peak so far {sample['peak_mib']:.0f})" if "peak_mib" in sample else ""
            parts.append(f"{sample['records']}: {sample['rss_mib']:.0f} MiB{peak}, {rate:.0f} ms/rec")
            previous = sample
        print("    during the batch (records done: RSS now, ms per record since the sample before): " + "; ".join(parts))
        if d["samples"]:
            print(f"    after the last record was written: {d['batch_s'] - d['samples'][-1]['seconds']:.1f} s "
                  "(sequence file, git add, git commit)")
    if result["quick"]:
        print("\nquick run: smaller sizes than the targets are defined for; run without --quick for the real figures")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller run (about 1.5 minutes)")
    parser.add_argument("--json", action="store_true", help="print JSON on stdout instead of the table")
    parser.add_argument("--only", default="a,b,c,d", help="sections to run, e.g. a,b (default all)")
    parser.add_argument("--workdir", type=Path, help="where to work (default: a temporary folder under bench/out/)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--snapshot", metavar="REV",
                        help="measure the committed tree of REV (e.g. HEAD), exported with git archive into the "
                             "work folder, instead of the working tree (which others may be editing)")
    parser.add_argument("--project", type=Path, help="measure the qdocs source tree at this path")
    parser.add_argument("--a-reps", type=int, help="repetitions of (a) (default 1)")
    parser.add_argument("--large", type=int, metavar="N",
                        help="records of the large repository of (c) and of the batch of (d) (default 10000)")
    parser.add_argument("--show", type=Path, metavar="FILE", help="print the table of a saved --json result and exit")
    parser.add_argument("--child-batch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_batch:
        use_project(args.project or PROJECT)
        child_batch(args.child_batch, args.count, args.seed)
        return

    if args.show:
        print_table(json.loads(args.show.read_text(encoding="utf-8")))
        return
    sizes = dict(QUICK if args.quick else FULL)
    if args.a_reps:
        sizes["a_reps"] = args.a_reps
    if args.large:
        sizes["c_large"] = sizes["d_records"] = args.large
    sections = {part.strip() for part in args.only.split(",") if part.strip()}
    if not sections <= {"a", "b", "c", "d"}:
        parser.error("--only takes letters among a, b, c, d")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="qdocs-bench-", dir=args.workdir))
    else:
        (CHECKOUT / "bench" / "out").mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="qdocs-bench-", dir=CHECKOUT / "bench" / "out"))
    log(f"working in {work}")
    if args.snapshot:
        use_project(export_snapshot(args.snapshot, work / "snapshot"))
    else:
        use_project(args.project or PROJECT)
    result: dict[str, Any] = {"quick": args.quick, "sizes": sizes, "machine": machine_info(),
                              "project": describe_project(PROJECT, args.snapshot)}
    log(f"measuring {result['project']['path']} ({result['project']['revision']})")
    started = time.perf_counter()
    try:
        if "b" in sections:
            result["b"] = bench_process(work, sizes["b_runs"])
        if "a" in sections:
            result["a"] = bench_batch(work, sizes["a_records"], sizes["a_reps"])
        large = None
        if "d" in sections:
            result["d"], large = bench_memory(work, sizes["d_records"])
        if "c" in sections:
            large_count = sizes["d_records"] if large is not None else sizes["c_large"]
            result["c"] = bench_growth(work, sizes["c_small"], large, large_count, sizes["c_creates"])
    finally:
        if not args.keep:
            for repo in [*work.glob("*"), *work.glob("*/repo")]:
                if (repo / ".git").exists():
                    wait_for_git_gc(repo, limit=120)
            shutil.rmtree(work, ignore_errors=True)
            with_out = CHECKOUT / "bench" / "out"
            if not args.workdir and with_out.is_dir() and not any(with_out.iterdir()):
                with_out.rmdir()
        else:
            log(f"kept {work}")
    result["total_s"] = time.perf_counter() - started
    result["loadavg_end"] = os.getloadavg()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
