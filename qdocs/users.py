"""Users as people read them: one file per user, ``.qdocs/users/<name>.yaml`` (and
``<name>.png``, an optional signature image).

The file is a *view* of the trust state (:mod:`qdocs.trust.state`), rewritten by
every change to that user, so that ``git log .qdocs/users/zhang.san.yaml`` tells a
person's story.  It grants nothing: who holds which role and key comes from the
signed trust log, and ``qdocs verify`` reports a file that says otherwise (a role
added with plain git, a key swapped).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import yamlio
from .errors import UsageError

if TYPE_CHECKING:
    from .trust.state import UserTrust

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MAX_IMAGE_BYTES = 1_000_000


class UnknownUserError(UsageError):
    """No such user, or the user was revoked."""


def user_path(name: str) -> str:
    return f".qdocs/users/{name}.yaml"


def image_path(name: str) -> str:
    return f".qdocs/users/{name}.png"


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name or ""):
        raise UsageError(f"user name {name!r}: use 1 to 32 lower-case letters, digits, '.', '_' or '-', e.g. zhang.san")
    return name


def check_full_name(name: str, full_name: str | None) -> str:
    full_name = (full_name or "").strip()
    if not full_name or any(character in full_name for character in "\n\r\t"):
        raise UsageError(f"user {name}: --full-name is needed, on one line (the printed name on signatures)")
    return full_name


def user_view(user: "UserTrust") -> dict[str, Any]:
    """What ``.qdocs/users/<name>.yaml`` holds for a user of the trust state."""
    view: dict[str, Any] = {"name": user.name, "full_name": user.full_name, "roles": user.current_roles(),
                            "added": {"time": user.added_text, "by": user.added_by}}
    if user.revoked_text:
        view["revoked"] = {"time": user.revoked_text, "reason": user.revoked_reason}
    if user.image_sha256:
        view["image_sha256"] = user.image_sha256
    view["keys"] = [{"fingerprint": key.fingerprint, "public_key": key.public_text, "created": key.created_text,
                     **({"retired": key.retired_text} if key.retired_text else {}),
                     "registered_by": key.registered_by}
                    for key in user.keys.values()]
    return view


def user_view_text(user: "UserTrust") -> str:
    return yamlio.dump(user_view(user))


def read_image(path: Path) -> bytes:
    """A signature image to show in signature blocks: a PNG of at most 1 MB."""
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"--image {path}: cannot read: {error.strerror}") from None
    if not content.startswith(b"\x89PNG\r\n\x1a\n"):
        raise UsageError(f"--image {path}: not a PNG image")
    if len(content) > MAX_IMAGE_BYTES:
        raise UsageError(f"--image {path}: larger than {MAX_IMAGE_BYTES // 1000} kB")
    return content
