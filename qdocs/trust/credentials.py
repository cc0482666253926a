"""Who acts, and the trust state they act in: the repository's trust log folded once per
process (:func:`trust_state`), and a user's private key unlocked for a signature or a
trust change (:func:`unlock`).  Read by signatures, checks and every change of trust."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import UsageError
from ..forms import approver_reader
from ..keys import PassphraseError, load_private_key, public_text
from .state import TrustState, UserTrust, load_trust

if TYPE_CHECKING:
    from ..repository import Repository


@dataclass
class Credentials:
    """Who acts, and what unlocks their key: the passphrase, or a function asking for it
    (called only once every check has passed, so a refused change never asks), and the
    folder holding the private keys (default ``QDOCS_HOME``)."""

    name: str
    passphrase: str | Callable[[], str] | None
    home: Path | None = None

    def text(self) -> str | None:
        return self.passphrase() if callable(self.passphrase) else self.passphrase


def trust_state(repository: "Repository") -> TrustState:
    """The repository's trust state, folded once per process and after every change."""
    if getattr(repository, "_trust_state", None) is None:
        repository._trust_state = load_trust(repository.root, approver_reader(repository))
    return repository._trust_state


def forget_trust_state(repository: "Repository") -> None:
    repository._trust_state = None


def adopt_trust_state(repository: "Repository", state: TrustState) -> None:
    """Give ``repository`` the trust state already folded for the same commit by another
    reader of it (the web application's threads share one per commit)."""
    repository._trust_state = state


def unlock(state: TrustState, credentials: Credentials) -> tuple[UserTrust, Any, Any]:
    """The acting user, their current key and the private key that matches it."""
    user = state.user(credentials.name)
    if user is None:
        raise UsageError(f"{credentials.name!r} is not a user of this repository (qdocs users list)")
    if user.revoked is not None:
        raise UsageError(f"user {user.name} was revoked on {user.revoked_text} and cannot sign")
    key = user.current_key()
    if key is None:
        raise UsageError(f"{user.name} has no signing key; an administrator registers one with: "
                         f"qdocs keys create {user.name} --as ADMIN")
    private = load_private_key(user.name, key.fingerprint, credentials.text(), credentials.home)
    if public_text(private) != key.public_text:
        raise PassphraseError(f"the private key found for {user.name} is not the key registered for them")
    return user, key, private
