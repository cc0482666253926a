"""Who is logged in and what they may do.

Log-in checks a user name and passphrase the way a signature does: the passphrase must
open the user's registered private key (:func:`qdocs.trust.credentials.unlock`), on the
server, where the key stays encrypted; nothing of it reaches the browser.  Users,
roles and keys are the command line's: the repository's trust state.

What the web application allows beyond signing (whose rules are the library's alone):

- an **auditor** (anyone holding the ``auditor`` role) reads everything and changes
  nothing: no signature, revision, void or attachment, whatever other role they hold;
- revising, voiding and attaching to a record is for a user holding one of the roles
  that sign that record's type (the people whose record it is); the library records
  them as the actor of the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QdocsError
from ..trust.credentials import Credentials, trust_state, unlock
from ..users import USER_NAME

if TYPE_CHECKING:
    from ..catalog import RecordType
    from ..repository import Repository

AUDITOR_ROLE = "auditor"


class LoginRefused(Exception):
    """The user name or passphrase is wrong (the message never says which)."""


@dataclass(frozen=True)
class Identity:
    name: str
    full_name: str
    roles: tuple[str, ...]

    @property
    def auditor(self) -> bool:
        return AUDITOR_ROLE in self.roles

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "full_name": self.full_name, "roles": list(self.roles),
                "read_only": self.auditor}


def authenticate(repository: "Repository", name: str, passphrase: str, home: Path) -> Identity:
    """The identity of ``name`` when ``passphrase`` opens their current key."""
    if not USER_NAME.match(name or "") or not passphrase:
        raise LoginRefused("wrong user name or passphrase")
    state = trust_state(repository)
    try:
        user, _, _ = unlock(state, Credentials(name, passphrase, home))
    except QdocsError as error:
        raise LoginRefused("wrong user name or passphrase") from error
    return Identity(user.name, user.full_name, tuple(user.current_roles()))


def current_identity(repository: "Repository", name: str) -> Identity | None:
    """The logged-in user as the trust state has them now (None: revoked or gone)."""
    user = trust_state(repository).user(name)
    if user is None or user.revoked is not None:
        return None
    return Identity(user.name, user.full_name, tuple(user.current_roles()))


def may_change(identity: Identity, record_type: "RecordType") -> bool:
    """May revise, void and attach to records of this type (see the module's description)."""
    if identity.auditor:
        return False
    return any(role in identity.roles for requirement in record_type.signatures for role in requirement.roles)


def offered_meanings(repository: "Repository", record_type: "RecordType", status: str,
                     signatures: list[tuple[str, str]], identity: Identity) -> list[str]:
    """The meanings to offer ``identity`` on a record now (``signatures``: (meaning, signer)
    already given): what a sign form lists and the inbox counts.  Only an offer: signing
    itself is checked by the library (:func:`qdocs.signing.sign_records`), whose refusals
    the page shows."""
    if identity.auditor or status in ("approved", "void"):
        return []
    if any(signer == identity.name for _, signer in signatures):
        return []
    signed = {meaning for meaning, _ in signatures}
    meanings = repository.catalog.meanings
    offered = []
    for requirement in record_type.signatures:
        if requirement.meaning in signed or not any(role in identity.roles for role in requirement.roles):
            continue
        stage = meanings[requirement.meaning].stage
        if all(other.meaning in signed for other in record_type.signatures
               if meanings[other.meaning].stage < stage):
            offered.append(requirement.meaning)
    return offered
