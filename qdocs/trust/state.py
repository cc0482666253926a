"""The trust state: who is a user, holding which roles and keys, and which version of
every form is approved, at any moment of the repository's life.

It is folded from the trust log (:mod:`.log`) of every site, in time order, and
every entry is checked against the state just before it: its signature verifies
under a key its signer then held, and the signer was allowed to make it (the
table below).  An entry that fails is a finding and is *not applied*: a key
registered by someone who was not an administrator is no key, a role granted
with plain git is no role.  Both the commands (before they act) and ``qdocs
verify`` (over all history) use this one fold, so they cannot disagree.

=============  ====================================================================
action         allowed when signed by
=============  ====================================================================
root           the new key itself, as the first entry of the repository
attest         the root administrator (a repository migrated from before trust)
user-add       an active administrator
role-grant     an active administrator other than the user
role-remove    an active administrator
user-revoke    an active administrator; never the last active one
key-register   an active administrator (first key, or recovery of a lost key)
key-rotate     the user, with the key being retired
forms-approve  an active user holding a role the catalog then in force lists for
               approving forms (``forms: {approve: [...]}``)
=============  ====================================================================
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import yamlio
from ..events import GENESIS, sha256_hex
from ..findings import Finding
from ..keys import fingerprint, public_key_from_text
from .log import Entry, ROOT_PATH, head_path, iter_entry_files, read_head, trust_sites

ADMIN_ROLE = "admin"
#: how far the clocks of the machines writing one site's copy may disagree: a time that goes back
#: further than this (a trust entry, a signature before the event it follows) was set back
CLOCK_SKEW = _dt.timedelta(minutes=10)
ROOT_ACTIONS = frozenset({"root"})


@dataclass
class KeyTrust:
    fingerprint: str
    public_text: str
    created: _dt.datetime
    created_text: str
    registered_by: str
    retired: _dt.datetime | None = None
    retired_text: str | None = None
    _public: Any = None

    @property
    def public(self) -> Any:
        if self._public is None:
            self._public = public_key_from_text(self.public_text)
        return self._public

    def valid_at(self, moment: _dt.datetime) -> bool:
        return self.created <= moment and (self.retired is None or moment < self.retired)


@dataclass
class UserTrust:
    name: str
    full_name: str
    added_text: str
    added_by: str
    image_sha256: str | None = None
    roles: dict[str, list[list[_dt.datetime | None]]] = field(default_factory=dict)
    keys: dict[str, KeyTrust] = field(default_factory=dict)
    revoked: _dt.datetime | None = None
    revoked_text: str | None = None
    revoked_reason: str | None = None
    added_site: str = ""  # the site whose trust log added the user

    def current_roles(self) -> list[str]:
        return sorted(role for role, spans in self.roles.items() if spans and spans[-1][1] is None)

    def holds(self, role: str | None, moment: _dt.datetime) -> bool:
        return any(start <= moment and (end is None or moment < end) for start, end in self.roles.get(role or "", []))

    def active_at(self, moment: _dt.datetime) -> bool:
        return self.revoked is None or moment < self.revoked

    def current_key(self) -> KeyTrust | None:
        current = [key for key in self.keys.values() if key.retired is None]
        return current[-1] if current else None


@dataclass
class FormVersion:
    path: str
    version: int
    sha256: str
    blob: str
    time: _dt.datetime
    time_text: str
    by: str
    entry: str


@dataclass
class TrustState:
    users: dict[str, UserTrust] = field(default_factory=dict)
    forms: dict[str, list[FormVersion]] = field(default_factory=dict)
    root: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    rejected: list[Entry] = field(default_factory=list)
    #: site -> (moment, text) of its last entry: a new entry of the site may not be dated before it
    last_times: dict[str, tuple[_dt.datetime, str]] = field(default_factory=dict)

    # -- reading ------------------------------------------------------------------

    def user(self, name: str | None) -> UserTrust | None:
        return self.users.get(name or "")

    def admins(self) -> list[str]:
        return sorted(name for name, user in self.users.items()
                      if user.revoked is None and ADMIN_ROLE in user.current_roles())

    def form_in_force(self, path: str, moment: _dt.datetime | None = None) -> FormVersion | None:
        """The approved version of a form file at ``moment`` (default: now)."""
        found = None
        for version in self.forms.get(path, []):
            if moment is None or version.time <= moment:
                found = version
        return found

    def signing_problem(self, signer: str | None, role: str | None, fingerprint: str | None,
                        moment_text: str) -> tuple[KeyTrust | None, str | None]:
        """The key a signature was made with and, when it may not count, why."""
        user = self.user(signer)
        if user is None:
            return None, "the signer is not a user registered by an administrator"
        key = user.keys.get(fingerprint or "")
        if key is None:
            return None, f"was made with a key that is not registered for {signer} by an authorised entry ({fingerprint})"
        moment = parse_moment(moment_text)
        if moment is None:
            return key, f"has no readable time ({moment_text!r})"
        if not user.holds(role, moment):
            return key, f"the signer did not hold role {role!r} at {moment_text}"
        if not user.active_at(moment):
            return key, f"made after the signer was revoked ({user.revoked_text})"
        if key.created > moment:
            return key, "made before its key was registered"
        if key.retired is not None and key.retired <= moment:
            return key, f"made after its key was retired or revoked ({key.retired_text})"
        return key, None


def load_trust(root: Path, approver_roles: Callable[[FormVersion | None], set[str]] | None = None) -> TrustState:
    """Read every site's trust log, check its chain, and fold it in time order.

    Each site's entries keep the order of their sequence numbers, and a site's entries
    never go back in time: an entry dated before the one it follows was backdated (to
    before a revocation, say) and does not count.  The sites' logs are merged by time, as
    each site's clock dated them: nothing better is known of the order of changes made
    apart, and a site that learns of another's change later (a revocation made
    elsewhere) finds its own later entries judged against it.  The root is the entry
    ``root.yaml`` names; another ``root`` entry, whatever its date, is a second root.

    ``approver_roles`` gives the roles the catalog version in force allows to approve
    forms (read from git by :mod:`qdocs.forms`); without it no forms approval counts."""
    state = TrustState()
    entries: list[Entry] = []
    backdated: dict[str, str] = {}
    for site in trust_sites(root):
        read = _read_site(root, site, state.findings)
        backdated.update(_backdated(read, state, site))
        entries.extend(read)
    entries.sort(key=lambda entry: (parse_moment(entry.fields.get("time")) or _EPOCH, entry.fields.get("site", ""),
                                    entry.fields.get("seq", 0)))
    root_entry = _root_named(root)
    for entry in entries:
        state.hashes.add(entry.hash)
        problem = backdated.get(entry.hash)
        if problem is None and entry.action == "root" and root_entry is not None \
                and root_entry != f"{entry.fields.get('site')}/{entry.fields.get('seq')}":
            problem = f"is a second root: {ROOT_PATH} names entry {root_entry} as the repository's root"
        problem = problem or apply_entry(state, entry, approver_roles)
        if problem:
            state.rejected.append(entry)
            state.findings.append(Finding(entry.label, f"{problem}; it does not count", kind="trust"))
        else:
            state.entries.append(entry)
    _check_root_file(root, state)
    return state


def parse_moment(text: Any) -> _dt.datetime | None:
    try:
        moment = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _backdated(entries: list[Entry], state: TrustState, site: str) -> dict[str, str]:
    """Entries of one site dated before an entry earlier in its log (hash -> problem), and
    the site's last time, which a new entry may not precede."""
    problems: dict[str, str] = {}
    latest: tuple[_dt.datetime, str] | None = None
    for entry in entries:
        moment = parse_moment(entry.fields.get("time"))
        if moment is None:
            continue
        if latest is not None and moment < latest[0]:
            problems[entry.hash] = (f"is dated {entry.fields.get('time')}, before an earlier entry of its site's log "
                                    f"({latest[1]}): its time was set back")
        else:
            latest = (moment, str(entry.fields.get("time")))
    if latest is not None:
        state.last_times[site] = latest
    return problems


def _root_named(root: Path) -> str | None:
    """``S1/1``: the entry ``root.yaml`` names as the root (None without a readable file)."""
    try:
        raw = yamlio.load((root / ROOT_PATH).read_text(encoding="utf-8")) or {}
        return str(raw["entry"]) if isinstance(raw, dict) and raw.get("entry") else None
    except Exception:  # missing or damaged: reported by _check_root_file; the first root then counts
        return None


def _read_site(root: Path, site: str, findings: list[Finding]) -> list[Entry]:
    entries: list[Entry] = []
    previous = GENESIS
    where = f"trust log {site}"
    for path, content in iter_entry_files(root, site):
        expected = len(entries) + 1
        try:
            fields = json.loads(content)
        except ValueError:
            findings.append(Finding(where, f"{path} is not readable JSON", kind="trust"))
            return entries
        if not isinstance(fields, dict) or fields.get("seq") != expected or not path.endswith(f"{expected:08d}.json"):
            findings.append(Finding(where, f"entry {expected} is missing (found {path}): a trust change was dropped",
                                    kind="trust"))
            return entries
        entry = Entry(fields, path, sha256_hex(content))
        if fields.get("prev") != previous or fields.get("site") != site:
            findings.append(Finding(entry.label, f"does not follow entry {expected - 1}: the trust log is broken",
                                    kind="trust"))
        previous = entry.hash
        entries.append(entry)
    sequence, digest = read_head(root, site)
    if (sequence, digest) != (len(entries), previous):
        findings.append(Finding(where, f"{head_path(site)} ({sequence}) does not match its last entry ({len(entries)})",
                                kind="trust"))
    return entries


def apply_entry(state: TrustState, entry: Entry, approver_roles: Callable[[FormVersion | None], set[str]] | None) -> str | None:
    """Check one entry against the state before it and apply it; the problem when it may not count."""
    fields = entry.fields
    moment = parse_moment(fields.get("time"))
    if moment is None:
        return "has no readable time"
    if entry.action == "root":
        return _apply_root(state, entry, moment)
    signer = state.user(fields.get("by"))
    if signer is None:
        return f"is signed by {fields.get('by')!r}, who is not a user"
    key = signer.keys.get(str(fields.get("key")))
    if key is None or not key.valid_at(moment) or not signer.active_at(moment):
        return f"is signed by {signer.name} with a key that was not theirs at {fields.get('time')} ({fields.get('key')})"
    if not _signature_holds(key.public, entry):
        return f"its signature by {signer.name} does not verify: the entry was changed or forged"
    permission = permission_problem(state, entry, signer, moment, approver_roles) or _content_problem(state, entry)
    if permission:
        return permission
    _APPLY[entry.action](state, entry, moment)
    return None


def _content_problem(state: TrustState, entry: Entry) -> str | None:
    """A registered key must be the key its fingerprint names (so that a fingerprint in a
    signature means one key), and not be a key some user already has."""
    if entry.action not in ("key-register", "key-rotate"):
        return None
    try:
        raw = base64.b64decode(str(entry.fields.get("public_key")), validate=True)
        public_key_ok = len(raw) == 32
    except ValueError:
        public_key_ok = False
    if not public_key_ok or fingerprint(raw) != entry.fields.get("fingerprint"):
        return f"registers a public key that does not match its fingerprint ({entry.fields.get('fingerprint')})"
    holders = sorted(user.name for user in state.users.values() if entry.fields.get("fingerprint") in user.keys)
    if holders:
        return f"registers key {entry.fields.get('fingerprint')}, which is already registered for {', '.join(holders)}"
    return None


def _apply_root(state: TrustState, entry: Entry, moment: _dt.datetime) -> str | None:
    fields = entry.fields
    if state.root is not None or state.users:
        return "is a second root: only the repository's first entry may be its root"
    try:
        public = public_key_from_text(str(fields.get("public_key")))
        raw = base64.b64decode(str(fields.get("public_key")))
    except Exception:  # bad base64 or not an Ed25519 key: the entry is forged or damaged
        return "holds no readable public key"
    if fingerprint(raw) != fields.get("fingerprint") or fields.get("key") != fields.get("fingerprint") \
            or fields.get("by") != fields.get("user"):
        return "is not signed by the root key it names"
    if not _signature_holds(public, entry):
        return "its signature does not verify: the root entry was changed"
    state.root = dict(fields, entry=entry.label, hash=entry.hash)
    user = UserTrust(str(fields["user"]), str(fields.get("full_name", "")), str(fields["time"]), str(fields["user"]))
    state.users[user.name] = user
    for role in fields.get("roles") or [ADMIN_ROLE]:
        user.roles.setdefault(str(role), []).append([moment, None])
    user.keys[str(fields["fingerprint"])] = KeyTrust(str(fields["fingerprint"]), str(fields["public_key"]), moment,
                                                     str(fields["time"]), entry.label, _public=public)
    _apply_forms(state, entry, moment)
    return None


def permission_problem(state: TrustState, entry: Entry, signer: UserTrust, moment: _dt.datetime,
                        approver_roles: Callable[[FormVersion | None], set[str]] | None) -> str | None:
    fields = entry.fields
    action = entry.action
    target = state.user(fields.get("user"))
    is_admin = signer.holds(ADMIN_ROLE, moment)
    if action not in _APPLY:
        return f"names an unknown action {action!r}"
    if action == "forms-approve":
        allowed = approver_roles(state.form_in_force("forms/catalog.yaml", moment)) if approver_roles else set()
        if not any(signer.holds(role, moment) for role in allowed):
            return (f"approves forms as {signer.name}, who held none of the roles that approve forms "
                    f"({', '.join(sorted(allowed)) or 'none'})")
        return None
    if action == "key-rotate":
        if target is None or target.name != signer.name:
            return f"rotates the key of {fields.get('user')} but is signed by {signer.name}"
        if target.current_key() is None or target.current_key().fingerprint != fields.get("key"):
            return "rotates a key with a key that was not the user's current one"
        return None
    if action == "attest":
        if state.root is None or signer.name != state.root.get("user") or not is_admin:
            return "attests the earlier users but is not signed by the root administrator"
        if len(state.entries) != 1:  # only the root before it
            return ("attests earlier users after the trust log began: only the migration of a repository made "
                    "before trust does, right after its root (a later one could register keys and roles backdated)")
        return None
    if not is_admin:
        return f"is signed by {signer.name}, who was not an administrator at {fields.get('time')}"
    if action == "user-add":
        if target is None:
            return None
        return _second_add_problem(target, fields)
    if target is None:
        return f"names {fields.get('user')!r}, who is not a user"
    if action == "role-grant":
        if target.name == signer.name:
            return f"grants {signer.name} a role by {signer.name} themselves: that takes another administrator"
        return None
    if action == "user-revoke":
        if target.revoked is not None:
            return f"revokes {target.name} a second time"
        if ADMIN_ROLE in target.current_roles() and state.admins() == [target.name]:
            return f"revokes {target.name}, the last active administrator"
    if action == "key-register" and target.revoked is not None:
        return f"registers a key for {target.name}, who was revoked"
    return None


def _signature_holds(public: Any, entry: Entry) -> bool:
    try:
        public.verify(entry.signature_bytes(), entry.signed_bytes())
        return True
    except Exception:  # InvalidSignature, or a signature that is not base64: not a valid signature either way
        return False


# -- applying entries ---------------------------------------------------------------


def _second_add_problem(target: UserTrust, fields: dict[str, Any]) -> str | None:
    """A user added again.  At one site qdocs refuses that (the user exists), so an add from
    another site than the first one was made there before the two sites synced: the same
    person added at both.  It counts as granting the roles it names, when it names the
    same full name; a different full name is two people under one user name, which no merge
    settles (the later add does not count, and ``verify`` says so)."""
    site = str(fields.get("site", ""))
    if not target.added_site or site == target.added_site:
        return f"adds {fields.get('user')}, who already exists"
    if str(fields.get("full_name", "")) != target.full_name:
        return (f"adds {fields.get('user')} ({fields.get('full_name')}) at {site}, while {target.added_site} had added "
                f"{target.name} as {target.full_name}: two people under one user name")
    return None


def _user_add(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    fields = entry.fields
    existing = state.users.get(str(fields["user"]))
    if existing is not None:  # the same person added at a second site (see _second_add_problem)
        for role in fields.get("roles") or []:
            spans = existing.roles.setdefault(str(role), [])
            if not spans or spans[-1][1] is not None:
                spans.append([moment, None])
        return
    user = UserTrust(str(fields["user"]), str(fields.get("full_name", "")), str(fields["time"]), str(fields["by"]),
                     image_sha256=fields.get("image_sha256"), added_site=str(fields.get("site", "")))
    for role in fields.get("roles") or []:
        user.roles.setdefault(str(role), []).append([moment, None])
    state.users[user.name] = user


def _role_grant(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    spans = state.users[entry.fields["user"]].roles.setdefault(str(entry.fields.get("role")), [])
    if not spans or spans[-1][1] is not None:
        spans.append([moment, None])


def _role_remove(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    spans = state.users[entry.fields["user"]].roles.get(str(entry.fields.get("role")), [])
    if spans and spans[-1][1] is None:
        spans[-1][1] = moment


def _user_revoke(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    user = state.users[entry.fields["user"]]
    user.revoked, user.revoked_text = moment, str(entry.fields["time"])
    user.revoked_reason = entry.fields.get("reason")
    for key in user.keys.values():
        if key.retired is None:
            key.retired, key.retired_text = moment, str(entry.fields["time"])


def _key_register(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    fields = entry.fields
    user = state.users[fields["user"]]
    for key in user.keys.values():
        if key.retired is None:
            key.retired, key.retired_text = moment, str(fields["time"])
    user.keys[str(fields["fingerprint"])] = KeyTrust(str(fields["fingerprint"]), str(fields["public_key"]), moment,
                                                     str(fields["time"]), entry.label)


def _attest(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    """A migrated repository: the root administrator accepts the users it had, as they stood:
    their roles as held all along (the files kept no history of them), their keys from when
    each was made.  The root administrator, when already a user, keeps the earlier keys (so
    their earlier signatures still count), retired by the migration that gave them the root
    key, and the earlier roles."""
    for name, raw in sorted((entry.fields.get("users") or {}).items()):
        existing = state.users.get(name)
        if existing is not None:
            _attest_root(existing, raw, entry, moment)
            continue
        user = UserTrust(name, str(raw.get("full_name", "")), str(raw.get("added") or entry.fields["time"]),
                         str(entry.fields["by"]), image_sha256=raw.get("image_sha256"))
        for role in raw.get("roles") or []:
            user.roles.setdefault(str(role), []).append([_EPOCH, None])
        for key in raw.get("keys") or []:
            user.keys[str(key["fingerprint"])] = _attested_key(key, entry)
        if raw.get("revoked"):
            user.revoked = parse_moment(raw["revoked"]) or moment
            user.revoked_text = str(raw["revoked"])
            user.revoked_reason = raw.get("revoked_reason")
        state.users[name] = user
    _apply_forms(state, entry, moment)


def _attested_key(key: dict[str, Any], entry: Entry, retire_at: _dt.datetime | None = None) -> KeyTrust:
    created = parse_moment(key.get("created")) or _EPOCH
    retired = parse_moment(key.get("retired")) if key.get("retired") else retire_at
    retired_text = key.get("retired") or (str(entry.fields["time"]) if retire_at else None)
    return KeyTrust(str(key["fingerprint"]), str(key["public_key"]), created, str(key.get("created") or ""),
                    entry.label, retired, retired_text)


def _attest_root(user: UserTrust, raw: dict[str, Any], entry: Entry, moment: _dt.datetime) -> None:
    """The root administrator's earlier keys (retired now) and roles, kept under their new root key."""
    for key in raw.get("keys") or []:
        if str(key.get("fingerprint")) not in user.keys:
            user.keys[str(key["fingerprint"])] = _attested_key(key, entry, retire_at=moment)
    user.keys = dict(sorted(user.keys.items(), key=lambda item: item[1].retired is None))  # the current key last
    for role in raw.get("roles") or []:
        spans = user.roles.setdefault(str(role), [])
        if spans and spans[0][1] is None:
            spans[0][0] = _EPOCH
        elif not spans:
            spans.append([_EPOCH, None])


def _apply_forms(state: TrustState, entry: Entry, moment: _dt.datetime) -> None:
    for path, raw in sorted((entry.fields.get("forms") or {}).items()):
        versions = state.forms.setdefault(path, [])
        versions.append(FormVersion(path, len(versions) + 1, str(raw.get("sha256")), str(raw.get("blob")), moment,
                                    str(entry.fields["time"]), str(entry.fields["by"]), entry.label))


_APPLY: dict[str, Callable[[TrustState, Entry, _dt.datetime], None]] = {
    "user-add": _user_add, "role-grant": _role_grant, "role-remove": _role_remove, "user-revoke": _user_revoke,
    "key-register": _key_register, "key-rotate": _key_register, "attest": _attest, "forms-approve": _apply_forms,
}


def _check_root_file(root: Path, state: TrustState) -> None:
    """``root.yaml`` names the root entry; both or neither exist."""
    path = root / ROOT_PATH
    if not path.is_file():
        if state.root is not None:
            state.findings.append(Finding(ROOT_PATH, "is missing while the trust log has a root", kind="trust"))
        return
    try:
        raw = yamlio.load(path.read_text(encoding="utf-8")) or {}
    except Exception:  # a damaged file is reported, whatever the YAML parser raises
        raw = {}
    if state.root is None:
        state.findings.append(Finding(ROOT_PATH, "names a root the trust log does not hold", kind="trust"))
    elif raw.get("fingerprint") != state.root.get("fingerprint") or raw.get("user") != state.root.get("user"):
        state.findings.append(Finding(ROOT_PATH, "differs from the root entry of the trust log (the root was swapped)",
                                      kind="trust"))
