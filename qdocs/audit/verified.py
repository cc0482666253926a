"""The release gate's second look: every record a lot's release relies on, verified.

The audit counts a record from its ``record.yaml`` and the trust state
(:mod:`.authorised`), a lookup per signature.  Before a lot ships, ``release-check``
also verifies, as ``qdocs verify`` does (:func:`qdocs.verification.check_record`),
each record of the lot and each record the rules used as evidence elsewhere (the
supplier's evaluation, the machine's maintenance): the document matches its hash,
``record.yaml`` is what its last action wrote, every signature verifies under its key
and has its event in the chain, and the forms it was made with were approved.  A
record with a finding does not count, and the finding is the evidence.  When that
takes away what a rule relied on, the rule looks again, and whatever it then relies on
is verified in turn.

Who may sign is read from the trust log as it stands in the work tree; an entry
deleted or changed after it was committed (a revocation taken back with plain git)
would leave a consistent log that says something else.  So the log is checked
against git and the event chains first, as ``qdocs verify`` does, and while it has
such a finding no record counts: the release waits until verify is clean.

The records are verified as they stand now, so only a check of the current state
does this: for an earlier day (``--as-of``) the documents may have changed since,
and the trust state's lookup alone applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ..authority import Authority
from ..errors import QdocsError
from ..records import Record
from ..trail import Trail
from ..trust.credentials import trust_state
from ..trustcheck import integrity_findings
from ..verification import check_record

if TYPE_CHECKING:
    from ..repository import Repository
    from .facts import Fact

SHOWN_FINDINGS = 2


class RecordVerifier:
    """Verifies records once each, reading the event chains on first use."""

    def __init__(self, repository: "Repository") -> None:
        self.repository = repository
        self.checked: dict[str, str | None] = {}
        self._trail: Any = None
        self._authority: Any = None
        self._untrusted: str | None = None

    def problems(self, records: Iterable["Fact"]) -> dict[str, str]:
        """What is wrong with each record not verified before (the records without findings left out)."""
        found: dict[str, str] = {}
        for fact in records:
            record_id = fact.id
            if record_id in self.checked:
                continue
            trail, authority = self._context()
            if self._untrusted:
                self.checked[record_id] = found[record_id] = self._untrusted
                continue
            folder = "/".join((*fact.subject, record_id))  # the folder of a subject's record
            try:
                record = Record.from_yaml((self.repository.root / folder / "record.yaml").read_text(encoding="utf-8"),
                                          folder)
                findings: list[Any] = check_record(self.repository, trail, record, None, authority)
            except FileNotFoundError:
                findings = [f"{record_id}: {folder}/record.yaml is missing from the work tree"]
            except (QdocsError, OSError, KeyError, TypeError, ValueError) as error:
                findings = [f"{record_id}: cannot be read ({error})"]
            text = _summary(record_id, [str(finding) for finding in findings]) if findings else None
            self.checked[record_id] = text
            if text:
                found[record_id] = text
        return found

    def _context(self) -> tuple[Any, Any]:
        if self._trail is None:
            self._trail = Trail.load(self.repository, [])  # the chains' own findings are verify's to report
            state = trust_state(self.repository)
            self._authority = Authority(self.repository, state, self._trail)
            broken = integrity_findings(self.repository, state, self._trail)
            if broken:
                self._untrusted = (f"no signature counts while the trust log is not what was committed "
                                   f"({broken[0]}); run qdocs verify")
        return self._trail, self._authority


def _summary(record_id: str, findings: list[str]) -> str:
    """The first findings, without the record id each one starts with."""
    shown = [finding.removeprefix(f"{record_id}: ") for finding in findings[:SHOWN_FINDINGS]]
    more = len(findings) - SHOWN_FINDINGS
    return "; ".join(shown) + (f" (and {more} more: qdocs verify {record_id})" if more > 0 else "")
