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

Actions a sync's merge superseded (:mod:`qdocs.mergeoutcomes`: a signature given to a revision
the other site revised or voided) stay in the chain but are no longer what a record must
match; they are reported as notes (information), not findings.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from cryptography.exceptions import InvalidSignature

from .authority import Authority
from .checkpoints import check_checkpoints, current_point, kept_checkpoints, record_verified
from .events import sha256_hex
from .findings import Finding
from .outsidecheck import outside_findings
from .pdf.attachments import attachment_problems
from .queries import get_record
from .records import Record
from .signatures import signature_payload
from .trail import Trail
from .trust.credentials import forget_trust_state, trust_state
from .trust.state import CLOCK_SKEW, parse_moment
from .trustcheck import sequence_findings, trust_findings
from .verifyrecords import Checked, check_every_record

if TYPE_CHECKING:
    from .repository import Repository


@dataclass
class VerifyReport:
    findings: list[Finding]
    records_checked: int
    signatures_checked: int
    events_checked: int
    root: dict[str, Any] | None = None
    trust_entries: int = 0
    #: information, not findings: actions a sync's merge set aside (:mod:`qdocs.mergeoutcomes`)
    notes: list[Finding] = field(default_factory=list)
    #: ``verify --since``: the checkpoint it started from and what it did not read (None: everything was read)
    since: dict[str, Any] | None = None

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "root": self.root, "records_checked": self.records_checked,
                "signatures_checked": self.signatures_checked, "events_checked": self.events_checked,
                "trust_entries_checked": self.trust_entries,
                "findings": [finding.to_json() for finding in self.findings],
                "notes": [note.to_json() for note in self.notes], "since": self.since}


def verify_repository(repository: "Repository", record_ids: list[str] | None = None,
                      progress: Callable[[int], None] | None = None,
                      checkpoints: list[Any] | None = None) -> VerifyReport:
    findings: list[Finding] = []
    start = current_point(repository) if not record_ids else None
    forget_trust_state(repository)
    state = trust_state(repository)
    trail = Trail.load(repository, findings)
    findings.extend(trust_findings(repository, state, trail))
    authority = Authority(repository, state, trail)
    signatures = 0
    notes = []
    if record_ids:
        records = [get_record(repository, record_id) for record_id in record_ids]
        checked = []
        for number, record in enumerate(records, start=1):
            checked.append(Checked(record.id, record.path, len(record.signatures),
                                   check_record(repository, trail, record, None, authority)))
            if progress:
                progress(number)
    else:
        checked = check_every_record(
            repository, lambda record, names: check_record(repository, trail, record, names, authority), progress)
        present = {item.record_id for item in checked}
        for record_id, event in sorted(trail.last_event.items()):
            if record_id not in present:
                findings.append(Finding(record_id, f"missing from the repository: its folder is gone "
                                                   f"(last action: {event['action']} by {event['actor']} at {event['time']})"))
        findings.extend(sequence_findings(repository, ((item.record_id, item.path) for item in checked)))
        findings.extend(outside_findings(repository, migration_commit(repository, state)))
    for item in checked:
        signatures += item.signatures
        notes.extend(Finding(item.record_id, entry.get("note", ""), severity="info", kind="merge")
                     for entry in trail.superseded.get(item.record_id, []))
        findings.extend(item.findings)
    findings.extend(check_checkpoints(repository, [*kept_checkpoints(repository), *(checkpoints or [])]))
    if start is not None and not findings and repository.git.head() == start.commit:
        record_verified(repository, start)  # where verify --since verified starts
    root = None
    if state.root is not None:
        root = {"user": state.root["user"], "fingerprint": state.root["fingerprint"], "created": state.root["time"]}
    return VerifyReport(findings, len(checked), signatures, trail.event_count, root,
                        len(state.entries) + len(state.rejected), notes)


def check_record(repository: "Repository", trail: Any, record: Record, names: list[str] | None = None,
                 authority: "Authority | None" = None) -> list[Finding]:
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
    if authority is None:
        authority = Authority(repository, trust_state(repository), trail)
    found.extend(authority.form_problems(record))
    found.extend(_check_signatures(repository, trail, record, authority))
    return found


def _check_attachments(folder: Any, record: Record) -> list[Finding]:
    """Attached PDFs (``qdocs attach``): each listed file present with its recorded sha256."""
    return [Finding(record.id, problem) for problem in attachment_problems(folder)]


def _time_problems(record: Record, label: str, moment: str, head_time: str | None,
                   made: str | None) -> list[Finding]:
    """A signature dated before the event it follows (its chain head) or before its revision was
    made had its time set back: a key retired or a signer revoked since would otherwise still
    sign, dated before that.  Clocks of one site's machines may differ by ``CLOCK_SKEW``."""
    signed = parse_moment(moment)
    if signed is None:
        return []
    for earlier, what in ((head_time, "the event it follows in the chain"), (made, "its revision was made")):
        before = parse_moment(earlier) if earlier else None
        if before is not None and signed < before - CLOCK_SKEW:
            return [Finding(record.id, f"{label} is dated {moment}, before {what} ({earlier}): its time was set back",
                            kind="signature")]
    return []


def _check_signatures(repository: "Repository", trail: Any, record: Record, authority: "Authority") -> list[Finding]:
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
        moment = signature.get("time", "")
        key, problem = authority.state.signing_problem(signature.get("signer"), signature.get("role"),
                                                       signature.get("key"), moment)
        if key is None:
            found.append(Finding(record.id, f"{label} {problem}", kind="signature"))
            continue
        try:
            key.public.verify(base64.b64decode(signature["signature"]), signature_payload(record, signature, content_hash))
        except (InvalidSignature, ValueError, KeyError):  # a wrong signature, or one that is not base64 at all
            found.append(Finding(record.id, f"{label} does not verify: the signature does not belong to this "
                                            "record's id, revision and content"))
        if problem:
            found.append(Finding(record.id, f"{label}: {problem}", kind="signature"))
        elif not authority.role_allowed(record.type, signature.get("meaning"), signature.get("role"), moment):
            found.append(Finding(record.id, f"{label}: the catalog in force at {moment} does not allow role "
                                            f"{signature.get('role')!r} to sign {record.type} as "
                                            f"{signature.get('meaning')}", kind="signature"))
        if not trail.has_event_hash(signature.get("chain_head")):
            found.append(Finding(record.id, f"{label} refers to an event chain head that is not in the chain"))
        else:
            found.extend(_time_problems(record, label, moment, trail.event_time(signature.get("chain_head")),
                                        trail.made_at(record.id)))
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


def migration_commit(repository: "Repository", state: Any) -> str | None:
    """The commit that gave a repository made before trust its root (its attest entry), if any."""
    entry = next((entry for entry in state.entries if entry.action == "attest"), None)
    if entry is None:
        return None
    found = repository.git.text("log", "--diff-filter=A", "--format=%H", "--", entry.path, check=False).split()
    return found[-1] if found else None
