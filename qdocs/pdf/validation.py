"""``qdocs verify-pdf``: is this signed PDF intact, and signed with the company certificate?

The file is read by pyHanko in a limited child process (see :mod:`.sandbox`).  A copy
is valid when it has a signature that verifies, covers the whole file (nothing was
appended after it), allows no later change, and chains to a company certificate of
the repository (current or replaced).  With the repository at hand, a note says when
the record has moved on to a later revision since the copy was signed.

What is wrong is said apart: a file changed after signing names the certificate that
signed it (subject and sha256), so a reader sees who signed what was then changed;
"not a company certificate" is said only when the signer's certificate is none of the
trusted ones, compared by their bytes (pyHanko's trust result also fails when the
content was changed, and would blame the certificate for it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import UnsafePdfError
from ..errors import QdocsError, UsageError
from ..queries import get_record
from .sandbox import run_in_child

if TYPE_CHECKING:
    from ..repository import Repository

REASON = re.compile(r"^(?P<record>[A-Z]{2,5}-[A-Z0-9]{1,8}-\d{4}-\d{4,}) rev (?P<revision>[A-Z]+)\b")


@dataclass
class PdfVerification:
    file: str
    signatures: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "valid": self.valid, "signatures": self.signatures, "problems": self.problems,
                "notes": self.notes}


def verify_pdf(path: Path, trusted: list[bytes], repository: "Repository | None" = None) -> PdfVerification:
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror}") from None
    if b"%PDF-" not in head:
        raise UsageError(f"{path}: not a PDF file")
    if not trusted:
        raise UsageError("no company certificate to check against: the repository has none "
                         "(qdocs keys company-cert), or give one with --cert FILE.pem")
    report = PdfVerification(str(path))
    trusted_by = "a company certificate of this repository" if repository is not None else "the certificate given"
    try:
        answer = run_in_child("validate", Path(path), str(path), trusted=[pem.decode("ascii") for pem in trusted])
    except UnsafePdfError as error:
        report.problems.append(f"cannot be validated: {error}")
        return report
    report.signatures = answer["signatures"]
    if not report.signatures:
        report.problems.append("the PDF has no digital signature")
    for signature in report.signatures:
        report.problems.extend(_problems(signature, trusted_by))
        if repository is not None:
            report.notes.extend(_record_notes(repository, signature.get("reason", "")))
    return report


def _problems(signature: dict[str, Any], trusted_by: str) -> list[str]:
    label = (f"signature {signature['field']} by {signature['signer']} "
             f"(certificate sha256 {signature['certificate_sha256'][:16]})")
    problems = []
    changed = True
    if not signature["intact"] or not signature["valid"]:
        problems.append(f"{label}: the file was changed after it was signed (the signed content does not match "
                        "the signature)")
    elif not signature["whole_file"]:
        problems.append(f"{label}: the file was changed after it was signed (content was added after the signature)")
    elif not signature["docmdp_ok"]:
        problems.append(f"{label}: the file was changed after it was signed, which the signature does not allow")
    else:
        changed = False
    if not signature["known_certificate"]:
        problems.append(f"{label} was not made with {trusted_by}")
    elif not signature["trusted"] and not changed:
        problems.append(f"{label}: {trusted_by} signed it, but it does not validate now ({signature['summary']})")
    return problems


def _record_notes(repository: "Repository", reason: str) -> list[str]:
    match = REASON.match(reason or "")
    if not match:
        return []
    try:
        record = get_record(repository, match["record"])
    except QdocsError:
        return [f"{match['record']} is not in the repository {repository.root}"]
    if record.revision != match["revision"] or record.status != "approved":
        return [f"{record.id} is now at revision {record.revision} ({record.status}): this copy of revision "
                f"{match['revision']} is superseded"]
    return [f"{record.id} revision {record.revision} is the current, approved revision"]
