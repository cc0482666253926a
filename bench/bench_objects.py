#!/usr/bin/env python3
"""Benchmark: qdocs' hand-written git object writer and ``cat-file`` reader against pygit2.

Should pygit2 (libgit2 in process) replace what qdocs does by hand?  qdocs commits an
action with ``git update-index`` of the files it wrote (the index is split:
``core.splitIndex``), builds the new trees along the changed paths from the
parent's trees (one ``git cat-file --batch``), writes the commit object as a loose
object and moves the branch with its reflog lines itself; readers stream blobs out
of one ``git cat-file --batch``.  Measured side by side in one run:

(a) write  N commits, each adding one record folder as ``qdocs new`` does
           (``record.yaml``, ``record.docx``, a new event file, the events head,
           the sequence file), to a repository of 100 and of 10,000 records:
             hand       qdocs' path (``git update-index`` + hand-built trees +
                        hand-written commit + branch move; ``git write-tree`` every
                        64th commit, as qdocs does, to keep the cache-tree current)
             pygit2     ``repo.index`` add and write, the trees along the changed
                        paths by ``TreeBuilder`` (every 64th commit
                        ``index.write_tree()``, which refreshes the cache-tree),
                        ``repo.create_commit``, ``Reference.set_target`` (reflog);
                        the index cannot be split for libgit2 (see d), so this copy
                        has a plain index (version 4)
             pygit2-wt  the same with ``index.write_tree()`` at every commit
             hybrid     ``git update-index`` on the split index, trees by
                        ``TreeBuilder`` along the changed paths, commit and branch
                        move by pygit2 (what replacing only the object writer means)
           The commits get fixed dates, so all four must produce the same tree
           and the same commit ids: checked at every commit.  The timed operation
           is the commit (the files are written before, untimed, the same bytes on
           every side).  Measured twice:
             in process   all commits in this process; pygit2 opens the repository
                          for each commit, as one ``qdocs`` process per action would
             per process  each commit in a new Python that has first imported every
                          module a ``qdocs new`` imports, timed from there to the
                          moved branch: importing pygit2 is part of a pygit2 commit,
                          as it would be in ``qdocs new``
(b) read   every ``record.yaml`` blob of the 10,000-record repository:
           ``git cat-file --batch`` fed from a thread (qdocs' own reader,
           ``qdocs.store.objects.stream``) against ``repo[oid].data`` (and ``repo.odb.read``); same bytes.
(c) start  ``python -X importtime -c 'import pygit2'`` (cumulative), what importing
           pygit2 adds to a process that has imported what ``qdocs new`` imports,
           and the start of one git process (what pygit2 would save per call).
(d) split  can libgit2 read or write an index with the ``link`` extension?

Figures are ratios pygit2 / hand (above 1: pygit2 slower), medians of paired
repetitions in alternating order.  The repositories are made with ``git
fast-import`` from the files of a ``qdocs demo`` repository and packed with ``git
gc``, as a long-used repository would be.

    python bench/bench_objects.py             # full: 100 and 10,000 records, about 7 minutes on 2 cores
    python bench/bench_objects.py --quick     # 100 and 1,000 records, fewer repetitions, about 1.5 minutes
    python bench/bench_objects.py --only c,d  # some sections only

pygit2 is not a dependency of qdocs: install it into the environment that runs this
script.  Work happens in a temporary folder under bench/out/ (git-ignored), removed at
the end unless --keep.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import hashlib
import importlib
import inspect
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

#: imported by load_pygit2(): at the start of a run, and inside the timing in the
#: per-process measurement of (a), where importing it is part of the cost
pygit2 = None


def load_pygit2() -> None:
    global pygit2
    import pygit2 as module

    pygit2 = module


GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
AUTHOR, EMAIL = "bench", "bench@qdocs.local"
START_SECONDS = 1_796_000_000  # the commits' fixed dates: this, plus the commit's number
PRODUCTS = ("PUMP-X200", "PUMP-X300", "VALVE-DN50")
REFRESH_EVERY = 64  # qdocs' commit_files runs git write-tree every 64th action

FULL = {"sizes": [100, 10_000], "commits": 40, "process_commits": 10, "reps": 7, "read_reps": 7, "import_runs": 15}
QUICK = {"sizes": [100, 1000], "commits": 15, "process_commits": 4, "reps": 3, "read_reps": 3, "import_runs": 5}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- qdocs' hand-written writer, wherever it lives now -----------------------------

_CANDIDATES = ("qdocs.store.writer", "qdocs.store.trees", "qdocs.store.commits", "qdocs.gittrees", "qdocs.gitobjects")
_NEEDED = ("build_tree", "blob_entry", "write_commit", "move_branch", "branch_of_head", "UnsupportedTree")


def hand_written() -> SimpleNamespace:
    """qdocs' tree builder and commit writer: ``qdocs.store`` first, then the older modules."""
    found: dict[str, object] = {}
    where: dict[str, str] = {}
    for name in _CANDIDATES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute in _NEEDED:
            if attribute not in found and hasattr(module, attribute):
                found[attribute], where[attribute] = getattr(module, attribute), name
    missing = [attribute for attribute in _NEEDED if attribute not in found]
    if missing:
        raise SystemExit(f"cannot find qdocs' {', '.join(missing)} in {', '.join(_CANDIDATES)}")
    takes_environment = "environment" in inspect.signature(found["build_tree"]).parameters
    return SimpleNamespace(**found, where=sorted(set(where.values())), takes_environment=takes_environment)


# -- the repositories --------------------------------------------------------------

class Sources:
    """The files of one ``qdocs new`` in a demo repository, used as templates."""

    def __init__(self, demo: Path) -> None:
        create = _git_text(demo, "log", "--format=%H", "--grep=^create FIR", "-1")
        changed = _git_text(demo, "show", "--format=", "--name-only", create).splitlines()
        folder = next(path for path in changed if path.endswith("/record.yaml")).rpartition("/")[0]
        self.record_id = folder.rpartition("/")[2]
        self.yaml = _git(demo, "show", f"{create}:{folder}/record.yaml").decode("utf-8")
        self.docx = _git(demo, "show", f"{create}:{folder}/record.docx")
        event = next(path for path in changed if re.search(r"/events/.*\d+\.json$", path))
        self.event = _git(demo, "show", f"{create}:{event}").decode("utf-8")
        self.lot = re.search(r"lot: (\S+)", self.yaml).group(1)
        self.product = re.search(r"product: (\S+)", self.yaml).group(1)
        listing = _git(demo, "ls-tree", "-r", "-z", f"{create}^").decode("utf-8").split("\0")
        paths = [line.split("\t", 1)[1] for line in listing if line]
        record_folders = {path.rpartition("/")[0] for path in paths if path.endswith("/record.yaml")}
        self.base: dict[str, bytes] = {}
        for path in paths:
            if path.rpartition("/")[0] in record_folders or path.startswith((".qdocs/events/", ".qdocs/sequences/")):
                continue
            self.base[path] = _git(demo, "show", f"{create}^:{path}")

    def record(self, number: int) -> dict[str, bytes]:
        """Path → content of record ``number``: its folder, its event, the events head
        and the sequence file (the chain hashes are real sha256 of the event text)."""
        product = PRODUCTS[number % len(PRODUCTS)]
        lot = f"L2026-{(number // 15) % 999 + 1:03d}"
        record_id = f"FIR-S1-2026-{number:04d}"
        folder = f"lot/{product}/{lot}/{record_id}"
        yaml = self.yaml.replace(self.record_id, record_id).replace(self.lot, lot).replace(self.product, product)
        comment = record_id.encode("ascii")  # the zip comment makes every .docx distinct, and still a zip
        docx = self.docx[:-2] + len(comment).to_bytes(2, "little") + comment
        previous = hashlib.sha256(f"event {number - 1}".encode()).hexdigest()
        event = re.sub(r'"seq":\d+', f'"seq":{number}', self.event.replace(self.record_id, record_id))
        event = re.sub(r'"prev":"[0-9a-f]+"', f'"prev":"{previous}"', event)
        event_path = f".qdocs/events/S1/{number // 1000:04d}/{number:08d}.json"
        return {
            f"{folder}/record.yaml": yaml.encode("utf-8"),
            f"{folder}/record.docx": docx,
            event_path: event.encode("utf-8"),
            ".qdocs/events/S1.head": f"{number} {hashlib.sha256(event.encode()).hexdigest()}\n".encode(),
            ".qdocs/sequences/S1.yaml": f"FIR-2026: {number}\n".encode(),
        }

    def message(self, number: int) -> str:
        record_id = f"FIR-S1-2026-{number:04d}"
        operation = hashlib.sha1(record_id.encode()).hexdigest()[:32]
        return (f"create {record_id} (final-inspection, {PRODUCTS[number % 3]} / L2026-{(number // 15) % 999 + 1:03d})"
                f"\n\nAction: create\nType: final-inspection\nRevision: A\nRecord: {record_id}\n"
                f"Operation: {operation}\n")


def make_demo(work: Path) -> Path:
    """A ``qdocs demo`` repository (the real files a ``qdocs new`` writes)."""
    demo = work / "demo"
    environment = {**os.environ, "QDOCS_HOME": str(work / "home"), "QDOCS_ACTOR": "demo.admin"}
    completed = subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(demo), "demo"],
                               env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"qdocs demo failed: {completed.stderr.strip()}")
    return demo


def generate(root: Path, sources: Sources, records: int) -> None:
    """A repository of ``records`` final inspections (commits of 1,000), packed, checked
    out, tuned as qdocs tunes its repositories (split index, index version 4)."""
    _git(root.parent, "init", "-q", "-b", "main", str(root))
    process = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE,
                               env={**os.environ, **GIT_ENVIRONMENT})
    assert process.stdin is not None
    stream = process.stdin

    def commit(files: dict[str, bytes], message: str, seconds: int, first: bool) -> None:
        body = message.encode()
        stream.write(f"commit refs/heads/main\ncommitter {AUTHOR} <{EMAIL}> {seconds} +0000\n"
                     f"data {len(body)}\n".encode() + body + b"\n")
        if first:
            stream.write(b"deleteall\n")
        for path, content in files.items():
            stream.write(f"M 100644 inline {path}\ndata {len(content)}\n".encode() + content + b"\n")
        stream.write(b"\n")

    commit(sources.base, "init records repository\n", START_SECONDS - 10, True)
    for start in range(1, records + 1, 1000):
        files: dict[str, bytes] = {}
        for number in range(start, min(start + 1000, records + 1)):
            files.update(sources.record(number))
        commit(files, f"create records {start}-{number}\n", START_SECONDS - 5, False)
    stream.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("*.docx binary -delta\n")
    _git(root, "gc", "-q")
    head = _git_text(root, "rev-parse", "refs/heads/main")
    (root / ".git" / "refs" / "heads" / "main").write_text(head + "\n")  # loose again, as after qdocs' next commit
    _git(root, "config", "core.splitIndex", "true")  # qdocs.store.repository.tune_index
    _git(root, "config", "index.version", "4")
    _git(root, "reset", "-q", "--hard")
    _git(root, "update-index", "--split-index")


def copy_repository(base: Path, target: Path, split: bool) -> None:
    subprocess.run(["cp", "-a", str(base), str(target)], check=True)
    if not split:
        _git(target, "config", "core.splitIndex", "false")
        _git(target, "update-index", "--no-split-index")


# -- the three ways of committing --------------------------------------------------

class Committer:
    """One way of committing an action's files, on its own copy of the repository."""

    def __init__(self, root: Path, writer: SimpleNamespace) -> None:
        self.root, self.git_dir, self.writer = root, root / ".git", writer
        self.counter = self.git_dir / "qdocs" / "trees-since-refresh"
        self.counter.parent.mkdir(exist_ok=True)

    def head(self) -> str:
        return (self.git_dir / "refs" / "heads" / "main").read_text().strip()

    def commit(self, files: list[str], message: str, when: tuple[int, str], parent: str) -> str:
        raise NotImplementedError

    def _refresh_due(self) -> bool:
        """qdocs' counter: every REFRESH_EVERY-th action git writes the tree (and the cache-tree)."""
        try:
            count = int(self.counter.read_text(encoding="ascii") or 0) + 1
        except (OSError, ValueError):
            count = 1
        self.counter.write_text("0" if count >= REFRESH_EVERY else str(count), encoding="ascii")
        return count >= REFRESH_EVERY

    def _update_index(self, files: list[str]) -> None:
        _git(self.root, "update-index", "--add", "--remove", "-z", "--stdin", input="\0".join(files).encode())


class HandWritten(Committer):
    """qdocs' ``commit_files`` (``qdocs.store.writer``): update-index, hand-built trees,
    hand-written commit and ref."""

    name = "hand"

    def commit(self, files: list[str], message: str, when: tuple[int, str], parent: str) -> str:
        writer = self.writer
        self._update_index(files)
        tree = None
        if not self._refresh_due():
            changes = {path: writer.blob_entry(self.root / path) for path in files}
            arguments = (GIT_ENVIRONMENT,) if writer.takes_environment else ()
            tree = writer.build_tree(self.root, parent, changes, *arguments)
        tree = tree or _git_text(self.root, "write-tree")
        branch = writer.branch_of_head(self.git_dir)
        commit = writer.write_commit(self.git_dir, tree, parent, AUTHOR, EMAIL, message, when)
        reason = "qdocs: " + message.splitlines()[0][:200]
        if not writer.move_branch(self.git_dir, branch, commit, parent, f"{AUTHOR} <{EMAIL}>", reason, when):
            raise RuntimeError("the hand-written branch move declined")
        try:  # qdocs' check for git's housekeeping (loose objects never pile up that far here)
            os.listdir(self.git_dir / "objects" / "17")
        except OSError:
            pass
        return commit


class Pygit2Index(Committer):
    """Everything in libgit2: the index (plain: libgit2 cannot read a split one), the trees
    along the changed paths (``TreeBuilder``), the commit, the ref.  Every 64th commit
    ``index.write_tree()`` instead, which also brings the index's cache-tree up to date
    (what ``git write-tree`` does for the hand-written path)."""

    name = "pygit2"

    def commit(self, files: list[str], message: str, when: tuple[int, str], parent: str) -> str:
        repository = pygit2.Repository(str(self.root))
        index = repository.index
        changes = {}
        for path in files:
            if (self.root / path).exists():
                index.add(path)
                entry = index[path]
                changes[path] = (entry.mode, entry.id)
            else:
                index.remove(path)
                changes[path] = None
        if self._refresh_due():
            tree = index.write_tree()
        else:
            tree = tree_along_paths(repository, repository[parent].peel(pygit2.Tree), changes)
        index.write()
        return _commit_and_move(repository, tree, message, when, parent)


class Pygit2WriteTree(Committer):
    """The same with ``index.write_tree()`` at every commit (the plain pygit2 way): libgit2
    then reads every tree of the commit back to rebuild the index's cache-tree."""

    name = "pygit2-wt"

    def commit(self, files: list[str], message: str, when: tuple[int, str], parent: str) -> str:
        repository = pygit2.Repository(str(self.root))
        index = repository.index
        for path in files:
            if (self.root / path).exists():
                index.add(path)
            else:
                index.remove(path)
        tree = index.write_tree()
        index.write()
        return _commit_and_move(repository, tree, message, when, parent)


class Hybrid(Committer):
    """git's split index as now; trees, commit and ref through pygit2 instead of by hand."""

    name = "hybrid"

    def commit(self, files: list[str], message: str, when: tuple[int, str], parent: str) -> str:
        self._update_index(files)
        if self._refresh_due():
            tree = pygit2.Oid(hex=_git_text(self.root, "write-tree"))
            repository = pygit2.Repository(str(self.root))
        else:
            repository = pygit2.Repository(str(self.root))
            changes = {}
            for path in files:
                full = self.root / path
                changes[path] = (pygit2.enums.FileMode.BLOB, pygit2.hashfile(str(full))) if full.exists() else None
            tree = tree_along_paths(repository, repository[parent].peel(pygit2.Tree), changes)
        return _commit_and_move(repository, tree, message, when, parent)


COMMITTERS = {kind.name: kind for kind in (HandWritten, Pygit2Index, Pygit2WriteTree, Hybrid)}


def _commit_and_move(repository: pygit2.Repository, tree: pygit2.Oid, message: str, when: tuple[int, str],
                     parent: str) -> str:
    seconds, zone = when
    minutes = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[3:5]))
    signature = pygit2.Signature(AUTHOR, EMAIL, seconds, minutes)
    commit = repository.create_commit(None, signature, signature, message, tree, [pygit2.Oid(hex=parent)])
    branch = repository.head  # the branch HEAD names, resolved
    if str(branch.target) != parent:
        raise RuntimeError(f"{branch.name} moved during the commit")
    repository.set_ident(AUTHOR, EMAIL)  # the reflog's identity
    branch.set_target(commit, "qdocs: " + message.splitlines()[0][:200])  # compare-and-swap against `parent`
    return str(commit)


def tree_along_paths(repository: pygit2.Repository, parent_tree: pygit2.Tree,
                     changes: dict[str, tuple[int, pygit2.Oid] | None]) -> pygit2.Oid:
    """The parent's root tree with ``changes`` applied, rewriting only the trees on their
    paths (what ``qdocs.store.trees.build_tree`` does by hand), with ``TreeBuilder``."""
    files_in: dict[str, list[tuple[str, tuple[int, pygit2.Oid] | None]]] = {}
    subfolders: dict[str, set[str]] = {}
    for path, change in changes.items():
        parts = path.split("/")
        files_in.setdefault("/".join(parts[:-1]), []).append((parts[-1], change))
        for depth in range(1, len(parts)):
            subfolders.setdefault("/".join(parts[:depth - 1]), set()).add("/".join(parts[:depth]))
    folders = sorted({"", *files_in, *subfolders}, key=lambda name: name.count("/") + (name != ""), reverse=True)
    new_ids: dict[str, pygit2.Oid | None] = {}
    for folder in folders:
        old = parent_tree
        if folder:
            try:
                old = parent_tree[folder]
            except KeyError:
                old = None
        builder = repository.TreeBuilder(old) if old is not None else repository.TreeBuilder()
        for name, change in files_in.get(folder, ()):
            if change is None:
                if builder.get(name) is not None:
                    builder.remove(name)
            else:
                builder.insert(name, change[1], change[0])
        for child in subfolders.get(folder, ()):
            name, child_id = child.rpartition("/")[2], new_ids[child]
            if child_id is None:
                if builder.get(name) is not None:
                    builder.remove(name)
            else:
                builder.insert(name, child_id, pygit2.enums.FileMode.TREE)
        new_ids[folder] = None if folder and len(builder) == 0 else builder.write()
    return new_ids[""]


# -- (a) writing -----------------------------------------------------------------------

def bench_write(work: Path, sources: Sources, writer: SimpleNamespace, size: int, commits: int, reps: int,
                process_commits: int, modules: Path) -> dict:
    """In process: ``reps`` paired repetitions of ``commits`` commits per side.  Per
    process: ``reps`` of ``process_commits``, each commit in a new Python that has
    first imported what a ``qdocs new`` imports (``modules``), timed from there to the
    moved branch, importing pygit2 included."""
    base = work / f"base-{size}"
    if not base.exists():
        started = time.perf_counter()
        generate(base, sources, size)
        log(f"repository of {size} records made and packed in {time.perf_counter() - started:.0f} s")
    committers = []
    for kind in COMMITTERS.values():
        target = work / f"{kind.name}-{size}"
        shutil.rmtree(target, ignore_errors=True)
        copy_repository(base, target, split=kind in (HandWritten, Hybrid))
        committers.append(kind(target, writer))
    number = size

    def in_process(committer: Committer, step: int) -> tuple[float, str]:
        files, message, when, parent = _prepare(committer, sources, step)
        started = time.perf_counter()
        commit = committer.commit(files, message, when, parent)
        return time.perf_counter() - started, commit

    def in_a_new_process(committer: Committer, step: int) -> tuple[float, str]:
        files, message, when, parent = _prepare(committer, sources, step)
        request = {"kind": committer.name, "root": str(committer.root), "files": files, "message": message,
                   "when": list(when), "parent": parent, "modules": str(modules)}
        completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child"],
                                   input=json.dumps(request), capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(f"the {committer.name} child failed: {completed.stderr.strip()}")
        elapsed, commit = completed.stdout.split()
        return float(elapsed), commit

    # first: the same content gives the same tree (and, with the same dates, the same commit) on every side
    number += 1
    commit_ids = {committer.name: in_process(committer, number)[1] for committer in committers}
    trees = {committer.name: _git_text(committer.root, "rev-parse", f"{commit_ids[committer.name]}^{{tree}}")
             for committer in committers}
    if len(set(trees.values())) != 1 or len(set(commit_ids.values())) != 1:
        raise SystemExit(f"the writers disagree: trees {trees}, commits {commit_ids}")
    log(f"size {size}: same tree {trees['hand'][:12]} and commit {commit_ids['hand'][:12]} on every side")

    result: dict = {"size": size}
    for mode, step_function, count in (("in process", in_process, commits),
                                       ("per process", in_a_new_process, process_commits)):
        if not count:
            continue
        for _ in range(2):  # warm up: page cache, code paths
            number += 1
            if len({step_function(committer, number)[1] for committer in committers}) != 1:
                raise SystemExit(f"the writers disagree on a warm-up commit ({mode})")
        times: dict[str, list[float]] = {committer.name: [] for committer in committers}
        per_commit: dict[str, list[float]] = {committer.name: [] for committer in committers}
        for rep in range(reps):
            first = number + 1
            order = committers[rep % len(committers):] + committers[:rep % len(committers)]
            if rep % 2:
                order.reverse()
            made: dict[str, list[str]] = {}
            for committer in order:
                elapsed_all, ids = 0.0, []
                for step in range(first, first + count):
                    elapsed, commit = step_function(committer, step)
                    elapsed_all += elapsed
                    per_commit[committer.name].append(elapsed)
                    ids.append(commit)
                times[committer.name].append(elapsed_all)
                made[committer.name] = ids
            if len({tuple(ids) for ids in made.values()}) != 1:
                raise SystemExit(f"the writers disagree in repetition {rep + 1} ({mode})")
            number = first + count - 1
            log(f"size {size}, {mode}, repetition {rep + 1}/{reps}: "
                + ", ".join(f"{name} {times[name][-1] * 1000 / count:.1f} ms" for name in times))
        found = {"commits": count, "reps": reps, "times": times,
                 "per_commit_ms": {name: statistics.median(values) * 1000 for name, values in per_commit.items()},
                 "spread_ms": {name: (min(values) * 1000, max(values) * 1000) for name, values in per_commit.items()}}
        for name in list(COMMITTERS)[1:]:
            found[f"{name}_ratios"] = [other / hand for other, hand in zip(times[name], times["hand"])]
            found[f"{name}_ratio"] = statistics.median(found[f"{name}_ratios"])
        result[mode] = found
    reflogs = {committer.name: (_git_text(committer.root, "reflog", "show", "--format=%H", "HEAD").count("\n"),
                                _git_text(committer.root, "reflog", "show", "--format=%H", "main").count("\n"))
               for committer in committers}
    if len(set(reflogs.values())) != 1:
        raise SystemExit(f"the reflogs differ: {reflogs}")
    heads = {committer.name: committer.head() for committer in committers}
    if len(set(heads.values())) != 1:
        raise SystemExit(f"the branches differ: {heads}")
    for committer in committers:
        staged = _git_text(committer.root, "diff-index", "--cached", "--name-only", "HEAD")
        if staged:
            raise SystemExit(f"the {committer.name} index differs from HEAD after the run: {staged[:200]}")
        _git(committer.root, "fsck", "--connectivity-only", "--no-dangling")
    result["commits_made"] = number - size
    result["index_bytes"] = {committer.name: _index_sizes(committer.root) for committer in committers}
    return result


def _prepare(committer: Committer, sources: Sources, step: int) -> tuple[list[str], str, tuple[int, str], str]:
    """Write the record's files (untimed, the same bytes on every side); what to commit."""
    files = sources.record(step)
    for path, content in files.items():
        full = committer.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(content)
    return sorted(files), sources.message(step), (START_SECONDS + step, "+0000"), committer.head()


def child() -> None:
    """One commit in this new process (``--child``, the request on stdin): import what a
    ``qdocs new`` imports, then time the commit, importing pygit2 included."""
    request = json.loads(sys.stdin.read())
    for name in Path(request["modules"]).read_text().split():
        try:
            importlib.import_module(name)
        except Exception:  # a module qdocs new imported conditionally; not needed here
            pass
    kind = COMMITTERS[request["kind"]]
    writer = hand_written() if kind is HandWritten else None
    started = time.perf_counter()
    if kind is not HandWritten:
        load_pygit2()
    commit = kind(Path(request["root"]), writer).commit(request["files"], request["message"],
                                                       tuple(request["when"]), request["parent"])
    print(time.perf_counter() - started, commit)


# -- (b) reading -----------------------------------------------------------------------

def qdocs_stream() -> Callable | None:
    """qdocs' own streaming reader (``qdocs.store.objects.stream``), None before it existed."""
    try:
        return importlib.import_module("qdocs.store.objects").stream
    except (ImportError, AttributeError):
        return None


def read_cat_file(root: Path, blobs: list[str]) -> list[bytes]:
    """One ``git cat-file --batch`` fed from a thread, answers read as they come: qdocs'
    own reader where it exists, else the same loop as ``qdocs.audit.extraction`` had."""
    stream = qdocs_stream()
    if stream is not None:
        return [answer[1] for answer in stream(root, [blob.encode("ascii") for blob in blobs])]
    process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=root, env={**os.environ, **GIT_ENVIRONMENT},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    requests = process.stdin

    def feed() -> None:
        for start in range(0, len(blobs), 1000):
            requests.write("".join(blob + "\n" for blob in blobs[start:start + 1000]).encode("ascii"))
        requests.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    output, contents = process.stdout, []
    for _ in blobs:
        header = output.readline().split()
        contents.append(output.read(int(header[2])))
        output.read(1)
    output.close()
    process.wait()
    feeder.join()
    return contents


def read_pygit2(root: Path, blobs: list[str]) -> list[bytes]:
    repository = pygit2.Repository(str(root))
    return [repository[blob].data for blob in blobs]


def read_pygit2_odb(root: Path, blobs: list[str]) -> list[bytes]:
    odb = pygit2.Repository(str(root)).odb
    return [odb.read(blob)[1] for blob in blobs]


def bench_read(work: Path, sources: Sources, size: int, reps: int) -> dict:
    base = work / f"base-{size}"
    if not base.exists():
        generate(base, sources, size)
    listing = _git(base, "ls-tree", "-r", "-z", "HEAD").decode().split("\0")
    blobs = [line.split()[2] for line in listing if line.endswith("/record.yaml")]
    readers: dict[str, Callable[[Path, list[str]], list[bytes]]] = {
        "cat-file": read_cat_file, "pygit2": read_pygit2, "pygit2-odb": read_pygit2_odb}
    expected = read_cat_file(base, blobs)
    for name, reader in readers.items():
        if reader(base, blobs) != expected:
            raise SystemExit(f"{name} read different bytes")
    times: dict[str, list[float]] = {name: [] for name in readers}
    names = list(readers)
    for rep in range(reps):
        for name in (names if rep % 2 == 0 else names[::-1]):
            started = time.perf_counter()
            readers[name](base, blobs)
            times[name].append(time.perf_counter() - started)
    result = {"size": size, "blobs": len(blobs), "bytes": sum(map(len, expected)), "reps": reps, "times": times}
    for name in ("pygit2", "pygit2-odb"):
        result[f"{name}_ratio"] = statistics.median(
            [other / hand for other, hand in zip(times[name], times["cat-file"])])
    return result


# -- (c) start -----------------------------------------------------------------------

def modules_of_new(demo: Path, work: Path) -> Path:
    """The file listing every module a ``qdocs new`` process imports (``-X importtime`` of one)."""
    environment = {**os.environ, "QDOCS_HOME": str(work / "home"), "QDOCS_ACTOR": "demo.admin"}
    shown = subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(demo), "show", "--json",
                            "FIR-S1-2026-0001"], env=environment, capture_output=True, text=True, check=True)
    record = json.loads(shown.stdout)
    data = {**record["data"], "product": record["subject"]["product"], "lot": "L2026-900"}
    (work / "data.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    new = subprocess.run([sys.executable, "-X", "importtime", str(PROJECT / "cli.py"), "--repo", str(demo), "new",
                          "final-inspection", "--data", str(work / "data.json")],
                         env=environment, capture_output=True, text=True, check=True)
    modules = [line.rpartition("|")[2].strip() for line in new.stderr.splitlines() if line.startswith("import time:")]
    listing = work / "modules.txt"
    listing.write_text("\n".join(name for name in modules if name != "imported package"))
    return listing


def bench_import(runs: int, modules: Path) -> dict:
    """``-X importtime`` of pygit2 alone (cumulative µs of its top line); what importing it
    adds to a ``qdocs new`` process (timed after importing every module ``qdocs new``
    imports, many of which pygit2 needs too); the start of one git process."""
    marginal_program = (
        "import importlib, sys, time\n"
        f"sys.path.insert(0, {str(PROJECT)!r})\n"
        f"for name in open({str(modules)!r}).read().split():\n"
        "    try:\n        importlib.import_module(name)\n    except Exception:\n        pass\n"
        "started = time.perf_counter()\nimport pygit2\nprint(time.perf_counter() - started)\n")
    cumulative, marginal, git_start = [], [], []
    for _ in range(runs):
        completed = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pygit2"],
                                   capture_output=True, text=True, check=True)
        for line in completed.stderr.splitlines():
            fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
            if len(fields) == 3 and fields[2] == "pygit2":
                cumulative.append(int(fields[1]))
        completed = subprocess.run([sys.executable, "-c", marginal_program], capture_output=True, text=True,
                                   check=True)
        marginal.append(float(completed.stdout))
        started = time.perf_counter()
        subprocess.run(["git", "cat-file", "--batch"], input=b"", capture_output=True, check=True,
                       env={**os.environ, **GIT_ENVIRONMENT})
        git_start.append(time.perf_counter() - started)
    return {"importtime_us": statistics.median(cumulative), "importtime_all_us": cumulative,
            "modules_of_new": len(modules.read_text().split()), "marginal_ms": statistics.median(marginal) * 1000,
            "marginal_all_ms": [value * 1000 for value in marginal],
            "git_process_ms": statistics.median(git_start) * 1000, "runs": runs}


# -- (d) split index -----------------------------------------------------------------

def check_split_index(work: Path, sources: Sources) -> list[tuple[str, str]]:
    """What libgit2 does with git's split index, step by step, on a small repository
    tuned as qdocs tunes its own (``core.splitIndex=true``, ``update-index --split-index``)."""
    root = work / "split-index"
    shutil.rmtree(root, ignore_errors=True)
    generate(root, sources, 20)
    findings: list[tuple[str, str]] = []

    def attempt(label: str, action: Callable[[], object]) -> None:
        hook, sys.unraisablehook = sys.unraisablehook, lambda _: None  # pygit2's Index.__del__ after a failed read
        try:
            outcome = action()
        except Exception as error:  # what libgit2 says is the finding
            findings.append((label, f"{type(error).__name__}: {error}"))
            return
        finally:
            gc.collect()
            sys.unraisablehook = hook
        findings.append((label, "ok" if outcome is None else f"ok, {outcome}"))

    def add_and_write(name: str) -> str:
        (root / name).write_bytes(name.encode() + b"\n")
        index = pygit2.Repository(str(root)).index
        index.add(name)
        index.write()
        return f"{len(index)} entries written; {_index_shape(root)}"

    findings.append(("the index git wrote", _index_shape(root)))
    attempt("pygit2: repo.index (reads .git/index)", lambda: f"{len(pygit2.Repository(str(root)).index)} entries")
    attempt("pygit2: Index('.git/index') (the file alone)",
            lambda: f"{len(pygit2.Index(str(root / '.git' / 'index')))} entries")
    attempt("pygit2: repo.index.add + write on the split index", lambda: add_and_write("first.txt"))
    _git(root, "update-index", "--no-split-index")
    findings.append(("after git update-index --no-split-index (core.splitIndex still true)", _index_shape(root)))
    attempt("pygit2: repo.index.add + write on the plain index", lambda: add_and_write("second.txt"))
    attempt("git status after libgit2 wrote the index",
            lambda: _git_text(root, "status", "--porcelain").replace("\n", "; ") or "clean")
    (root / "third.txt").write_bytes(b"third\n")
    _git(root, "update-index", "--add", "third.txt")
    findings.append(("after git's next write of the index (git update-index --add, core.splitIndex=true)",
                     _index_shape(root)))
    attempt("pygit2: repo.index again", lambda: f"{len(pygit2.Repository(str(root)).index)} entries")
    return findings


def _index_sizes(root: Path) -> tuple[int, int]:
    """Bytes of ``.git/index`` (what every write rewrites) and of the shared index it links to (0: not split)."""
    data = (root / ".git" / "index").read_bytes()
    position = data.find(b"link")
    while position != -1:
        shared = root / ".git" / f"sharedindex.{data[position + 8:position + 28].hex()}"
        if shared.exists():
            return len(data), shared.stat().st_size
        position = data.find(b"link", position + 1)
    return len(data), 0


def _index_shape(root: Path) -> str:
    """Version, and whether the index links to a shared index (the ``link`` extension:
    ``link``, its size, the shared index's id, which names a ``sharedindex.<id>`` file)."""
    data = (root / ".git" / "index").read_bytes()
    version = int.from_bytes(data[4:8], "big")
    position = data.find(b"link")
    while position != -1:
        shared = data[position + 8:position + 28].hex()
        if (root / ".git" / f"sharedindex.{shared}").exists():
            return f"version {version}, split (link extension to sharedindex.{shared[:12]}...)"
        position = data.find(b"link", position + 1)
    return f"version {version}, not split (no link extension)"


# -- helpers and the report ------------------------------------------------------------

def _git(root: Path, *arguments: str, input: bytes | None = None, check: bool = True) -> bytes:
    completed = subprocess.run(["git", *arguments], cwd=root, input=input, capture_output=True,
                               env={**os.environ, **GIT_ENVIRONMENT}, check=False)
    if check and completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments[:2])} failed: {completed.stderr.decode().strip()}")
    return completed.stdout


def _git_text(root: Path, *arguments: str) -> str:
    return _git(root, *arguments).decode("utf-8").strip()


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    project = subprocess.run(["git", "-C", str(PROJECT), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()), "arch": platform.machine(), "cpu": cpu,
        "python": platform.python_version(), "git": _git_text(PROJECT, "--version").removeprefix("git version "),
        "pygit2": pygit2.__version__, "libgit2": pygit2.LIBGIT2_VERSION, "commit": project,
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 records, fewer repetitions")
    parser.add_argument("--only", default="a,b,c,d", help="sections to run, e.g. a,d")
    parser.add_argument("--commits", type=int, help="commits per side and repetition in (a), in process")
    parser.add_argument("--process-commits", type=int, help="the same, each in a new process (0: none)")
    parser.add_argument("--reps", type=int, help="paired repetitions in (a)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    arguments = parser.parse_args()
    settings = dict(QUICK if arguments.quick else FULL)
    for name in ("commits", "process_commits", "reps"):
        if getattr(arguments, name) is not None:
            settings[name] = getattr(arguments, name)
    sections = set(arguments.only.split(","))
    load_pygit2()
    info = machine()
    writer = hand_written()
    print(f"date {info['date']}; nproc {info['nproc']}, {info['arch']}, {info['cpu']}; Python {info['python']}, "
          f"git {info['git']}, pygit2 {info['pygit2']} (libgit2 {info['libgit2']}); qdocs {info['commit']} "
          f"(writer: {', '.join(writer.where)}; reader: "
          f"{'qdocs.store.objects.stream' if qdocs_stream() else 'a copy of the extraction loop'}); "
          f"load {info['load']}", flush=True)
    (PROJECT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="objects-", dir=PROJECT / "bench" / "out"))
    started = time.perf_counter()
    results: dict = {"machine": info, "settings": settings}
    try:
        demo = make_demo(work)
        sources = Sources(demo)
        modules = modules_of_new(demo, work)
        if "d" in sections:
            results["d"] = check_split_index(work, sources)
            print("\n(d) libgit2 and the split index")
            for label, outcome in results["d"]:
                print(f"  {label}: {outcome}")
        if "c" in sections:
            found = results["c"] = bench_import(settings["import_runs"], modules)
            print(f"\n(c) import pygit2, median of {found['runs']}: -X importtime cumulative "
                  f"{found['importtime_us'] / 1000:.1f} ms (all {[round(v / 1000, 1) for v in found['importtime_all_us']]});"
                  f"\n  after the {found['modules_of_new']} modules a qdocs new imports: {found['marginal_ms']:.1f} ms "
                  f"(all {[round(v, 1) for v in found['marginal_all_ms']]});\n  one git process start "
                  f"(cat-file --batch, no input) {found['git_process_ms']:.1f} ms")
        if "a" in sections:
            results["a"] = []
            for size in settings["sizes"]:
                found = bench_write(work, sources, writer, size, settings["commits"], settings["reps"],
                                    settings["process_commits"], modules)
                results["a"].append(found)
                _print_write(found)
        if "b" in sections:
            size = max(settings["sizes"])
            found = results["b"] = bench_read(work, sources, size, settings["read_reps"])
            medians = {name: statistics.median(values) * 1000 for name, values in found["times"].items()}
            print(f"\n(b) read {found['blobs']} record.yaml blobs ({found['bytes'] / 1e6:.1f} MB), "
                  f"{found['reps']} alternated repetitions: " + ", ".join(
                      f"{name} {value:.0f} ms" for name, value in medians.items()))
            print(f"  ratio pygit2 repo[oid].data / cat-file {found['pygit2_ratio']:.2f}x "
                  f"{[round(other / hand, 2) for other, hand in zip(found['times']['pygit2'], found['times']['cat-file'])]}; "
                  f"pygit2 odb.read / cat-file {found['pygit2-odb_ratio']:.2f}x")
    finally:
        if arguments.keep:
            print(f"\nwork folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started
    results["load_end"] = os.getloadavg()[0]
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=1))
    print(f"\ntotal {results['seconds']:.0f} s; load at the end {results['load_end']:.1f}")


def _print_write(found: dict) -> None:
    sizes = found["index_bytes"]
    for mode in ("in process", "per process"):
        if mode not in found:
            continue
        part = found[mode]
        print(f"\n(a) {found['size']} records, {mode}: {part['commits']} commits x {part['reps']} paired repetitions")
        for name in COMMITTERS:
            totals = ", ".join(f"{value:.2f}" for value in part["times"][name])
            low, high = part["spread_ms"][name]
            print(f"  {name:9} per commit median {part['per_commit_ms'][name]:.1f} ms (min {low:.1f}, max {high:.1f});"
                  f" per repetition [{totals}] s")
        for name in list(COMMITTERS)[1:]:
            print(f"  ratio {name}/hand {part[f'{name}_ratio']:.2f}x {[round(r, 2) for r in part[f'{name}_ratios']]}")
    print("  index after the run: " + "; ".join(
        f"{name} .git/index {index / 1024:.0f} KiB" + (f" + shared {shared / 1024:.0f} KiB" if shared else "")
        for name, (index, shared) in sizes.items()))


if __name__ == "__main__":
    main()
