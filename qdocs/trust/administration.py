"""Changing who may do what: every change is a trust entry signed by someone allowed to make it.

Each function checks, before asking for any passphrase, that the change would be
accepted by the same rule ``qdocs verify`` applies (:func:`.state.permission_problem`);
then it unlocks the signer's private key, appends the signed entry, rewrites the
views it changes (the user's file, the approved forms), appends an event to the
site's chain, and commits it all in one commit authored by the signer, the person
the key proves, not whoever typed ``--actor``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .. import clock
from ..errors import UsageError
from ..forms import CATALOG_FORM, FORMS_VIEW, approver_reader, describe, form_states, view_text
from ..keys import discard_private_key, keep_private_key, new_key_pair, store_private_key
from ..records import now_text
from ..suggestions import unknown
from ..users import check_full_name, check_user_name, image_path, read_image, user_path, user_view_text
from .credentials import Credentials, forget_trust_state, trust_state, unlock
from .formcheck import check_forms_before_approval
from .log import Entry, EntryWriter
from .state import ADMIN_ROLE, CLOCK_SKEW, TrustState, UserTrust, apply_entry, parse_moment, permission_problem

if TYPE_CHECKING:
    from ..repository import Change, Repository


def add_user(repository: "Repository", admin: Credentials, name: str, full_name: str, roles: list[str],
             image: Path | None = None) -> UserTrust:
    check_user_name(name)
    full_name = check_full_name(name, full_name)
    roles = sorted(set(roles))
    if not roles:
        raise UsageError(f"user {name}: give at least one --role ({', '.join(repository.catalog.roles)})")
    _check_roles(repository, name, roles)
    picture = read_image(image) if image else None
    details = {"user": name, "full_name": full_name, "roles": roles,
               "image_sha256": hashlib.sha256(picture).hexdigest() if picture else None}

    def extra(change: "Change", state: TrustState) -> None:
        if picture:
            change.write(image_path(name), picture)

    _authorised(repository, admin, "user-add", details, f"add user {name} ({full_name}): {', '.join(roles)}", extra)
    return trust_state(repository).users[name]


def grant_role(repository: "Repository", admin: Credentials, name: str, role: str) -> UserTrust:
    _check_roles(repository, name, [role])
    user = _existing(repository, name)
    if user.holds(role, clock.now()) and role in user.current_roles():
        raise UsageError(f"user {name} already holds role {role}")
    _authorised(repository, admin, "role-grant", {"user": name, "role": role}, f"grant role {role} to {name}")
    return trust_state(repository).users[name]


def remove_role(repository: "Repository", admin: Credentials, name: str, role: str, reason: str) -> UserTrust:
    user = _existing(repository, name)
    if role not in user.current_roles():
        raise UsageError(f"user {name} does not hold role {role} (roles: {', '.join(user.current_roles()) or 'none'})")
    reason = _reason(reason, "remove-role")
    _authorised(repository, admin, "role-remove", {"user": name, "role": role, "reason": reason},
                f"remove role {role} from {name}: {reason}")
    return trust_state(repository).users[name]


def revoke_user(repository: "Repository", admin: Credentials, name: str, reason: str) -> UserTrust:
    user = _existing(repository, name)
    if user.revoked is not None:
        raise UsageError(f"user {name} was already revoked on {user.revoked_text}")
    reason = _reason(reason, "revoke")
    _authorised(repository, admin, "user-revoke", {"user": name, "reason": reason}, f"revoke user {name}: {reason}")
    return trust_state(repository).users[name]


def register_key(repository: "Repository", admin: Credentials, name: str, new_passphrase: str | Callable[[], str],
                 reason: str | None = None) -> dict[str, Any]:
    """An administrator gives ``name`` a new key: the first one, or after a lost one."""
    user = _existing(repository, name)
    if user.revoked is not None:
        raise UsageError(f"user {name} is revoked and cannot get a key")
    reason = (reason or "").strip() or ("first key" if user.current_key() is None else "key replaced by an administrator")
    return _new_key(repository, admin, name, new_passphrase, "key-register", reason)


def rotate_key(repository: "Repository", owner: Credentials, new_passphrase: str | Callable[[], str]) -> dict[str, Any]:
    """A user replaces their own key, signing the change with the key it retires."""
    user = _existing(repository, owner.name)
    if user.current_key() is None:
        raise UsageError(f"{owner.name} has no key to rotate; an administrator registers one with: "
                         f"qdocs keys create {owner.name} --as ADMIN")
    return _new_key(repository, owner, owner.name, new_passphrase, "key-rotate", None)


def approve_forms(repository: "Repository", approver: Credentials, files: list[str], comment: str | None) -> list[dict[str, Any]]:
    """Put changed forms in force: every named file (default: every changed one) is checked
    (the catalog parses, the templates fit it, the rules parse) and approved in one entry."""
    states = {state.path: state for state in form_states(repository)}
    wanted = [_form_path(repository, file) for file in files] or [path for path, state in states.items()
                                                                    if state.state in ("changed", "new")]
    if not wanted:
        raise UsageError("no form has changes waiting for approval (qdocs forms status)")
    for path in wanted:
        if path not in states or states[path].state not in ("changed", "new"):
            raise UsageError(f"{path} has no change waiting for approval (state: "
                             f"{states[path].state if path in states else 'not a form'})")
    contents = {path: (repository.root / path).read_bytes() for path in wanted}
    check_forms_before_approval(repository, contents)
    forms = {path: describe(content) for path, content in contents.items()}
    comment = " ".join((comment or "").split())
    def include_forms(change: "Change", state: TrustState) -> None:
        for path, content in contents.items():
            change.write(path, content)  # exactly the bytes checked and approved

    _authorised(repository, approver, "forms-approve", {"forms": forms, "comment": comment},
                f"approve forms: {', '.join(sorted(path.rsplit('/', 1)[-1] for path in forms))}",
                include_forms, extra_paths=sorted(forms))
    in_force = trust_state(repository)
    return [{"path": path, "version": in_force.form_in_force(path).version, **forms[path]} for path in sorted(forms)]


# -- the one way a trust change is made ------------------------------------------------


def _authorised(repository: "Repository", credentials: Credentials, action: str, details: dict[str, Any],
                subject: str, extra: Callable[["Change", TrustState], None] | None = None,
                extra_paths: list[str] | None = None, unlocked: tuple[Any, Any] | None = None) -> Entry:
    """Check, unlock (unless ``unlocked`` gives the signer's key and private key, already
    checked by the caller under the same lock), sign, write and commit one trust change."""
    with repository.locked():
        state, signer, time_text = _permitted(repository, credentials, action, details)
        key, private = unlocked or unlock(state, credentials)[1:]
        paths = [*(extra_paths or []), ".qdocs"]
        with repository.transaction(action, paths, []) as change:
            writer = EntryWriter(repository.root, repository.site(), change.write)
            entry = writer.append(action, time_text, signer.name, key.fingerprint, private.sign, **details)
            writer.finish()
            problem = apply_entry(state, entry, approver_reader(repository))
            if problem:  # the checks above passed, so this is a fault of this copy, not of the input
                raise UsageError(f"the new trust entry does not hold: {problem}; nothing was kept")
            _write_views(change, state, details.get("user"), action)
            if extra:
                extra(change, state)
            change.events.append(action, signer.name, time_text, trust_entry=entry.hash,
                                 **({"user": details["user"]} if details.get("user") else {}))
            change.commit(subject, signer.name, {"Action": action, "Signed-by": f"{signer.name} {key.fingerprint}",
                                                 **({"User": details["user"]} if details.get("user") else {})})
        forget_trust_state(repository)
        return entry


def views(state: TrustState, users: list[str], forms: bool) -> dict[str, str]:
    """The views of ``state`` a change rewrites, by path: each named user's file (of users
    the state knows) and, when ``forms``, the approved-forms file.  What a trust change
    writes, and what ``qdocs sync`` writes for views changed at two sites."""
    written = {user_path(user): user_view_text(state.users[user]) for user in users if user in state.users}
    if forms:
        in_force = {path: versions[-1] for path, versions in state.forms.items() if versions}
        written[FORMS_VIEW] = view_text(in_force)
    return written


def _write_views(change: "Change", state: TrustState, user: str | None, action: str) -> None:
    for path, text in views(state, [user] if user else [], action in ("forms-approve", "root", "attest")).items():
        change.write(path, text)


def _permitted(repository: "Repository", credentials: Credentials, action: str,
               details: dict[str, Any]) -> tuple[TrustState, UserTrust, str]:
    """The trust state, the signer and the new entry's time, once the change is known to be
    allowed by the rule ``qdocs verify`` applies; refused otherwise, before any passphrase."""
    forget_trust_state(repository)
    state = trust_state(repository)
    if state.root is None:
        raise UsageError(f"{repository.root} has no root of trust; create one with: qdocs migrate --admin NAME "
                         "--full-name TEXT")
    signer = state.user(credentials.name)
    if signer is None:
        raise UsageError(f"refused: {credentials.name!r} is not a user of this repository (qdocs users list)")
    key = signer.current_key()
    time_text = entry_time(state, repository.site(), repository.time_zone)
    provisional = Entry({"time": time_text, "action": action, **details, "by": signer.name,
                         "key": key.fingerprint if key else ""}, "", "")
    problem = permission_problem(state, provisional, signer, parse_moment(time_text), approver_reader(repository))
    if problem:
        raise UsageError(refusal(problem))
    return state, signer, time_text


def refusal(problem: str) -> str:
    """The rule an entry would break (:func:`.state.permission_problem`), as a command's refusal."""
    text = f"refused: this change {'would be ' + problem[3:] if problem.startswith('is ') else problem}"
    if "not an administrator" in problem:
        text += "; an administrator makes it (qdocs trust lists them)"
    return text


def entry_time(state: TrustState, site: str, zone: Any) -> str:
    """Now, or the time of the site's last entry when this machine's clock is a little behind
    it (at most :data:`.state.CLOCK_SKEW`; further behind, the change is refused): a site's
    entries never go back in time (:func:`.state.load_trust` rejects one that does, as a change
    backdated to before a revocation would be)."""
    now = now_text(zone)
    last = state.last_times.get(site)
    if last is not None and parse_moment(now) < last[0]:
        if last[0] - parse_moment(now) > CLOCK_SKEW:
            raise UsageError(f"this machine's clock ({now}) is behind the last trust entry of site {site} "
                             f"({last[1]}): set the clock right, then try again")
        return last[1]
    return now


def _new_key(repository: "Repository", credentials: Credentials, name: str,
             new_passphrase: str | Callable[[], str], action: str, reason: str | None) -> dict[str, Any]:
    """The change is checked and the acting person's key unlocked before the new key is made,
    so a refused change asks for no new passphrase and leaves no key file behind."""
    probe = {"user": name, "fingerprint": "", "public_key": "", **({"reason": reason} if reason else {})}
    with repository.locked():
        state, _, _ = _permitted(repository, credentials, action, probe)
        _, key, private = unlock(state, credentials)
        pair = new_key_pair(new_passphrase() if callable(new_passphrase) else new_passphrase, name)
        target = store_private_key(pair, name, credentials.home)
        details = {**probe, "fingerprint": pair.fingerprint, "public_key": pair.public_key}
        try:
            _authorised(repository, credentials, action, details,
                        f"{'register' if action == 'key-register' else 'rotate'} signing key {pair.fingerprint} "
                        f"for {name}", unlocked=(key, private))
        except BaseException:
            discard_private_key(target)
            raise
        keep_private_key(target)
    return {"user": name, "fingerprint": pair.fingerprint, "public_key": pair.public_key,
            "private_key_file": str(target)}


def _existing(repository: "Repository", name: str) -> UserTrust:
    check_user_name(name)
    user = trust_state(repository).user(name)
    if user is None:
        raise UsageError(f"unknown user {name!r} (an administrator adds one with: qdocs users add {name} "
                         "--full-name ... --role ... --as ADMIN)")
    return user


def _check_roles(repository: "Repository", name: str, roles: list[str]) -> None:
    for role in roles:
        if role not in repository.catalog.roles:
            raise UsageError(f"user {name}: {unknown('role', role, repository.catalog.roles)}")


def _reason(reason: str | None, action: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise UsageError(f"{action} needs --reason: say why, for the audit trail")
    return text


def _form_path(repository: "Repository", file: str) -> str:
    """A form named as the user types it: ``forms/x.docx``, ``x.docx`` or a path to the file."""
    candidate = Path(file)
    if candidate.is_absolute() or (Path.cwd() / candidate).exists():
        try:
            return (Path.cwd() / candidate).resolve().relative_to(repository.root).as_posix()
        except ValueError:
            pass
    text = candidate.as_posix()
    return text if text.startswith("forms/") else f"forms/{text}"


__all__ = ["ADMIN_ROLE", "CATALOG_FORM", "Credentials", "add_user", "approve_forms", "forget_trust_state",
           "grant_role", "register_key", "remove_role", "revoke_user", "rotate_key", "trust_state", "unlock", "views"]
