#!/usr/bin/env python3
"""A records repository of any size, written as ``qdocs new --batch`` writes one, through git fast-import.

Benchmarks at 100,000 and 1,000,000 records need repositories that are what a user's is
after years of work.  Creating them through the command (about 35 records/s, most of it
docxtpl rendering) would take eight hours per million; this script writes the same
commits directly:

* every commit is one ``create`` action of a batch of records of one type (``--batch``,
  50 by default), authored by the acting user at the action's time, its message the
  action's subject and trailers (:mod:`qdocs.store.trailers`) with an operation id;
* each record's folder holds its ``record.yaml`` (``Record.to_yaml``: status draft,
  revision A, its template's and catalog's hashes, ``docx_sha256`` of its document) and its
  ``record.docx``: the type's template rendered once by qdocs with marker values, the
  markers replaced in the document's XML by realistic Chinese and English text chosen by
  what each field holds (the same text generator as ``bench_search.py``), the record's id
  and dates written in as qdocs renders them;
* each commit adds the action's event to the site's event chain (``qdocs.events``: the
  parent commit, the previous event's hash, one entry per record with its content hash)
  and moves the chain's head and the site's sequence file, as ``create_records`` does.

Then the work tree is checked out, git packs the objects (``git gc``, unless ``--no-gc``:
fast-import's own pack is kept) and, with ``--index``, ``qdocs index rebuild`` builds the
search index.  ``qdocs verify`` passes on the result (tests/test_generate_repository.py
checks it at a small size), which is the proof that the commits are qdocs' own.

Subjects: ``--products`` products (default: one per 100 records) with lots of 2017-2026,
suppliers, contracts, material lots, equipment, staff and customer cases; record times run
over the ten years up to yesterday, so that record ids, sequences and dates are those of a long-lived repository.

    python bench/generate_repository.py --records 100000 --out /tmp/q100k --index
    python bench/generate_repository.py --records 1000000 --out /tmp/q1m --index
"""

from __future__ import annotations

import argparse
import base64
import datetime as _dt
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator
from xml.sax.saxutils import escape

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(BENCH))

from bench_search import (EQUIPMENT, STAFF, SUPPLIERS, Template, _deflated,  # noqa: E402
                          _zip_bytes, make_templates, new_repository, text_value)
from qdocs import clock, yamlio  # noqa: E402
from qdocs.events import event_bytes, event_path, head_path, read_head, sha256_hex  # noqa: E402
from qdocs.records import Record, Stamp, format_record_id  # noqa: E402
from qdocs.store import trailers  # noqa: E402
from qdocs.subjects import SCOPES, Subject  # noqa: E402

ACTOR = "bench.admin"
PASSPHRASE = "benchmark passphrase"  # the bench repositories' users' keys: .git/qdocs/bench-keys
SITE = "S1"
ZONE = _dt.timezone(_dt.timedelta(hours=8))
YEARS = 10
FAMILIES = ("PUMP-X", "PUMP-M", "VALVE-DN", "MOTOR-Y", "FAN-K", "COMP-S")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, help="number of products (default: records / 100)")
    parser.add_argument("--batch", type=int, default=50, help="records per create action (commit)")
    parser.add_argument("--out", type=Path, required=True, help="a folder that does not exist yet")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--index", action="store_true", help="build the search index (qdocs index rebuild)")
    parser.add_argument("--no-gc", action="store_true", help="keep fast-import's pack (no git gc)")
    parser.add_argument("--sign", action="store_true",
                        help="sign every record through all its required signatures (one user per role)")
    arguments = parser.parse_args()
    report = generate(arguments.out, arguments.records, arguments.products or max(1, arguments.records // 100),
                      arguments.batch, arguments.seed, gc=not arguments.no_gc, index=arguments.index,
                      sign=arguments.sign)
    print(json.dumps(report, indent=2))


def generate(out: Path, records: int, products: int, batch: int, seed: int = 16, gc: bool = True,
             index: bool = False, sign: bool = False) -> dict[str, Any]:
    """Write the repository at ``out``/records; returns what was made and how long it took."""
    if out.exists():
        raise SystemExit(f"{out} exists: give a new folder")
    started = time.monotonic()
    out.mkdir(parents=True)
    last = clock.today(ZONE) - _dt.timedelta(days=1)
    first = _dt.datetime(last.year - YEARS, last.month, min(last.day, 28), 8, 0, tzinfo=ZONE)
    # the repository, its users and its forms exist (and are approved) the day before the first record
    founded = (first - _dt.timedelta(days=1)).isoformat()
    log(f"templates: every type rendered by qdocs with marker values (the repository founded {founded})")
    saved = os.environ.get(clock.VARIABLE)
    os.environ[clock.VARIABLE] = founded
    try:
        templates = make_templates(out)
        root = out / "records"
        repository = new_repository(root)
        signers = _enrol_signers(repository) if sign else {}
        states = _signed_states(repository, templates, signers) if sign else {}
    finally:
        os.environ.pop(clock.VARIABLE) if saved is None else os.environ.__setitem__(clock.VARIABLE, saved)
    from qdocs.actions import _controlled_catalog

    catalog_sha256 = _controlled_catalog(repository)
    sequence_path = repository.sequence_path(SITE)
    branch = _git(root, "symbolic-ref", "HEAD").strip()
    head = _git(root, "rev-parse", "HEAD").strip()
    chain = read_head(root, SITE)
    zone = repository.time_zone
    repository.close()
    for key, value in (("gc.auto", "0"),):  # no automatic repack while the benchmark's repository grows
        _git(root, "config", key, value)
    log(f"fast-import: {records:,} records in actions of {batch}")
    importer = subprocess.Popen(["git", "fast-import", "--quiet", "--done", "--depth=50"], cwd=root,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert importer.stdin is not None and importer.stdout is not None
    stream = importer.stdin
    stream.write(b"feature done\nfeature get-mark\n")
    writer = _Writer(templates, catalog_sha256, products, seed, first, _dt.datetime(last.year, last.month, last.day,
                                                                                     18, 0, tzinfo=ZONE), zone)
    writer.states = states
    sequences: dict[str, int] = {}
    parent, previous_hash, sequence = head, chain.hash, chain.sequence
    mark = 0
    made = 0
    signatures = 0
    for action in writer.actions(records, batch):
        made += len(action.records)
        for item in action.records:
            sequences[item.counter_key] = max(sequences.get(item.counter_key, 0), item.number)
        ids = [item.record.id for item in action.records]
        subject_line = (f"create {ids[0]} ({action.type_id}, {action.records[0].record.subject.label()})"
                        if len(ids) == 1 else f"create {len(ids)} {action.type_id} records {ids[0]} … {ids[-1]}")
        trailer_values = {"Action": "create", "Type": action.type_id, "Revision": "A", "Record": ids}
        event = {"action": "create", "records": [item.entry for item in action.records]}
        files: list[tuple[str, bytes]] = [(f"{item.record.path}/record.docx", item.docx) for item in action.records]
        files += [(f"{item.record.path}/record.yaml", item.text) for item in action.records]
        files.append((sequence_path, yamlio.dump(dict(sorted(sequences.items()))).encode("utf-8")))
        parent, previous_hash, sequence, mark = _commit(stream, importer.stdout, branch, ACTOR, action.time, event,
                                                        files, subject_line, trailer_values, parent, previous_hash,
                                                        sequence, mark, first_from=head if made == len(action.records)
                                                        else None)
        for stage, signer in enumerate(signers.get(action.type_id, [])):
            moment = _dt.datetime.fromisoformat(action.time) + _dt.timedelta(minutes=stage + 1)
            entries, files = writer.sign(action, stage, signer, moment, previous_hash)
            signatures += len(entries)
            first_record = action.records[0].record
            subject_line = (f"sign {first_record.id} rev A as {signer.meaning} by {signer.name} ({signer.full_name})"
                            if len(ids) == 1 else
                            f"sign {len(ids)} records as {signer.meaning} by {signer.name} ({signer.full_name})")
            trailer_values = {"Action": "sign", "Type": [action.type_id], "Revision": "A", "Record": ids,
                              "Meaning": signer.meaning, "Signer": signer.name}
            event = {"action": "sign", "records": entries, "meaning": signer.meaning, "signer": signer.name,
                     "key": signer.fingerprint}
            parent, previous_hash, sequence, mark = _commit(stream, importer.stdout, branch, signer.name,
                                                            moment.astimezone(zone).isoformat(), event, files,
                                                            subject_line, trailer_values, parent, previous_hash,
                                                            sequence, mark)
        if made % 50_000 < batch:
            log(f"  {made:,} records ({made / (time.monotonic() - started):.0f}/s)")
    stream.write(b"done\n")
    stream.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    imported = time.monotonic()
    log("checking out the work tree")
    _git(root, "reset", "--hard", "--quiet")
    from qdocs.repository import Repository
    from qdocs.store.lastcommit import remember_commit

    repository = Repository.open(root)
    remember_commit(repository.git, repository.local, None, parent)
    repository.close()
    checked_out = time.monotonic()
    if gc:
        log("git gc")
        _git(root, "gc", "--quiet")
    packed = time.monotonic()
    report: dict[str, Any] = {
        "records": made, "signatures": signatures, "products": products, "actions": sequence - chain.sequence, "root": str(root),
        "import_s": round(imported - started), "checkout_s": round(checked_out - imported),
        "gc_s": round(packed - checked_out) if gc else None,
    }
    if index:
        log("qdocs index rebuild")
        subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "index", "rebuild"], check=True,
                       stdout=subprocess.DEVNULL)
        report["index_s"] = round(time.monotonic() - packed)
    objects = dict(line.split(": ", 1) for line in _git(root, "count-objects", "-v").splitlines())
    report.update(pack_mib=int(objects["size-pack"]) // 1024, loose_objects=int(objects["count"]),
                  total_s=round(time.monotonic() - started))
    log(f"done in {report['total_s']} s")
    return report


def _commit(stream: Any, answers: Any, branch: str, actor: str, time_text: str, event_body: dict[str, Any],
            files: list[tuple[str, bytes]], subject_line: str, trailer_values: dict[str, Any], parent: str,
            previous_hash: str, sequence: int, mark: int, first_from: str | None = None) -> tuple[str, str, int, int]:
    """One action's commit on the fast-import stream, with its event and the chain head, as
    ``Change.commit`` writes it; returns the new (commit, event hash, sequence, mark)."""
    sequence += 1
    mark += 1
    event = {"seq": sequence, "site": SITE, "time": time_text, "actor": actor, "parent_commit": parent,
             "prev": previous_hash, **event_body}
    content = event_bytes(event)
    event_hash = sha256_hex(content)
    files = [*files, (event_path(SITE, sequence), content), (head_path(SITE), f"{sequence} {event_hash}\n".encode())]
    message = trailers.message(subject_line, trailer_values, uuid.uuid4().hex).encode("utf-8")
    moment = _dt.datetime.fromisoformat(time_text)
    seconds, offset = int(moment.timestamp()), moment.strftime("%z")
    email = f"{actor}@qdocs.local"
    chunks = [b"commit ", branch.encode(), b"\nmark :", str(mark).encode(), b"\n"]
    for who in (b"author ", b"committer "):
        chunks.append(who + f"{actor} <{email}> {seconds} {offset}\n".encode())
    chunks.append(b"data %d\n" % len(message) + message)
    if first_from:
        chunks.append(f"from {first_from}\n".encode())
    for path, data in files:
        chunks.append(b"M 100644 inline " + path.encode("utf-8") + b"\ndata %d\n" % len(data) + data + b"\n")
    chunks.append(b"\nget-mark :" + str(mark).encode() + b"\n")
    stream.write(b"".join(chunks))
    stream.flush()
    return answers.readline().decode().strip(), event_hash, sequence, mark


class _Signer:
    """One required signature of a type: its meaning, and the user (one per role) who gives it."""

    def __init__(self, meaning: str, role: str, name: str, full_name: str, fingerprint: str, key: Any) -> None:
        self.meaning, self.role, self.name, self.full_name = meaning, role, name, full_name
        self.fingerprint, self.key = fingerprint, key


def _enrol_signers(repository: Any) -> dict[str, list[_Signer]]:
    """A user with a key for every role (added by the administrator, as an administrator
    does), and for each type its required signatures in the order of their stages."""
    from qdocs.trust.administration import add_user, register_key
    from qdocs.trust.credentials import Credentials, forget_trust_state, trust_state, unlock
    from qdocs.trust.state import ADMIN_ROLE

    home = root_keys(repository.root)
    admin = Credentials(ACTOR, PASSPHRASE, home)
    catalog = repository.catalog
    for role, label in catalog.roles.items():
        if role != ADMIN_ROLE:
            add_user(repository, admin, f"bench.{role}", f"{label.zh}（测试）", [role])
            register_key(repository, admin, f"bench.{role}", PASSPHRASE)
    forget_trust_state(repository)
    state = trust_state(repository)
    keys: dict[str, tuple[str, str, Any]] = {}
    signers: dict[str, list[_Signer]] = {}
    for record_type in catalog.types.values():
        chosen = []
        for requirement in sorted(record_type.signatures, key=lambda item: catalog.meanings[item.meaning].stage):
            role = requirement.roles[0]
            name = ACTOR if role == ADMIN_ROLE else f"bench.{role}"
            if name not in keys:
                user, registered, private_key = unlock(state, Credentials(name, PASSPHRASE, home))
                keys[name] = (user.full_name, registered.fingerprint, private_key)
            full_name, fingerprint, private_key = keys[name]
            chosen.append(_Signer(requirement.meaning, role, name, full_name, fingerprint, private_key))
        signers[record_type.id] = chosen
    return signers


def root_keys(root: Path) -> Path:
    return Path(root).resolve() / ".git" / "qdocs" / "bench-keys"


def _marker_time(stage: int) -> str:
    return f"2091-03-{stage + 1:02d}T01:{stage:02d}:{stage:02d}Z"


def _signed_states(repository: Any, templates: list[Template], signers: dict[str, list[_Signer]]
                   ) -> dict[int, list[Template]]:
    """For each template (by its position), the document after each of its signatures, as
    qdocs renders it (signature times at marker values, replaced per record)."""
    import copy

    from qdocs.actions import render_document

    cache = repository.templates
    states: dict[int, list[Template]] = {}
    for position, template in enumerate(templates):
        record_type = repository.catalog.get(template.record.type)
        record = copy.deepcopy(template.record)
        chosen = signers.get(record.type, [])
        rendered = []
        for stage, signer in enumerate(chosen):
            record.signatures.append({"meaning": signer.meaning, "signer": signer.name, "full_name": signer.full_name,
                                      "role": signer.role, "time": _marker_time(stage), "comment": "",
                                      "key": signer.fingerprint, "chain_head": "", "signature": ""})
            record.status = "approved" if stage == len(chosen) - 1 else "in-review"
            rendered.append(Template(copy.deepcopy(record), render_document(repository, cache, record_type, record),
                                     template.markers))
        states[position] = rendered
    return states


class _Made:
    """One generated record: the record, its two files' bytes and its event entry."""

    __slots__ = ("record", "docx", "text", "entry", "counter_key", "number", "position", "replacements")

    def __init__(self, record: Record, docx: bytes, text: bytes, counter_key: str, number: int, position: int,
                 replacements: dict[str, str]) -> None:
        self.record, self.docx, self.text = record, docx, text
        self.counter_key, self.number = counter_key, number
        self.position, self.replacements = position, replacements
        self.entry = {"record": record.id, "type": record.type, "revision": "A", "status": "draft",
                      "content": record.content_hash(), "record_sha256": hashlib.sha256(text).hexdigest(),
                      "docx_sha256": record.docx_sha256}


class _Action:
    __slots__ = ("type_id", "time", "records")

    def __init__(self, type_id: str, time: str, records: list[_Made]) -> None:
        self.type_id, self.time, self.records = type_id, time, records


class _Writer:
    """Records as qdocs' create action makes them, from the marker templates."""

    def __init__(self, templates: list[Template], catalog_sha256: str, products: int, seed: int,
                 first: _dt.datetime, last: _dt.datetime, zone: _dt.tzinfo) -> None:
        self.first, self.span, self.zone = first, int((last - first).total_seconds()), zone
        self.templates = templates
        self.states: dict[int, list[Template]] = {}
        self.by_type: dict[str, list[int]] = {}
        for position, template in enumerate(templates):
            self.by_type.setdefault(template.record.type, []).append(position)
        self.type_ids = sorted(self.by_type)
        self.catalog_sha256 = catalog_sha256
        self.products = [f"{FAMILIES[number % len(FAMILIES)]}{100 + number // len(FAMILIES):04d}"
                         for number in range(products)]
        self.rng = random.Random(seed)
        self.numbers: dict[str, int] = {}

    def actions(self, records: int, batch: int) -> Iterator[_Action]:
        count = (records + batch - 1) // batch
        made = 0
        for number in range(count):
            size = min(batch, records - made)
            moment = (self.first + _dt.timedelta(seconds=self.span * number // count)).astimezone(self.zone)
            if moment.hour == 23 and moment.minute >= 50:  # its signatures, minutes later, on the same day
                moment -= _dt.timedelta(minutes=15)
            type_id = self.type_ids[number % len(self.type_ids)]
            time_text = moment.isoformat()
            yield _Action(type_id, time_text, [self._record(type_id, moment, time_text, number) for _ in range(size)])
            made += size

    def _subject(self, scope: str, moment: _dt.datetime, action: int) -> Subject:
        rng, year = self.rng, moment.year
        product = self.products[(action * 7 + rng.randrange(3)) % len(self.products)]
        values = {"product": product, "lot": f"L{year}-{rng.randint(1, 10):03d}",
                  "supplier": rng.choice(SUPPLIERS), "contract": f"PC-{year}-{rng.randint(1, 300):03d}",
                  "material_lot": f"ML-{year}-{rng.randint(1, 2000):04d}", "equipment": rng.choice(EQUIPMENT),
                  "staff": rng.choice(STAFF), "case": f"C-{year}-{rng.randint(1, 3000):04d}"}
        return Subject(scope, tuple((key, values[key]) for key in SCOPES[scope]))

    def _record(self, type_id: str, moment: _dt.datetime, time_text: str, action: int) -> _Made:
        rng = self.rng
        position = self.by_type[type_id][0 if rng.random() < 0.85 else 1]
        template = self.templates[position]
        source = template.record
        prefix = source.id.split("-")[0]
        counter_key = f"{prefix}-{moment.year}"
        number = self.numbers[counter_key] = self.numbers.get(counter_key, 0) + 1
        record_id = format_record_id(prefix, SITE, moment.year, number)
        subject = self._subject(source.subject.scope, moment, action)
        day = moment.date().isoformat()
        replacements: dict[str, str] = {source.id: record_id, source.created.time[:10]: day}
        for (_, old), (_, new) in zip(source.subject.keys, subject.keys):
            replacements[old] = new
        for match in set(re.findall(r"QX\d{4}QX|209\d-\d\d-\d\d", json.dumps(source.data, ensure_ascii=False))):
            if match.startswith("QX"):
                replacements[match] = text_value(*template.markers[match], rng)
            else:
                replacements[match] = (moment.date() - _dt.timedelta(days=rng.randint(0, 60))).isoformat()
        pattern = _pattern(replacements)
        document = _document(template, pattern, replacements)
        stamp = Stamp(time_text, ACTOR)
        record = Record(id=record_id, type=type_id, subject=subject, revision="A", status="draft",
                        data=_vary(source.data, pattern, replacements), template_sha256=source.template_sha256,
                        catalog_sha256=self.catalog_sha256, docx_sha256=hashlib.sha256(document).hexdigest(),
                        created=stamp, changed=stamp,
                        revisions=[{"revision": "A", "time": time_text, "actor": ACTOR, "reason": "first issue"}],
                        path=f"{subject.folder()}/{record_id}")
        return _Made(record, document, record.to_yaml().encode("utf-8"), counter_key, number, position, replacements)

    def sign(self, action: _Action, stage: int, signer: _Signer, moment: _dt.datetime, chain_head: str
             ) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
        """Every record of ``action`` signed by ``signer`` (its ``stage``-th signature) at
        ``moment``, as ``sign_records`` does: the event's entries and the files written."""
        from qdocs.signatures import display_time, signature_payload

        utc = moment.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
        local = moment.astimezone(self.zone).isoformat()
        entries, files = [], []
        for item in action.records:
            record = item.record
            signature = {"meaning": signer.meaning, "signer": signer.name, "full_name": signer.full_name,
                         "role": signer.role, "time": utc, "comment": "", "key": signer.fingerprint,
                         "chain_head": chain_head}
            signature["signature"] = base64.b64encode(signer.key.sign(signature_payload(record, signature))).decode()
            record.signatures.append(signature)
            states = self.states[item.position]
            record.status = "approved" if stage == len(states) - 1 else "in-review"
            record.changed = Stamp(local, signer.name)
            item.replacements[display_time(_marker_time(stage), self.zone)] = display_time(utc, self.zone)
            document = _document(states[stage], _pattern(item.replacements), item.replacements)
            record.docx_sha256 = hashlib.sha256(document).hexdigest()
            text = record.to_yaml().encode("utf-8")
            files += [(f"{record.path}/record.docx", document), (f"{record.path}/record.yaml", text)]
            entries.append({"record": record.id, "type": record.type, "revision": "A", "status": record.status,
                            "content": record.content_hash(), "record_sha256": hashlib.sha256(text).hexdigest(),
                            "docx_sha256": record.docx_sha256, "role": signer.role,
                            "signature_sha256": sha256_hex(signature["signature"].encode())})
        return entries, files


def _pattern(replacements: dict[str, str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(key) for key in sorted(replacements, key=len, reverse=True)))


def _document(template: Template, pattern: re.Pattern[str], replacements: dict[str, str]) -> bytes:
    """The template's document with the replacements made in its XML (escaped as XML)."""
    escaped = {key: escape(value) for key, value in replacements.items()}
    members = dict(template.fixed)
    for name, data in template.parts:
        if name in template.varied:
            members[name] = _deflated(pattern.sub(lambda found: escaped[found.group()],
                                                  data.decode("utf-8")).encode("utf-8"))
    return _zip_bytes([(name, members[name]) for name, _ in template.parts])


def _vary(value: Any, pattern: re.Pattern[str], replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda found: replacements[found.group()], value)
    if isinstance(value, list):
        return [_vary(item, pattern, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _vary(item, pattern, replacements) for key, item in value.items()}
    return value


def _git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True, text=True).stdout


if __name__ == "__main__":
    main()
