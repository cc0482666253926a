"""Shared by the audit tests (no tests here): a complete, signed record set for lot
PUMP-X200 / L2026-031 built once through the command line, and helpers to create,
sign and read records the same way.

The set is the demo's (the catalog examples plus the records the release rules
need), created with ``qdocs new`` and signed with ``qdocs sign`` by the signing
fixture's users (one per role), every commit dated 2026-03-20 except the final
inspection's approval, dated 2026-03-22, so ``--as-of`` can see the lot before
and after its release.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cli
from qdocs import yamlio
from qdocs.audit.demorecords import demo_records
from qdocs.catalog import load_catalog
from qdocs.queries import get_record
from tests.conftest import PASSPHRASE, git

PRODUCT, LOT = "PUMP-X200", "L2026-031"
BUILT = "2026-03-20T12:00:00+08:00"
RELEASED = "2026-03-22T12:00:00+08:00"
_BUILT: dict[str, Path] = {}


def environment(home: Path, when: str | None = None) -> dict[str, str]:
    env = {"QDOCS_HOME": str(home), "QDOCS_PASSPHRASE": PASSPHRASE}
    if when:  # qdocs' clock stands at that moment: records and commits carry it
        env["QDOCS_CLOCK"] = when
    return env


class Qdocs:
    """``qdocs --repo REPO ...`` in process, with the signing users' keys."""

    def __init__(self, repo: Path, home: Path, work: Path) -> None:
        self.repo, self.home, self.work = repo, home, work
        self.runner = CliRunner()
        self.catalog = load_catalog()
        self.files = 0

    def __call__(self, *args: str, when: str | None = None):
        return self.runner.invoke(cli.cli, ["--repo", str(self.repo), "--actor", "tester", *args],
                                  env=environment(self.home, when), catch_exceptions=False)

    def new(self, type_id: str, values: dict[str, Any], when: str | None = None) -> str:
        self.files += 1
        data = self.work / f"data-{self.files}.yaml"
        data.write_text(yamlio.dump(values), encoding="utf-8")
        result = self.last = self("new", type_id, "--data", str(data), when=when)
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    def sign(self, record_ids: list[str], up_to: str | None = None, when: str | None = None) -> None:
        """Sign records in signing order by each requirement's first role (users are named after
        roles), several records per command; stop before the meaning ``up_to``."""
        from qdocs.repository import Repository

        repository = Repository.open(self.repo)
        signed = {record_id: {entry["meaning"] for entry in get_record(repository, record_id).signatures}
                  for record_id in record_ids}
        by_id = {record_id: self.type_of(record_id) for record_id in record_ids}
        for stage in (1, 2, 3):
            batches: dict[tuple[str, str], list[str]] = {}
            for record_id, type_id in by_id.items():
                for requirement in self.catalog.get(type_id).signatures:
                    if requirement.meaning == up_to:
                        break
                    if requirement.meaning in signed[record_id]:
                        continue
                    if self.catalog.meanings[requirement.meaning].stage == stage:
                        batches.setdefault((requirement.meaning, requirement.roles[0]), []).append(record_id)
            for (meaning, role), ids in batches.items():
                result = self("sign", *ids, "--as", role, "--meaning", meaning, when=when)
                assert result.exit_code == 0, result.output

    def type_of(self, record_id: str) -> str:
        return self.catalog.by_prefix(record_id.split("-")[0]).id

    def audit_json(self, *args: str) -> tuple[int, dict]:
        result = self("audit", "--json", *args)
        assert result.exit_code in (0, 1), result.output
        return result.exit_code, json.loads(result.stdout)


def example(catalog, type_id: str, **changes: Any) -> dict[str, Any]:
    from qdocs.examples import example_values

    return {**example_values(catalog, catalog.get(type_id)), **changes}


def results_of(report: dict, product: str = PRODUCT, lot: str | None = LOT) -> dict[str, dict]:
    """rule id -> result of one lot in ``qdocs audit --json`` output."""
    for entry in report["lots"]:
        if entry["product"] == product and entry["lot"] == lot:
            return {result["rule"]: result for result in entry["results"]}
    raise AssertionError(f"no lot {product} / {lot} in the report")


def after_sales_of(report: dict) -> dict[str, dict]:
    return {result["rule"]: result for result in report["after_sales"]}


def _build(base: Path, signing_template: tuple[Path, Path]) -> Path:
    template_repo, home = signing_template
    repo = base / "complete"
    shutil.copytree(template_repo, repo)
    qdocs = Qdocs(repo, home, base)
    ids: list[str] = []
    for record_type, values in demo_records(qdocs.catalog):
        if str(values.get("staff")).startswith("demo."):  # the signing fixture's users are named after roles
            values = {**values, "staff": values["staff"].removeprefix("demo.")}
        ids.append(qdocs.new(record_type.id, values, when=BUILT))
    final = [record_id for record_id in ids if record_id.startswith("FIR-")]
    qdocs.sign([record_id for record_id in ids if record_id not in final], when=BUILT)
    qdocs.sign(final, up_to="approved", when=BUILT)
    result = qdocs("sign", *final, "--as", "qc-manager", "--meaning", "approved", when=RELEASED)
    assert result.exit_code == 0, result.output
    git(repo, "repack", "-a", "-d", "-q")  # fewer files: each test copies the repository
    git(repo, "prune-packed")
    return repo


def complete_copy(tmp_path_factory, signing_template: tuple[Path, Path], work: Path) -> Qdocs:
    """A fresh copy of the complete repository in ``work`` (built once per test session)."""
    if "repo" not in _BUILT:
        _BUILT["repo"] = _build(tmp_path_factory.mktemp("audit-complete"), signing_template)
    repo = work / "records"
    shutil.copytree(_BUILT["repo"], repo)
    return Qdocs(repo, signing_template[1], work)


@pytest.fixture
def complete(tmp_path_factory, signing_template, tmp_path: Path) -> Qdocs:
    """A fresh copy of the complete repository (built once per test session)."""
    return complete_copy(tmp_path_factory, signing_template, tmp_path)


def ids_of(qdocs: Qdocs, type_id: str, **subject: str) -> list[str]:
    """Ids of current records of a type (read back through ``qdocs list --json``)."""
    result = qdocs("list", "--type", type_id, "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    return [record["id"] for record in records
            if all(record["subject"].get(key) == value for key, value in subject.items())]


def rewrite_rules(repo: Path, old: str, new: str, home: Path | None = None) -> None:
    """Change the rules form and approve the change (the rules in force are the approved ones)."""
    import os

    from tests.conftest import approve_forms

    path = repo / "forms" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    previous = os.environ.get("QDOCS_HOME")
    if home is not None:
        os.environ["QDOCS_HOME"] = str(home)
    try:
        approve_forms(repo, "forms/rules.yaml")
    finally:
        if previous is not None:
            os.environ["QDOCS_HOME"] = previous


def state(repo: Path) -> tuple:
    """``repository_state`` without SQLite's transient ``-wal``/``-shm`` files of the metadata
    cache, which come and go as connections of earlier in-process commands close."""
    from tests.conftest import repository_state

    head, status, files = repository_state(repo)
    return head, status, [name for name in files if not name.endswith(("-wal", "-shm"))]
