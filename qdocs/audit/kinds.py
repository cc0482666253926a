"""The kinds of check a rules file may use: their parameters and the record
fields each one reads.

The rule *logic* is code (:mod:`qdocs.audit.release`, :mod:`qdocs.audit.aftersales`);
which rules exist, their clause, severity, wording and parameters are data
(``rules.yaml``).  The fields a kind reads are catalog keys the catalog's own
comments name as used by the rules; :func:`needed_fields` tells the loader which
ones to check against the catalog and the metadata reader which ones to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: what a ``record`` rule's unmet condition may be reported as (missing and unsigned are about the record itself)
FINDING_STATUSES = ("failed", "open", "expired", "overdue")


@dataclass(frozen=True)
class Parameter:
    kind: str  # "values" (a list of words), "number", "flag" (true or false), "level", "type", "conditions"
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Kind:
    section: str  # "release" or "after_sales"
    parameters: dict[str, Parameter] = field(default_factory=dict)
    #: record type -> fields it reads; a table field maps to the columns it reads
    reads: dict[str, dict[str, tuple[str, ...] | None]] = field(default_factory=dict)
    #: (record type, field) pairs whose values the list parameters are checked against
    choices: dict[str, tuple[str, str]] = field(default_factory=dict)


_PLAN_LOTS = {"material_lots": ("material_lot", "material", "supplier_id")}

KINDS: dict[str, Kind] = {
    "record": Kind("release", {
        "level": Parameter("level", required=True),
        "type": Parameter("type", required=True),
        "require": Parameter("conditions", default=[]),
    }),
    "material-lots": Kind("release", {
        "passed": Parameter("values", ["pass"]),
        "qualified": Parameter("values", ["qualified"]),
        "evaluation_validity_months": Parameter("number", 12),
        "contract_conclusions": Parameter("values", ["approved", "approved-with-changes"]),
    }, {
        "production-plan": dict(_PLAN_LOTS),
        "incoming-inspection": {"supplier_id": None, "contract_no": None, "material": None,
                                "inspection_date": None, "conclusion": None},
        "supplier-evaluation": {"conclusion": None, "evaluation_date": None, "next_assessment_due": None},
        "purchase-contract-review": {"legal_conclusion": None},
    }, {
        "passed": ("incoming-inspection", "conclusion"),
        "qualified": ("supplier-evaluation", "conclusion"),
        "contract_conclusions": ("purchase-contract-review", "legal_conclusion"),
    }),
    "in-process-inspections": Kind("release", {}, {
        "in-process-inspection": {"operation": None},
        "process-document": {"steps": ("step_no", "operation", "key_operation")},
    }),
    "nonconformances": Kind("release", {"open": Parameter("values", ["open"])}, {
        "production-plan": dict(_PLAN_LOTS),
        "nonconformance": {"status": None},
    }, {"open": ("nonconformance", "status")}),
    "equipment-maintenance": Kind("release", {}, {
        "production-plan": {"equipment_used": ("equipment_id",), "start_date": None, "finish_date": None,
                            "tasks": ("start", "finish")},
        "equipment-maintenance": {"maintenance_date": None, "next_due": None},
    }),
    "reply-time": Kind("after_sales", {"hours": Parameter("number", 24)}, {
        "customer-inquiry": {"received_at": None, "replied_at": None},
    }),
    "trained-staff": Kind("after_sales", {
        "passed": Parameter("values", ["pass"]),
        "signature_meanings": Parameter("values", ["performed", "reviewed"]),
        "training_same_day_counts": Parameter("flag", False),
    }, {
        "customer-inquiry": {"handled_by": None, "received_at": None},
        "service-record": {"performed_by": None, "started_at": None, "closed_at": None},
        "staff-training": {"training_date": None, "result": None},
    }, {"passed": ("staff-training", "result")}),
    "supplier-renewal": Kind("after_sales", {
        "qualified": Parameter("values", ["qualified"]),
        "evaluation_validity_months": Parameter("number", 12),
    }, {
        "supplier-evaluation": {"conclusion": None, "evaluation_date": None, "next_assessment_due": None},
    }, {"qualified": ("supplier-evaluation", "conclusion")}),
    "maintenance-due": Kind("after_sales", {}, {
        "equipment-maintenance": {"maintenance_date": None, "next_due": None},
    }),
}

#: what the qualified supplier list reads
SUPPLIER_LIST_READS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "supplier-evaluation": {"supplier_name": None, "supplied_materials": None, "conclusion": None,
                            "evaluation_date": None, "next_assessment_due": None},
}

#: what the quality figures (:mod:`.kpi`) read besides what the rules read
KPI_READS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "final-inspection": {"inspection_date": None, "conclusion": None},
    "nonconformance": {"found_date": None, "source": None, "cause": None, "status": None},
    "customer-inquiry": {"received_at": None, "replied_at": None, "product_id": None, "kind": None},
}


def merge_reads(target: dict[str, dict[str, Any]], reads: dict[str, dict[str, Any]]) -> None:
    """Add ``reads`` to ``target`` (columns of a table field are united)."""
    for type_id, fields in reads.items():
        into = target.setdefault(type_id, {})
        for key, columns in fields.items():
            if columns is None:
                into.setdefault(key, None)
            else:
                into[key] = tuple(sorted(set(into.get(key) or ()) | set(columns)))


def all_fixed_reads() -> dict[str, dict[str, Any]]:
    """What every check kind, the supplier list and the quality figures read, whichever rules are in use: the
    fact cache (:mod:`.facts`) keeps these, so editing the rules' parameters never invalidates it."""
    reads: dict[str, dict[str, Any]] = {}
    for kind in KINDS.values():
        merge_reads(reads, kind.reads)
    merge_reads(reads, SUPPLIER_LIST_READS)
    merge_reads(reads, KPI_READS)
    return reads
