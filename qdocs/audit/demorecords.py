"""The demonstration's records: the catalog's examples, in an order where a record
comes after those it refers to, plus the few more the release rules need for the
demo lot (its plan lists two material lots and two machines, its process
document three key operations, and the demo's service user and service manager
sign a service record, as performer and reviewer, so both must be trained)."""

from __future__ import annotations

from typing import Any, Iterator

from ..catalog import Catalog, RecordType
from ..examples import example_values

DEMO_PRODUCT, DEMO_LOT = "PUMP-X200", "L2026-031"

#: types first in this order (what others refer to), then the rest in catalog order
FIRST = ("market-survey", "design-review", "sample-test", "process-document", "supplier-evaluation",
         "purchase-contract-review", "incoming-inspection", "equipment-maintenance", "production-plan")

EXTRA: dict[str, list[dict[str, Any]]] = {
    "incoming-inspection": [{
        "material_lot": "ML-91", "material": "机械密封 SiC/SiC Mechanical seal", "specification": "Φ45 SiC/SiC",
        "quantity": "120", "unit": "套 sets", "dimensions": "装配尺寸符合图纸 Fitting dimensions per drawing",
        "performance": "端面平面度 ≤ 0.9 µm，材质证明齐全 Face flatness ≤ 0.9 µm; certificate present",
        "supplier_certificate": "合格证 HT-2602-131"}],
    "equipment-maintenance": [{
        "equipment": "EQ-BAL-02", "equipment_name": "动平衡机 Balancing machine",
        "work_done": "校验传感器，标准转子复测合格 Sensors calibrated, reference rotor re-tested OK",
        "parts_replaced": "无 None"}],
    "in-process-inspection": [
        {"operation": "机械密封装配 Mechanical seal assembly", "inspected_at": "2026-03-12 14:20:00+08:00",
         "items": [{"item": "弹簧压缩量 Spring compression", "requirement": "6.0 ± 0.5 mm",
                    "result": "5.8 ~ 6.3 mm", "verdict": "pass"}],
         "remarks": "100% 检验 Every pump measured"},
        {"operation": "水压试验 Hydrostatic test", "inspected_at": "2026-03-16 10:00:00+08:00",
         "items": [{"item": "试验压力 Test pressure", "requirement": "1.5 MPa 保压 10 min 无渗漏 no leakage",
                    "result": "无渗漏 No leakage", "verdict": "pass"}],
         "remarks": "试压机 EQ-HPT-01 Pressure test bench EQ-HPT-01"}],
    "staff-training": [{"staff": "demo.service-staff", "position": "演示服务用户 Demo service user"},
                       {"staff": "demo.service-manager", "position": "演示服务经理 Demo service manager"}],
}


def demo_records(catalog: Catalog) -> Iterator[tuple[RecordType, dict[str, Any]]]:
    """(type, data values as a user's file would give them) in creation order."""
    order = [catalog.get(type_id) for type_id in FIRST if type_id in catalog.types]
    order += [record_type for record_type in catalog.types.values() if record_type.id not in FIRST]
    for record_type in order:
        values = example_values(catalog, record_type)
        yield record_type, values
        for changes in EXTRA.get(record_type.id, []):
            yield record_type, {**values, **changes}
