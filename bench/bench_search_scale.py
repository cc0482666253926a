#!/usr/bin/env python3
"""``qdocs search`` and ``qdocs index rebuild`` at scale, side by side with a bare SQLite FTS5 process.

On a repository built as a user's is (``bench/generate_repository.py``: records as
``qdocs new --batch`` writes them, packed), all figures from one run:

rebuild   ``qdocs index rebuild`` as a process: records/s and the peak PSS of the whole
          process tree (the command, its worker processes, their git readers), sampled
          every 50 ms or less often (see ``run_with_peak``), and of it the anonymous part
          (the rest is files mapped into memory: git's pack, the engine's segments);
peer      a SQLite FTS5 database of the same records, given exactly the terms qdocs
          indexes (its own analysis: Chinese n-grams, stemmed English, word groups;
          columns ``content``, ``groups``, ``type``, ``product``, ``lot``; ids and types
          in a plain table beside it), so that both sides can find the same records;
same      for every query (Chinese two-character words, English words, phrases of two
          or three words, field queries): every record qdocs finds and every record FTS5
          finds, compared; a query where they differ stops the benchmark (exit 1);
process   ``qdocs search QUERY --limit 20 --json`` as a process against a process that
          opens the FTS5 database and answers the same query (the top 20 ids by its
          rank, and the count per type), given the query already translated to FTS5
          terms (so the peer does no analysis: in its favour); alternated, medians per
          kind and over all;
in process ``SearchIndex.search`` (top 20, snippets, counts per type), every query three
          times: p50/p95.

    python bench/bench_search_scale.py --repo /tmp/gen1m/records --workdir /tmp/bss1m
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bench_search import (ACTIONS, CAUSES, DEFECTS, PARTS, TESTS, compile_project, last_anonymous_peak,  # noqa: E402
                          machine, percentile, run_with_peak)

TARGETS = {"process_median_s": 0.15, "qdocs_over_fts5": 2.0, "in_process_p95_ms": 30,
           "rebuild_records_per_s": 500, "rebuild_peak_mib": 1024}
PEER = """
import json, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
match = sys.argv[2]
top = [row[0] for row in connection.execute(
    "SELECT m.id FROM records JOIN meta m ON m.rowid = records.rowid WHERE records MATCH ? ORDER BY rank LIMIT 20",
    (match,))]
counts = dict(connection.execute(
    "SELECT m.type, count(*) FROM records JOIN meta m ON m.rowid = records.rowid WHERE records MATCH ? "
    "GROUP BY m.type", (match,)).fetchall())
print(json.dumps({"total": sum(counts.values()), "per_type": counts, "results": top}))
"""
KINDS = ("chinese word", "english word", "phrase", "field")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rebuild(root: Path) -> dict[str, Any]:
    done, seconds, peak = run_with_peak([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root),
                                         "index", "rebuild"])
    if done.returncode != 0:
        raise SystemExit(f"rebuild failed: {done.stderr[-800:]}")
    count = int(done.stdout.split()[1])
    return {"records": count, "seconds": round(seconds, 1), "records_per_s": round(count / seconds, 1),
            "peak_tree_pss_mib": round(peak / 2 ** 20, 1),
            "peak_tree_anonymous_pss_mib": round(last_anonymous_peak[0] / 2 ** 20, 1)}


def build_peer(root: Path, database: Path) -> tuple[float, dict[str, list[str]]]:
    """The FTS5 database of every indexed record, from the index's stored fields through
    qdocs' own analysis; returns the seconds it took and sampled field values."""
    import tantivy

    from qdocs.repository import Repository
    from qdocs.search.engine import prepare
    from qdocs.search.index import SearchIndex

    started = time.monotonic()
    database.unlink(missing_ok=True)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("CREATE TABLE meta (rowid INTEGER PRIMARY KEY, id TEXT, type TEXT)")
    connection.execute("CREATE VIRTUAL TABLE records USING fts5(type, product, lot, content, groups, content='', "
                       "detail='column', tokenize=\"unicode61 remove_diacritics 0 tokenchars '-._/'\")")
    index = tantivy.Index.open(str(SearchIndex(Repository.open(root)).generations.current()))
    searcher = index.searcher()
    addresses = [address for _, address in searcher.search(tantivy.Query.all_query(), searcher.num_docs,
                                                            count=False).hits]
    samples: dict[str, list[str]] = {"product": [], "lot": [], "type": []}
    rng = random.Random(16)
    batch: list[tuple[Any, ...]] = []
    for number, address in enumerate(addresses, start=1):
        fields = json.loads(searcher.doc(address).get_first("stored"))
        prepared = prepare(fields)
        row = (number, prepared["type"], " ".join(prepared.get("product", [])), " ".join(prepared.get("lot", [])),
               prepared["content"], prepared["groups"], fields["id"])
        batch.append(row)
        if rng.random() < 0.001:
            for key in samples:
                if fields.get(key):
                    samples[key].append(str(fields[key]))
        if len(batch) == 2000:
            _insert(connection, batch)
            batch = []
        if number % 100_000 == 0:
            log(f"  peer: {number:,} records")
    _insert(connection, batch)
    connection.commit()
    connection.close()
    return time.monotonic() - started, samples


def _insert(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Rows of (rowid, type, product, lot, content, groups, id)."""
    connection.executemany("INSERT INTO records (rowid, type, product, lot, content, groups) VALUES (?, ?, ?, ?, ?, ?)",
                           [row[:6] for row in rows])
    connection.executemany("INSERT INTO meta (rowid, id, type) VALUES (?, ?, ?)",
                           [(row[0], row[6], row[1]) for row in rows])


def make_queries(samples: dict[str, list[str]], per_kind: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    words = PARTS + DEFECTS + CAUSES + ACTIONS + TESTS
    chinese = sorted({zh[start:start + 2] for zh, _ in words for start in range(0, len(zh) - 1, 2)})
    english = sorted({word.lower() for _, phrase in words for word in phrase.split() if len(word) > 3
                      and word.isalpha()})
    phrases = sorted({" ".join(phrase.split()[:3]) for _, phrase in words
                      if len(phrase.split()) >= 2 and all(word.isalpha() for word in phrase.split()[:3])})
    fields = [f"product:{value}" for value in samples["product"]] + [f"lot:{value}" for value in samples["lot"]] \
        + [f"type:{value}" for value in sorted(set(samples["type"]))]
    chosen = [("chinese word", text) for text in rng.sample(chinese, min(per_kind, len(chinese)))]
    chosen += [("english word", text) for text in rng.sample(english, min(per_kind, len(english)))]
    chosen += [("phrase", f'"{text}"') for text in rng.sample(phrases, min(per_kind, len(phrases)))]
    chosen += [("field", text) for text in rng.sample(fields, min(per_kind, len(fields)))]
    return chosen


def fts5_match(text: str) -> str:
    """The query in FTS5 terms, from qdocs' own parse of it (words, phrases, fields)."""
    from qdocs.search.analysis import GROUP_SEPARATOR, phrase_groups
    from qdocs.search.engine.parsing import Phrase, Terms, parse
    from qdocs.search.engine.schema import GROUP_JOINER

    node = parse(text)
    if isinstance(node, Terms):
        return " AND ".join(f'{node.field}:"{term}"' for term in node.texts)
    if isinstance(node, Phrase):
        groups = phrase_groups(list(node.words))
        if groups and len(groups) == 1:
            return f'groups:"{groups[0].replace(GROUP_SEPARATOR, GROUP_JOINER)}"'
    raise ValueError(f"not a query this benchmark translates: {text}")


def all_ids_qdocs(index: Any, text: str) -> set[str]:
    from qdocs.search.model import Filters

    total = index.search(text, Filters(), 1).total
    return {hit.fields["id"] for hit in index.search(text, Filters(), max(total, 1)).hits} if total else set()


def all_ids_peer(connection: sqlite3.Connection, match: str) -> set[str]:
    return {row[0] for row in connection.execute(
        "SELECT m.id FROM records JOIN meta m ON m.rowid = records.rowid WHERE records MATCH ?", (match,))}


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[:6])} failed: {done.stderr[-400:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--skip-rebuild", action="store_true", help="use the index as it is (it must exist)")
    arguments = parser.parse_args()
    root, workdir = arguments.repo.resolve(), arguments.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    compile_project()
    report: dict[str, Any] = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
                              "machine": machine(), "targets": TARGETS}
    if not arguments.skip_rebuild:
        log("qdocs index rebuild")
        report["rebuild"] = rebuild(root)
        log(f"  {report['rebuild']}")
    database = workdir / "peer.sqlite"
    log("peer database (FTS5, qdocs' terms)")
    seconds, samples = build_peer(root, database)
    report["peer_build_s"] = round(seconds, 1)
    report["peer_bytes"] = database.stat().st_size

    from qdocs.repository import Repository
    from qdocs.search.index import SearchIndex
    from qdocs.search.model import Filters

    index = SearchIndex(Repository.open(root))
    queries = make_queries(samples, arguments.per_kind)
    connection = sqlite3.connect(database)
    compared = []
    for kind, text in queries:
        match = fts5_match(text)
        ours, theirs = all_ids_qdocs(index, text), all_ids_peer(connection, match)
        if ours != theirs:
            print(json.dumps({"different": {"query": text, "fts5": match, "qdocs": len(ours), "fts5_found": len(theirs),
                                            "only_qdocs": sorted(ours - theirs)[:5],
                                            "only_fts5": sorted(theirs - ours)[:5]}}, ensure_ascii=False))
            raise SystemExit(1)
        compared.append((kind, text, match, len(ours)))
    connection.close()
    log(f"{len(compared)} queries: the same records on both sides")
    report["queries"] = [{"kind": kind, "query": text, "records": count} for kind, text, _, count in compared]

    latencies: list[float] = []
    for _ in range(3):
        for _, text, _, _ in compared:
            started = time.perf_counter()
            index.search(text, Filters(), 20)
            latencies.append(time.perf_counter() - started)
    report["in_process_ms"] = {"p50": round(percentile(latencies, 0.5) * 1000, 1),
                               "p95": round(percentile(latencies, 0.95) * 1000, 1)}
    log(f"  in process {report['in_process_ms']}")

    peer = workdir / "peer_search.py"
    peer.write_text(PEER, encoding="utf-8")
    times: dict[str, dict[str, list[float]]] = {kind: {"qdocs": [], "fts5": []} for kind in KINDS}
    timed([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "search", "检验", "--limit", "20"])  # warm
    for number, (kind, text, match, _) in enumerate(compared):
        sides = ("qdocs", "fts5") if number % 2 == 0 else ("fts5", "qdocs")
        for side in sides:
            if side == "qdocs":
                seconds, _ = timed([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "search", text,
                                    "--limit", "20", "--json"])
            else:
                seconds, _ = timed([sys.executable, str(peer), str(database), match])
            times[kind][side].append(seconds)
    every = {side: [value for kind in KINDS for value in times[kind][side]] for side in ("qdocs", "fts5")}
    report["process_median_s"] = {
        **{kind: {side: round(statistics.median(values), 3) for side, values in sides.items() if values}
           for kind, sides in times.items()},
        "all": {side: round(statistics.median(values), 3) for side, values in every.items()}}
    report["qdocs_over_fts5"] = round(statistics.median(every["qdocs"]) / statistics.median(every["fts5"]), 2)
    report["load_average"] = round(os.getloadavg()[0], 1)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
