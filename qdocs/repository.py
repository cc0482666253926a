"""The records repository: a git repository of record folders.

Layout (committed)::

    .qdocs/config.yaml              format, company name, time zone (see qdocs.timezones)
    .qdocs/sites/<SITE>.yaml        one file per site that creates records
    .qdocs/sequences/<SITE>.yaml    last document number per type and year, per site
    lot/PUMP-X200/L2026-031/FIR-S1-2026-0001/record.yaml + record.docx

Local to one copy (inside ``.git/qdocs/``, never committed): ``site`` (the site
code this copy numbers its records with), ``lock`` and ``journal.json``.

Document numbers are gap-free per type, site and year because the next number is
taken under the lock and committed in the same commit as the record; copies of
one repository that create records independently and later merge never clash
because each copy registers its own site code, and each site only ever writes
its own sequence file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import timezones, yamlio
from .catalog import Catalog, load_catalog
from .errors import NotARepositoryError, StorageError, UsageError
from .events import EventWriter
from .records import Record, now_text
from .store import trailers
from .store.crashpoints import crash_point
from .store.journal import Journal, clear_journal, recover, write_journal
from .store.locking import RepositoryLock
from .store.recordcache import RecordCache
from .store.runner import Git
from .store.writer import commit_files

if TYPE_CHECKING:
    from .rendering import TemplateCache
    from .trust.genesis import Enrollment

FORMAT_VERSION = 1
SITE_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
DEFAULT_SITE = "S1"
CONFIG_PATH = ".qdocs/config.yaml"
_PLACEHOLDERS = {".gitkeep", ".keep"}
_REPOSITORY_GITIGNORE = ("# caches qdocs can always rebuild from the records\n.qdocs/index/\n.qdocs/cache/\n"
                         "# the placeholder that keeps an empty records/ folder in the project's own git\n/.gitkeep\n/.keep\n")
# -delta: .docx and .pdf are already compressed; delta search on them only costs gc time
_REPOSITORY_GITATTRIBUTES = "*.docx binary -delta\n*.pdf binary -delta\n*.png binary -delta\n"


class Repository:
    """One records repository on disk. Open it with :meth:`open` or :meth:`init`."""

    def __init__(self, root: Path, catalog: Catalog | None = None) -> None:
        self.root = Path(root).resolve()
        self.git = Git(self.root)
        self._catalog = catalog
        self._trust_state: Any = None
        self.notices: list[str] = []
        self._local = self.root / ".git" / "qdocs"
        self.lock = RepositoryLock(self._local / "lock")
        self.journal_path = self._local / "journal.json"
        self._config: dict[str, Any] | None = None
        self._time_zone: _dt.tzinfo | None = None
        self._templates: Any = None
        self._record_cache: RecordCache | None = None

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, catalog: Catalog | None = None) -> "Repository":
        root = Path(path)
        if not (root / CONFIG_PATH).is_file() or not (root / ".git").exists():
            raise NotARepositoryError(
                f"{path} is not a qdocs records repository (create one with: qdocs init {path})"
            )
        repository = cls(root, catalog)
        repository._recover_if_abandoned()
        return repository

    @classmethod
    def init(cls, path: str | Path, site: str | None = None, actor: str = "qdocs",
             catalog: Catalog | None = None, time_zone: str | None = None,
             administrator: "Enrollment | None" = None) -> tuple["Repository", str]:
        """Create a repository with its first administrator, or adopt an existing one
        idempotently (a fresh clone registers its own site code).

        ``time_zone`` (an IANA name or ``+08:00``) is the company's zone; a new
        repository gets the machine's when it is not given.  Returns the repository
        and what was done, as a sentence.
        """
        root = Path(path)
        if site is not None and not SITE_CODE.match(site):
            raise UsageError(f"--site {site!r}: a site code is 1 to 8 capital letters or digits, e.g. S1")
        zone = timezones.parse_zone(time_zone, "--time-zone") if time_zone is not None else None
        if (root / CONFIG_PATH).is_file() and (root / ".git").exists():
            if zone is not None:
                raise UsageError(f"--time-zone: {root} already exists; its time zone is the {timezones.SETTING} "
                                 f"setting of {CONFIG_PATH} (edit and commit it there)")
            repository = cls.open(root, catalog)
            return repository, repository._adopt(site, actor)
        if root.exists() and not root.is_dir():
            raise UsageError(f"{path} exists and is not a directory")
        if root.exists() and any(entry.name not in _PLACEHOLDERS for entry in root.iterdir()):
            raise UsageError(f"{path} is not empty and not a qdocs repository; choose an empty or new directory")
        Git.require()
        if administrator is None:
            raise UsageError(f"a new records repository needs its first administrator: "
                             f"qdocs init {path} --admin NAME --full-name TEXT")
        administrator.checked()
        from .keys import check_new_passphrase

        passphrase = administrator.passphrase() if callable(administrator.passphrase) else administrator.passphrase
        administrator.passphrase = check_new_passphrase(passphrase, administrator.name)
        root.mkdir(parents=True, exist_ok=True)
        repository = cls(root, catalog)
        setting = timezones.zone_setting(zone) if zone is not None else timezones.machine_setting()
        fingerprint = repository._create(site or DEFAULT_SITE, administrator, setting)
        return repository, (f"created records repository {root} (site {site or DEFAULT_SITE}, time zone {setting}); "
                            f"root administrator {administrator.name}, key {fingerprint}: write this fingerprint down "
                            "and keep it apart from the repository")

    def _create(self, site: str, administrator: "Enrollment", time_zone: str) -> str:
        from .forms import shipped_forms
        from .keys import keep_private_key
        from .trust.genesis import write_root

        forms = shipped_forms()
        company = load_catalog().company
        self.git.run("init", "-q")
        self.git.run("symbolic-ref", "HEAD", "refs/heads/main")
        _tune(self.git)
        self._time_zone = timezones.parse_zone(time_zone, timezones.SETTING)
        config = {"format": FORMAT_VERSION, "company": {"zh": company.zh, "en": company.en},
                  timezones.SETTING: time_zone, "created": now_text(self.time_zone)}
        self._set_local_site(site)
        try:
            with self.transaction("init", [".gitignore", ".gitattributes", "forms"], []) as change:
                stamp = now_text(self.time_zone)
                change.write(CONFIG_PATH, yamlio.dump(config))
                change.write(".gitignore", _REPOSITORY_GITIGNORE)
                change.write(".gitattributes", _REPOSITORY_GITATTRIBUTES)
                change.write(self._site_file(site), yamlio.dump({"site": site, "registered": stamp,
                                                                 "by": administrator.name}))
                change.events.append("init", administrator.name, stamp, site_registered=site)
                fingerprint, key_file = write_root(self, change, administrator, forms)
                change.commit(f"init records repository (site {site}), root administrator {administrator.name}",
                              administrator.name, {"Action": "init", "Site": site,
                                                   "Signed-by": f"{administrator.name} {fingerprint}"})
        except BaseException:
            import shutil

            shutil.rmtree(self.root / ".git", ignore_errors=True)
            for name in (".qdocs", "forms", ".gitignore", ".gitattributes"):
                target = self.root / name
                shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
            raise
        keep_private_key(key_file)
        return fingerprint

    def _adopt(self, site: str | None, actor: str) -> str:
        current = self.local_site()
        if site is None or site == current:
            if current is None:
                raise UsageError(
                    f"{self.root} is a qdocs repository copy without a site code; run: qdocs init --site CODE "
                    f"(a code not used by {', '.join(self.registered_sites()) or 'any site'})"
                )
            return f"{self.root} is already a qdocs records repository (site {current})"
        if current is not None:
            raise UsageError(f"this copy of the repository already numbers its records as site {current}, not {site}")
        if site in self.registered_sites():
            raise UsageError(
                f"site {site} is already registered in this repository; each copy that creates records needs its own site code"
            )
        _tune(self.git)
        with self.locked():
            self._set_local_site(site)
            try:
                with self.transaction("register site", [], []) as change:
                    stamp = now_text(self.time_zone)
                    change.write(self._site_file(site), yamlio.dump({"site": site, "registered": stamp, "by": actor}))
                    change.events.append("register-site", actor, stamp, site_registered=site)
                    change.commit(f"register site {site}", actor, {"Action": "register-site", "Site": site})
            except BaseException:
                (self._local / "site").unlink()
                raise
        return f"registered site {site} for this copy of {self.root}"

    # -- configuration -------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        """The catalog in force: the repository's approved form (:mod:`qdocs.forms`), or
        the one shipped with qdocs for a repository made before forms were controlled."""
        if self._catalog is None:
            from .forms import catalog_in_force, has_forms

            self._catalog = catalog_in_force(self) if has_forms(self.root) else load_catalog()
        return self._catalog

    @property
    def record_cache(self) -> RecordCache:
        """Parsed record.yaml files, cached by content (see :mod:`qdocs.store.recordcache`)."""
        if self._record_cache is None:
            self._record_cache = RecordCache(self.root)
        return self._record_cache

    @property
    def templates(self) -> "TemplateCache":
        """The catalog's templates, read and compiled once per process."""
        if self._templates is None:
            from .rendering import TemplateCache

            self._templates = TemplateCache(self.catalog)
        return self._templates

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = yamlio.load((self.root / CONFIG_PATH).read_text(encoding="utf-8")) or {}
        return self._config

    @property
    def time_zone(self) -> _dt.tzinfo:
        """The company's time zone (``time_zone`` in the configuration); the machine's
        zone for a repository made before the setting existed."""
        if self._time_zone is None:
            setting = self.config.get(timezones.SETTING)
            self._time_zone = (timezones.machine_zone() if setting is None
                               else timezones.parse_zone(setting, f"{self.root / CONFIG_PATH}: {timezones.SETTING}"))
        return self._time_zone

    @property
    def company(self) -> str:
        company = self.config.get("company") or {}
        return " ".join(part for part in (company.get("zh"), company.get("en")) if part)

    def local_site(self) -> str | None:
        try:
            return (self._local / "site").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def site(self) -> str:
        site = self.local_site()
        if site is None:
            raise UsageError(
                f"this copy of {self.root} has no site code, so it cannot number records; run: qdocs init --site CODE"
            )
        return site

    def registered_sites(self) -> list[str]:
        folder = self.root / ".qdocs" / "sites"
        return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []

    def _set_local_site(self, site: str) -> None:
        self._local.mkdir(parents=True, exist_ok=True)
        (self._local / "site").write_text(site + "\n", encoding="utf-8")

    @staticmethod
    def _site_file(site: str) -> str:
        return f".qdocs/sites/{site}.yaml"

    # -- sequences -----------------------------------------------------------

    def sequence_path(self, site: str) -> str:
        return f".qdocs/sequences/{site}.yaml"

    def read_sequences(self, site: str) -> dict[str, int]:
        path = self.root / self.sequence_path(site)
        if not path.is_file():
            return {}
        return {str(key): int(value) for key, value in (yamlio.load(path.read_text(encoding="utf-8")) or {}).items()}

    # -- writing -------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the repository lock; finish or undo anything a dead process left."""
        if self.lock.held:
            yield
            return
        self.lock.acquire()
        try:
            self._recover()
            yield
        finally:
            self.lock.release()

    @contextlib.contextmanager
    def transaction(self, action: str, paths: list[str], records: list[str]) -> Iterator["Change"]:
        """All-or-nothing change of ``paths`` (and of ``.qdocs``, the repository's own
        state): journal first, roll back on any failure.  The body writes through the
        yielded :class:`Change` and ends with ``change.commit(...)``."""
        self.git.require()
        with self.locked():
            paths = [*paths, ".qdocs"]
            journal = Journal.start(action, self.git.head(), paths, records)
            try:
                write_journal(self.journal_path, journal)
                yield Change(self, journal, paths)
            except BaseException as error:
                recover(self.git, self.journal_path)
                if isinstance(error, OSError):
                    raise _storage_error(error, action) from None
                raise
            else:
                clear_journal(self.journal_path)
            self._after_commit(records)

    # -- records -------------------------------------------------------------

    def create(self, type_id: str, values: dict[str, Any], actor: str) -> "Record":
        """Validate, render, store and commit one record."""
        from .actions import create_records

        return create_records(self, type_id, [values], actor)[0]

    def create_batch(self, type_id: str, inputs: list[dict[str, Any]], actor: str,
                     progress: Any = None) -> list["Record"]:
        """Many records of one type, all validated first, in one commit."""
        from .actions import create_records

        return create_records(self, type_id, inputs, actor, progress)

    def revise(self, record_id: str, values: dict[str, Any], reason: str, actor: str) -> "Record":
        from .actions import revise_record

        return revise_record(self, record_id, values, reason, actor)

    def void(self, record_id: str, reason: str, actor: str) -> "Record":
        from .actions import void_record

        return void_record(self, record_id, reason, actor)

    def get(self, record_id: str) -> "Record":
        from .queries import get_record

        return get_record(self, record_id)

    def records(self, type_id: str | None = None, product: str | None = None, lot: str | None = None,
                status: str | None = None) -> list["Record"]:
        from .queries import iter_records

        return list(iter_records(self, type_id, product, lot, status))

    def history(self, record_id: str) -> list[Any]:
        from .queries import history

        return history(self, record_id)

    def at_revision(self, record_id: str, revision: str | None = None) -> tuple["Record", bytes]:
        """A record and its ``.docx`` bytes as they stood at ``revision`` (default: now)."""
        from .queries import record_at_revision

        return record_at_revision(self, record_id, revision)

    def _after_commit(self, record_ids: list[str]) -> None:
        """Keep derived caches current; the committed action stands whatever happens here."""
        from .hooks import run_after_commit

        try:
            run_after_commit(self, record_ids)
        except Exception as error:  # a cache must never undo or fail a committed action
            self.notices.append(f"warning: {error}; derived caches will catch up on their next use")

    # -- recovery ------------------------------------------------------------

    def _recover(self) -> None:
        message = recover(self.git, self.journal_path)
        if message:
            self.notices.append(message)

    def _recover_if_abandoned(self) -> None:
        """A reader that finds a journal checks whether its writer is gone."""
        if self.journal_path.exists() and self.lock.try_acquire():
            try:
                self._recover()
            finally:
                self.lock.release()

    def close(self) -> None:
        self.lock.release()
        if self._record_cache is not None:
            self._record_cache.close()


class Change:
    """The writes of one action inside a :meth:`Repository.transaction`."""

    def __init__(self, repository: Repository, journal: Journal, paths: list[str]) -> None:
        self.repository = repository
        self.journal = journal
        self.paths = paths
        self._events: EventWriter | None = None
        self.written: list[str] = []

    @property
    def events(self) -> EventWriter:
        """The site's event chain, opened on first use."""
        if self._events is None:
            self._events = EventWriter(self.repository.root, self.repository.site(), self.journal.head, self.write)
        return self._events

    def remove(self, relative: str) -> None:
        """Delete one file as part of the action (the journal restores it on failure)."""
        (self.repository.root / relative).unlink(missing_ok=True)
        self.written.append(relative)

    def write(self, relative: str, content: str | bytes) -> None:
        """Write one file atomically (temporary file, fsync, rename)."""
        path = self.repository.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        self.written.append(relative)
        crash_point("after-write")

    def commit(self, subject: str, actor: str, trailer_values: dict[str, Any]) -> str:
        """Stage the action's paths and commit them as one commit authored by ``actor``, its
        message ``subject`` and ``trailer_values`` (:mod:`qdocs.store.trailers`)."""
        if self._events is not None:
            self._events.finish()
        message = trailers.message(subject, trailer_values, self.journal.operation)
        crash_point("before-commit")
        commit = commit_files(self.repository.git, sorted(set(self.written)), message, actor, _email(actor),
                              self.journal.head)
        crash_point("after-commit")
        from .checkpoints import remember_commit

        remember_commit(self.repository, self.journal.head, commit)
        return commit


def _tune(git: Git) -> None:
    """Index settings for large repositories (local to each copy): a split index
    rewrites only its small part per action, version 4 compresses paths."""
    git.run("config", "core.splitIndex", "true")
    git.run("config", "index.version", "4")
    git.run("update-index", "--split-index", check=False)


def _email(actor: str) -> str:
    local = re.sub(r"[^A-Za-z0-9._-]", "_", actor) or "qdocs"
    return f"{local}@qdocs.local"


def _storage_error(error: OSError, action: str) -> StorageError:
    import errno

    if error.errno == errno.ENOSPC:
        return StorageError(f"disk full during {action}: nothing was kept; free some space and try again")
    return StorageError(f"cannot write during {action}: {error.strerror or error}; nothing was kept")
