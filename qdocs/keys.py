"""Signing keys: Ed25519 key pairs made with the ``cryptography`` package.

The private key never enters the repository: it is stored encrypted with the
user's passphrase in the user's configuration directory (``QDOCS_HOME``, else
``$XDG_CONFIG_HOME/qdocs`` or ``~/.config/qdocs``), one file per key named by its
fingerprint.  The public key is committed in the user's file, and its creation
is a signed entry of the trust log (:mod:`qdocs.trust`).  Registering a second key
retires the first: signatures made before stay valid under the key their signer had
then.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import StorageError, UsageError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


MIN_PASSPHRASE = 8


class PassphraseError(UsageError):
    """The passphrase does not open the key."""


def qdocs_home() -> Path:
    if os.environ.get("QDOCS_HOME"):
        return Path(os.environ["QDOCS_HOME"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "qdocs"


def fingerprint(public_raw: bytes) -> str:
    return "ed25519:" + hashlib.sha256(public_raw).hexdigest()[:32]


def private_key_path(user: str, key_fingerprint: str, home: Path | None = None) -> Path:
    return (home or qdocs_home()) / "keys" / f"{user}-{key_fingerprint.split(':', 1)[1]}.pem"


@dataclass(frozen=True)
class KeyPair:
    """A new Ed25519 key pair: the private key encrypted for its file, the public key for the repository."""

    fingerprint: str
    public_key: str
    encrypted: bytes
    private: "Ed25519PrivateKey"


def new_key_pair(passphrase: str | None, owner: str) -> KeyPair:
    """Make a key pair whose private part only ``passphrase`` opens."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    check_new_passphrase(passphrase, owner)
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    encrypted = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.BestAvailableEncryption(str(passphrase).encode("utf-8")))
    return KeyPair(fingerprint(public_raw), base64.b64encode(public_raw).decode("ascii"), encrypted, private)


def check_new_passphrase(passphrase: str | None, owner: str) -> str:
    if passphrase is None or len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"the passphrase of {owner}'s new key must have at least {MIN_PASSPHRASE} characters")
    return passphrase


def store_private_key(pair: KeyPair, owner: str, home: Path | None = None) -> Path:
    """Write the encrypted private key beside its final name; :func:`keep_private_key`
    gives it that name once the key's registration is committed."""
    target = private_key_path(owner, pair.fingerprint, home)
    write_private_file(target.with_suffix(".pem.new"), pair.encrypted, "private key")
    return target


def keep_private_key(target: Path) -> None:
    os.replace(target.with_suffix(".pem.new"), target)


def discard_private_key(target: Path) -> None:
    target.with_suffix(".pem.new").unlink(missing_ok=True)


def public_text(private: "Ed25519PrivateKey") -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_private_key(name: str, key_fingerprint: str, passphrase: str | None,
                     home: Path | None = None) -> "Ed25519PrivateKey":
    from cryptography.hazmat.primitives import serialization

    path = private_key_path(name, key_fingerprint, home)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no private key for {name} ({key_fingerprint}) in {path.parent}; sign on the machine that "
                         f"holds it, or ask an administrator for a new key: qdocs keys create {name} --replace "
                         "--as ADMIN") from None
    if not passphrase:
        raise PassphraseError(f"a passphrase is needed to use the key of {name} (prompt, or QDOCS_PASSPHRASE)")
    try:
        return serialization.load_pem_private_key(pem, password=passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise PassphraseError(f"wrong passphrase for the key of {name}") from None


def public_key_from_text(text: str):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def write_private_file(target: Path, content: bytes, what: str) -> None:
    """Write a secret only its owner may read (0600, in a 0700 folder), synced to disk."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise StorageError(f"cannot store the {what} in {target.parent}: {error.strerror}") from None
