from pathlib import Path

import pytest

from qdocs.catalog import load_catalog
from qdocs.errors import CatalogError, UnknownTypeError
from qdocs.validation import validate_data
from tests.conftest import example_values

EXPECTED_TYPES = [
    "market-survey", "design-review", "sample-test", "supplier-evaluation", "purchase-contract-review",
    "incoming-inspection", "production-plan", "process-document", "in-process-inspection", "nonconformance",
    "equipment-maintenance", "finished-product-inspection", "final-inspection", "staff-training",
    "customer-inquiry", "service-record",
]


def test_catalog_has_the_sixteen_record_types_of_the_regulation(catalog):
    assert list(catalog.types) == EXPECTED_TYPES
    prefixes = [record_type.prefix for record_type in catalog.types.values()]
    assert len(set(prefixes)) == 16


def test_every_type_has_signatures_retention_and_mandatory_fields(catalog):
    for record_type in catalog.types.values():
        assert record_type.signatures, record_type.id
        assert record_type.retention_years > 0, record_type.id
        assert any(item.mandatory for item in record_type.fields), record_type.id
        assert record_type.clause.startswith("§")


def test_scopes_follow_the_specification(catalog):
    assert catalog.get("final-inspection").scopes == ("lot",)
    assert catalog.get("nonconformance").scopes == ("lot", "material-lot")
    assert catalog.get("purchase-contract-review").scopes == ("contract",)
    assert catalog.get("incoming-inspection").scopes == ("material-lot",)


def test_only_qc_manager_approves_final_inspection_and_legal_reviews_contracts(catalog):
    final = {s.meaning: s.roles for s in catalog.get("final-inspection").signatures}
    assert final["approved"] == ("qc-manager",)
    contract = {s.meaning: s.roles for s in catalog.get("purchase-contract-review").signatures}
    assert contract["reviewed"] == ("legal",)


def test_every_example_is_valid(catalog):
    for type_id in catalog.types:
        values = example_values(catalog, type_id)
        fields = {key: value for key, value in values.items() if catalog.get(type_id).field(key)}
        _, problems = validate_data(catalog.get(type_id), fields)
        assert problems == [], type_id


def test_unknown_type_is_named(catalog):
    with pytest.raises(UnknownTypeError, match="unknown record type 'no-such'"):
        catalog.get("no-such")


@pytest.mark.parametrize("broken, message", [
    ("roles: {}\nmeanings: {}\ntypes: []\n", "non-empty list"),
    ("types: [\n", "not valid YAML"),
    ("roles: {}\nmeanings: {}\ntypes:\n- id: x\n  prefix: lower\n", "prefix 'lower'"),
    ("roles: {}\nmeanings: {}\ntypes:\n- id: a-b\n  prefix: AB\n  scope: planet\n", "unknown scope 'planet'"),
])
def test_malformed_catalog_is_reported(tmp_path: Path, broken: str, message: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_reserved_field_key_is_refused(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "roles: {r: {zh: 甲, en: A}}\nmeanings: {prepared: {zh: 编制, en: Prepared, stage: 1}}\n"
        "types:\n- id: a-b\n  prefix: AB\n  scope: lot\n  signatures: [{meaning: prepared, roles: [r]}]\n"
        "  fields:\n  - {key: lot, type: text, label: {zh: 批, en: Lot}}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="'lot' is reserved"):
        load_catalog(path)


_TABLE_TYPE = (
    "roles: {r: {zh: 甲, en: A}}\nmeanings: {prepared: {zh: 编制, en: Prepared, stage: 1}}\n"
    "types:\n- id: a-b\n  prefix: AB\n  scope: staff\n  signatures: [{meaning: prepared, roles: [r]}]\n"
    "  fields:\n  - key: content\n    type: table\n    label: {zh: 内容, en: Content}\n{extra}"
    "    columns:\n    - {key: topic, type: enum, label: {zh: 主题, en: Topic},\n"
    "       choices: [{value: a, zh: 甲, en: A}, {value: b, zh: 乙, en: B}]}\n"
    "  - {key: note, type: text, label: {zh: 备注, en: Note}}\n")


@pytest.mark.parametrize("extra, message", [
    ("    must_cover: {subject: [a]}\n", "must_cover names column 'subject'"),
    ("    must_cover: {topic: [a, c]}\n", "must_cover topic: 'c' is not one of a, b"),
    ("    must_cover: {topic: []}\n", "must_cover topic: expected a list of values"),
    ("    must_cover: [topic]\n", "must_cover must map a column"),
    ("    allow_none: maybe\n", "allow_none must be true or false"),
    ("    allow_none: true\n    must_cover: {topic: [a]}\n", "cannot also be none"),
])
def test_malformed_table_constraints_are_reported(tmp_path: Path, extra: str, message: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(_TABLE_TYPE.replace("{extra}", extra), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_table_constraints_are_only_for_tables(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_text(_TABLE_TYPE.replace("{extra}", "").replace(
        "label: {zh: 备注, en: Note}}", "label: {zh: 备注, en: Note}, allow_none: true}"), encoding="utf-8")
    with pytest.raises(CatalogError, match="field note: must_cover and allow_none are for table fields"):
        load_catalog(path)


def test_the_regulation_s_coverage_rules_are_catalog_data(catalog):
    training = catalog.get("staff-training").field("training_content")
    assert training.mandatory and training.must_cover == (
        ("topic", ("product-knowledge", "service-skills", "complaint-handling")),)  # §3.1.2
    parts = catalog.get("service-record").field("parts_used")
    assert parts.mandatory and parts.allow_none
