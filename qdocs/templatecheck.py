"""Check that a Word template and the catalog agree.

Findings, not exceptions: each names the template and the variable.  The check
reads the template as docxtpl will (body, headers, footers, after docxtpl's own
tag clean-up), parses the Jinja and walks it, so it also sees the columns used
inside a table's row loop (``{%tr for row in items %}{{ row.result }}``) and
the attributes of ``doc`` and ``signatures``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, RecordType

DOC_ATTRIBUTES = frozenset({
    "id", "revision", "status", "company", "type_zh", "type_en", "clause", "site", "created", "changed", "subject",
})
SIGNATURE_ATTRIBUTES = frozenset({"meaning", "meaning_zh", "meaning_en", "name", "role", "time", "comment", "image",
                                  "manifestation"})


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    template: str
    message: str

    def __str__(self) -> str:
        return f"{self.template}: {self.severity}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "template": self.template, "message": self.message}


def check_templates(catalog: Catalog, files: list[Path] | None = None) -> list[Finding]:
    """Check every type's template, or the given files (matched to a type by name)."""
    findings: list[Finding] = []
    if not files:
        for record_type in catalog.types.values():
            findings.extend(check_template(catalog, record_type, catalog.template_path(record_type)))
        return findings
    by_template = {record_type.template: record_type for record_type in catalog.types.values()}
    for path in files:
        record_type = by_template.get(Path(path).name) or catalog.types.get(Path(path).stem)
        if record_type is None:
            findings.append(Finding("error", str(path), "no record type uses a template of this name; name it <type id>.docx"))
            continue
        findings.extend(check_template(catalog, record_type, Path(path)))
    return findings


def check_template(catalog: Catalog, record_type: RecordType, path: Path) -> list[Finding]:
    name = str(path.name)
    try:
        usage = template_usage(path)
    except FileNotFoundError:
        return [Finding("error", name, f"template file missing: {path}")]
    except TemplateReadError as error:
        return [Finding("error", name, str(error))]
    findings: list[Finding] = []
    fields = {item.key: item for item in record_type.fields}
    allowed = set(fields) | {"doc", "subject", "signatures"}
    for variable in sorted(usage.variables - allowed):
        findings.append(Finding("error", name, f"unknown variable '{variable}' (not a field of {record_type.id})"))
    for key, item in fields.items():
        if key not in usage.variables:
            findings.append(Finding("error", name, f"missing variable '{key}' ({item.label.en} {item.label.zh}) of {record_type.id}"))
            continue
        if item.type == "table":
            columns = {column.key for column in item.columns}
            used = usage.loop_attributes.get(key)
            if used is None:
                findings.append(Finding("error", name, f"table field '{key}' has no row loop ({{%tr for row in {key} %}})"))
                continue
            for column in sorted(columns - used):
                findings.append(Finding("error", name, f"missing column '{key}.{column}' in the row loop of '{key}'"))
            for column in sorted(used - columns):
                findings.append(Finding("error", name, f"unknown column '{key}.{column}' (not a column of {key})"))
        elif key in usage.loop_attributes:
            findings.append(Finding("error", name, f"'{key}' is not a table but the template loops over it"))
    for attribute in sorted(usage.attributes.get("doc", set()) - DOC_ATTRIBUTES):
        findings.append(Finding("error", name, f"unknown variable 'doc.{attribute}'"))
    subject_keys = set(record_type.subject_keys)
    for attribute in sorted(usage.attributes.get("subject", set()) - subject_keys):
        findings.append(Finding("error", name, f"unknown variable 'subject.{attribute}' ({record_type.id} has {', '.join(sorted(subject_keys))})"))
    for attribute in sorted(usage.loop_attributes.get("signatures", set()) - SIGNATURE_ATTRIBUTES):
        findings.append(Finding("error", name, f"unknown variable 'signatures.{attribute}'"))
    if record_type.signatures and "signatures" not in usage.loop_attributes:
        findings.append(Finding("error", name, "no signature block (a row loop over 'signatures')"))
    return findings


class TemplateReadError(Exception):
    pass


@dataclass
class TemplateUsage:
    variables: set[str]
    attributes: dict[str, set[str]]       # top-level variable -> attributes used on it
    loop_attributes: dict[str, set[str]]  # looped variable -> attributes used on its loop variable


def template_usage(path: Path) -> TemplateUsage:
    """What a docxtpl template refers to."""
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    source = _template_source(Path(path))
    import jinja2
    from jinja2 import meta, nodes

    try:
        tree = jinja2.Environment().parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateReadError(f"Jinja tag error: {error.message}") from None
    variables = set(meta.find_undeclared_variables(tree))
    attributes: dict[str, set[str]] = {}
    loop_attributes: dict[str, set[str]] = {}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name):
            attributes.setdefault(node.node.name, set()).add(node.attr)
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and isinstance(loop.target, nodes.Name):
            used = loop_attributes.setdefault(loop.iter.name, set())
            for body in loop.body:
                for node in body.find_all(nodes.Getattr):
                    if isinstance(node.node, nodes.Name) and node.node.name == loop.target.name:
                        used.add(node.attr)
    return TemplateUsage(variables, attributes, loop_attributes)


def _template_source(path: Path) -> str:
    from docx.opc.exceptions import PackageNotFoundError
    from docxtpl import DocxTemplate
    from docxtpl.template import parse_xml

    try:
        template = DocxTemplate(str(path))
        template.init_docx()
        source = template.patch_xml(template.get_xml())
        for uri in (template.HEADER_URI, template.FOOTER_URI):
            for relation in template.docx._part.rels.values():
                if relation.reltype == uri and relation.target_part.blob:
                    source += template.patch_xml(template.xml_to_string(parse_xml(relation.target_part.blob)))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as error:
        raise TemplateReadError(f"not a readable Word document: {error}") from None
    except Exception as error:  # zip and XML errors from a damaged file
        raise TemplateReadError(f"not a readable Word document: {type(error).__name__}: {error}") from None
    return source
