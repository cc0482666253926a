#!/usr/bin/env python3
"""Would tantivy do qdocs' search faster?  The same records, the same terms, both engines.

Issue 16 asks for a ``qdocs search`` process of at most 0.15 s at 1,000,000 records and an
index rebuild of at least 500 records/s; the Whoosh-based engine spends most of a search
process importing Whoosh and NumPy, and its rebuild is pure Python.  tantivy (Rust, the
engine Paperless-ngx moved to) is measured here on the same corpus, keeping what qdocs
would keep: its own documents (``qdocs.search.build.read_documents``) and its own analysis
(``qdocs.search.analysis``: CJK bigrams and trigrams, stemmed English), so that only the
engine differs.  tantivy gets the analysed terms, one per token (its ``whitespace``
tokenizer), in a ``body`` field, with ``id`` and ``type`` stored.

Measured:

build     reading the records and analysing their text (Python, the part qdocs keeps), then
          tantivy adding the documents and committing (two indexing threads): records/s of
          each and together, and the peak PSS of the building process;
same      for the Chinese-word and English-word queries of ``bench_search.make_queries``:
          every record qdocs finds, and every record tantivy finds for the AND of the same
          query terms: the queries whose sets of ids are equal (only those are timed);
process   ``qdocs search WORD --limit 20`` as a process against a process that imports
          tantivy and qdocs' analysis, opens the index, searches the same terms and prints
          the top 20 ids: medians, alternated.

tantivy is not a dependency of qdocs: ``pip install tantivy`` in the environment that runs
this script.

    python bench/bench_tantivy.py --repo /tmp/q100k/records --workdir /tmp/tv100k
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import random
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

from bench_search import compile_project, machine, make_queries, qdocs_ids, run_with_peak  # noqa: E402

KINDS = ("chinese word", "chinese in a longer word", "company", "english word", "english stem")
SEARCH_SCRIPT = """
import sys, json
import tantivy
from qdocs.search.analysis import terms
from whoosh.lang.porter import stem
directory, text = sys.argv[1], sys.argv[2]
index = tantivy.Index.open(directory)
searcher = index.searcher()
words = sorted({term.text for term in terms(text, stem, query=True)})
query = tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "body", word))
                                     for word in words])
hits = searcher.search(query, 20).hits
print(" ".join(searcher.doc(address)["id"][0] for _, address in hits))
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("type", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    return builder.build()


def build(root: Path, directory: Path) -> dict[str, Any]:
    """The tantivy index of every record of ``root``'s HEAD (run in a process of its own)."""
    import tantivy

    from qdocs.repository import Repository
    from qdocs.search.analysis import index_terms
    from qdocs.search.build import read_documents
    from qdocs.search.source import list_records
    from qdocs.search.writing import date_fields
    from whoosh.lang.porter import stem

    repository = Repository.open(root)
    sources = list(list_records(root, repository.git.head(), None).values())
    directory.mkdir(parents=True)
    index = tantivy.Index(schema(), path=str(directory))
    writer = index.writer(heap_size=256 * 2 ** 20, num_threads=2)
    python_seconds = tantivy_seconds = 0.0
    started = time.perf_counter()
    count = 0
    for folder, document, problem in read_documents(root, sources, date_fields(repository)):
        if document is None:
            continue
        found, groups = index_terms(document["content"], stem)
        body = " ".join([*found, *groups])
        middle = time.perf_counter()
        writer.add_document(tantivy.Document(id=document["id"], type=document["type"], body=body))
        count += 1
        done = time.perf_counter()
        tantivy_seconds += done - middle
        python_seconds += middle - started
        started = done
    middle = time.perf_counter()
    writer.commit()
    writer.wait_merging_threads()
    tantivy_seconds += time.perf_counter() - middle
    return {"records": count, "python_read_and_analyse_s": round(python_seconds, 1),
            "tantivy_add_and_commit_s": round(tantivy_seconds, 1)}


def query_terms(text: str) -> list[str]:
    from qdocs.search.analysis import terms
    from whoosh.lang.porter import stem

    return sorted({term.text for term in terms(text, stem, query=True)})


def tantivy_ids(index: Any, text: str) -> set[str]:
    import tantivy

    searcher = index.searcher()
    query = tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "body", word))
                                         for word in query_terms(text)])
    total = searcher.search(query, 1, count=True).count
    hits = searcher.search(query, max(total, 1)).hits
    return {searcher.doc(address)["id"][0] for _, address in hits}


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr[-400:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="a repository with a qdocs search index")
    parser.add_argument("--workdir", type=Path, required=True, help="a new folder for the tantivy index")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    root, directory = arguments.repo.resolve(), arguments.workdir.resolve() / "index"
    if arguments.build_only:
        print(json.dumps(build(root, directory)))
        return
    compile_project()
    import tantivy

    log("tantivy index: built in a process of its own")
    done, seconds, peak = run_with_peak([sys.executable, __file__, "--repo", str(root), "--workdir",
                                         str(arguments.workdir), "--build-only"])
    if done.returncode != 0:
        raise SystemExit(f"build failed: {done.stderr[-800:]}")
    built = json.loads(done.stdout)
    built.update(seconds=round(seconds, 1), records_per_s=round(built["records"] / seconds, 1),
                 peak_tree_pss_mib=round(peak / 2 ** 20, 1))
    log(f"  {built}")

    from qdocs.repository import Repository
    from qdocs.search.index import SearchIndex

    qdocs_index = SearchIndex(Repository.open(root))
    tantivy_index = tantivy.Index.open(str(directory))
    queries = [(kind, text) for kind, text in make_queries(random.Random(7)) if kind in KINDS]
    same, differing = [], []
    for kind, text in queries:
        ours, theirs = qdocs_ids(qdocs_index, text), tantivy_ids(tantivy_index, text)
        (same if ours == theirs else differing).append((kind, text, len(ours), len(theirs)))
    log(f"{len(same)} of {len(queries)} queries: the same records")

    script = arguments.workdir.resolve() / "tantivy_search.py"
    script.write_text(SEARCH_SCRIPT, encoding="utf-8")
    environment_path = str(PROJECT)
    chosen = [text for _, text, _, _ in same][:arguments.runs]
    times: dict[str, list[float]] = {"qdocs": [], "tantivy": []}
    for text in chosen:
        for name in (("qdocs", "tantivy") if len(times["qdocs"]) % 2 == 0 else ("tantivy", "qdocs")):
            if name == "qdocs":
                command = [sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "search", text, "--limit", "20"]
            else:
                command = [sys.executable, str(script), str(directory), text]
            seconds, _ = timed(command) if name == "qdocs" else timed(
                ["env", f"PYTHONPATH={environment_path}", *command])
            times[name].append(seconds)
    report = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "machine": machine(),
        "load_average": round(os.getloadavg()[0], 1), "tantivy": tantivy.__version__,
        "build": built, "queries_compared": len(queries), "same_records": len(same),
        "differing": differing[:10],
        "process_median_s": {name: round(statistics.median(values), 3) for name, values in times.items() if values},
        "process_runs": len(chosen),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
