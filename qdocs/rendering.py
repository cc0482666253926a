"""Fill a record type's Word template with stored data.

docxtpl does not escape XML unless asked, so a value such as ``A&B <泵>`` would
break the document: every value is escaped here and newlines become Word line
breaks.  The Jinja environment is strict, so a template that names a variable
the context lacks fails instead of printing nothing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from . import usercache
from .catalog import Catalog, Field, RecordType
from .errors import TemplateError
from .validation import NONE, NONE_DISPLAY

STATUS_LABELS = {
    "draft": "草稿 draft",
    "in-review": "审批中 in review",
    "approved": "已批准 approved",
    "void": "作废 VOID",
}
_BREAK = '</w:t><w:br/><w:t xml:space="preserve">'
_TAB = '</w:t><w:tab/><w:t xml:space="preserve">'


@dataclass(frozen=True)
class DocumentHeader:
    """What the template's header, title and footer show about a record."""

    id: str
    revision: str
    status: str
    company: str
    site: str
    created: str
    changed: str
    subject_label: str
    subject: dict[str, str]


class TemplateCache:
    """Template bytes and hashes, read once per process."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._bytes: dict[str, bytes] = {}
        self._environment: Any = None

    def template_bytes(self, record_type: RecordType) -> bytes:
        if record_type.id not in self._bytes:
            self._bytes[record_type.id] = self.catalog.template_bytes(record_type)
        return self._bytes[record_type.id]

    def template_sha256(self, record_type: RecordType) -> str:
        return hashlib.sha256(self.template_bytes(record_type)).hexdigest()

    def environment(self) -> Any:
        """One strict, escaping Jinja environment per process that compiles each
        template part once: docxtpl compiles every part on every render, which was
        40 % of the time of rendering a record.  The compiled code is also kept in the
        user cache, which takes about 10 ms off every command that renders."""
        if self._environment is None:
            self._environment = _caching_environment()
        return self._environment


def render_record(
    cache: TemplateCache,
    record_type: RecordType,
    header: DocumentHeader,
    data: dict[str, Any],
    signatures: list[dict[str, Any]] | None = None,
) -> bytes:
    """Render one record to ``.docx`` bytes."""
    import jinja2

    context = build_context(cache.catalog, record_type, header, data, signatures)
    try:
        template = _template_class()(io.BytesIO(cache.template_bytes(record_type)))
        _add_signature_images(template, context["signatures"])
        template.render(context, cache.environment(), autoescape=True)
        output = io.BytesIO()
        template.save(output)
    except jinja2.UndefinedError as error:
        raise TemplateError(f"template {record_type.template} uses a variable the record does not have: {error.message}") from None
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"template {record_type.template} has a tag error: {error.message}") from None
    except TemplateError:
        raise
    except Exception as error:  # a corrupt .docx raises zip/XML errors of many kinds
        raise TemplateError(f"template {record_type.template} cannot be rendered: {type(error).__name__}: {error}") from None
    return output.getvalue()


_TEMPLATE_CLASS: Any = None
_DOCXTPL_VERSION = "unknown"
_MEMO_LIMIT = 512


def _template_class() -> Any:
    """docxtpl's DocxTemplate, remembering the tag clean-up of each template part
    (a pure function of the part's XML, worth 20 % of a render) in the process and
    in the user cache (:mod:`qdocs.usercache`), so a command's first render is not
    slower than the next."""
    global _TEMPLATE_CLASS, _DOCXTPL_VERSION
    if _TEMPLATE_CLASS is None:
        import docxtpl
        from docxtpl import DocxTemplate

        _DOCXTPL_VERSION = str(getattr(docxtpl, "__version__", "unknown"))

        class MemoizingTemplate(DocxTemplate):  # type: ignore[misc]
            _patched: dict[str, str] = {}

            def patch_xml(self, src_xml: str) -> str:
                patched = self._patched.get(src_xml)
                if patched is None:
                    if len(self._patched) > _MEMO_LIMIT:
                        self._patched.clear()
                    entry = usercache.entry_path("docx-parts", "docxtpl", _DOCXTPL_VERSION, src_xml)
                    patched = usercache.load(entry)
                    if not isinstance(patched, str):
                        patched = super().patch_xml(src_xml)
                        usercache.store(entry, patched)
                    self._patched[src_xml] = patched
                return patched

        _TEMPLATE_CLASS = MemoizingTemplate
    return _TEMPLATE_CLASS


def _caching_environment() -> Any:
    import types

    import jinja2

    class CachingEnvironment(jinja2.Environment):
        def __init__(self) -> None:
            super().__init__(undefined=jinja2.StrictUndefined, autoescape=True)
            self._compiled: dict[str, Any] = {}

        def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
            if not isinstance(source, str) or globals is not None or template_class is not None:
                return super().from_string(source, globals, template_class)
            compiled = self._compiled.get(source)
            if compiled is None:
                if len(self._compiled) > _MEMO_LIMIT:
                    self._compiled.clear()
                compiled = self._compiled[source] = self.template_class.from_code(
                    self, self._code(source), self.make_globals(None), None)
            return compiled

        def _code(self, source: str) -> Any:
            """Jinja's compiled code for ``source``, kept in the user cache as Jinja's own
            bytecode cache keeps it (by source, Jinja version and interpreter)."""
            entry = usercache.entry_path("jinja-code", "jinja2", jinja2.__version__, usercache.python_tag(),
                                         "strict-autoescape", source)
            code = usercache.load(entry)
            if not isinstance(code, types.CodeType):
                code = self.compile(source)
                usercache.store(entry, code)
            return code

    return CachingEnvironment()


def _add_signature_images(template: Any, rows: list[dict[str, Any]]) -> None:
    from docx.shared import Mm
    from docxtpl import InlineImage

    for row in rows:
        if row.get("image_path"):
            row["image"] = InlineImage(template, row["image_path"], height=Mm(10))


def build_context(
    catalog: Catalog,
    record_type: RecordType,
    header: DocumentHeader,
    data: dict[str, Any],
    signatures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "doc": {
            "id": header.id,
            "revision": header.revision,
            "status": STATUS_LABELS.get(header.status, header.status),
            "company": word_text(header.company),
            "type_zh": word_text(record_type.name.zh),
            "type_en": word_text(record_type.name.en),
            "clause": word_text(record_type.clause),
            "site": word_text(header.site),
            "created": header.created,
            "changed": header.changed,
            "subject": word_text(header.subject_label),
        },
        "subject": {key: word_text(value) for key, value in header.subject.items()},
        "signatures": [_signature_row(row) for row in signatures] if signatures is not None
        else blank_signatures(catalog, record_type),
    }
    for item in record_type.fields:
        context[item.key] = display_value(item, data.get(item.key))
    return context


def _signature_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: word_text(value) if isinstance(value, str) and key not in ("image_path",) else value
            for key, value in row.items()}


def blank_signatures(catalog: Catalog, record_type: RecordType) -> list[dict[str, Any]]:
    rows = []
    for requirement in record_type.signatures:
        meaning = catalog.meanings[requirement.meaning]
        rows.append({
            "meaning": requirement.meaning,
            "meaning_zh": meaning.label.zh,
            "meaning_en": meaning.label.en,
            "name": "", "role": "", "time": "", "comment": "", "image": "", "manifestation": "",
        })
    return rows


def display_value(item: Field, value: Any) -> Any:
    """The Word-ready form of a stored value."""
    if item.type == "table":
        if value == NONE:  # said on purpose: one row reading 无 None, as on a paper form
            first, *others = item.columns
            return [{first.key: word_text(NONE_DISPLAY), **{column.key: Markup("") for column in others}}]
        return [
            {column.key: display_value(column, row.get(column.key)) for column in item.columns}
            for row in (value or [])
        ]
    if value is None:
        return Markup("")
    if item.type == "yes-no":
        return Markup("是 yes" if value else "否 no")
    if item.type == "enum":
        choice = item.choice(str(value))
        return word_text(f"{choice.label.zh} {value}" if choice else str(value))
    if item.type == "number" and item.unit:
        return word_text(f"{value} {item.unit}")
    return word_text(str(value))


def word_text(text: str) -> Markup:
    """Escape text for WordprocessingML; newlines become line breaks, tabs tabs."""
    escaped = str(escape(text))
    return Markup(escaped.replace("\n", _BREAK).replace("\t", _TAB))


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
