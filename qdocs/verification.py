"""``qdocs verify``: is every record what its signed trail says it is?

Findings, not exceptions.  Checks, in order:

1. each site's event chain: numbering without gaps, every ``prev`` link, every
   hash, and the head file;
2. the chain against git history: each event file was added by a commit whose
   parent is the commit the event names, and never changed afterwards (so an
   amended, dropped or reordered earlier commit shows);
3. each record: ``record.docx`` matches its hash, ``record.yaml`` is byte for
   byte what its last action wrote, every signature verifies under the key its
   signer had registered at that time, the signer then held the role and was not
   revoked, the signatures match the chain's sign events (none removed, none
   added), order and separation of duties held, and the status fits;
4. every record the chain knows still exists;
5. each record's attachments are the files that were attached (:mod:`qdocs.pdf.attachments`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .events import sha256_hex
from .records import Record
from .signatures import signature_payload

if TYPE_CHECKING:
    from .repository import Repository


@dataclass(frozen=True)
class Finding:
    record: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.record}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"record": self.record, "severity": self.severity, "message": self.message}


@dataclass
class VerifyReport:
    findings: list[Finding]
    records_checked: int
    signatures_checked: int
    events_checked: int

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "records_checked": self.records_checked,
                "signatures_checked": self.signatures_checked, "events_checked": self.events_checked,
                "findings": [finding.to_json() for finding in self.findings]}


def verify_repository(repository: "Repository", record_ids: list[str] | None = None,
                      progress: Callable[[int], None] | None = None) -> VerifyReport:
    from .trail import Trail

    findings: list[Finding] = []
    trail = Trail.load(repository, findings)
    if record_ids:
        records = [(repository.get(record_id), None) for record_id in record_ids]
    else:
        records = list(_every_record(repository))
        present = {record.id for record, _ in records}
        for record_id, event in sorted(trail.last_event.items()):
            if record_id not in present:
                findings.append(Finding(record_id, f"missing from the repository: its folder is gone "
                                                   f"(last action: {event['action']} by {event['actor']} at {event['time']})"))
    signatures = 0
    for number, (record, names) in enumerate(records, start=1):
        signatures += len(record.signatures)
        findings.extend(check_record(repository, trail, record, names))
        if progress:
            progress(number)
    return VerifyReport(findings, len(records), signatures, trail.event_count)


def _every_record(repository: "Repository") -> Iterator[tuple[Record, list[str]]]:
    """Each record folder's record (parsed through the metadata cache, with the sha256 of
    its ``record.yaml``) and the names in the folder, read with as few system calls as
    the check needs."""
    from .queries import record_folders_with_names

    cache = repository.metadata
    known = cache.digests_and_bodies()
    root = str(repository.root)
    try:
        for folder, names in record_folders_with_names(repository):
            with open(f"{root}/{folder}/record.yaml", "rb") as handle:
                raw, digest = cache.parse(f"{folder}/record.yaml", handle.read(), known)
            record = Record.from_dict(raw, folder)
            record.yaml_sha256 = digest
            yield record, names
    finally:
        cache.flush()


def check_record(repository: "Repository", trail: Any, record: Record, names: list[str] | None = None) -> list[Finding]:
    """What is wrong with one record; ``names``, when known, are the entries of its folder."""
    found: list[Finding] = []
    folder = f"{repository.root}/{record.path}"
    try:
        with open(f"{folder}/record.docx", "rb") as handle:
            docx_hash: str | None = sha256_hex(handle.read())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        docx_hash = None
    if docx_hash is None:
        found.append(Finding(record.id, "record.docx is missing"))
    elif docx_hash != record.docx_sha256:
        found.append(Finding(record.id, "record.docx does not match its recorded sha256 (the document was changed)"))
    if names is None or "attachments.yaml" in names or "attachments" in names:
        found.extend(_check_attachments(Path(folder), record))
    event = trail.last_event.get(record.id)
    if event is None:
        found.append(Finding(record.id, "no action in the event chain created this record"))
        return found
    yaml_hash = record.yaml_sha256
    if yaml_hash is None:
        with open(f"{folder}/record.yaml", "rb") as handle:
            yaml_hash = sha256_hex(handle.read())
    if yaml_hash != event.get("record_sha256"):
        found.append(Finding(record.id, f"record.yaml differs from what its last action wrote "
                                        f"({event['action']} by {event['actor']} at {event['time']})"))
    if record.docx_sha256 != event.get("docx_sha256"):
        found.append(Finding(record.id, "the recorded document hash differs from the one in the event chain"))
    found.extend(_check_signatures(repository, trail, record))
    return found


def _check_attachments(folder: Any, record: Record) -> list[Finding]:
    """Attached PDFs (``qdocs attach``): each listed file present with its recorded sha256."""
    from .pdf.attachments import attachment_problems

    return [Finding(record.id, problem) for problem in attachment_problems(folder)]


def _check_signatures(repository: "Repository", trail: Any, record: Record) -> list[Finding]:
    found: list[Finding] = []
    record_type = repository.catalog.types.get(record.type)
    expected = {(event["meaning"], event["signer"], event["signature_sha256"])
                for event in trail.sign_events(record.id, record.revision)}
    present = set()
    signers: set[str] = set()
    content_hash = record.content_hash() if record.signatures else None
    stage = 0
    for signature in record.signatures:
        label = f"signature '{signature.get('meaning')}' by {signature.get('signer')}"
        present.add((signature.get("meaning"), signature.get("signer"),
                     sha256_hex(str(signature.get("signature", "")).encode())))
        key = trail.key(signature.get("signer"), signature.get("key"))
        if key is None:
            found.append(Finding(record.id, f"{label} was made with a key that is not registered ({signature.get('key')})"))
            continue
        try:
            key["public"].verify(base64.b64decode(signature["signature"]), signature_payload(record, signature, content_hash))
        except Exception:  # cryptography raises InvalidSignature; bad base64 raises others
            found.append(Finding(record.id, f"{label} does not verify: the signature does not belong to this "
                                            "record's id, revision and content"))
        moment = signature.get("time", "")
        problem = trail.signing_problem(signature.get("signer"), signature.get("role"), key, moment)
        if problem:
            found.append(Finding(record.id, f"{label}: {problem}"))
        if not trail.has_event_hash(signature.get("chain_head")):
            found.append(Finding(record.id, f"{label} refers to an event chain head that is not in the chain"))
        if signature.get("signer") in signers:
            found.append(Finding(record.id, f"{label}: the same person signed twice (separation of duties)"))
        signers.add(signature.get("signer"))
        meaning = repository.catalog.meanings.get(signature.get("meaning"))
        if meaning is None or meaning.stage < stage:
            found.append(Finding(record.id, f"{label} is out of order"))
        else:
            stage = meaning.stage
    for meaning, signer, _ in sorted(expected - present):
        found.append(Finding(record.id, f"signature '{meaning}' by {signer} recorded in the event chain is missing "
                                        "from the record (removed)"))
    for meaning, signer, _ in sorted(present - expected):
        found.append(Finding(record.id, f"signature '{meaning}' by {signer} has no sign action in the event chain"))
    if record_type and record.status != "void":
        needed = {requirement.meaning for requirement in record_type.signatures}
        complete = needed <= {signature.get("meaning") for signature in record.signatures}
        if (record.status == "approved") != complete:
            found.append(Finding(record.id, f"status '{record.status}' does not fit its signatures"))
    return found
