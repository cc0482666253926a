"""The qualified supplier list (§2.2.1): derived from the supplier evaluations, never typed.

Every supplier on file (with an evaluation or a contract review) with its latest
approved evaluation, conclusion, evaluation date and the day it is valid until
(the next assessment date, at most the validity of rule R6); its state is
``qualified``, ``expired``, ``not qualified``, ``unsigned`` (no approved
evaluation yet) or ``not evaluated``.  Rendered to Word from its own template.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock, timezones
from ..catalog import default_template_dir
from ..errors import StorageError, TemplateError
from .evaluation import load
from .materials import valid_until
from .outcome import latest

if TYPE_CHECKING:
    from ..repository import Repository
    from .rules import RuleSet

TEMPLATE = "qualified-supplier-list.docx"
STATE_LABELS = {"qualified": "合格 qualified", "expired": "已过期 expired", "not qualified": "不合格 not qualified",
                "unsigned": "待批准 unsigned", "not evaluated": "未评价 not evaluated"}


@dataclass
class SupplierEntry:
    supplier: str
    state: str
    name: str = ""
    materials: str = ""
    evaluation: str | None = None
    conclusion: str | None = None
    evaluated: str | None = None
    next_due: str | None = None
    valid_until: str | None = None


@dataclass
class SupplierList:
    commit: str
    day: _dt.date
    as_of: _dt.date | None
    entries: list[SupplierEntry]

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "day": self.day.isoformat(),
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "suppliers": [asdict(entry) for entry in self.entries]}


def supplier_list(repository: "Repository", as_of: _dt.date | None = None) -> SupplierList:
    rules, snapshot = load(repository, as_of)
    day = as_of or clock.today(repository.time_zone)
    months = validity_months(rules)
    suppliers = sorted({subject[1] for subject in snapshot.subjects if subject[0] in ("supplier", "contract")})
    entries = [_entry(supplier, snapshot.live(("supplier", supplier), "supplier-evaluation"), day, months)
               for supplier in suppliers]
    return SupplierList(snapshot.commit, day, as_of, entries)


def validity_months(rules: "RuleSet") -> float:
    for rule in (*rules.release, *rules.after_sales):
        if "evaluation_validity_months" in rule.parameters:
            return rule.parameters["evaluation_validity_months"]
    return 12


def _entry(supplier: str, evaluations: list[Any], day: _dt.date, months: float) -> SupplierEntry:
    if not evaluations:
        return SupplierEntry(supplier, "not evaluated")
    counting = [fact for fact in evaluations if fact.counts]
    if not counting:
        newest = latest(evaluations, "evaluation_date")
        return SupplierEntry(supplier, "unsigned", str(newest.get("supplier_name") or ""),
                             str(newest.get("supplied_materials") or ""), newest.id)
    current = latest(counting, "evaluation_date")
    until = valid_until(current, months)
    if current.get("conclusion") != "qualified":
        state = "not qualified"
    elif day.isoformat() > until:
        state = "expired"
    else:
        state = "qualified"
    return SupplierEntry(supplier, state, str(current.get("supplier_name") or ""),
                         str(current.get("supplied_materials") or ""), current.id, str(current.get("conclusion")),
                         str(current.get("evaluation_date")), str(current.get("next_assessment_due")), until)


def write_supplier_docx(repository: "Repository", listing: SupplierList, target: Path) -> None:
    """Render the list with ``templates/qualified-supplier-list.docx``."""
    from docxtpl import DocxTemplate

    template = default_template_dir() / TEMPLATE
    if not template.is_file():
        raise TemplateError(f"the qualified supplier list template {template} is missing "
                            "(make it with: python tools/generate_supplier_list_template.py)")
    rows = [{**asdict(entry), "state": STATE_LABELS.get(entry.state, entry.state),
             **{key: value or "-" for key, value in asdict(entry).items() if key != "state"}}
            for entry in listing.entries]
    context = {
        "company": repository.company, "day": listing.day.isoformat(), "commit": listing.commit[:10],
        "generated": timezones.display(clock.now(), repository.time_zone),
        "counts": {"total": len(rows), "qualified": sum(1 for e in listing.entries if e.state == "qualified")},
        "suppliers": rows,
    }
    document = DocxTemplate(str(template))
    document.render(context, autoescape=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        document.save(str(temporary))
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise StorageError(f"cannot write {target}: {error.strerror or error}") from None
