"""The rules file: release rules, after-sales rules and record references, as data.

A records repository keeps its rules in ``forms/rules.yaml`` (copied from the
shipped ``templates/rules.yaml`` at ``qdocs init``), a controlled form: a change
takes effect once approved (:mod:`qdocs.forms`), and an audit ``--as-of`` a day
uses the rules approved then.  A repository made before forms were controlled
keeps ``.qdocs/rules.yaml``, or has none: the shipped default is used and a
notice says so.  Every problem in the file is reported with its line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import Catalog, Label, default_template_dir
from ..forms import RULES_FORM, has_forms, read_approved
from ..trust.credentials import trust_state
from .dates import end_of_day
from .kinds import KINDS
from .located import RulesError, Where, YAMLError, load_located, syntax_error_line
from .parameters import check_reads, parse_parameters
from .references import Reference, parse_references

if TYPE_CHECKING:
    from ..repository import Repository

RULES_PATH = ".qdocs/rules.yaml"
DEFAULT_RULES_NAME = "the default rules shipped with qdocs (templates/rules.yaml)"
RULES_TEMPLATE = "rules.yaml"
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9-]{0,15}$")
_SECTIONS = ("release", "after_sales")


@dataclass(frozen=True)
class Rule:
    id: str
    clause: str
    severity: str  # "block" or "warn"
    description: Label
    check: str
    parameters: dict[str, Any]
    section: str

    @property
    def blocks(self) -> bool:
        return self.severity == "block"


@dataclass(frozen=True)
class RuleSet:
    source: str  # the file read, as error messages name it (a path on this machine)
    release: tuple[Rule, ...]
    after_sales: tuple[Rule, ...]
    references: tuple[Reference, ...]
    #: "once-kept": a reference is checked once the repository holds a record of what it
    #: names; "always": from the very first record
    check_references: str = "once-kept"
    #: the file as reports name it for a reader elsewhere: ``.qdocs/rules.yaml``, or the shipped default
    file: str = ""
    #: sha256 of the rules text, for a repository's approved form (which version was applied)
    sha256: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in (*self.release, *self.after_sales) if rule.id == rule_id), None)


def default_rules_path() -> Path:
    return default_template_dir() / RULES_TEMPLATE


def default_rules_text() -> str:
    """The shipped rules file, written into a new repository by ``qdocs init``."""
    return default_rules_path().read_text(encoding="utf-8")


def load_rules(repository: "Repository", notify: bool = True, as_of: Any = None) -> RuleSet:
    """The rules in force: the repository's approved ``forms/rules.yaml`` (as approved at the
    end of ``as_of``, a date, when given); in a repository made before forms were controlled,
    its ``.qdocs/rules.yaml`` or the shipped default (with a notice)."""
    if has_forms(repository.root):
        content = _rules_as_of(repository, as_of) if as_of is not None else read_approved(repository, RULES_FORM)
        return replace(parse_rules(content.decode("utf-8", "replace"), RULES_FORM, repository.catalog),
                       file=RULES_FORM, sha256=hashlib.sha256(content).hexdigest())
    path = repository.root / RULES_PATH
    if path.is_file():
        return replace(read_rules(path, repository.catalog), file=RULES_PATH)
    if notify:
        notice = (f"notice: {repository.root} has no {RULES_PATH}; using the default rules shipped with qdocs "
                  f"(to adapt them: cp {default_rules_path()} {path} and commit it)")
        if notice not in repository.notices:
            repository.notices.append(notice)
    return replace(read_rules(default_rules_path(), repository.catalog), file=DEFAULT_RULES_NAME)


def rules_version(repository: "Repository", rules: RuleSet) -> str:
    """Which rules a report applied, for a reader without the repository at hand: the
    repository's file and the last commit that changed it (short id), and whether the file
    has changes not committed yet; or the shipped default.  One ``git log`` over the
    history (about a second at 100,000 commits), so only the reports that are sent out
    ask for it."""
    if rules.file == RULES_FORM:
        return _form_version(repository, rules)
    if rules.file != RULES_PATH:
        return rules.file
    commit = repository.git.text("log", "-1", "--format=%h", "--", RULES_PATH, check=False)
    changed = repository.git.text("status", "--porcelain", "--", RULES_PATH, check=False)
    if not commit:
        return f"{RULES_PATH} (not committed)"
    return f"{RULES_PATH} at commit {commit}" + (" with changes not committed" if changed else "")


def _form_version(repository: "Repository", rules: RuleSet) -> str:
    """``forms/rules.yaml version 2 (approved by wang.qc on 2026-03-20, commit 1a2b3c4)``."""
    version = next((item for item in trust_state(repository).forms.get(RULES_FORM, []) if item.sha256 == rules.sha256),
                   None)
    if version is None:
        return f"{RULES_FORM} (not an approved version)"
    commits = repository.git.text("log", "--format=%h", f"--find-object={version.blob}", "--", RULES_FORM,
                                  check=False).split()
    where = f", commit {commits[-1]}" if commits else ""
    return f"{RULES_FORM} version {version.version} (approved by {version.by} on {version.time_text[:10]}{where})"


def _rules_as_of(repository: "Repository", day: Any) -> bytes:
    """The rules version approved at the end of ``day`` (the first one for earlier days)."""
    versions = trust_state(repository).forms.get(RULES_FORM, [])
    chosen = None
    for version in versions:
        if chosen is None or version.time <= end_of_day(day, repository.time_zone):
            chosen = version
    if chosen is None:
        return read_approved(repository, RULES_FORM)
    return repository.git.run("cat-file", "blob", chosen.blob, check=False)


def read_rules(path: Path, catalog: Catalog) -> RuleSet:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RulesError(f"cannot read rules file {path}: {getattr(error, 'strerror', None) or error}") from None
    return parse_rules(text, str(path), catalog)


def parse_rules(text: str, source: str, catalog: Catalog) -> RuleSet:
    try:
        raw = load_located(text)
    except YAMLError as error:
        line = syntax_error_line(error)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RulesError(f"{source} line {line or '?'}: not valid YAML: {problem}") from None
    where = Where(source)
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: expected a mapping with 'release', 'after_sales' and 'references'")
    unknown = [key for key in raw if key not in ("version", *_SECTIONS, "references", "check_references")]
    if unknown:
        raise where.error(raw, unknown[0], f"unknown section {unknown[0]!r}; sections: release, after_sales, "
                                           "references, check_references")
    check_from = raw.get("check_references", "once-kept")
    if check_from not in ("once-kept", "always"):
        raise where.error(raw, "check_references", f"check_references {check_from!r} must be once-kept or always")
    if raw.get("version", 1) != 1:
        raise where.error(raw, "version", f"version {raw.get('version')!r} is not supported (expected 1)")
    sections: dict[str, list[Rule]] = {}
    seen: set[str] = set()
    for section in _SECTIONS:
        items = raw.get(section) or []
        if not isinstance(items, list):
            raise where.error(raw, section, f"'{section}' must be a list of rules")
        sections[section] = []
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("id") in seen:
                raise where.at(items, index).fail(f"rule id {item['id']} is used twice")
            rule = _parse_rule(item, section, where.at(items, index), catalog)
            seen.add(rule.id)
            sections[section].append(rule)
    references = parse_references(raw.get("references") or [], where, catalog)
    return RuleSet(source, tuple(sections["release"]), tuple(sections["after_sales"]), tuple(references),
                   check_from)


def _parse_rule(raw: Any, section: str, where: Where, catalog: Catalog) -> Rule:
    if not isinstance(raw, dict):
        raise where.fail(f"a rule of '{section}' must be a mapping with id, clause, severity, description, check")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        raise where.fail(f"rule id {rule_id!r} must be a capital letter then letters, digits or '-' (e.g. R6)")
    here = where.at(raw, "id")
    name = f"rule {rule_id}"
    for key in raw:
        if key not in ("id", "clause", "severity", "description", "check", "parameters"):
            raise where.error(raw, key, f"{name}: unknown key {key!r}")
    if not isinstance(raw.get("clause"), str) or not raw["clause"].strip():
        raise where.error(raw, "clause", f"{name}: 'clause' must name the regulation clause, e.g. \"§2.4.2\"")
    severity = raw.get("severity")
    if severity not in ("block", "warn"):
        raise where.error(raw, "severity", f"{name}: severity {severity!r} must be block or warn")
    description = raw.get("description")
    if not isinstance(description, dict) or not all(isinstance(description.get(k), str) for k in ("zh", "en")):
        raise where.error(raw, "description", f"{name}: description must be {{zh: ..., en: ...}}")
    check = raw.get("check")
    kind = KINDS.get(check) if isinstance(check, str) else None
    if kind is None or kind.section != section:
        allowed = ", ".join(key for key, value in KINDS.items() if value.section == section)
        raise where.error(raw, "check", f"{name}: unknown check {check!r} in '{section}'; checks: {allowed}")
    parameters = parse_parameters(raw.get("parameters") or {}, kind, f"{name} ({check})", where.at(raw, "parameters"),
                             catalog)
    check_reads(kind.reads, f"{name} ({check})", here, catalog)
    return Rule(rule_id, raw["clause"].strip(), severity, Label(description["zh"], description["en"]), check,
                parameters, section)


__all__ = ["Rule", "RuleSet", "RulesError", "load_rules", "read_rules", "parse_rules", "default_rules_text",
           "rules_version"]
