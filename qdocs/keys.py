"""Signing keys: Ed25519 key pairs made with the ``cryptography`` package.

The private key never enters the repository: it is stored encrypted with the
user's passphrase in the user's configuration directory (``QDOCS_HOME``, else
``$XDG_CONFIG_HOME/qdocs`` or ``~/.config/qdocs``), one file per key named by its
fingerprint.  The public key is committed in the user's file, and its creation
is an event in the chain.  Creating a second key retires the first (rotation):
signatures made before stay valid under the key their signer had then.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StorageError, UsageError
from .records import now_text
from .users import load_user, user_path
from . import yamlio

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from .repository import Repository

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


def create_key(repository: "Repository", name: str, passphrase: str, actor: str, replace: bool = False,
               home: Path | None = None) -> dict[str, Any]:
    """Make a key pair for ``name``: private key encrypted at home, public key committed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if passphrase is None or len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    user = load_user(repository, name)
    if not user.active:
        raise UsageError(f"user {name} is revoked and cannot get a key")
    if user.current_key() and not replace:
        raise UsageError(f"user {name} already has key {user.current_key()['fingerprint']}; give --replace to rotate it")
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(passphrase.encode("utf-8")))
    key_fingerprint = fingerprint(public_raw)
    target = private_key_path(name, key_fingerprint, home)
    temporary = target.with_suffix(".pem.new")
    write_private_file(temporary, pem, "private key")
    try:
        with repository.transaction("create key", [], []) as change:
            user = load_user(repository, name)
            stamp = now_text(repository.time_zone)
            for key in user.keys:
                key.setdefault("retired", stamp)
            entry = {"fingerprint": key_fingerprint, "public_key": base64.b64encode(public_raw).decode(),
                     "created": stamp}
            user.keys.append(entry)
            change.write(user_path(name), yamlio.dump(user.to_dict()))
            change.events.append("key-create", actor, stamp, user=name, fingerprint=key_fingerprint,
                                 public_key=entry["public_key"])
            change.commit(f"create signing key {key_fingerprint} for {name}", actor,
                          {"Action": "key-create", "User": name, "Key": key_fingerprint})
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, target)
    return {**entry, "user": name, "private_key_file": str(target)}


def load_private_key(name: str, key_fingerprint: str, passphrase: str | None,
                     home: Path | None = None) -> "Ed25519PrivateKey":
    from cryptography.hazmat.primitives import serialization

    path = private_key_path(name, key_fingerprint, home)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no private key for {name} ({key_fingerprint}) in {path.parent}; "
                         f"sign on the machine that holds it, or create a new key: qdocs keys create {name} --replace") from None
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
