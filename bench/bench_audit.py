#!/usr/bin/env python3
"""Benchmark ``qdocs audit`` on products x lots with full record sets (1,000 x 10 by default;
10,000 x 10, about 1,540,000 records, for issue 16).

The repository (about 154,000 records' metadata) is generated through the
library: one ``Record`` per record type and variant is built from the catalog's
example data (validated with ``qdocs.actions.prepare``) and dumped with
``yamlio``; each record's ``record.yaml`` is that text with its id, subject and
dates put in (a sample is parsed back and compared with the ``Record`` built
directly).  Two processes write the record folders; their files' blobs go into git through
``git fast-import`` and the commit's tree is built by git's index (``git read-tree``,
``git update-index --index-info``, ``git write-tree``; fast-import itself scans a folder's
entries for every file it adds, hours for the 300,000 material lots of one folder at 10,000
products), then the repository is packed by ``git gc`` as a user's is.  The signers are users of
the trust log, registered through the library (one per meaning, and the 100
service staff) before the records' signing date, each with a key; the signatures
name those users, roles and keys, so the audit's lookup of every signature in the
trust state has its real work, but they are not cryptographic (the audit does not
verify signatures; ``qdocs verify`` does).  Every record folder also holds its
``record.docx``, as a user's does, so git's index and tree have their two entries per
record (the audit lists both); the audit never opens a document, so all of them are one
blob in git and hard links to a few files in the work tree (the disk a million
documents would take is not needed to measure what reads none of them).
``release-check`` verifies the records a lot relies on as
``qdocs verify`` does, so here, without documents or events, it blocks every lot: its
figure measures that work, not an outcome.
A few lots are made incomplete (an unsigned final inspection, an open
nonconformance, a missing incoming inspection) so every kind of check has work.

Measured side by side, alternating, several rounds, on the warm caches:

  read             the bytes of every committed ``record.yaml``, nothing parsed:
                   the least that loading all the metadata can cost
  load (library)   ``list(iter_records(repository))``: every current record.yaml
                   read from the work tree through the sqlite parse cache
  load (audit)     the audit's own metadata load: git index + fact cache
  audit            ``run_audit`` + the terminal report, in process
  qdocs audit      the command as a process (Python start, imports, output)

Targets: at 1,000 x 10, ``qdocs audit`` <= 3 s and <= 1.5x the time to read the
metadata; at 10,000 x 10 (issue 16), warm, <= 1.2x the time to read every record.yaml's
bytes.  The first audit (qdocs' caches cold: the command parses every record once on two
cores) and the first ``iter_records`` (which fills its own cache; ``--no-library`` leaves
it and the library's load out, as a 1,540,000-record run does) are timed and reported too.

    python bench/bench_audit.py                       # 1,000 x 10 (about 6 minutes on an idle machine)
    python bench/bench_audit.py --products 100        # quick
    python bench/bench_audit.py --products 10000 --rounds 3 --no-library   # issue 16
"""

from __future__ import annotations

import argparse
import datetime as _dt
import multiprocessing
import os
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from qdocs import yamlio  # noqa: E402
from qdocs.actions import prepare  # noqa: E402
from qdocs.examples import example_values  # noqa: E402
from qdocs.records import Record, Stamp  # noqa: E402
from qdocs.founding import init_repository  # noqa: E402
from qdocs.repository import Repository  # noqa: E402

SUPPLIERS, STAFF, LOT_RECORDS = 100, 100, 15
PASSPHRASE = "bench passphrase"
USERS_MADE = "2024-12-01T08:00:00+08:00"  # the trust log's users and keys, before anything is signed
SIGNED = "2025-01-02T08:00:00Z"
OPERATIONS = ["叶轮加工 Impeller machining", "叶轮动平衡 Impeller balancing",
              "机械密封装配 Mechanical seal assembly", "水压试验 Hydrostatic test"]
CREATED = "2025-01-01T08:00:00+08:00"
S = {"id": "SENTINELID", "product": "SENTINELPRODUCT", "lot": "SENTINELLOT", "supplier": "SENTINELSUPPLIER",
     "contract": "SENTINELCONTRACT", "material_lot": "SENTINELMATERIAL", "equipment": "SENTINELEQUIPMENT",
     "staff": "SENTINELSTAFF", "case": "SENTINELCASE", "start": "2099-01-01", "finish": "2099-01-20",
     "before": "2099-02-02", "after": "2099-03-03", "received": "2099-04-04 09:30:00+08:00",
     "replied": "2099-04-05 11:05:00+08:00", "ml1": "SENTINELMLA", "ml2": "SENTINELMLB", "ml3": "SENTINELMLC",
     "eq1": "SENTINELEQA", "eq2": "SENTINELEQB", "sup1": "SENTINELSUPA", "staffkey": "SENTINELSTAFFKEY",
     "reviewer": "SENTINELREVIEWER", "reviewerkey": "SENTINELREVIEWERKEY"}
#: the users who sign: name -> key fingerprint (set by register_signers)
KEYS: dict[str, str] = {}


def template(catalog, type_id: str, subject: dict, changes: dict, signed: int | None = None) -> str:
    """record.yaml of one type with sentinels, through prepare (validation), Record and yamlio.
    A service record is performed by the case's staff member and reviewed by another one."""
    record_type = catalog.get(type_id)
    values = {**example_values(catalog, record_type), **changes}
    for key in record_type.subject_keys:
        values.pop(key, None)
    subject_value, data = prepare(record_type, {**values, **subject})
    meanings = [requirement.meaning for requirement in record_type.signatures]
    count = len(meanings) if signed is None else signed
    service_signers = [(S["staff"], S["staffkey"]), (S["reviewer"], S["reviewerkey"])]
    signatures = []
    for number, (meaning, requirement) in enumerate(zip(meanings[:count], record_type.signatures)):
        signer, key = (service_signers[number] if type_id == "service-record"
                       else (f"bench.{meaning}", KEYS[f"bench.{meaning}"]))
        signatures.append({"meaning": meaning, "signer": signer, "full_name": "Bench", "role": requirement.roles[0],
                           "time": SIGNED, "comment": "", "key": key, "chain_head": "0" * 64,
                           "signature": "bench (not cryptographic)"})
    record = Record(S["id"], type_id, subject_value, "A", "approved" if count == len(meanings) else "in-review",
                    data, "0" * 64, "", Stamp(CREATED, "bench"), Stamp(CREATED, "bench"),
                    [{"revision": "A", "time": CREATED, "actor": "bench", "reason": "first issue"}],
                    signatures=signatures)
    return record.to_yaml()


def templates(catalog) -> dict[str, str]:
    lot = {"product": S["product"], "lot": S["lot"]}
    dated = {"start_date": S["start"], "finish_date": S["finish"]}
    plan = {**dated,
            "material_lots": [{"material_lot": S[f"ml{n}"], "material": f"材料 Material {n}", "supplier_id": S["sup1"],
                               "quantity": "100", "unit": "kg"} for n in (1, 2, 3)],
            "equipment_used": [{"equipment_id": S["eq1"], "purpose": "车削 Turning"},
                               {"equipment_id": S["eq2"], "purpose": "动平衡 Balancing"}],
            "tasks": [{"task": "制造 Make", "quantity": "100", "start": S["start"], "finish": S["finish"]}]}
    result = {
        "MSR": template(catalog, "market-survey", {"product": S["product"]}, {}),
        "DRR": template(catalog, "design-review", {"product": S["product"]}, {}),
        "SMT": template(catalog, "sample-test", {"product": S["product"]}, {}),
        "PRC": template(catalog, "process-document", {"product": S["product"]}, {}),
        "SEV": template(catalog, "supplier-evaluation", {"supplier": S["supplier"]},
                        {"evaluation_date": "2025-01-01", "next_assessment_due": "2026-01-01"}),
        "PCR": template(catalog, "purchase-contract-review",
                        {"supplier": S["supplier"], "contract": S["contract"]}, {}),
        "TRN": template(catalog, "staff-training", {"staff": S["staff"]}, {"training_date": "2024-06-01"}),
        "PPL": template(catalog, "production-plan", lot, plan),
        "NCR": template(catalog, "nonconformance", lot, {}),
        "NCR-open": template(catalog, "nonconformance", lot, {"status": "open"}),
        "FPI": template(catalog, "finished-product-inspection", lot, {"inspection_date": S["finish"]}),
        "FIR": template(catalog, "final-inspection", lot, {"inspection_date": S["finish"]}),
        "FIR-unsigned": template(catalog, "final-inspection", lot, {"inspection_date": S["finish"]}, signed=1),
        "IIR": template(catalog, "incoming-inspection", {"material_lot": S["material_lot"]},
                        {"supplier_id": S["supplier"], "contract_no": S["contract"], "received_date": S["before"],
                         "inspection_date": S["before"]}),
        "EMR": template(catalog, "equipment-maintenance", {"equipment": S["equipment"]},
                        {"maintenance_date": S["before"], "next_due": S["after"]}),
        "CCR": template(catalog, "customer-inquiry", {"case": S["case"]},
                        {"received_at": S["received"], "replied_at": S["replied"], "handled_by": S["staff"],
                         "product_id": S["product"], "lot_id": S["lot"]}),
        "SVR": template(catalog, "service-record", {"case": S["case"]},
                        {"performed_by": S["staff"], "started_at": S["replied"], "closed_at": S["replied"]}),
    }
    for number, operation in enumerate(OPERATIONS):
        result[f"IPI-{number}"] = template(catalog, "in-process-inspection", lot,
                                           {"operation": operation, "key_operation": "yes" if number else "no"})
    return result


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(S[key], value)
    return text


def product_records(texts: dict[str, str], index: int, lots: int):
    """(path, text) of every record of product ``index``: 4 product records, ``lots`` x 15."""
    product = f"P{index:04d}"
    for number, prefix in enumerate(("MSR", "DRR", "SMT", "PRC")):
        record_id = f"{prefix}-S1-2026-{index + 1:06d}"
        yield f"product/{product}/{record_id}", fill(texts[prefix], {"id": record_id, "product": product})
    for lot_number in range(lots):
        serial = index * lots + lot_number
        yield from lot_records(texts, product, lot_number, serial, lots)


def lot_records(texts: dict[str, str], product: str, lot_number: int, serial: int, lots: int):
    lot = f"L2025-{lot_number + 1:03d}"
    start = _dt.date(2025, 2, 1) + _dt.timedelta(days=serial % 300)
    dates = {"start": start.isoformat(), "finish": (start + _dt.timedelta(days=19)).isoformat(),
             "before": (start - _dt.timedelta(days=5)).isoformat(),
             "after": (start + _dt.timedelta(days=40)).isoformat(),
             "received": f"{start + _dt.timedelta(days=30)} 09:30:00+08:00",
             "replied": f"{start + _dt.timedelta(days=30 + (serial % 53 == 0))} 11:05:00+08:00"}
    supplier, staff = f"SUP-{serial % SUPPLIERS:03d}", f"staff-{serial % STAFF:03d}"
    materials = [f"ML-{serial:06d}-{n}" for n in (1, 2, 3)]
    machines = [f"EQ-{product}-{n}" for n in (1, 2)]
    values = {"product": product, "lot": lot, **dates, "ml1": materials[0], "ml2": materials[1],
              "ml3": materials[2], "eq1": machines[0], "eq2": machines[1], "sup1": supplier}
    base = f"lot/{product}/{lot}"
    kinds = [("PPL", "PPL"), ("NCR", "NCR-open" if serial % 89 == 7 else "NCR"), ("FPI", "FPI"),
             ("FIR", "FIR-unsigned" if serial % 97 == 5 else "FIR")]
    for prefix, variant in kinds:
        record_id = f"{prefix}-S1-2026-{serial + 1:06d}"
        yield f"{base}/{record_id}", fill(texts[variant], {"id": record_id, **values})
    for operation in range(len(OPERATIONS)):
        record_id = f"IPI-S1-2026-{serial * len(OPERATIONS) + operation + 1:06d}"
        yield f"{base}/{record_id}", fill(texts[f"IPI-{operation}"], {"id": record_id, **values})
    for position, material_lot in enumerate(materials):
        if position == 2 and serial % 83 == 11:
            continue  # no incoming inspection for this material lot: R6 missing
        record_id = f"IIR-S1-2026-{serial * 3 + position + 1:06d}"
        yield f"material-lot/{material_lot}/{record_id}", fill(texts["IIR"], {
            "id": record_id, "material_lot": material_lot, "supplier": supplier,
            "contract": f"PC-{supplier}", **dates})
    for position, machine in enumerate(machines):
        record_id = f"EMR-S1-2026-{serial * 2 + position + 1:06d}"
        yield f"equipment/{machine}/{record_id}", fill(texts["EMR"], {"id": record_id, "equipment": machine, **dates})
    case = f"C-{serial:06d}"
    reviewer = f"staff-{(serial + 1) % STAFF:03d}"
    for prefix in ("CCR", "SVR"):
        record_id = f"{prefix}-S1-2026-{serial + 1:06d}"
        yield f"case/{case}/{record_id}", fill(texts[prefix], {
            "id": record_id, "case": case, "staff": staff, "staffkey": KEYS[staff], "reviewer": reviewer,
            "reviewerkey": KEYS[reviewer], "product": product, "lot": lot, **dates})


def shared_records(texts: dict[str, str]):
    for index in range(SUPPLIERS):
        supplier = f"SUP-{index:03d}"
        yield f"supplier/{supplier}/SEV-S1-2026-{index + 1:06d}", fill(texts["SEV"], {
            "id": f"SEV-S1-2026-{index + 1:06d}", "supplier": supplier})
        yield f"contract/{supplier}/PC-{supplier}/PCR-S1-2026-{index + 1:06d}", fill(texts["PCR"], {
            "id": f"PCR-S1-2026-{index + 1:06d}", "supplier": supplier, "contract": f"PC-{supplier}"})
    for index in range(STAFF):
        staff = f"staff-{index:03d}"
        yield f"staff/{staff}/TRN-S1-2026-{index + 1:06d}", fill(texts["TRN"], {
            "id": f"TRN-S1-2026-{index + 1:06d}", "staff": staff})


# -- building the repository ------------------------------------------------------


#: The one document every record folder holds (see the module's docstring).
DOCUMENT = PROJECT / "templates" / "final-inspection.docx"
#: Hard links per file (ext4 allows 65,000).
LINKS_PER_FILE = 50_000


class Documents:
    """Puts ``record.docx`` in record folders: hard links to copies of :data:`DOCUMENT`,
    a new copy every :data:`LINKS_PER_FILE` links."""

    def __init__(self, root: str, name: str) -> None:
        self.folder = os.path.join(os.path.dirname(root), "documents")
        os.makedirs(self.folder, exist_ok=True)
        self.name, self.count, self.source = name, 0, ""

    def put(self, folder: str) -> None:
        if self.count % LINKS_PER_FILE == 0:
            self.source = os.path.join(self.folder, f"{self.name}-{self.count // LINKS_PER_FILE}.docx")
            with open(self.source, "wb") as handle:
                handle.write(DOCUMENT.read_bytes())
        os.link(self.source, os.path.join(folder, "record.docx"))
        self.count += 1


def write_products(arguments: tuple[str, int, int, int, dict[str, str]]) -> int:
    """Worker: write the record folders of products [first, last)."""
    root, first, last, lots, texts = arguments
    written = 0
    made: set[str] = set()
    documents = Documents(root, f"products-{first}")
    for index in range(first, last):
        for path, text in product_records(texts, index, lots):
            folder = os.path.join(root, path)
            parent = os.path.dirname(folder)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            os.mkdir(folder)
            with open(os.path.join(folder, "record.yaml"), "w", encoding="utf-8") as handle:
                handle.write(text)
            documents.put(folder)
            written += 1
    return written


def register_signers(root: Path) -> Repository:
    """The repository, its administrator and every user who signs, each with a key (made at
    ``USERS_MADE``): one per meaning holding the first role of every requirement of that
    meaning, and the service staff, who perform and review services."""
    from qdocs.trust.administration import Credentials, add_user, register_key, trust_state
    from qdocs.trust.genesis import Enrollment

    home = root.parent / "home"
    previous = os.environ.get("QDOCS_CLOCK")
    os.environ["QDOCS_CLOCK"] = USERS_MADE
    try:
        repository, _ = init_repository(root, "S1", "bench",
                                        administrator=Enrollment("bench.admin", "Bench Admin", PASSPHRASE, home))
        catalog = repository.catalog
        roles: dict[str, set[str]] = {}
        service = catalog.get("service-record")
        for record_type in catalog.types.values():
            if record_type is not service:
                for requirement in record_type.signatures:
                    roles.setdefault(f"bench.{requirement.meaning}", set()).add(requirement.roles[0])
        staff_roles = {requirement.roles[0] for requirement in service.signatures}
        roles.update({f"staff-{index:03d}": staff_roles for index in range(STAFF)})
        admin = Credentials("bench.admin", PASSPHRASE, home)
        for name, held in roles.items():
            add_user(repository, admin, name, f"Bench {name}", sorted(held))
            register_key(repository, admin, name, PASSPHRASE)
        state = trust_state(repository)
        KEYS.update({name: state.users[name].current_key().fingerprint for name in roles})
    finally:
        if previous is None:
            os.environ.pop("QDOCS_CLOCK", None)
        else:
            os.environ["QDOCS_CLOCK"] = previous
    return repository


def build(root: Path, products: int, lots: int) -> int:
    """The repository: its users and keys, then record folders written by two processes and one
    commit by git fast-import."""
    repository = register_signers(root)
    catalog = repository.catalog
    texts = templates(catalog)
    check_templates(texts, catalog)
    chunks = [(str(root), first, min(first + 25, products), lots, texts) for first in range(0, products, 25)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        writing = pool.map_async(write_products, chunks)
        shared = list(shared_records(texts))
        documents = Documents(str(root), "shared")
        for path, text in shared:
            folder = root / path
            folder.mkdir(parents=True)
            (folder / "record.yaml").write_text(text, encoding="utf-8")
            documents.put(str(folder))
        counted = commit_all(root, texts, products, lots, shared)
        written = sum(writing.get()) + len(shared)
    assert written == counted, (written, counted)
    subprocess.run(["git", "read-tree", "HEAD"], cwd=root, check=True)
    return written


def commit_all(root: Path, texts: dict[str, str], products: int, lots: int, shared: list[tuple[str, str]]) -> int:
    """One commit of every record (and the sequence file): the blobs through ``git fast-import``
    (its marks give their ids), the tree through git's index (``update-index --index-info`` in
    path order, ``write-tree``), then ``commit-tree``, the branch moved and ``git gc``.
    fast-import builds trees itself by scanning a folder's entries for each file added: with
    300,000 material lots in one folder that took hours."""
    marks = root.parent / "marks"
    process = subprocess.Popen(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=root,
                               stdin=subprocess.PIPE)
    stream = process.stdin
    document = DOCUMENT.read_bytes()
    stream.write(b"blob\nmark :1\ndata %d\n%s\n" % (len(document), document))
    entries: list[tuple[bytes, int]] = []  # (path, mark)
    last: dict[str, int] = {}

    def add(path: str, text: str) -> None:
        data = text.encode("utf-8")
        mark = len(entries) + 2
        stream.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
        entries.append((path.encode(), mark))

    for path, text in shared:
        add(path, text)
    for index in range(products):
        for path, text in product_records(texts, index, lots):
            add(path, text)
            prefix, number = path.rsplit("/", 1)[1].split("-S1-2026-")
            last[f"{prefix}-2026"] = max(last.get(f"{prefix}-2026", 0), int(number))
    for path, text in shared:
        prefix, number = path.rsplit("/", 1)[1].split("-S1-2026-")
        last[f"{prefix}-2026"] = max(last.get(f"{prefix}-2026", 0), int(number))
    count = len(entries)
    sequences = yamlio.dump(dict(sorted(last.items())))
    (root / ".qdocs/sequences").mkdir(parents=True, exist_ok=True)
    (root / ".qdocs/sequences/S1.yaml").write_text(sequences, encoding="utf-8")
    add(".qdocs/sequences/S1.yaml", sequences)
    stream.close()
    if process.wait() != 0:
        raise SystemExit("git fast-import failed")
    ids = {}
    with open(marks, "rb") as handle:
        for line in handle:
            mark, name = line.split()
            ids[int(mark[1:])] = name
    sequence_path, sequence_mark = entries.pop()
    lines = [b"100644 %s 0\t%s/record.yaml\0" % (ids[mark], path) for path, mark in entries]
    lines += [b"100644 %s 0\t%s/record.docx\0" % (ids[1], path) for path, _ in entries]
    lines.append(b"100644 %s 0\t%s\0" % (ids[sequence_mark], sequence_path))
    lines.sort(key=lambda line: line.split(b"\t", 1)[1])
    subprocess.run(["git", "read-tree", "HEAD"], cwd=root, check=True)
    subprocess.run(["git", "update-index", "-z", "--index-info"], cwd=root, input=b"".join(lines), check=True)
    tree = subprocess.run(["git", "write-tree"], cwd=root, capture_output=True, check=True, text=True).stdout.strip()
    moment = str(int(time.time()))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@qdocs.local",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@qdocs.local",
           "GIT_AUTHOR_DATE": f"{moment} +0000", "GIT_COMMITTER_DATE": f"{moment} +0000"}
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "HEAD", "-m", "bench: generated records"], cwd=root,
                            capture_output=True, check=True, text=True, env=env).stdout.strip()
    subprocess.run(["git", "update-ref", "refs/heads/main", commit], cwd=root, check=True)
    # write-tree leaves every tree loose (two million files at 10,000 products): pack them as a
    # user's repository is packed (git gc), or every listing reads loose objects from disk.
    subprocess.run(["git", "gc", "--quiet", "--prune=now"], cwd=root, check=True)
    return count


def check_templates(texts: dict[str, str], catalog) -> None:
    """Filled templates read back equal to Records built directly (the sentinels kept YAML types)."""
    sample = list(product_records(texts, 7, 2)) + list(shared_records(texts))[:3]
    for path, text in sample:
        parsed = yamlio.load(text)
        record = Record.from_dict(parsed, path)
        assert yamlio.load(record.to_yaml()) == parsed, path
        assert not any(value in text for value in S.values()), path
        subject_keys = record.subject.as_dict()
        assert path.startswith(record.subject.folder()) and path.endswith(record.id), (path, subject_keys)
        for key, value in record.data.items():
            assert not isinstance(value, (_dt.date, _dt.datetime)), (path, key)


# -- measuring ---------------------------------------------------------------------


def timed(function, *arguments):
    started = time.perf_counter()
    value = function(*arguments)
    return time.perf_counter() - started, value


def load_library(root: Path) -> int:
    from qdocs.queries import iter_records

    repository = Repository.open(root)
    try:
        return sum(1 for _ in iter_records(repository))
    finally:
        repository.close()


def read_bytes(root: Path) -> int:
    """The least any loader does: read the bytes of every committed record.yaml (listed from
    git's index), parsing nothing."""
    listing = subprocess.run(["git", "ls-files", "-z", "--", "*/record.yaml"], cwd=root, capture_output=True,
                             check=True).stdout
    total = 0
    for name in listing.split(b"\0"):
        if name:
            with open(os.path.join(os.fsencode(root), name), "rb") as handle:
                total += len(handle.read())
    return total


def load_audit(root: Path) -> int:
    from qdocs.audit.evaluation import load

    repository = Repository.open(root)
    _, snapshot = load(repository)
    return len(snapshot.facts)


def audit_in_process(root: Path) -> int:
    from qdocs.audit.evaluation import run_audit
    from qdocs.audit.textreport import audit_lines

    report = run_audit(Repository.open(root))
    return len(audit_lines(report))


def command(root: Path, *arguments: str) -> dict[str, float]:
    """``qdocs --repo ROOT ARGS`` as a process (stdout to /dev/null): wall seconds, CPU seconds of the
    qdocs process itself and of its children (git, the forked evaluator), exit status, peak RSS MB."""
    started = time.perf_counter()
    process = subprocess.run([sys.executable, __file__, "--child", str(root), *arguments],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - started
    report = json.loads(process.stderr.strip().splitlines()[-1])
    return {"wall": wall, **report}


def child(root: str, arguments: list[str]) -> None:
    """Run the qdocs command line in this process and report its CPU time on stderr (as JSON)."""
    started = time.process_time()
    sys.argv = ["qdocs", "--repo", root, *arguments]
    sys.path.insert(0, str(PROJECT))
    import cli

    code = 0
    try:
        cli.main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    sys.stdout.flush()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"cpu": round(time.process_time() - started, 3),
                      "children": round(children.ru_utime + children.ru_stime, 3), "exit": code,
                      "rss": peak_memory_mb()}), file=sys.stderr)


def peak_memory_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from the
    benchmark process that started this one)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def first_audit(root: Path) -> None:
    figures = command(root, "audit")
    print(f"first qdocs audit (process; qdocs' caches cold: parses every record once, 2 processes): "
          f"{figures['wall']:.1f} s wall, CPU {figures['cpu']:.1f} s (+ children {figures['children']:.1f} s), "
          f"exit {figures['exit']}, peak RSS {figures['rss']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--lots", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    parser.add_argument("--reuse", metavar="REPO", help="measure a repository kept by an earlier --keep run")
    parser.add_argument("--cold", action="store_true",
                        help="with --reuse: remove qdocs' caches first and time the first audit again")
    parser.add_argument("--no-library", action="store_true",
                        help="leave out the library's load (iter_records and its parse cache)")
    arguments = parser.parse_args()
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}, git {git_version}; "
          f"load average {os.getloadavg()[0]:.1f} at start")
    if arguments.reuse:
        root = Path(arguments.reuse)
        if arguments.cold:
            for cached in (root / ".qdocs" / "cache").glob("*"):
                cached.unlink()
            first_audit(root)
    else:
        out = PROJECT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="qdocs-bench-audit-", dir=out)) / "records"
        seconds, count = timed(build, root, arguments.products, arguments.lots)
        print(f"built {count} records ({arguments.products} products x {arguments.lots} lots) in {seconds:.1f} s")
        packs = sum(path.stat().st_size for path in (root / ".git" / "objects" / "pack").glob("*.pack"))
        print(f"git: packs {packs / 2 ** 20:.0f} MiB, index {(root / '.git' / 'index').stat().st_size / 2 ** 20:.0f} MiB "
              f"({count * 2} record entries: record.yaml and record.docx)")
        first_audit(root)
        if not arguments.no_library:
            seconds, loaded = timed(load_library, root)
            print(f"first iter_records (fills its sqlite parse cache): {seconds:.1f} s, {loaded} records")
    rows: dict[str, list[float]] = {"read (every record.yaml's bytes)": [],
                                    "load (library iter_records)": [], "load (audit: git index + facts)": [],
                                    "audit in process (+ text report)": [], "qdocs audit (process, wall)": [],
                                    "qdocs audit (process, CPU of qdocs)": [],
                                    "qdocs audit (CPU of its children)": []}
    last: dict[str, float] = {}
    for _ in range(arguments.rounds):
        rows["read (every record.yaml's bytes)"].append(timed(read_bytes, root)[0])
        if not arguments.no_library:
            rows["load (library iter_records)"].append(timed(load_library, root)[0])
        rows["load (audit: git index + facts)"].append(timed(load_audit, root)[0])
        rows["audit in process (+ text report)"].append(timed(audit_in_process, root)[0])
        last = command(root, "audit")
        rows["qdocs audit (process, wall)"].append(last["wall"])
        rows["qdocs audit (process, CPU of qdocs)"].append(last["cpu"])
        rows["qdocs audit (CPU of its children)"].append(last["children"])
    rows = {name: values for name, values in rows.items() if values}
    medians = {name: statistics.median(values) for name, values in rows.items()}
    for name, values in rows.items():
        print(f"{name:<38} median {medians[name]:6.2f} s   {[round(value, 2) for value in values]}")
    audit = medians["qdocs audit (process, wall)"]
    print(f"qdocs audit: {audit:.2f} s wall, {medians['qdocs audit (process, CPU of qdocs)']:.2f} s CPU "
          f"(target at 1,000 x 10: <= 3 s), exit {last['exit']}, peak RSS {last['rss']} MB")
    for name in ("read (every record.yaml's bytes)", "load (library iter_records)",
                 "load (audit: git index + facts)"):
        if name in medians:
            target = ("<= 1.5x at 1,000 x 10; <= 1.2x at 10,000 x 10" if name.startswith("read")
                      else "<= 1.5x at 1,000 x 10")
            print(f"ratio qdocs audit (wall) / {name}: {audit / medians[name]:.2f}x (target {target})")
    today = _dt.date.today().isoformat()
    for name, arguments_ in (("qdocs audit --json", ("audit", "--json")),
                             ("qdocs release-check P0000 --lot L2025-001", ("release-check", "P0000", "--lot",
                                                                            "L2025-001")),
                             (f"qdocs audit --as-of {today} (git ls-tree)", ("audit", "--as-of", today))):
        figures = command(root, *arguments_)
        print(f"{name:<44} {figures['wall']:6.2f} s wall, CPU {figures['cpu']:.2f} s (+ children "
              f"{figures['children']:.2f} s), exit {figures['exit']}, peak RSS {figures['rss']} MB")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    if arguments.keep or arguments.reuse:
        print(f"kept {root}")
    else:
        subprocess.run(["rm", "-rf", str(root.parent)], check=False)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3:])
    else:
        main()
