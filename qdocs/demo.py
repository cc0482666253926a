"""The demonstration: a full record set for one product and lot.

Creates the repository when it does not exist yet, then one record of every
type of the catalog from the catalog's examples (product PUMP-X200, lot
L2026-031, supplier SUP-HUATAI, material lot ML-88, ...).  Running it again
creates only what is missing, so it is safe to repeat.
"""

from __future__ import annotations

from pathlib import Path

from .actions import prepare
from .examples import example_yaml
from .repository import CONFIG_PATH, Repository
from . import yamlio


def run_demo(path: str | Path, actor: str) -> list[str]:
    report: list[str] = []
    if (Path(path) / CONFIG_PATH).is_file():
        repository = Repository.open(path)
    else:
        repository, message = Repository.init(path, None, actor)
        report.append(message)
    report.extend(repository.notices)
    repository.notices.clear()
    existing = {(record.type, record.subject) for record in repository.records()}
    created = 0
    for record_type in repository.catalog.types.values():
        values = yamlio.load_as_text(example_yaml(repository.catalog, record_type))
        subject, _ = prepare(record_type, values)
        if (record_type.id, subject) in existing:
            continue
        record = repository.create(record_type.id, values, actor)
        created += 1
        report.append(f"created {record.id:<22} {record_type.name.zh} {record_type.name.en}  ({record.path})")
    total = len(repository.records())
    report.append(f"{created} record(s) created; the repository {repository.root} holds {total} record(s)")
    report.append(f"try: qdocs --repo {path} list    qdocs --repo {path} show <ID>    qdocs --repo {path} open <ID>")
    return report
