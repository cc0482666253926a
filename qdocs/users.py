"""Users, their roles and their public keys, committed in the records repository.

One file per user: ``.qdocs/users/<name>.yaml`` (and ``<name>.png``, an optional
signature image).  Every change is an action with an event in the chain, so
``verify`` knows which roles and which key a user had at any moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import yamlio
from .errors import UsageError
from .records import now_text
from .suggestions import unknown

if TYPE_CHECKING:
    from .repository import Repository

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MAX_IMAGE_BYTES = 1_000_000


class UnknownUserError(UsageError):
    """No such user, or the user was revoked."""


@dataclass
class User:
    name: str
    full_name: str
    roles: list[str]
    added: dict[str, str]
    revoked: dict[str, str] | None = None
    keys: list[dict[str, Any]] = field(default_factory=list)
    image_sha256: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def current_key(self) -> dict[str, Any] | None:
        for key in reversed(self.keys):
            if not key.get("retired"):
                return key
        return None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"name": self.name, "full_name": self.full_name, "roles": self.roles, "added": self.added}
        if self.revoked:
            result["revoked"] = self.revoked
        if self.image_sha256:
            result["image_sha256"] = self.image_sha256
        result["keys"] = self.keys
        return result

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "User":
        return cls(name=raw["name"], full_name=raw["full_name"], roles=list(raw.get("roles") or []),
                   added=raw.get("added") or {}, revoked=raw.get("revoked"), keys=list(raw.get("keys") or []),
                   image_sha256=raw.get("image_sha256"))


def user_path(name: str) -> str:
    return f".qdocs/users/{name}.yaml"


def image_path(name: str) -> str:
    return f".qdocs/users/{name}.png"


def load_user(repository: "Repository", name: str) -> User:
    check_user_name(name)
    path = repository.root / user_path(name)
    if not path.is_file():
        raise UnknownUserError(f"unknown user {name!r} (add one with: qdocs users add {name} --full-name ... --role ...)")
    return User.from_dict(yamlio.load(path.read_text(encoding="utf-8")))


def list_users(repository: "Repository") -> list[User]:
    folder = repository.root / ".qdocs" / "users"
    if not folder.is_dir():
        return []
    return [User.from_dict(yamlio.load(path.read_text(encoding="utf-8"))) for path in sorted(folder.glob("*.yaml"))]


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name or ""):
        raise UsageError(f"user name {name!r}: use 1 to 32 lower-case letters, digits, '.', '_' or '-', e.g. zhang.san")
    return name


def add_user(repository: "Repository", name: str, full_name: str, roles: list[str], actor: str,
             image: Path | None = None) -> User:
    check_user_name(name)
    full_name = (full_name or "").strip()
    if not full_name or any(character in full_name for character in "\n\r\t"):
        raise UsageError(f"user {name}: --full-name is needed, on one line (the printed name on signatures)")
    if not roles:
        raise UsageError(f"user {name}: give at least one --role ({', '.join(repository.catalog.roles)})")
    for role in roles:
        if role not in repository.catalog.roles:
            raise UsageError(f"user {name}: {unknown('role', role, repository.catalog.roles)}")
    image_bytes = _read_image(image) if image else None
    with repository.transaction("add user", [], []) as change:
        if (repository.root / user_path(name)).exists():
            raise UsageError(f"user {name} already exists")
        stamp = now_text(repository.time_zone)
        user = User(name, full_name, sorted(set(roles)), {"time": stamp, "actor": actor})
        if image_bytes:
            from .events import sha256_hex

            user.image_sha256 = sha256_hex(image_bytes)
            change.write(image_path(name), image_bytes)
        change.write(user_path(name), yamlio.dump(user.to_dict()))
        change.events.append("user-add", actor, stamp, user=name, full_name=full_name, roles=user.roles,
                             image_sha256=user.image_sha256)
        change.commit(f"add user {name} ({full_name}): {', '.join(user.roles)}", actor,
                      {"Action": "user-add", "User": name})
    return user


def revoke_user(repository: "Repository", name: str, reason: str, actor: str) -> User:
    if not reason or not reason.strip():
        raise UsageError("revoke needs --reason: say why, for the audit trail")
    with repository.transaction("revoke user", [], []) as change:
        user = load_user(repository, name)
        if user.revoked:
            raise UsageError(f"user {name} was already revoked on {user.revoked['time']}")
        stamp = now_text(repository.time_zone)
        user.revoked = {"time": stamp, "actor": actor, "reason": reason.strip()}
        for key in user.keys:
            key.setdefault("retired", stamp)
        change.write(user_path(name), yamlio.dump(user.to_dict()))
        change.events.append("user-revoke", actor, stamp, user=name, reason=reason.strip())
        change.commit(f"revoke user {name}: {' '.join(reason.split())}", actor,
                      {"Action": "user-revoke", "User": name, "Reason": " ".join(reason.split())})
    return user


def _read_image(path: Path) -> bytes:
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"--image {path}: cannot read: {error.strerror}") from None
    if not content.startswith(b"\x89PNG\r\n\x1a\n"):
        raise UsageError(f"--image {path}: not a PNG image")
    if len(content) > MAX_IMAGE_BYTES:
        raise UsageError(f"--image {path}: larger than {MAX_IMAGE_BYTES // 1000} kB")
    return content
