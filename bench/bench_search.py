#!/usr/bin/env python3
"""Benchmark qdocs search: corpus, rebuild, queries, and SQLite FTS5 over the same text.

One run per corpus size (default 10,000 and 100,000 records), all figures from
the same run:

corpus    a records repository of every record type, mixed Chinese/English
          text.  Two template records per type (the second with every choice at
          its last value) are validated and rendered by qdocs' own functions
          with marker values; each corpus record is a template with the markers
          replaced by text generated for what the field holds (defects, parts,
          causes, actions, companies, people, measurements...): ``record.yaml``
          through ``Record``/``yamlio``, the ``.docx`` with the markers replaced
          in its XML (the unchanged parts of the package compressed once).  One
          git commit; indexing reads it the way qdocs reads any repository.
rebuild   ``qdocs index rebuild`` as a process (the real command, 2 cores):
          records/s, and peak memory of the whole process tree (the command,
          its worker processes and their git readers: the sum of their PSS,
          shared pages counted once), sampled every 50 ms.
latency   200 varied queries as auditors ask them (Chinese words, parts of
          longer words and single characters, English words, subjects, types,
          boolean, phrases, months, broad words, wildcards) through
          ``SearchIndex.search`` in this process, top 20 with snippets and
          counts per type: p50/p95.
process   ``qdocs search QUERY`` as a process: median and worst of 10 queries,
          after one warm-up process (timed and reported on its own).
fts5      SQLite FTS5 with the trigram tokenizer over the same text (taken from
          the index), for the Chinese queries (where both match substrings): each
          answered in full by both and the sets of ids compared first; the queries
          that agree are timed, paired: p50/p95 and the ratio.
size      index bytes per record.

Usage::

    python bench/bench_search.py                   # 10,000 and 100,000
    python bench/bench_search.py --sizes 2000      # quick look
    python bench/bench_search.py --keep --workdir /tmp/qsb   # keep the corpora
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from qdocs import yamlio  # noqa: E402
from qdocs.founding import init_repository  # noqa: E402
from qdocs.records import Record, format_record_id  # noqa: E402
from qdocs.repository import Repository  # noqa: E402
from qdocs.subjects import SCOPES, Subject  # noqa: E402
from qdocs.trust.genesis import Enrollment  # noqa: E402

TARGETS = {"rebuild_records_per_s": 200, "rebuild_peak_mib_100k": 500, "latency_p95_ms_100k": 50,
           "process_s": 0.5}
STATUS_LABELS = {"draft": "草稿 draft", "in-review": "审批中 in review", "approved": "已批准 approved"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- text -------------------------------------------------------------------------

def _pairs(text: str) -> list[tuple[str, str]]:
    """``中文 English|中文 English|…`` → [(中文, English), …]"""
    return [tuple(item.split(" ", 1)) for item in text.split("|")]  # type: ignore[misc]


PARTS = _pairs(
    "叶轮 impeller|泵体 pump casing|泵盖 pump cover|轴承 bearing|机械密封 mechanical seal|主轴 shaft|"
    "联轴器 coupling|电机 motor|阀座 valve seat|阀瓣 valve disc|阀杆 valve stem|法兰 flange|密封圈 O-ring|"
    "填料 gland packing|底座 base plate|导叶 guide vane|口环 wear ring|轴套 shaft sleeve|平衡盘 balance disc|"
    "接线盒 terminal box|风扇罩 fan cover|铭牌 nameplate|地脚螺栓 anchor bolt|焊缝 weld seam|涂层 coating|"
    "铸件 casting|锻件 forging|棒料 bar stock|板材 steel plate|管件 pipe fitting|弹簧 spring|垫片 gasket|"
    "轴承座 bearing housing|端盖 end cover|转子 rotor|定子 stator|绕组 winding|压力传感器 pressure sensor|"
    "压力表 pressure gauge|包装箱 packing case|电缆 cable|控制柜 control cabinet|变频器 frequency converter|"
    "止回阀 check valve|过滤器 strainer|进口管 suction pipe|出口管 discharge pipe|键槽 keyway|螺纹 thread")
DEFECTS = _pairs(
    "泄漏 leakage|渗漏 seepage|裂纹 crack|气孔 porosity|砂眼 sand hole|划伤 scratch|锈蚀 corrosion|"
    "变形 deformation|尺寸超差 dimension out of tolerance|振动超标 excessive vibration|噪声偏高 high noise|"
    "温升过高 high temperature rise|异响 abnormal sound|卡滞 sticking|松动 looseness|磨损 wear|断裂 fracture|"
    "毛刺 burr|漆膜脱落 paint peeling|附着力不足 poor adhesion|硬度不足 low hardness|材质不符 wrong material|"
    "标识错误 wrong marking|缺件 missing part|包装破损 damaged packaging|绝缘电阻偏低 low insulation resistance|"
    "流量不足 low flow|扬程不足 low head|电流偏大 high current|同轴度超差 misalignment|壁厚不足 thin wall|"
    "夹渣 slag inclusion|未焊透 incomplete penetration|色差 colour difference|装配错误 wrong assembly")
CAUSES = _pairs(
    "装配不当 improper assembly|来料不良 defective incoming material|加工误差 machining error|"
    "操作失误 operator error|设备故障 equipment failure|工装磨损 worn fixture|图纸错误 drawing error|"
    "运输损坏 transport damage|存储不当 improper storage|供应商工艺变更 supplier process change|"
    "热处理不足 insufficient heat treatment|清洁不彻底 poor cleaning|扭矩不足 insufficient torque|"
    "检具失准 gauge out of calibration|培训不足 insufficient training|参数设置错误 wrong parameter setting")
ACTIONS = _pairs(
    "返工 rework|返修 repair|报废 scrap|让步接收 accepted under concession|退货 returned to supplier|"
    "挑选 sorting|更换 replaced|重新装配 reassembled|复检合格 passed re-inspection|隔离 quarantined|调整 adjusted|"
    "清洗 cleaned|紧固 tightened|补漆 repainted|校准 calibrated|重新培训 retrained|修订工艺 process revised|"
    "加严来料检验 tightened incoming inspection|增加首件检验 added first article inspection|"
    "更换供应商 changed supplier|通知客户 customer informed|现场处理 handled on site")
TESTS = _pairs(
    "外观 appearance|尺寸 dimensions|硬度 hardness|化学成分 chemical composition|拉伸强度 tensile strength|"
    "水压试验 hydrostatic test|气密试验 air tightness test|性能试验 performance test|振动 vibration|噪声 noise|"
    "绝缘电阻 insulation resistance|耐压 dielectric strength|动平衡 dynamic balance|跳动 run-out|"
    "粗糙度 surface roughness|涂层厚度 coating thickness|流量 flow rate|扬程 head|效率 efficiency|"
    "温升 temperature rise|密封性 seal tightness|标志 marking|随机文件 documents supplied")
COMPANIES = _pairs(
    "华泰精密材料 Huatai Precision Materials|恒源水务 Hengyuan Water|东方铸造 Dongfang Foundry|"
    "鑫达轴承 Xinda Bearings|宝钢特钢 Baosteel Special Steel|天马电机 Tianma Motors|精工密封 Jinggong Seals|"
    "长江阀门 Changjiang Valves|北方重工 Northern Heavy Industry|新城热电 Xincheng Power|"
    "滨海石化 Binhai Petrochemical|金山水厂 Jinshan Waterworks|远大空调 Yuanda HVAC|中联环保 Zhonglian Environmental|"
    "海天机械 Haitian Machinery|明珠电器 Mingzhu Electric|三峡供水 Sanxia Water Supply|万通管业 Wantong Pipes")
CITIES = _pairs("宁波 Ningbo|上海 Shanghai|杭州 Hangzhou|苏州 Suzhou|南京 Nanjing|无锡 Wuxi|合肥 Hefei|"
                "武汉 Wuhan|天津 Tianjin|青岛 Qingdao|厦门 Xiamen|成都 Chengdu|西安 Xi'an|沈阳 Shenyang")
PRODUCT_NAMES = _pairs("离心泵 centrifugal pump|多级离心泵 multistage centrifugal pump|管道泵 inline pump|"
                       "潜水泵 submersible pump|化工泵 chemical process pump|闸阀 gate valve|截止阀 globe valve|"
                       "球阀 ball valve|蝶阀 butterfly valve|三相异步电机 three-phase induction motor")
MATERIALS = _pairs("不锈钢棒材 stainless steel bar|灰铸铁 grey cast iron|球墨铸铁 ductile iron|碳钢板 carbon steel plate|"
                   "铜合金 copper alloy|硅钢片 silicon steel sheet|漆包线 enamelled wire|丁腈橡胶 nitrile rubber|"
                   "碳化硅 silicon carbide|聚四氟乙烯 PTFE")
PEOPLE = ["zhang.san", "li.si", "wang.wu", "zhao.liu", "chen.qi", "liu.yang", "sun.li", "zhou.jie", "wu.fang",
          "xu.ming", "hu.jun", "guo.hua", "he.ping", "lin.tao", "gao.xin", "ma.lei"]
STANDARDS = ["GB/T 5657-2013", "GB/T 5656-2008", "GB/T 12234-2019", "GB/T 3216-2016", "GB/T 13007-2011",
             "GB/T 2828.1-2012", "GB/T 1220-2007", "JB/T 6439-2008", "GB/T 9439-2010", "Q/EX 001-2024"]
PRODUCTS = [f"{family}-{size}" for family in ("PUMP-X", "PUMP-M", "VALVE-DN", "MOTOR-Y") for size in
            (100, 150, 200, 250, 300)]
SUPPLIERS = ["SUP-HUATAI", "SUP-HENGYUAN", "SUP-DONGFANG", "SUP-XINDA", "SUP-BAOSTEEL", "SUP-TIANMA", "SUP-JINGGONG",
             "SUP-CHANGJIANG", "SUP-HAITIAN", "SUP-WANTONG"]
EQUIPMENT = [f"EQ-{kind}-{number:02d}" for kind in ("CNC", "BAL", "PRS", "WLD") for number in range(1, 9)]
STAFF = [f"ST-{number:03d}" for number in range(1, 61)]
#: field key fragment → what its text is made of (first match wins)
FIELD_KINDS = [
    (("customer", "competitor", "supplier_name", "supplied"), "company"), (("material",), "material"),
    (("product_name", "equipment_name"), "product"), (("standard", "sampling_plan"), "standard"),
    (("inspector", "handled_by", "performed_by", "owner", "trainer", "contact"), "person"),
    (("location", "workshop", "departments"), "place"), (("item", "parameter", "test", "operation", "task"), "test"),
    (("requirement", "nominal", "tolerance", "specification"), "requirement"), (("result",), "result"),
    (("part",), "part"), (("model", "_id", "_no", "version", "reference", "unit", "certificate"), "code"),
]


def _sentence(rng: random.Random) -> str:
    (part, part_en), (defect, defect_en) = rng.choice(PARTS), rng.choice(DEFECTS)
    (cause, cause_en), (action, action_en) = rng.choice(CAUSES), rng.choice(ACTIONS)
    number = rng.choice((f"{rng.randint(1, 40)} 台", f"{rng.uniform(0.1, 9.9):.2f} mm", f"{rng.randint(2, 300)} h"))
    return (f"{part}{defect}（{number}），原因：{cause}，已{action}。"
            f"{part_en.capitalize()} {defect_en} ({number}), cause: {cause_en}; {action_en}.")


def text_value(key: str, long: bool, rng: random.Random) -> str:
    """Realistic text for a field, chosen by what the field's key says it holds."""
    if long:
        return " ".join(_sentence(rng) for _ in range(rng.choice((1, 1, 2, 3))))
    kind = next((kind for fragments, kind in FIELD_KINDS if any(part in key for part in fragments)), "phrase")
    if kind == "company":
        zh, en = rng.choice(COMPANIES)
        return f"{zh}有限公司 {en} Co., Ltd."
    if kind in ("material", "product", "test", "part"):
        zh, en = rng.choice({"material": MATERIALS, "product": PRODUCT_NAMES, "test": TESTS, "part": PARTS}[kind])
        return f"{zh} {en}"
    if kind == "standard":
        return rng.choice(STANDARDS)
    if kind == "person":
        return rng.choice(PEOPLE)
    if kind == "place":
        zh, en = rng.choice(CITIES)
        return f"{zh}{rng.choice(('一车间', '二车间', '装配线', '仓库'))} {en}"
    if kind == "requirement":
        return f"≥ {rng.randint(1, 500)} {rng.choice(('MPa', 'mm', 'MΩ', 'HB', 'm³/h', 'm'))}"
    if kind == "result":
        return rng.choice(("符合 conforms", f"{rng.uniform(0.5, 99):.1f}", "合格 pass", "不合格 fail"))
    if kind == "code":
        return f"{rng.choice('ABCDEFGHKMNPRT')}{rng.randint(100, 99999)}"
    (part, part_en), (defect, defect_en) = rng.choice(PARTS), rng.choice(DEFECTS)
    return f"{part}{defect} {part_en} {defect_en}"


def subject_for(scope: str, rng: random.Random) -> Subject:
    year = rng.choice((2025, 2026))
    values = {"product": rng.choice(PRODUCTS), "lot": f"L{year}-{rng.randint(1, 400):03d}",
              "supplier": rng.choice(SUPPLIERS), "contract": f"PC-{year}-{rng.randint(1, 300):03d}",
              "material_lot": f"ML-{rng.randint(1, 2000)}", "equipment": rng.choice(EQUIPMENT),
              "staff": rng.choice(STAFF), "case": f"C-{year}-{rng.randint(1, 3000):04d}"}
    return Subject(scope, tuple((key, values[key]) for key in SCOPES[scope]))


# -- corpus -----------------------------------------------------------------------

class Template:
    """One record rendered by qdocs with marker values, and how to vary it."""

    def __init__(self, record: Record, package: bytes, markers: dict[str, tuple[str, bool]]) -> None:
        self.record = record
        self.markers = markers  # marker → (field key, long text)
        self.parts = _zip_members(package)
        self.varied = [name for name, _ in self.parts if name in ("word/document.xml", "word/header1.xml",
                                                                  "word/footer1.xml")]
        self.fixed = {name: _deflated(data) for name, data in self.parts if name not in self.varied}


def _marker_values(record_type: Any, example: dict[str, Any], counter: list[int], last_choice: bool,
                   markers: dict[str, tuple[str, bool]]) -> dict:
    def marker(field: Any, value: Any, in_table: bool = False) -> Any:
        counter[0] += 1
        if field.type in ("text", "long-text"):
            markers[f"QX{counter[0]:04d}QX"] = (field.key, field.type == "long-text")
            return f"QX{counter[0]:04d}QX"
        if field.type == "date":
            return (_dt.date(2090, 1, 1) + _dt.timedelta(days=counter[0])).isoformat()
        if field.type == "datetime":
            return (_dt.date(2090, 1, 1) + _dt.timedelta(days=counter[0])).isoformat() + " 09:30"
        # a table's choice column keeps the example's rows: a table may have to cover every
        # choice once (the topics of a training), which one choice repeated would not
        if field.type == "enum" and last_choice and not in_table:
            return field.choices[-1].value
        return value

    values = dict(example)
    for field in record_type.fields:
        value = example.get(field.key)
        if field.type == "table":
            values[field.key] = [{column.key: marker(column, row.get(column.key), True) for column in field.columns}
                                 for row in value or []]
        elif value is not None:
            values[field.key] = marker(field, value)
    return values


def new_repository(path: Path) -> Repository:
    """A new repository whose first administrator's key is kept inside its ``.git`` (never committed)."""
    home = path.resolve() / ".git" / "qdocs" / "bench-keys"
    repository, _ = init_repository(path, "S1", "bench",
                                    administrator=Enrollment("bench.admin", "Bench Admin", "benchmark passphrase", home))
    return repository


def make_templates(workdir: Path) -> list[Template]:
    """Two marker records per type (the second with every choice at its last value),
    validated and rendered by qdocs' own functions."""
    from qdocs.actions import prepare, render_document
    from qdocs.examples import example_values
    from qdocs.records import Stamp
    from qdocs.rendering import TemplateCache

    repository = new_repository(workdir / "templates")
    cache = TemplateCache(repository.catalog)
    stamp = Stamp("2026-01-05T09:00:00+08:00", "bench")
    counter = [0]
    templates = []
    for record_type in repository.catalog.types.values():
        example = example_values(repository.catalog, record_type)
        for variant, last_choice in enumerate((False, True), start=1):
            markers: dict[str, tuple[str, bool]] = {}
            subject, data = prepare(record_type, _marker_values(record_type, example, counter, last_choice, markers))
            record = Record(id=format_record_id(record_type.prefix, "S1", 2026, variant), type=record_type.id,
                            subject=subject, revision="A", status="draft", data=data,
                            template_sha256=cache.template_sha256(record_type), docx_sha256="", created=stamp,
                            changed=stamp, revisions=[{"revision": "A", "time": stamp.time, "actor": "bench",
                                                       "reason": "first issue"}])
            templates.append(Template(record, render_document(repository, cache, record_type, record), markers))
    return templates


def generate_corpus(root: Path, size: int, seed: int = 4) -> float:
    """A records repository of ``size`` records in one commit; returns seconds taken."""
    started = time.monotonic()
    rng = random.Random(seed)
    templates = make_templates(root.parent)
    repository = new_repository(root)
    for key, value in (("core.looseCompression", "1"), ("gc.auto", "0")):  # no background repack of GBs
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    numbers: dict[str, int] = {}
    by_type: dict[str, list[Template]] = {}
    for template in templates:
        by_type.setdefault(template.record.type, []).append(template)
    type_ids = sorted(by_type)
    for index in range(size):
        type_id = type_ids[index % len(type_ids)]
        template = by_type[type_id][0 if rng.random() < 0.85 else 1]
        _write_record(root, template, numbers, rng)
        if (index + 1) % 10_000 == 0:
            log(f"  {index + 1} records written")
    year = 2026
    sequences = {f"{repository.catalog.get(type_id).prefix}-{year}": count for type_id, count in numbers.items()}
    sequence_file = root / repository.sequence_path("S1")
    sequence_file.parent.mkdir(parents=True, exist_ok=True)
    sequence_file.write_text(yamlio.dump(dict(sorted(sequences.items()))), encoding="utf-8")
    log("  git add + commit")
    environment = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@qdocs.local",
                   "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@qdocs.local"}
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=environment)
    subprocess.run(["git", "commit", "-qm", f"bench corpus of {size} records"], cwd=root, check=True, env=environment)
    return time.monotonic() - started


def _write_record(root: Path, template: Template, numbers: dict[str, int], rng: random.Random) -> None:
    source = template.record
    prefix = source.id.split("-")[0]
    numbers[source.type] = numbers.get(source.type, 0) + 1
    record_id = format_record_id(prefix, "S1", 2026, numbers[source.type])
    subject = subject_for(source.subject.scope, rng)
    status = rng.choices(list(STATUS_LABELS), weights=(5, 2, 3))[0]
    replacements: dict[str, str] = {source.id: record_id, STATUS_LABELS["draft"]: STATUS_LABELS[status]}
    for (key, old), (_, new) in zip(source.subject.keys, subject.keys):
        replacements[old] = new
    for match in set(re.findall(r"QX\d{4}QX|209\d-\d\d-\d\d", json.dumps(source.data, ensure_ascii=False))):
        if match.startswith("QX"):
            replacements[match] = text_value(*template.markers[match], rng)
        else:
            replacements[match] = (_dt.date(2025, 1, 1) + _dt.timedelta(days=rng.randint(0, 600))).isoformat()
    pattern = re.compile("|".join(re.escape(key) for key in sorted(replacements, key=len, reverse=True)))

    def vary(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda match: replacements[match.group()], value)
        if isinstance(value, list):
            return [vary(item) for item in value]
        if isinstance(value, dict):
            return {key: vary(item) for key, item in value.items()}
        return value

    escaped = {key: escape(value) for key, value in replacements.items()}
    members = dict(template.fixed)
    for name, data in template.parts:
        if name in template.varied:
            text = pattern.sub(lambda match: escaped[match.group()], data.decode("utf-8"))
            members[name] = _deflated(text.encode("utf-8"))
    document = _zip_bytes([(name, members[name]) for name, _ in template.parts])
    folder = f"{subject.folder()}/{record_id}"
    record = Record(id=record_id, type=source.type, subject=subject, revision="A", status=status,
                    data=vary(source.data), template_sha256=source.template_sha256,
                    docx_sha256=hashlib.sha256(document).hexdigest(), created=source.created, changed=source.changed,
                    revisions=source.revisions, path=folder)
    target = root / folder
    target.mkdir(parents=True, exist_ok=True)
    (target / "record.docx").write_bytes(document)
    (target / "record.yaml").write_text(record.to_yaml(), encoding="utf-8")


def _zip_members(package: bytes) -> list[tuple[str, bytes]]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return [(item.filename, archive.read(item.filename)) for item in archive.infolist()]


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def _zip_bytes(members: list[tuple[str, tuple[bytes, int, int]]]) -> bytes:
    """A zip archive from members already deflated (zipfile would compress them again)."""
    local, central = bytearray(), bytearray()
    for name, (compressed, crc, size) in members:
        encoded = name.encode("utf-8")
        header = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21, crc, len(compressed), size,
                             len(encoded), 0)
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 8, 0, 0x21, crc, len(compressed),
                               size, len(encoded), 0, 0, 0, 0, 0, len(local)) + encoded
        local += header + encoded + compressed
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(local), 0)
    return bytes(local + central + end)


# -- queries ----------------------------------------------------------------------

def make_queries(rng: random.Random, count: int = 200) -> list[tuple[str, str]]:
    """(kind, query) pairs, as auditors and QA ask: mostly specific words, subjects,
    types and months, some broad words every record of a type has."""
    words = PARTS + DEFECTS + CAUSES + ACTIONS + TESTS
    type_ids = ["final-inspection", "incoming-inspection", "nonconformance", "customer-inquiry", "service-record",
                "equipment-maintenance", "supplier-evaluation", "design-review", "in-process-inspection"]

    def zh() -> str:
        return rng.choice(words)[0]

    def en() -> str:
        return rng.choice([word for _, phrase in words for word in phrase.split() if len(word) > 3])

    def month() -> str:
        return f"{rng.choice((2025, 2026))}-{rng.randint(1, 12):02d}"

    makers = [
        ("chinese word", 40, lambda: zh()),
        ("chinese in a longer word", 10, lambda: (lambda word: word[:2] if len(word) > 3 else word)(zh())),
        ("company", 8, lambda: rng.choice(COMPANIES)[0][:2]),
        ("chinese char", 6, lambda: rng.choice(zh())),
        ("english word", 20, lambda: en()),
        ("english stem", 6, lambda: rng.choice(["leaks", "leaking", "cracked", "replacing", "inspected", "scratches",
                                                  "vibrations", "corroded", "reworked", "calibrating"])),
        ("subject", 20, lambda: rng.choice([f"product:{rng.choice(PRODUCTS)}", f"supplier:{rng.choice(SUPPLIERS)}",
                                            f"lot:L{rng.choice((2025, 2026))}-{rng.randint(1, 400):03d}",
                                            f"equipment:{rng.choice(EQUIPMENT)}"])),
        ("type and word", 20, lambda: f"type:{rng.choice(type_ids)} AND {zh()}"),
        ("boolean", 20, lambda: rng.choice([f"{zh()} AND {zh()}", f"{zh()} OR {zh()}", f"{zh()} NOT {zh()}",
                                            f"({zh()} OR {en()}) AND {zh()}"])),
        ("phrase", 10, lambda: f'"{rng.choice(words)[1]}"'),
        ("month", 20, lambda: rng.choice([f"type:{rng.choice(type_ids)} AND date:{month()}",
                                          f"product:{rng.choice(PRODUCTS)} AND date:{month()}",
                                          (lambda at: f"{zh()} AND date:[{at}-01 TO {at}-28]")(month())])),
        ("broad", 10, lambda: rng.choice(["检验", "记录", "日期", "inspection", "合格", "签字", "status:approved"])),
        ("wildcard", 10, lambda: rng.choice([f"{en()[:4]}*", f"product:{rng.choice(PRODUCTS)[:6].lower()}*"])),
    ]
    queries = [(kind, make()) for kind, share, make in makers for _ in range(share)]
    rng.shuffle(queries)
    return queries[:count]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(seconds: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(seconds, 0.5) * 1000, 2), "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
            "mean_ms": round(statistics.mean(seconds) * 1000, 2)}


# -- measurements -----------------------------------------------------------------

def tree_rss(pid: int) -> int:
    """Memory of a process and all its descendants: the sum of their proportional set
    sizes (PSS), so pages the worker processes share with their parent count once."""
    return tree_memory(pid)[0]


def tree_memory(pid: int, parts: dict[str, list[int]] | None = None) -> tuple[int, int]:
    """(PSS, anonymous PSS) of a process and all its descendants.  The difference is files
    mapped into memory (git's pack windows, the search engine's segment files): pages of the
    page cache, which the kernel can drop and read again, unlike a process's own memory.
    ``parts``, when given, receives each process's ``[PSS, anonymous PSS]`` by "pid name"."""
    total, anonymous, pending = 0, 0, [pid]
    while pending:
        current = pending.pop()
        try:
            own = [0, 0]
            with open(f"/proc/{current}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        own[0] = int(line.split()[1]) * 1024
                    elif line.startswith("Pss_Anon:"):
                        own[1] = int(line.split()[1]) * 1024
            total, anonymous = total + own[0], anonymous + own[1]
            if parts is not None:
                with open(f"/proc/{current}/cmdline", "rb") as handle:
                    words = handle.read().split(b"\0")
                name = " ".join(word.decode(errors="replace").rsplit("/", 1)[-1] for word in words[:4])
                parts[f"{current} {name}"] = own
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    pending.extend(int(child) for child in handle.read().split())
        except (OSError, StopIteration):
            continue
    return total, anonymous


#: The peak anonymous PSS of the last :func:`run_with_peak` (bytes).
last_anonymous_peak = [0]
#: At the last run's peak: each process's [PSS, anonymous PSS] in MiB, and when ("at_s").
last_peak_parts: dict[str, list[float]] = {}
#: The last run's (seconds, PSS MiB, anonymous PSS MiB), one sample every 30 s.
last_timeline: list[tuple[float, int, int]] = []


def run_with_peak(command: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run ``command``, sampling the PSS of its whole process tree: (the finished process with
    its output, seconds, peak bytes).  Every 50 ms, or less often when a sample itself takes
    longer (the kernel walks each process's page tables: with large mappings, at 1,000,000
    records, sampling every 50 ms took a fifth of a core from the job it measured): the
    sampler waits twenty times as long as its last sample took."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    last_anonymous_peak[0] = 0
    last_peak_parts.clear()
    last_timeline.clear()

    def sample() -> None:
        while process.poll() is None:
            began = time.perf_counter()
            parts: dict[str, list[int]] = {}
            total, anonymous = tree_memory(process.pid, parts)
            elapsed = round(time.monotonic() - started, 1)
            if total > peak[0]:
                last_peak_parts.clear()
                last_peak_parts.update({name: [round(value / 2 ** 20, 1) for value in values]
                                        for name, values in parts.items()})
                last_peak_parts["at_s"] = [elapsed]
            peak[0] = max(peak[0], total)
            last_anonymous_peak[0] = max(last_anonymous_peak[0], anonymous)
            if not last_timeline or elapsed - last_timeline[-1][0] >= 30:
                last_timeline.append((elapsed, round(total / 2 ** 20), round(anonymous / 2 ** 20)))
            time.sleep(max(0.05, 20 * (time.perf_counter() - began)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, errors = process.communicate()
    sampler.join()
    done = subprocess.CompletedProcess(command, process.returncode, output, errors)
    return done, time.monotonic() - started, peak[0]


def measure_rebuild(root: Path) -> dict[str, Any]:
    command = [sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "index", "rebuild"]
    done, seconds, peak = run_with_peak(command)
    if done.returncode != 0:
        raise SystemExit(f"rebuild failed: {done.stderr}")
    count = int(done.stdout.split()[1])
    return {"records": count, "seconds": round(seconds, 1), "records_per_s": round(count / seconds, 1),
            "peak_tree_pss_mib": round(peak / 2 ** 20, 1),
            "peak_tree_anonymous_pss_mib": round(last_anonymous_peak[0] / 2 ** 20, 1),  # the rest: mapped files
            "at_peak_pss_and_anonymous_mib_by_process": dict(last_peak_parts),
            "timeline_s_pss_anonymous_mib": list(last_timeline),
            "output": done.stdout.strip()}


def qdocs_query(index: Any, text: str) -> Any:
    from qdocs.search.model import Filters

    return index.search(text, Filters(), 20)


def measure_queries(root: Path, queries: list[tuple[str, str]]) -> dict[str, Any]:
    """qdocs' queries in process: p50/p95 of all 200, and p95 by kind.  (The comparison with a
    bare engine on the same records is ``bench_search_scale.py``: FTS5 given qdocs' terms.)"""
    from qdocs.search.index import SearchIndex

    index = SearchIndex(Repository.open(root))
    for _, text in queries[:10]:  # warm the file cache and imports
        qdocs_query(index, text)
    timings: list[float] = []
    per_kind: dict[str, list[float]] = {}
    hits = 0
    for kind, text in queries:
        started = time.perf_counter()
        found = qdocs_query(index, text)
        elapsed = time.perf_counter() - started
        timings.append(elapsed)
        per_kind.setdefault(kind, []).append(elapsed)
        hits += found.total > 0
    result: dict[str, Any] = {"qdocs": summary(timings), "queries": len(queries), "queries_with_results": hits}
    result["p95_ms_by_kind"] = {kind: summary(values)["p95_ms"] for kind, values in sorted(per_kind.items())}
    return result


def measure_process(root: Path, queries: list[tuple[str, str]]) -> dict[str, Any]:
    """``qdocs search`` as a process, 10 queries, after one warm-up process (reported on
    its own: it also reads Python's and NumPy's files into the page cache)."""
    started = time.monotonic()
    subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "search", "检验"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    warm_up = time.monotonic() - started
    seconds = []
    for _, text in queries[:10]:
        started = time.monotonic()
        subprocess.run([sys.executable, str(PROJECT / "cli.py"), "--repo", str(root), "search", text],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(time.monotonic() - started)
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return {"median_s": round(statistics.median(seconds), 3), "worst_s": round(max(seconds), 3),
            "warm_up_s": round(warm_up, 3), "python_start_s": round(time.monotonic() - started, 3)}


def fts5_form(kind: str, text: str) -> str | None:
    """The query in FTS5 syntax, when it has no fields, dates or wildcards."""
    if kind in ("field", "date", "wildcard") or ":" in text or "*" in text:
        return None
    words = re.findall(r'"[^"]+"|\(|\)|AND|OR|NOT|[^\s()"]+', text)
    return " ".join(word if word in ("AND", "OR", "NOT", "(", ")") else
                     '"' + word.strip('"').replace('"', '""') + '"' for word in words)


#: query kinds whose words both engines match as substrings of the text (Chinese: qdocs indexes
#: runs of two and three characters; FTS5's trigram tokenizer and ``instr()`` find substrings):
#: the only kinds where the two must return the same records, and so the only ones compared
SAME_MEANING = {"chinese word", "chinese in a longer word", "company"}


def fts5_where(form: str) -> tuple[str, list[str]]:
    """The WHERE clause of a query of words joined by AND/OR/NOT.  A word of fewer than three
    characters cannot use the trigram index (FTS5 needs three): such a query is answered with
    ``instr()`` over every row.  (``LIKE '%xx%'`` on the FTS5 table answers no row at all on
    SQLite 3.40 for such a word: the earlier version of this benchmark timed that empty answer.)"""
    terms = re.findall(r'"([^"]*)"', form)
    if any(len(term) < 3 for term in terms):
        if re.search(r"\b(OR|NOT)\b|[()]", form):
            raise ValueError("instr() form only for words joined by AND")
        return " AND ".join("instr(content, ?) > 0" for _ in terms), terms
    return "records MATCH ?", [form]


def fts5_answer(connection: sqlite3.Connection, form: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What a search page shows: the top 20 (id, type, snippet) and the count per type."""
    where, arguments = fts5_where(form)
    if where == "records MATCH ?":
        rows = connection.execute("SELECT id, type, snippet(records, 2, '«', '»', '…', 16) FROM records "
                                  f"WHERE {where} ORDER BY rank LIMIT 20", arguments).fetchall()
    else:
        rows = connection.execute(f"SELECT id, type, substr(content, 1, 120) FROM records WHERE {where} LIMIT 20",
                                  arguments).fetchall()
    counts = connection.execute(f"SELECT type, count(*) FROM records WHERE {where} GROUP BY type", arguments).fetchall()
    return rows, counts


def fts5_ids(connection: sqlite3.Connection, form: str) -> set[str]:
    where, arguments = fts5_where(form)
    return {row[0] for row in connection.execute(f"SELECT id FROM records WHERE {where}", arguments)}


def qdocs_ids(index: Any, text: str) -> set[str]:
    """Every record qdocs finds for ``text`` (not only the top 20)."""
    from qdocs.search.model import Filters

    total = index.search(text, Filters(), 1).total
    return {hit.fields["id"] for hit in index.search(text, Filters(), max(total, 1)).hits}


def measure_fts5(root: Path, directory: Path, queries: list[tuple[str, str]], workdir: Path) -> dict[str, Any]:
    """SQLite FTS5 (trigram) over the text the index holds.  Before any timing, each query
    FTS5 can express is answered by both sides in full and the sets of ids compared: only the
    queries of :data:`SAME_MEANING` must agree (a query of another kind means something else
    to each: English words are stemmed by qdocs and matched as substrings by the trigrams),
    and only the queries where both found the same records are timed, paired."""
    import tantivy

    from qdocs.search.index import SearchIndex

    database = workdir / "fts5.sqlite"
    database.unlink(missing_ok=True)
    connection = sqlite3.connect(database)
    connection.execute("CREATE VIRTUAL TABLE records USING fts5(id UNINDEXED, type UNINDEXED, content, "
                       "tokenize='trigram')")
    started = time.monotonic()
    searcher = tantivy.Index.open(str(directory)).searcher()
    stored = (json.loads(searcher.doc(address).get_first("stored")) for _, address in
              searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1), count=False).hits)
    connection.executemany("INSERT INTO records VALUES (?, ?, ?)",
                           ((fields["id"], fields["type"], fields.get("content", "")) for fields in stored))
    connection.commit()
    build_seconds = time.monotonic() - started
    index = SearchIndex(Repository.open(root))
    usable = [(kind, text, fts5_form(kind, text)) for kind, text in queries]
    usable = [item for item in usable if item[2] and item[0] in SAME_MEANING]
    agreeing, differing = [], []
    for kind, text, form in usable:
        ours, theirs = qdocs_ids(index, text), fts5_ids(connection, form)
        (agreeing if ours == theirs else differing).append((kind, text, form, len(ours), len(theirs)))
    timings: dict[str, list[float]] = {"fts5": [], "qdocs": []}
    short_terms = 0
    for kind, text, form, _, _ in agreeing:
        short_terms += any(len(term) < 3 for term in re.findall(r'"([^"]*)"', form))
        started = time.perf_counter()
        rows, counts = fts5_answer(connection, form)
        timings["fts5"].append(time.perf_counter() - started)
        started = time.perf_counter()
        qdocs_query(index, text)
        timings["qdocs"].append(time.perf_counter() - started)
        del rows, counts
    connection.close()
    if not timings["qdocs"]:
        raise SystemExit(f"no query found the same records on both sides: {differing[:5]}")
    return {"queries_compared": len(usable), "same_records": len(agreeing),
            "different_records": [{"kind": kind, "query": text, "qdocs": ours, "fts5": theirs}
                                  for kind, text, _, ours, theirs in differing],
            "records_compared": sum(ours for *_, ours, _ in agreeing),
            "with_terms_under_3_chars": short_terms, "build_s": round(build_seconds, 1),
            "size_bytes_per_record": None, "fts5": summary(timings["fts5"]), "qdocs": summary(timings["qdocs"]),
            "fts5_over_qdocs": round(statistics.mean(timings["fts5"]) / statistics.mean(timings["qdocs"]), 2),
            "database_bytes": database.stat().st_size}


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def run_size(size: int, workdir: Path, keep: bool) -> dict[str, Any]:
    root = workdir / f"corpus-{size}" / "records"
    if (root / ".git").exists():
        log(f"{size}: reusing corpus {root}")
        corpus_seconds = None
    else:
        shutil.rmtree(root.parent, ignore_errors=True)
        root.parent.mkdir(parents=True)
        log(f"{size}: generating corpus in {root}")
        corpus_seconds = round(generate_corpus(root, size), 1)
    log(f"{size}: rebuild (load average {os.getloadavg()[0]:.1f})")
    rebuild = measure_rebuild(root)
    rebuild["load_average_after"] = round(os.getloadavg()[0], 1)
    log(f"{size}: {rebuild['output']}, peak {rebuild['peak_tree_pss_mib']} MiB")
    from qdocs.search.index import SearchIndex

    directory = SearchIndex(Repository.open(root)).generations.current()
    queries = make_queries(random.Random(size))
    log(f"{size}: 200 queries in process")
    latency = measure_queries(root, queries)
    log(f"{size}: qdocs search as a process")
    process = measure_process(root, queries)
    log(f"{size}: SQLite FTS5 trigram")
    fts5 = measure_fts5(root, directory, queries, root.parent)
    fts5["size_bytes_per_record"] = round(fts5.pop("database_bytes") / size)
    result = {"records": size, "corpus_seconds": corpus_seconds, "load_average": os.getloadavg()[0],
              "rebuild": rebuild, "latency": latency,
              "process": process, "fts5": fts5, "index_bytes_per_record": round(folder_bytes(directory) / size)}
    if not keep:
        shutil.rmtree(root.parent, ignore_errors=True)
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def compile_project() -> None:
    """Byte-compile the measured tree first, as ``pip install`` does: with
    PYTHONDONTWRITEBYTECODE set, every ``qdocs search`` process would otherwise
    compile qdocs' modules from source."""
    import compileall

    compileall.compile_dir(str(PROJECT / "qdocs"), quiet=1)
    compileall.compile_file(str(PROJECT / "cli.py"), quiet=1)


def main() -> None:
    compile_project()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--workdir", type=Path, help="where corpora are generated (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the corpora (a later run reuses them)")
    arguments = parser.parse_args()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qdocs-search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = {"date": _dt.date.today().isoformat(), "machine": machine(), "targets": TARGETS, "sizes": []}
    for size in (int(item) for item in arguments.sizes.split(",")):
        report["sizes"].append(run_size(size, workdir, arguments.keep))
        print(json.dumps(report["sizes"][-1], ensure_ascii=False, indent=2), flush=True)
    (workdir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    log(f"report: {workdir / 'report.json'}")
    if not arguments.workdir and not arguments.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
