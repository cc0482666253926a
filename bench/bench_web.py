#!/usr/bin/env python3
"""Benchmark ``qdocs serve``: 20 logged-in clients on loopback, alone and while others write.

Set-up (timed, not measured):

base      a records repository of ``--records`` records of every type with their ``.docx``
          (the generator of ``bench_search.py``: records validated and rendered by qdocs,
          varied Chinese/English text, one commit; they carry no signatures or events);
people    one user per role (``bench.ROLE``), added by the administrator with a signing key
          (the keys kept inside ``.git/qdocs/bench-keys``, as the demo keeps its own);
real      a few hundred records made through the library as the demo makes its own: for
          ``--lots`` lots of PUMP-X200 the demo's record set (plans, in-process, finished and
          final inspections, nonconformances...) and once each the records of other subjects,
          created in batches and signed by the users: most lots approved through, the last
          fifth signed only at the first stage (waiting in the QC manager's inbox), and a few
          left as drafts, so the inbox, the record pages with signatures and the board
          have real content;
index     ``qdocs index rebuild``.

Measured, against ``qdocs serve`` started as its own process on 127.0.0.1 (default 8 threads):

check     before any figure counts: record pages show the record asked for (its JSON twin
          names it, at the folder git lists for it); the search page returns the ids
          ``qdocs search QUERY --json`` returns, in the same order, for 20 queries; the
          board is of HEAD, counts as many lots as ``qdocs audit --json`` and its first page
          shows the audit's first lots with the same verdicts.
read      ``--clients`` clients (threads of this process, each its own keep-alive HTTP
          connection and its own session, logged in as one of the users) for
          ``--seconds``: each picks a page (record 45 %, search 30 %, board 15 %, inbox 10 %),
          asks it as a browser would (the HTML), checks the answer (200, and the record
          page names the record asked for), then waits a random ``--think`` interval
          (default 0.5-1.5 s, as people click; ``--think 0`` asks back to back).  Figures:
          p50/p95/max per page, errors.
write     the same clients for the same time while ``--writers`` other clients each create
          final inspections with ``qdocs new`` (a process, the command line) and sign them
          through the web: the inspector's ``inspected``, then the QC manager's ``approved``
          (each a POST of the sign form with the passphrase).  At the end every record made
          must be there, approved, listed by the record list, and ``qdocs verify ID...`` clean.

Targets: p95 record page <= 100 ms, search page <= 150 ms, board <= 300 ms, no error (the
readers alone); with writers running, nothing lost and no request fails (the p95 figures of
that phase are reported, judged against nothing).  The server's log is kept beside each
report (``server-*.log``).

    python bench/bench_web.py --workdir /tmp/qweb --keep        # build 100,000 records (~20 min), measure, keep
    python bench/bench_web.py --workdir /tmp/qweb               # measure the kept repository again
    python bench/bench_web.py --records 5000 --seconds 20       # quick look (a temporary folder)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

import bench_search  # noqa: E402
from bench_search import compile_project, generate_corpus, machine, make_queries  # noqa: E402

TARGETS_MS = {"record": 100, "search": 150, "board": 300}
MIX = {"record": 45, "search": 30, "board": 15, "inbox": 10}
PASSPHRASE = "benchmark passphrase"
QDOCS = [sys.executable, str(PROJECT / "cli.py")]
DEMO_PRODUCT = "PUMP-X200"
WRITER_PRODUCT = "PUMP-W{number}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load() -> float:
    return round(os.getloadavg()[0], 2)


def qdocs(root: Path, *arguments: str, actor: str = "bench.admin", check: bool = True) -> str:
    done = subprocess.run([*QDOCS, "--repo", str(root), "--actor", actor, *arguments], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"qdocs {' '.join(arguments)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def keys_home(root: Path) -> Path:
    return root.resolve() / ".git" / "qdocs" / "bench-keys"


# -- the repository ------------------------------------------------------------------

def build(workdir: Path, size: int, lots: int) -> dict[str, Any]:
    root = workdir / "records"
    started = time.monotonic()
    log(f"base: {size} records (load average {load()})")
    generate_corpus(root, size)
    corpus_seconds = time.monotonic() - started
    log(f"people and real records ({corpus_seconds:.0f} s so far)")
    real = make_real_records(root, lots)
    log("qdocs index rebuild")
    index_started = time.monotonic()
    qdocs(root, "index", "rebuild")
    built = {"records": size + real["created"], "corpus_s": round(corpus_seconds), "real": real,
             "index_rebuild_s": round(time.monotonic() - index_started), "build_s": round(time.monotonic() - started),
             "load_average_end": load()}
    (workdir / "built.json").write_text(json.dumps(built, indent=2))
    log(f"built in {built['build_s']} s")
    return built


def make_real_records(root: Path, lots: int) -> dict[str, Any]:
    """Users with keys, and the demo's record set for ``lots`` lots, created and signed
    through the library (see the module's description)."""
    from qdocs.actions import create_records, prepare
    from qdocs.audit.demorecords import demo_records
    from qdocs.repository import Repository
    from qdocs.signing import sign_records
    from qdocs.trust.administration import add_user, register_key
    from qdocs.trust.credentials import Credentials
    from qdocs.trust.state import ADMIN_ROLE

    repository = Repository.open(root)
    home = keys_home(root)
    admin = Credentials("bench.admin", PASSPHRASE, home)
    catalog = repository.catalog
    for role, label in catalog.roles.items():
        if role != ADMIN_ROLE:
            add_user(repository, admin, f"bench.{role}", f"{label.zh}（测试）", [role])
            register_key(repository, admin, f"bench.{role}", PASSPHRASE)
    lot_names = [f"L2026-{500 + number:03d}" for number in range(1, lots + 1)]
    waiting_from = lots - max(1, lots // 5)  # the last fifth: first stage only
    batches: list[tuple[str, list[dict[str, Any]], list[int]]] = []  # type, inputs, lot index of each (-1: none)
    for record_type, values in demo_records(catalog):
        subject, _ = prepare(record_type, values)
        if subject.scope == "lot":
            inputs = [{**values, "product": DEMO_PRODUCT, "lot": lot} for lot in lot_names]
            where = list(range(lots))
        else:
            inputs, where = [values], [-1]
        if batches and batches[-1][0] == record_type.id:
            batches[-1][1].extend(inputs)
            batches[-1][2].extend(where)
        else:
            batches.append((record_type.id, inputs, where))
    created = signatures = drafts = 0
    for type_id, inputs, where in batches:
        records = create_records(repository, type_id, inputs, "bench.admin")
        created += len(records)
        record_type = catalog.get(type_id)
        requirements = sorted(record_type.signatures, key=lambda item: catalog.meanings[item.meaning].stage)
        for stage, requirement in enumerate(requirements):
            ids = []
            for record, lot_index in zip(records, where):
                if lot_index == lots - 1 and lots > 2:
                    continue  # the last lot stays in draft
                if lot_index >= waiting_from and stage > 0:
                    continue
                ids.append(record.id)
            if ids:
                sign_records(repository, ids, f"bench.{requirement.roles[0]}", requirement.meaning, PASSPHRASE,
                             home=home)
                signatures += len(ids)
        drafts += sum(1 for lot_index in where if lot_index == lots - 1 and lots > 2)
    repository.close()
    log(f"  {created} records created through the library, {signatures} signatures, {drafts} left in draft")
    return {"created": created, "signatures": signatures, "drafts": drafts, "lots": lots}


def record_folders(root: Path) -> dict[str, str]:
    """id -> folder of every record, as git lists them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "*/record.yaml"], cwd=root, check=True,
                            capture_output=True).stdout.decode("utf-8")
    folders = {}
    for path in filter(None, listed.split("\0")):
        folder = path.rsplit("/", 1)[0]
        folders[folder.rsplit("/", 1)[-1]] = folder
    return folders


# -- the server ------------------------------------------------------------------------

class Server:
    """``qdocs serve`` as its own process on a free loopback port."""

    def __init__(self, root: Path, threads: int) -> None:
        environment = {key: value for key, value in os.environ.items() if key != "QDOCS_HOME"}
        self.process = subprocess.Popen([*QDOCS, "--repo", str(root), "serve", "--port", "0", "--keys",
                                         str(keys_home(root)), "--threads", str(threads)],
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=environment)
        first = self.process.stderr.readline()
        if " at http://" not in first:
            raise SystemExit(f"qdocs serve did not start: {first}{self.process.stderr.read()}")
        address = urllib.parse.urlsplit(first.split(" at ", 1)[1].split(" ", 1)[0])
        self.host, self.port = address.hostname, address.port
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self.lines: list[str] = []
        self._drain.start()

    def _read_log(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


class Client:
    """One browser: a keep-alive connection and a session cookie."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = http.client.HTTPConnection(server.host, server.port, timeout=120)
        self.cookie = ""
        self.csrf = ""
        self.reconnects = 0

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                accept: str = "text/html") -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": accept}
        if self.cookie:
            headers["Cookie"] = f"qdocs_session={self.cookie}"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # the server closed an idle keep-alive connection: a browser opens another
                self.connection.close()
                self.reconnects += 1
                if attempt == 2 or method != "GET":
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("qdocs_session="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1]
        return response.status, dict(response.getheaders()), data

    def login(self, user: str) -> None:
        status, _, data = self.request("GET", "/login.json", accept="application/json")
        assert status == 200, (status, data[:200])
        token = json.loads(data)["csrf_token"]
        status, headers, data = self.request("POST", "/login", {"user": user, "passphrase": PASSPHRASE,
                                                                "csrf_token": token, "next": "/inbox"})
        assert status == 303 and headers.get("Location", "").endswith("/inbox"), (user, status, data[:300])
        status, _, data = self.request("GET", "/login.json", accept="application/json")
        self.csrf = json.loads(data)["csrf_token"]

    def json(self, path: str) -> Any:
        status, _, data = self.request("GET", path, accept="application/json")
        assert status == 200, (path, status, data[:300])
        return json.loads(data)


# -- checks ----------------------------------------------------------------------------

def check_pages(root: Path, server: Server, folders: dict[str, str], queries: list[str]) -> dict[str, Any]:
    """The pages return the right records before any figure counts."""
    client = Client(server)
    client.login("bench.auditor")
    rng = random.Random(11)
    ids = rng.sample(sorted(folders), 20)
    for record_id in ids:
        page = client.json(f"/records/{record_id}.json")
        assert page["record"]["id"] == record_id and page["record"]["path"] == folders[record_id], (record_id, page["record"])
        status, _, html = client.request("GET", f"/records/{record_id}")
        assert status == 200 and record_id.encode() in html
    compared = 0
    for query in queries[:20]:
        ours = client.json("/search.json?" + urllib.parse.urlencode({"q": query}))
        theirs = json.loads(qdocs(root, "search", query, "--json", "--limit", str(len(ours["results"]) or 1),
                                  check=False) or "{}")
        our_ids = [hit["id"] for hit in ours["results"]]
        their_ids = [hit["id"] for hit in theirs.get("results", [])]
        assert our_ids == their_ids, (query, our_ids[:5], their_ids[:5])
        assert ours["total"] == theirs.get("total", 0), (query, ours["total"], theirs.get("total"))
        compared += len(our_ids)
    board = client.json("/board.json")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True).stdout.strip()
    audit = json.loads(qdocs(root, "audit", "--json", check=False))
    assert board["commit"] == head, (board["commit"], head)
    assert board["total"] == len(audit["lots"]), (board["total"], len(audit["lots"]))
    shown = [(lot["product"], lot["lot"], lot["may_ship"]) for lot in board["lots"]]
    audited = [(lot["product"], lot["lot"], lot["may_ship"]) for lot in audit["lots"][:len(shown)]]
    assert shown == audited, (shown[:3], audited[:3])
    return {"record_pages": len(ids), "queries": min(20, len(queries)), "search_ids_compared": compared,
            "board_lots": board["total"], "board_rows_compared": len(shown)}


# -- load ------------------------------------------------------------------------------

class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")

    def summary(self, seconds: float) -> dict[str, Any]:
        kinds = {}
        for kind, times in sorted(self.times.items()):
            ordered = sorted(times)
            kinds[kind] = {"count": len(ordered), "p50_ms": round(1000 * statistics.median(ordered), 1),
                           "p95_ms": round(1000 * percentile(ordered, 0.95), 1),
                           "max_ms": round(1000 * ordered[-1], 1)}
        total = sum(len(times) for times in self.times.values())
        return {"pages": kinds, "requests": total, "per_second": round(total / seconds, 1),
                "errors": len(self.errors), "first_errors": self.errors[:10]}


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def reader(client: Client, ids: list[str], queries: list[str], deadline: float, think: tuple[float, float],
           recorder: Recorder, seed: int) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        record_id = rng.choice(ids)
        path = {"record": f"/records/{record_id}",
                "search": "/search?" + urllib.parse.urlencode({"q": rng.choice(queries)}),
                "board": "/board", "inbox": "/inbox"}[kind]
        started = time.perf_counter()
        error = None
        try:
            status, _, data = client.request("GET", path)
            if status != 200:
                error = f"{path}: {status} {data[:200]!r}"
            elif kind == "record" and record_id.encode() not in data:
                error = f"{path}: the page does not name {record_id}"
        except Exception as failure:  # noqa: BLE001 - every failure is counted
            error = f"{path}: {failure!r}"
        recorder.add(kind, time.perf_counter() - started, error)
        if think[1] > 0:
            time.sleep(rng.uniform(*think))


def writer(root: Path, server: Server, number: int, deadline: float, recorder: Recorder, made: list[str],
           data_file: Path) -> None:
    """Create final inspections with ``qdocs new`` and sign them through the web, until the deadline."""
    inspector, manager = Client(server), Client(server)
    inspector.login("bench.inspector")
    manager.login("bench.qc-manager")
    sequence = 0
    while time.monotonic() < deadline:
        sequence += 1
        started = time.perf_counter()
        done = subprocess.run([*QDOCS, "--repo", str(root), "--actor", "bench.inspector", "new", "final-inspection",
                               "--data", str(data_file), "--product", WRITER_PRODUCT.format(number=number),
                               "--lot", f"L2026-{number}{sequence:03d}", "--json"], capture_output=True, text=True)
        if done.returncode != 0:
            recorder.add("create (command line)", time.perf_counter() - started, done.stderr.strip()[:300])
            continue
        created = json.loads(done.stdout)
        record_id = (created[0] if isinstance(created, list) else created)["id"]
        recorder.add("create (command line)", time.perf_counter() - started)
        made.append(record_id)
        for client, meaning in ((inspector, "inspected"), (manager, "approved")):
            started = time.perf_counter()
            error = None
            try:
                status, headers, data = client.request("POST", f"/records/{record_id}/sign", {
                    "meaning": meaning, "comment": f"bench {number}", "passphrase": PASSPHRASE, "revision": "A",
                    "csrf_token": client.csrf})
                if status != 303 or not headers.get("Location", "").endswith(f"/records/{record_id}"):
                    error = f"sign {record_id} {meaning}: {status} {data[:300]!r}"
            except Exception as failure:  # noqa: BLE001
                error = f"sign {record_id} {meaning}: {failure!r}"
            recorder.add("sign (web)", time.perf_counter() - started, error)


def run_phase(root: Path, server: Server, users: list[str], ids: list[str], queries: list[str], seconds: float,
              think: tuple[float, float], writers: int) -> dict[str, Any]:
    clients = []
    for number in range(len(users)):
        client = Client(server)
        client.login(users[number])
        clients.append(client)
    readers, writes = Recorder(), Recorder()
    made: list[list[str]] = [[] for _ in range(writers)]
    data_file = root.parent / "final-inspection.yaml"
    if writers and not data_file.exists():
        data_file.write_text(qdocs(root, "types", "show", "final-inspection", "--example"), encoding="utf-8")
    before = {"load_average": load(), "server_cpu_s": server.cpu_seconds(), "head": head_of(root),
              "client_cpu_s": _own_cpu()}
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=reader, args=(client, ids, queries, deadline, think, readers, number))
               for number, client in enumerate(clients)]
    threads += [threading.Thread(target=writer, args=(root, server, number + 1, deadline, writes, made[number],
                                                       data_file)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    result = {"seconds": round(elapsed, 1), "clients": len(clients), "writers": writers,
              "think_s": list(think), "load_average_start": before["load_average"], "load_average_end": load(),
              "server_cpu_s": round(server.cpu_seconds() - before["server_cpu_s"], 1),
              "client_cpu_s": round(_own_cpu() - before["client_cpu_s"], 1),
              "commits": commits_since(root, before["head"]), "read": readers.summary(elapsed),
              "reconnects": sum(client.reconnects for client in clients)}
    if writers:
        result["write"] = writes.summary(elapsed)
        result["made"] = check_made(root, server, made)
    return result


def _own_cpu() -> float:
    """CPU seconds of this process (the clients' threads), its children excluded."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def head_of(root: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def commits_since(root: Path, head: str) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", f"{head}..HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout)


def check_made(root: Path, server: Server, made: list[list[str]]) -> dict[str, Any]:
    """Nothing lost: every record made is there, approved, in the record list, and verifies clean."""
    client = Client(server)
    client.login("bench.auditor")
    everything = [record_id for ids in made for record_id in ids]
    not_approved = []
    for record_id in everything:
        record = client.json(f"/records/{record_id}.json")["record"]
        if record["status"] != "approved" or len(record["signatures"]) != 2:
            not_approved.append(record_id)
    listed_ok = True
    for number, ids in enumerate(made, start=1):
        listing = client.json("/records.json?" + urllib.parse.urlencode({"product": WRITER_PRODUCT.format(number=number)}))
        listed = {entry["id"] for entry in listing["records"]}
        pages = listing["pages"]
        for page in range(2, pages + 1):
            more = client.json("/records.json?" + urllib.parse.urlencode(
                {"product": WRITER_PRODUCT.format(number=number), "page": page}))
            listed |= {entry["id"] for entry in more["records"]}
        listed_ok = listed_ok and set(ids) <= listed
    verified = {"clean": True, "records_checked": 0}
    if everything:
        done = subprocess.run([*QDOCS, "--repo", str(root), "verify", *everything, "--json"], capture_output=True,
                              text=True)
        report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
        verified = {"clean": done.returncode == 0 and bool(report.get("clean", done.returncode == 0)),
                    "records_checked": report.get("records_checked"), "findings": report.get("findings", [])[:5]}
    return {"records": len(everything), "not_approved": not_approved, "all_listed": listed_ok, "verify": verified,
            "lost": bool(not_approved) or not listed_ok or not verified["clean"]}


# -- report ----------------------------------------------------------------------------

def verdicts(phase: dict[str, Any]) -> dict[str, str]:
    """PASS/FAIL against the targets: the p95 targets are those of the readers alone; with
    writers running the targets are that nothing is lost and no request fails (the p95 figures
    are reported, judged against nothing)."""
    pages = phase["read"]["pages"]
    verdict = {} if "made" in phase else {
        kind: ("PASS" if kind in pages and pages[kind]["p95_ms"] <= target else "FAIL")
        for kind, target in TARGETS_MS.items()}
    verdict["errors"] = "PASS" if phase["read"]["errors"] == 0 and not phase.get("write", {}).get("errors") else "FAIL"
    if "made" in phase:
        verdict["nothing lost"] = "FAIL" if phase["made"]["lost"] else "PASS"
    return verdict


def main() -> None:
    compile_project()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="records of the base (default 100,000)")
    parser.add_argument("--lots", type=int, default=30, help="lots of the demo's record set made through the library")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--writers", type=int, default=2, help="clients creating and signing in the write phase")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", default="0.5,1.5", help="seconds a client waits between pages: MIN,MAX (0: none)")
    parser.add_argument("--threads", type=int, default=8, help="the server's worker threads")
    parser.add_argument("--phases", default="read,write")
    parser.add_argument("--workdir", type=Path, help="where the repository is built (a later run reuses it)")
    parser.add_argument("--keep", action="store_true", help="keep the repository")
    parser.add_argument("--build-only", action="store_true", help="build the repository in --workdir, measure nothing")
    arguments = parser.parse_args()
    think = tuple(float(value) for value in arguments.think.split(","))
    think = think if len(think) == 2 else (think[0], think[0])
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qdocs-web-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "records"
    report: dict[str, Any] = {"date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="minutes"),
                              "machine": machine(), "targets_p95_ms": TARGETS_MS, "mix": MIX,
                              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT,
                                                       capture_output=True, text=True).stdout.strip()}
    if (workdir / "built.json").exists():
        log(f"reusing the repository in {workdir}")
        report["build"] = {"reused": json.loads((workdir / "built.json").read_text())}
    else:
        shutil.rmtree(workdir / "records", ignore_errors=True)
        report["build"] = build(workdir, arguments.records, arguments.lots)
    if arguments.build_only:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    folders = record_folders(root)
    ids = sorted(folders)
    queries = [query for _, query in make_queries(random.Random(14))]
    report["records"] = len(ids)
    from qdocs.repository import Repository

    catalog_roles = [role for role in Repository.open(root).catalog.roles if role != "admin"]
    users = [f"bench.{catalog_roles[number % len(catalog_roles)]}" for number in range(arguments.clients)]
    log(f"{len(ids)} records; starting qdocs serve (load average {load()})")
    server = Server(root, arguments.threads)
    try:
        warm = Client(server)
        warm.login("bench.qc-manager")
        for path in ("/inbox", "/board", "/search?" + urllib.parse.urlencode({"q": "泄漏"}), f"/records/{ids[0]}"):
            started = time.perf_counter()
            status, _, _ = warm.request("GET", path)
            log(f"  first {path}: {status} in {time.perf_counter() - started:.2f} s")
        report["check"] = check_pages(root, server, folders, queries)
        log(f"pages checked: {report['check']}")
        for phase in arguments.phases.split(","):
            writers = arguments.writers if phase == "write" else 0
            log(f"{phase}: {arguments.clients} clients, {writers} writers, {arguments.seconds:.0f} s "
                f"(load average {load()})")
            report[phase] = run_phase(root, server, users, ids, queries, arguments.seconds, think, writers)
            report[phase]["verdict"] = verdicts(report[phase])
            log(f"{phase}: {json.dumps(report[phase]['read']['pages'])} errors {report[phase]['read']['errors']}; "
                f"{report[phase]['verdict']}")
    finally:
        server.stop()
        stamp = time.strftime('%Y%m%d-%H%M%S')
        (workdir / f"server-{stamp}.log").write_text("\n".join(server.lines) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    (workdir / f"report-{stamp}.json").write_text(json.dumps(report, ensure_ascii=False,
                                                                                    indent=2))
    if not arguments.keep and not arguments.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    bench_search.log = log
    main()
