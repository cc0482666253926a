"""Which approved records count: those whose every signature the trust state authorises.

``status: approved`` in ``record.yaml`` is only what its last writer wrote, and anyone
who can write to the repository can write it, or append a signature made with a key
registered by nobody.  So the audit counts a record as approved only when

- each signature was made by a user, with a key then registered to them, in a role
  they then held, none of it granted by an entry of the trust log that does not hold
  (:meth:`qdocs.trust.state.TrustState.signing_problem`, as ``qdocs verify`` asks);
- the catalog then in force allowed that role to sign that type with that meaning
  (:class:`qdocs.authority.Authority`, as ``qdocs verify`` asks);
- the signers are different people, and the meanings signed cover every one the
  catalog in force at the last signature requires.

A record that fails is shown as ``unsigned``, with the reason (:attr:`.facts.Fact.problem`).

This is a lookup per signature, not a cryptographic check: the whole-repository audit
reads 150,000 records in seconds, and checking 400,000 Ed25519 signatures would take
a minute.  ``qdocs verify`` checks the signatures themselves, and ``release-check``
verifies every record it relies on (:mod:`.verified`).

Speed: signature times are UTC text of one form (``2026-03-20T04:00:00Z``).  The trust
state's moments are turned into that form once, rounded up to the second (exact for
times in whole seconds), so most checks compare text; a time in any other form is
judged by the trust state itself.  Each distinct signature is judged once, and each
set of a type's signatures: records signed together in one command share theirs (the
fact cache stores them once, :meth:`.facts.FactCache.add`), so most records cost one
dictionary lookup.
"""

from __future__ import annotations

import bisect
import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..authority import Authority
from ..forms import CATALOG_FORM
from ..trust.credentials import trust_state
from .facts import Fact, Signature

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..repository import Repository
    from ..trust.state import TrustState, UserTrust

_UTC = _dt.timezone.utc
_Span = tuple[str, "str | None"]


class SignatureJudge:
    """Judges the approved facts of one audit against the repository's trust state."""

    def __init__(self, repository: "Repository", state: "TrustState | None" = None) -> None:
        # folded once per process, shared with whatever else asks (release-check)
        self.state = state or trust_state(repository)
        self.authority = Authority(repository, self.state)
        self.repository = repository
        self._users = {name: _Windows(user) for name, user in self.state.users.items()}
        self._versions = self.state.forms.get(CATALOG_FORM, [])
        self._starts = [_utc_text(version.time) for version in self._versions]
        self._allowed: dict[int, frozenset[tuple[str, str, str]]] = {}
        self._required: dict[tuple[str, int], tuple[frozenset[str], str]] = {}
        self._answers: dict[tuple[str, ...], str | None] = {}

    def judge(self, facts: list[Fact]) -> list[Fact]:
        """``facts`` with every approved one whose signatures do not count made ``unsigned``."""
        if self.state.root is None:
            problem = "this repository has no root of trust, so no signature is authorised (qdocs migrate)"
            return [fact._replace(status="unsigned", problem=problem) if fact.status == "approved" else fact
                    for fact in facts]
        records: dict[tuple[int, str], tuple[tuple[Signature, ...], str | None]] = {}
        problem_of = self.problem
        judged: list[Fact] = []
        append = judged.append
        for fact in facts:
            if fact.status == "approved":
                # records signed together share one signatures object: judged once, known by identity
                signatures = fact.signatures
                known = records.get((id(signatures), fact.type))
                if known is not None and known[0] is signatures:
                    problem = known[1]
                else:
                    problem = problem_of(fact.type, signatures)
                    records[(id(signatures), fact.type)] = (signatures, problem)
                if problem is not None:
                    fact = fact._replace(status="unsigned", problem=problem)
            append(fact)
        return judged

    def problem(self, type_id: str, signatures: tuple[Signature, ...]) -> str | None:
        """Why an approved record of ``type_id`` with ``signatures`` is not approved, or None."""
        answers = self._answers
        last = ""
        signers = set()
        for signature in signatures:
            key = (type_id, *signature)
            try:
                problem = answers[key]
            except KeyError:
                problem = answers[key] = self._signature_problem(type_id, signature)
            if problem is not None:
                return f"signature '{signature[0]}' by {signature[1]} does not count: {problem}"
            if signature[1] in signers:
                return f"{signature[1]} signed twice (separation of duties)"
            signers.add(signature[1])
            if signature[4] > last:
                last = signature[4]
        required, listed = self._required_at(type_id, last)
        missing = required.difference(signature[0] for signature in signatures)
        if missing:
            return f"not signed as {', '.join(sorted(missing))} ({type_id} needs {listed})"
        return None

    # -- one signature --------------------------------------------------------------

    def _signature_problem(self, type_id: str, signature: Signature) -> str | None:
        meaning, signer, key, role, time = signature
        if _is_utc_text(time):
            windows = self._users.get(signer)
            if windows is not None and windows.allows(key, role, time):
                if (type_id, meaning, role) in self._allowed_at(self._version_index(time)):
                    return None
                return _not_allowed(type_id, meaning, role, time)
        _, problem = self.state.signing_problem(signer, role, key, time)
        if problem is not None:
            return problem.removeprefix("was ")
        if not self.authority.role_allowed(type_id, meaning, role, time):
            return _not_allowed(type_id, meaning, role, time)
        return None

    # -- the catalog in force -------------------------------------------------------------

    def _version_index(self, time: str) -> int:
        """The catalog version in force at ``time`` (the first one for earlier times), as
        :meth:`qdocs.authority.Authority.catalog_at` chooses it; -1 when there is none."""
        if not self._versions:
            return -1
        return max(bisect.bisect_right(self._starts, time) - 1, 0)

    def _catalog(self, index: int) -> "Catalog | None":
        return self.repository.catalog if index < 0 else self.authority.catalog_of(self._versions[index])

    def _allowed_at(self, index: int) -> frozenset[tuple[str, str, str]]:
        if index not in self._allowed:
            catalog = self._catalog(index)
            self._allowed[index] = frozenset(
                (record_type.id, requirement.meaning, role)
                for record_type in (catalog.types.values() if catalog else ())
                for requirement in record_type.signatures for role in requirement.roles)
        return self._allowed[index]

    def _required_at(self, type_id: str, time: str) -> tuple[frozenset[str], str]:
        index = self._version_index(time) if time else len(self._versions) - 1
        key = (type_id, index)
        if key not in self._required:
            catalog = self._catalog(index)
            record_type = catalog.types.get(type_id) if catalog else None
            meanings = [requirement.meaning for requirement in record_type.signatures] if record_type else []
            self._required[key] = (frozenset(meanings), ", ".join(meanings))
        return self._required[key]


class _Windows:
    """When a user's keys were registered, their roles held and their revocation, as UTC text."""

    __slots__ = ("keys", "roles", "revoked")

    def __init__(self, user: "UserTrust") -> None:
        self.keys: dict[str, _Span] = {
            fingerprint: (_utc_text(key.created), _utc_text(key.retired) if key.retired else None)
            for fingerprint, key in user.keys.items()}
        self.roles: dict[str, list[_Span]] = {
            role: [(_utc_text(start), _utc_text(end) if end else None) for start, end in spans if start is not None]
            for role, spans in user.roles.items()}
        self.revoked = _utc_text(user.revoked) if user.revoked else None

    def allows(self, key: str, role: str, time: str) -> bool:
        """The key was registered and not retired, the user not revoked, and the role held, at ``time``."""
        span = self.keys.get(key)
        if span is None or time < span[0] or (span[1] is not None and time >= span[1]):
            return False
        if self.revoked is not None and time >= self.revoked:
            return False
        return any(start <= time and (end is None or time < end) for start, end in self.roles.get(role, ()))


def _utc_text(moment: _dt.datetime) -> str:
    """``2026-03-20T04:00:00Z``, rounded up to the second: for times in whole seconds, ``t >= m``
    and ``t < m`` hold exactly when they hold against the rounded text."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + _dt.timedelta(seconds=1)
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_utc_text(time: str) -> bool:
    """The form ``qdocs sign`` writes: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return len(time) == 20 and time[19] == "Z" and time[10] == "T" and time[4] == "-"


def _not_allowed(type_id: str, meaning: str, role: str, time: str) -> str:
    return f"the catalog in force at {time} does not allow role {role!r} to sign {type_id} as {meaning}"


def judge_facts(repository: "Repository", facts: list[Fact], state: Any = None) -> list[Fact]:
    """``facts`` as the audit counts them (see the module's description)."""
    return SignatureJudge(repository, state).judge(facts)
