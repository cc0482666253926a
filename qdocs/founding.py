"""Making a records repository: a new one with its first administrator, or adopting a
copy (a fresh clone registers its own site code).  ``qdocs init``; migrating a repository
made before forms were controlled is :func:`qdocs.trust.genesis.migrate`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import timezones, yamlio
from .catalog import Catalog, load_catalog
from .errors import UsageError
from .forms import shipped_forms
from .keys import check_new_passphrase, keep_private_key
from .records import now_text
from .repository import CONFIG_PATH, DEFAULT_SITE, FORMAT_VERSION, SITE_CODE, Repository
from .store import remotes
from .store.repository import tune_index
from .store.runner import Git
from .trust.genesis import Enrollment, write_root

_PLACEHOLDERS = {".gitkeep", ".keep"}
_REPOSITORY_GITIGNORE = ("# caches qdocs can always rebuild from the records\n.qdocs/index/\n.qdocs/cache/\n"
                         "# the placeholder that keeps an empty records/ folder in the project's own git\n/.gitkeep\n/.keep\n")
# -delta: .docx and .pdf are already compressed; delta search on them only costs gc time
_REPOSITORY_GITATTRIBUTES = "*.docx binary -delta\n*.pdf binary -delta\n*.png binary -delta\n"


def init_repository(path: str | Path, site: str | None = None, actor: str = "qdocs",
                    catalog: Catalog | None = None, time_zone: str | None = None,
                    administrator: Enrollment | None = None) -> tuple[Repository, str]:
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
        repository = Repository.open(root, catalog)
        return repository, _adopt(repository, site, actor)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{path} exists and is not a directory")
    if root.exists() and any(entry.name not in _PLACEHOLDERS for entry in root.iterdir()):
        raise UsageError(f"{path} is not empty and not a qdocs repository; choose an empty or new directory")
    Git.require()
    if administrator is None:
        raise UsageError(f"a new records repository needs its first administrator: "
                         f"qdocs init {path} --admin NAME --full-name TEXT")
    administrator.checked()
    passphrase = administrator.passphrase() if callable(administrator.passphrase) else administrator.passphrase
    administrator.passphrase = check_new_passphrase(passphrase, administrator.name)
    root.mkdir(parents=True, exist_ok=True)
    repository = Repository(root, catalog)
    setting = timezones.zone_setting(zone) if zone is not None else timezones.machine_setting()
    fingerprint = _create(repository, site or DEFAULT_SITE, administrator, setting)
    return repository, (f"created records repository {root} (site {site or DEFAULT_SITE}, time zone {setting}); "
                        f"root administrator {administrator.name}, key {fingerprint}: write this fingerprint down "
                        "and keep it apart from the repository")


def _create(repository: Repository, site: str, administrator: Enrollment, time_zone: str) -> str:
    forms = shipped_forms()
    company = load_catalog().company
    repository.git.run("init", "-q")
    repository.git.run("symbolic-ref", "HEAD", f"refs/heads/{remotes.BRANCH}")
    tune_index(repository.git)
    repository.time_zone = timezones.parse_zone(time_zone, timezones.SETTING)
    config = {"format": FORMAT_VERSION, "company": {"zh": company.zh, "en": company.en},
              timezones.SETTING: time_zone, "created": now_text(repository.time_zone)}
    repository.set_local_site(site)
    try:
        with repository.transaction("init", [".gitignore", ".gitattributes", "forms"], []) as change:
            stamp = now_text(repository.time_zone)
            change.write(CONFIG_PATH, yamlio.dump(config))
            change.write(".gitignore", _REPOSITORY_GITIGNORE)
            change.write(".gitattributes", _REPOSITORY_GITATTRIBUTES)
            change.write(repository.site_file(site), yamlio.dump({"site": site, "registered": stamp,
                                                                  "by": administrator.name}))
            change.events.append("init", administrator.name, stamp, site_registered=site)
            fingerprint, key_file = write_root(repository, change, administrator, forms)
            change.commit(f"init records repository (site {site}), root administrator {administrator.name}",
                          administrator.name, {"Action": "init", "Site": site,
                                               "Signed-by": f"{administrator.name} {fingerprint}"})
    except BaseException:
        shutil.rmtree(repository.root / ".git", ignore_errors=True)
        for name in (".qdocs", "forms", ".gitignore", ".gitattributes"):
            target = repository.root / name
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
        raise
    keep_private_key(key_file)
    return fingerprint


def _adopt(repository: Repository, site: str | None, actor: str) -> str:
    current = repository.local_site()
    if site is None or site == current:
        if current is None:
            raise UsageError(
                f"{repository.root} is a qdocs repository copy without a site code; run: qdocs init --site CODE "
                f"(a code not used by {', '.join(repository.registered_sites()) or 'any site'})"
            )
        return f"{repository.root} is already a qdocs records repository (site {current})"
    if current is not None:
        raise UsageError(f"this copy of the repository already numbers its records as site {current}, not {site}")
    if site in repository.registered_sites():
        raise UsageError(
            f"site {site} is already registered in this repository; each copy that creates records needs its own site code"
        )
    tune_index(repository.git)
    with repository.locked():
        repository.set_local_site(site)
        try:
            with repository.transaction("register site", [], []) as change:
                stamp = now_text(repository.time_zone)
                change.write(repository.site_file(site), yamlio.dump({"site": site, "registered": stamp, "by": actor}))
                change.events.append("register-site", actor, stamp, site_registered=site)
                change.commit(f"register site {site}", actor, {"Action": "register-site", "Site": site})
        except BaseException:
            (repository.local / "site").unlink()
            raise
    return f"registered site {site} for this copy of {repository.root}"
