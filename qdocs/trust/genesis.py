"""The root of trust: the first administrator, made with the repository.

``qdocs init`` makes a key for the first administrator and writes the repository's
first trust entry, ``root``, signed by that key itself, in the repository's first
commit, together with the forms shipped with qdocs (approved by that
administrator, so that the repository starts with forms in force).  Its
fingerprint, printed by ``qdocs trust`` and at the head of ``qdocs verify``, is
what an auditor compares with the one written on paper at installation: whoever
can rewrite the whole history can make a new root, but not one with that
fingerprint.

A repository made before trust existed is migrated by ``qdocs migrate``: a root
entry, then an ``attest`` entry in which the new root administrator accepts the
users, roles and keys the repository already had, and the forms it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .. import yamlio
from ..errors import UsageError
from ..forms import FORMS_VIEW, describe, has_forms, shipped_forms, view_text
from ..keys import discard_private_key, keep_private_key, new_key_pair, store_private_key
from ..records import now_text
from ..users import check_full_name, check_user_name, user_path, user_view_text
from .log import ROOT_PATH, EntryWriter, trust_sites
from .state import ADMIN_ROLE, load_trust

if TYPE_CHECKING:
    from ..repository import Change, Repository


@dataclass
class Enrollment:
    """The first administrator: name, printed name, the passphrase of the new key (or a
    function asking for it) and the folder that keeps the private key."""

    name: str
    full_name: str
    passphrase: str | Callable[[], str] | None
    home: Path | None = None

    def checked(self) -> "Enrollment":
        check_user_name(self.name)
        self.full_name = check_full_name(self.name, self.full_name)
        return self


def write_root(repository: "Repository", change: "Change", enrollment: Enrollment,
               forms: dict[str, bytes], attest: dict[str, Any] | None = None) -> tuple[str, Path]:
    """Write the forms, the root entry (and an attest entry), the root file and the views.

    Returns the root fingerprint and the private key file, kept only once the
    caller's commit has landed (:func:`qdocs.keys.keep_private_key`)."""
    passphrase = enrollment.passphrase() if callable(enrollment.passphrase) else enrollment.passphrase
    pair = new_key_pair(passphrase, enrollment.name)
    target = store_private_key(pair, enrollment.name, enrollment.home)
    try:
        for path, content in forms.items():
            change.write(path, content)
        described = {path: describe(content) for path, content in forms.items()}
        writer = EntryWriter(repository.root, repository.site(), change.write)
        time = now_text(repository.time_zone)
        root = writer.append("root", time, enrollment.name, pair.fingerprint, pair.private.sign,
                             user=enrollment.name, full_name=enrollment.full_name, roles=[ADMIN_ROLE],
                             fingerprint=pair.fingerprint, public_key=pair.public_key,
                             **({} if attest is not None else {"forms": described}))
        entries = [root]
        if attest is not None:
            entries.append(writer.append("attest", time, enrollment.name, pair.fingerprint, pair.private.sign,
                                         users=attest, forms=described))
        writer.finish()
        change.write(ROOT_PATH, yamlio.dump({
            "user": enrollment.name, "full_name": enrollment.full_name, "fingerprint": pair.fingerprint,
            "public_key": pair.public_key, "site": repository.site(), "entry": f"{repository.site()}/1",
            "created": time}))
        state = load_trust(repository.root)
        for name, user in state.users.items():
            change.write(user_path(name), user_view_text(user))
        change.write(FORMS_VIEW, view_text({path: versions[-1] for path, versions in state.forms.items()}))
        for entry in entries:
            change.events.append(entry.action, enrollment.name, time, trust_entry=entry.hash, user=enrollment.name)
    except BaseException:
        discard_private_key(target)
        raise
    return pair.fingerprint, target


def migrate(repository: "Repository", enrollment: Enrollment) -> dict[str, Any]:
    """Give a repository made before trust its root, its users attested and its forms in force."""
    enrollment.checked()
    if trust_sites(repository.root) or (repository.root / ROOT_PATH).exists():
        raise UsageError(f"{repository.root} already has a root of trust (qdocs trust)")
    legacy_rules = repository.root / ".qdocs" / "rules.yaml"
    forms = shipped_forms()
    if legacy_rules.is_file():
        forms["forms/rules.yaml"] = legacy_rules.read_bytes()
    attest = _legacy_users(repository)
    with repository.transaction("migrate", ["forms", ".qdocs"], []) as change:
        fingerprint, target = write_root(repository, change, enrollment, forms, attest)
        if legacy_rules.is_file():
            change.remove(".qdocs/rules.yaml")
        change.commit(f"migrate to controlled forms and a root of trust ({enrollment.name}, {fingerprint})",
                      enrollment.name, {"Action": "migrate", "Signed-by": f"{enrollment.name} {fingerprint}"})
    keep_private_key(target)
    return {"root": enrollment.name, "fingerprint": fingerprint, "users_attested": sorted(attest),
            "forms": sorted(forms), "private_key_file": str(target), "had_forms": has_forms(repository.root)}


def _legacy_users(repository: "Repository") -> dict[str, Any]:
    """The users as the repository's own files described them before trust existed."""
    folder = repository.root / ".qdocs" / "users"
    users: dict[str, Any] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        raw = yamlio.load(path.read_text(encoding="utf-8")) or {}
        users[str(raw.get("name") or path.stem)] = {
            "full_name": raw.get("full_name", ""), "roles": list(raw.get("roles") or []),
            "added": (raw.get("added") or {}).get("time"), "image_sha256": raw.get("image_sha256"),
            "revoked": (raw.get("revoked") or {}).get("time"),
            "revoked_reason": (raw.get("revoked") or {}).get("reason"),
            "keys": [{"fingerprint": key.get("fingerprint"), "public_key": key.get("public_key"),
                      "created": key.get("created"), "retired": key.get("retired")}
                     for key in raw.get("keys") or []],
        }
    return users
