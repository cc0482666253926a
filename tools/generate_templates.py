"""Generate the Word (docxtpl) templates of the record catalog.

Reads ``templates/catalog.yaml`` and writes one template per record type to
``templates/<type.template>`` (e.g. ``templates/final-inspection.docx``), laid out
as a bilingual (Chinese / English) company QA form on A4 portrait:

* page header: company name, the type's title in Chinese and English, document
  number, revision, status and "第 X 页 共 Y 页 Page X of Y" (Word PAGE / NUMPAGES
  fields);
* body: title, a subject table (record subject, subject keys of the type's scope,
  clause, site, dates), the fields in catalog order -- consecutive non-table fields
  in a two-column "label | value" table, every table field as its own table with a
  header row and a docxtpl row loop -- and a signature block (its signature cell shows the
  signer's image and the manifestation of the electronic signature), which keeps the last
  row of the form with it so it never starts a page alone;
* page footer: clause and retention period;
* language zh-CN for East Asian text and the simplified-Chinese face Noto Serif CJK SC (the
  font table names SimSun as the alternative Word uses where it is missing), replacing the
  Japanese settings of python-docx's default template.

The templates follow the conventions of ``docs/catalog-format.md``: every field
appears as exactly one ``{{ key }}`` (table columns as ``{{ row.column }}`` inside
``{%tr for row in key %}``), the only other variables are ``doc``, ``subject`` and
``signatures``, and every Jinja tag sits in a run of its own so that Word and
docxtpl never split it.

The committed ``.docx`` files -- not this script -- are the source of truth: QA staff
edit them in Word (wording, logo, column widths, ...) and ``qdocs templates check``
guards that they still agree with the catalog. This script produced the first
versions and can regenerate them, e.g. after adding a record type. Re-running it
OVERWRITES the templates it writes, discarding manual edits; use ``--only`` to
(re)generate selected types and review the result with ``git diff --stat`` before
committing. Output is deterministic: the same catalog gives byte-identical files.

Usage (from the repository root)::

    python tools/generate_templates.py                     # every type
    python tools/generate_templates.py --only final-inspection --only capa
    python tools/generate_templates.py --catalog other.yaml --out-dir /tmp/tpl
"""

from __future__ import annotations

import argparse
import io
import keyword
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = REPO_ROOT / "templates" / "catalog.yaml"

# --- page and typography ----------------------------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)  # A4 portrait
MARGIN = Cm(2.0)
HEADER_FOOTER_DISTANCE = Cm(1.0)
TEXT_WIDTH_CM = 17.0  # 21 cm minus two 2 cm margins

FONT_ASCII = "Arial"
# Chinese text in the simplified-Chinese (SC) faces of Noto CJK, a Song (宋体) face, which
# LibreOffice renders the PDFs with (fonts-noto-cjk).  The font table names SimSun (宋体)
# as its alternative, which Word on Windows uses where Noto Serif CJK SC is not installed.
FONT_EAST_ASIA = "Noto Serif CJK SC"
FONT_EAST_ASIA_ALTERNATIVE = "SimSun"
# (panose, unicode ranges usb0-3, code pages csb0-1) of Noto Serif CJK SC, as Word's font table
# records them: Word picks a substitute with the same character set (86 = GB2312) and ranges.
FONT_EAST_ASIA_SIGNATURE = ("02020400000000000000", ("30000083", "2BDF3C10", "00000016", "00000000"),
                            ("602E0107", "00000000"))
LANGUAGE, LANGUAGE_EAST_ASIA = "en-US", "zh-CN"  # Latin text English, East Asian text Chinese (PRC)
BODY_SIZE = Pt(10.5)  # 五号
SMALL_SIZE = Pt(8.5)  # English labels beside the Chinese ones
HEADER_SIZE = Pt(9)
NOTE_SIZE = Pt(7.5)  # retention note in the footer
GREY = RGBColor(0x59, 0x59, 0x59)
RED = RGBColor(0xC0, 0x00, 0x00)
LABEL_FILL = "F2F2F2"  # label cells
HEAD_FILL = "D9D9D9"  # table header rows

# Fixed document properties and zip timestamps keep the output byte-identical.
FIXED_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

# --- catalog vocabulary ----------------------------------------------------------
SUBJECT_KEYS: dict[str, list[tuple[str, str, str]]] = {
    # scope: [(subject key, zh label, en label)] -- see docs/catalog-format.md
    "product": [("product", "产品型号", "Product")],
    "lot": [("product", "产品型号", "Product"), ("lot", "批号", "Lot")],
    "supplier": [("supplier", "供应商", "Supplier")],
    "contract": [("supplier", "供应商", "Supplier"), ("contract", "合同号", "Contract")],
    "material-lot": [("material_lot", "物料批号", "Material lot")],
    "equipment": [("equipment", "设备编号", "Equipment")],
    "staff": [("staff", "人员", "Staff")],
    "case": [("case", "事项编号", "Case")],
}
RESERVED_NAMES = {"doc", "subject", "signatures"}
# Names Jinja reads as literals or operators: a field called so could not be printed.
JINJA_WORDS = {"true", "false", "none", "True", "False", "None", "and", "or", "not",
               "in", "is", "if", "else", "for", "recursive", "loop"}
# Attributes of dict: ``row.items`` would print the dict method, so use ``row['items']``.
DICT_ATTRS = {name for name in dir(dict) if not name.startswith("_")}
JINJA_DELIMITERS = ("{{", "}}", "{%", "%}", "{#", "#}")

# Relative column widths of table fields, by cell type.
COLUMN_WEIGHT = {"text": 3.0, "long-text": 5.0, "date": 2.3, "datetime": 2.9,
                 "number": 2.0, "enum": 2.3, "yes-no": 1.7}
LABEL_WIDTH_CM = 5.5  # label column of the field table

SIGNATURE_COLUMNS = [  # (zh, en, width cm); the signature cell holds the manifestation
    ("签字含义", "Meaning", 2.2),
    ("姓名", "Name", 3.6),
    ("角色", "Role", 2.6),
    ("日期时间", "Date & time", 3.8),
    ("签名", "Signature", 4.8),
]


@dataclass(frozen=True)
class Bilingual:
    """A Chinese text with its English counterpart."""

    zh: str
    en: str

    @classmethod
    def of(cls, value: Any, where: str) -> "Bilingual":
        if not isinstance(value, dict) or "zh" not in value or "en" not in value:
            raise SystemExit(f"catalog: {where}: expected {{zh: ..., en: ...}}, got {value!r}")
        return cls(literal(str(value["zh"]), where), literal(str(value["en"]), where))


def literal(text: str, where: str) -> str:
    """Return catalog text that goes into a template verbatim; reject Jinja syntax."""
    if any(d in text for d in JINJA_DELIMITERS):
        raise SystemExit(f"catalog: {where}: text {text!r} contains a Jinja delimiter")
    return text


# --- catalog ----------------------------------------------------------------------
def load_catalog(path: Path) -> dict[str, Any]:
    """Load the catalog YAML and check the parts this script relies on."""
    with path.open(encoding="utf-8") as fh:
        catalog = yaml.safe_load(fh)
    if not isinstance(catalog, dict) or not isinstance(catalog.get("types"), list):
        raise SystemExit(f"{path}: not a catalog (no 'types' list)")
    for type_def in catalog["types"]:
        check_type(type_def)
    return catalog


def check_type(type_def: dict[str, Any]) -> None:
    """Fail early on a type this script cannot turn into a template."""
    tid = type_def.get("id", "?")
    for required in ("id", "name", "clause", "scope", "template", "retention", "fields"):
        if required not in type_def:
            raise SystemExit(f"catalog: type {tid}: missing '{required}'")
    for scope in scopes_of(type_def):
        if scope not in SUBJECT_KEYS:
            raise SystemExit(f"catalog: type {tid}: unknown scope {scope!r}")
    for field in type_def["fields"]:
        key = str(field.get("key", ""))
        if not key.isidentifier() or keyword.iskeyword(key) or key in JINJA_WORDS | RESERVED_NAMES:
            raise SystemExit(f"catalog: type {tid}: field key {key!r} cannot be a template variable")
        for column in field.get("columns", []) if field.get("type") == "table" else []:
            ckey = str(column.get("key", ""))
            if not ckey.isidentifier():
                raise SystemExit(f"catalog: type {tid}: column key {ckey!r} of {key} is not an identifier")


def scopes_of(type_def: dict[str, Any]) -> list[str]:
    """The type's scope as a list (a type may name one scope or a list)."""
    scope = type_def["scope"]
    return list(scope) if isinstance(scope, list) else [scope]


def retention_text(type_def: dict[str, Any]) -> str:
    """'保存期限 Retention: N 年 years' from the catalog."""
    years = type_def["retention"]["years"]
    return f"保存期限 Retention: {years} 年 years"


def retention_note(type_def: dict[str, Any]) -> Bilingual | None:
    """The optional retention note of the type."""
    note = type_def["retention"].get("note")
    return Bilingual.of(note, f"{type_def['id']}.retention.note") if note else None


# --- low-level OOXML helpers ------------------------------------------------------
def set_run_fonts(rpr_parent: Any) -> None:
    """Set explicit ASCII/East Asian fonts and the languages in the rPr of a style or of
    w:rPrDefault: text that is not Latin is Chinese (zh-CN), so that Word and LibreOffice
    choose the simplified-Chinese glyph forms (a font such as Noto CJK holds the Japanese,
    Korean and traditional forms of the same characters too)."""
    if hasattr(rpr_parent, "get_or_add_rPr"):  # a style: keep the schema order
        rpr_parent.get_or_add_rPr()
    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_parent.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]  # drop theme fonts: they would win over explicit ones
    for attr, font in (("w:ascii", FONT_ASCII), ("w:hAnsi", FONT_ASCII),
                       ("w:eastAsia", FONT_EAST_ASIA), ("w:cs", FONT_ASCII)):
        fonts.set(qn(attr), font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)  # the last child of rPr that these styles use
    lang.set(qn("w:val"), LANGUAGE)
    lang.set(qn("w:eastAsia"), LANGUAGE_EAST_ASIA)


def set_chinese_document(document: DocxDocument) -> None:
    """What python-docx's default template says in Japanese, in Chinese: the language
    Word resolves theme fonts with (``themeFontLang``, ja-JP there), and the font table
    (which lists the Japanese ＭＳ 明朝 and ＭＳ ゴシック) with the Chinese face and its
    alternative.  The Word 2010 copy of the styles gets the same language."""
    from lxml import etree

    settings = document.settings.element
    theme_language = settings.find(qn("w:themeFontLang"))
    if theme_language is None:
        theme_language = OxmlElement("w:themeFontLang")
        settings.append(theme_language)
    theme_language.set(qn("w:val"), LANGUAGE)
    theme_language.set(qn("w:eastAsia"), LANGUAGE_EAST_ASIA)
    for part in document.part.package.iter_parts():
        if part.partname == "/word/fontTable.xml":
            part._blob = chinese_font_table(part.blob)
        elif part.partname == "/word/stylesWithEffects.xml":
            root = etree.fromstring(part.blob)
            for lang in root.iter(qn("w:lang")):
                lang.set(qn("w:eastAsia"), LANGUAGE_EAST_ASIA)
            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def chinese_font_table(blob: bytes) -> bytes:
    """The font table without the Japanese fonts, with the Chinese face and its alternative."""
    from lxml import etree

    root = etree.fromstring(blob)
    for font in list(root.findall(qn("w:font"))):
        charset = font.find(qn("w:charset"))
        if charset is not None and charset.get(qn("w:val")) == "80":  # SHIFTJIS: ＭＳ 明朝, ＭＳ ゴシック
            root.remove(font)
    panose, unicode_ranges, code_pages = FONT_EAST_ASIA_SIGNATURE
    font = etree.SubElement(root, qn("w:font"), {qn("w:name"): FONT_EAST_ASIA})
    for tag, value in (("w:altName", FONT_EAST_ASIA_ALTERNATIVE), ("w:panose1", panose), ("w:charset", "86"),
                       ("w:family", "roman"), ("w:pitch", "variable")):
        etree.SubElement(font, qn(tag), {qn("w:val"): value})
    signature = {qn(f"w:usb{index}"): value for index, value in enumerate(unicode_ranges)}
    signature.update({qn(f"w:csb{index}"): value for index, value in enumerate(code_pages)})
    etree.SubElement(font, qn("w:sig"), signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def shade(cell: _Cell, fill: str) -> None:
    """Give a table cell a background colour."""
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc_pr.append(shd)


def set_table_layout(table: Table, widths_cm: Sequence[float]) -> None:
    """Fixed layout, full text width, given column widths (grid and every cell)."""
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(int(Cm(sum(widths_cm)).twips)))
    tbl_w.set(qn("w:type"), "dxa")
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


def repeat_as_header(row: Any) -> None:
    """Repeat a table row at the top of every page and keep it on one page."""
    tr_pr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        tr_pr.append(OxmlElement(tag))


def cant_split(row: Any) -> None:
    """Keep a table row on one page."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def add_complex_field(paragraph: Paragraph, instruction: str, default: str, size: Pt) -> None:
    """Append a Word field (e.g. PAGE) as begin / instrText / separate / text / end runs."""
    def field_run() -> Run:
        run = paragraph.add_run()
        run.font.size = size
        return run

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    field_run()._r.append(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    field_run()._r.append(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    field_run()._r.append(separate)
    shown = paragraph.add_run(default)
    shown.font.size = size
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    field_run()._r.append(end)


# --- runs and paragraphs ----------------------------------------------------------
def add_text(paragraph: Paragraph, text: str, *, size: Pt | None = None, bold: bool = False,
             color: RGBColor | None = None, style: str | None = None) -> Run:
    """Append one run of literal text."""
    run = paragraph.add_run(text, style=style)
    if size is not None:
        run.font.size = size
    if bold:
        run.bold = True
    if color is not None:
        run.font.color.rgb = color
    return run


def add_tag(paragraph: Paragraph, tag: str, *, size: Pt | None = None, bold: bool = False,
            color: RGBColor | None = None) -> Run:
    """Append a Jinja tag ('{{ x }}' or '{%tr ... %}') as a run of its own."""
    return add_text(paragraph, tag, size=size, bold=bold, color=color)


def add_label(paragraph: Paragraph, label: Bilingual, *, mandatory: bool = False,
              bold: bool = False, size: Pt | None = None) -> None:
    """Chinese label, English label in the small grey 'Label EN' style, red '*' if mandatory."""
    if mandatory:
        add_text(paragraph, "*", style="Mandatory Mark", size=size)
    add_text(paragraph, label.zh, bold=bold, size=size)
    add_text(paragraph, " ")
    add_text(paragraph, label.en, style="Label EN")


def first_paragraph(cell: _Cell) -> Paragraph:
    """The (empty) paragraph a new cell comes with."""
    return cell.paragraphs[0]


# --- document set-up --------------------------------------------------------------
def new_document(title: Bilingual, company: str) -> DocxDocument:
    """An empty A4 document with the form's styles and fixed properties."""
    document = Document()
    setup_page(document.sections[0])
    setup_styles(document)
    set_chinese_document(document)
    props = document.core_properties
    props.title = f"{title.zh} {title.en}"
    props.author = company
    props.last_modified_by = company
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1
    return document


def setup_page(section: Section) -> None:
    """A4 portrait, 2 cm margins."""
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin = section.bottom_margin = MARGIN
    section.left_margin = section.right_margin = MARGIN
    section.header_distance = section.footer_distance = HEADER_FOOTER_DISTANCE


def setup_styles(document: DocxDocument) -> None:
    """Normal in Arial/Noto Serif CJK SC (宋体) 10.5 pt, Chinese language, plus the form's own styles."""
    styles_el = document.styles.element
    defaults = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault"))
    set_run_fonts(defaults)

    normal = document.styles["Normal"]
    set_run_fonts(normal.element)
    normal.font.size = BODY_SIZE
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), 1.0

    for name in ("Header", "Footer"):
        style = document.styles[name]
        style.font.size = HEADER_SIZE
        tabs = style.paragraph_format.tab_stops
        tabs.clear_all()  # the default stops are for US letter; set A4 ones
        tabs.add_tab_stop(Cm(TEXT_WIDTH_CM / 2), WD_TAB_ALIGNMENT.CENTER)
        tabs.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT)

    add_paragraph_style(document, "Form Title", size=Pt(16), bold=True,
                        align=WD_ALIGN_PARAGRAPH.CENTER, before=0, after=2)
    add_paragraph_style(document, "Form Title EN", size=Pt(11), color=GREY,
                        align=WD_ALIGN_PARAGRAPH.CENTER, before=0, after=10)
    add_paragraph_style(document, "Form Heading", size=Pt(11), bold=True,
                        before=10, after=4, keep_with_next=True)
    add_paragraph_style(document, "Form Note", size=SMALL_SIZE, color=GREY, before=3, after=0)
    label_en = document.styles.add_style("Label EN", WD_STYLE_TYPE.CHARACTER)
    label_en.font.size, label_en.font.color.rgb = SMALL_SIZE, GREY
    mark = document.styles.add_style("Mandatory Mark", WD_STYLE_TYPE.CHARACTER)
    mark.font.bold, mark.font.color.rgb = True, RED


def add_paragraph_style(document: DocxDocument, name: str, *, size: Pt, bold: bool = False,
                        color: RGBColor | None = None, align: Any = None, before: int = 0,
                        after: int = 0, keep_with_next: bool = False) -> BaseStyle:
    """A paragraph style based on Normal (QA staff can restyle it in Word)."""
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    style.quick_style = True
    style.font.size, style.font.bold = size, bold
    if color is not None:
        style.font.color.rgb = color
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.keep_with_next = keep_with_next
    return style


# --- page header and footer -------------------------------------------------------
def build_header(section: Section) -> None:
    """Company | title zh/en | number, revision, status, page X of Y."""
    header = section.header
    header.is_linked_to_previous = False
    widths = [3.6, 7.2, 6.2]
    table = header.add_table(rows=1, cols=3, width=Cm(sum(widths)))
    set_table_layout(table, widths)
    company, title, meta = table.rows[0].cells
    for cell in (company, title, meta):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER

    para = first_paragraph(company)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_tag(para, "{{ doc.company }}", size=BODY_SIZE, bold=True)

    para = first_paragraph(title)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_tag(para, "{{ doc.type_zh }}", size=Pt(12), bold=True)
    para = title.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_tag(para, "{{ doc.type_en }}", size=SMALL_SIZE, color=GREY)

    fill_header_meta(meta)

    # python-docx appends the table after the header's empty paragraph; move that
    # paragraph below the table, where Word needs one anyway, as a small spacer.
    spacer = header.paragraphs[0]
    table._tbl.addnext(spacer._p)
    spacer.paragraph_format.space_after = Pt(0)


def fill_header_meta(cell: _Cell) -> None:
    """Document number, revision, status and '第 X 页 共 Y 页 Page X of Y' (PAGE/NUMPAGES)."""
    for index, (label, tag) in enumerate((("文件编号 No.: ", "{{ doc.id }}"),
                                          ("版本 Rev.: ", "{{ doc.revision }}"),
                                          ("状态 Status: ", "{{ doc.status }}"))):
        para = first_paragraph(cell) if index == 0 else cell.add_paragraph()
        add_text(para, label)
        add_tag(para, tag)
    para = cell.add_paragraph()
    for text, field in (("第 ", "PAGE"), (" 页 共 ", "NUMPAGES"), (" 页 Page ", "PAGE"), (" of ", "NUMPAGES")):
        add_text(para, text)
        add_complex_field(para, field, "1", HEADER_SIZE)


def build_footer(section: Section, type_def: dict[str, Any]) -> None:
    """Clause on the left, retention period on the right, retention note below."""
    footer = section.footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0]
    set_top_border(para)
    add_text(para, "依据条款 Clause: ")
    add_tag(para, "{{ doc.clause }}")
    add_text(para, "\t\t" + retention_text(type_def))
    note = retention_note(type_def)
    if note is not None:
        para = footer.add_paragraph()
        para.paragraph_format.space_before = Pt(2)
        add_text(para, note.zh, size=NOTE_SIZE, color=GREY)
        add_text(para, " ")
        add_text(para, note.en, size=NOTE_SIZE, color=GREY)


def set_top_border(paragraph: Paragraph) -> None:
    """A thin rule above the paragraph (separates the footer from the page body)."""
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for attr, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "4"), ("w:color", "auto")):
        top.set(qn(attr), value)
    borders.append(top)
    p_pr.append(borders)


# --- body ---------------------------------------------------------------------------
def build_title(document: DocxDocument) -> None:
    """The form title: Chinese name, English name below."""
    add_tag(document.add_paragraph(style="Form Title"), "{{ doc.type_zh }}")
    add_tag(document.add_paragraph(style="Form Title EN"), "{{ doc.type_en }}")


SubjectEntry = tuple[Bilingual, str]  # (label, tag)


def subject_rows(type_def: dict[str, Any]) -> list[list[SubjectEntry]]:
    """Rows of the subject table, one or two (label, tag) entries each."""
    rows: list[list[SubjectEntry]] = [[(Bilingual("记录对象", "Subject"), "{{ doc.subject }}")]]
    scopes = scopes_of(type_def)
    if len(scopes) == 1:  # with several scopes the keys differ: doc.subject says it all
        keys = [(Bilingual(zh, en), f"{{{{ subject.{key} }}}}")
                for key, zh, en in SUBJECT_KEYS[scopes[0]]]
        rows += [keys[i:i + 2] for i in range(0, len(keys), 2)]
    rows.append([(Bilingual("依据条款", "Clause"), "{{ doc.clause }}"),
                 (Bilingual("地点", "Site"), "{{ doc.site }}")])
    rows.append([(Bilingual("编制日期", "Created"), "{{ doc.created }}"),
                 (Bilingual("修改日期", "Changed"), "{{ doc.changed }}")])
    return rows


def build_subject_table(document: DocxDocument, type_def: dict[str, Any]) -> None:
    """Four columns (label | value | label | value); a single entry's value spans the row."""
    rows = subject_rows(type_def)
    table = document.add_table(rows=len(rows), cols=4)
    set_table_layout(table, [3.2, 5.3, 3.2, 5.3])
    for row, entries in zip(table.rows, rows):
        cells = row.cells
        for half, (label, tag) in enumerate(entries):
            fill_label_cell(cells[2 * half], label)
            value = cells[2 * half + 1]
            if len(entries) == 1:
                value = value.merge(cells[3])
            add_tag(first_paragraph(value), tag, bold=tag == "{{ doc.subject }}")
        row.height, row.height_rule = Cm(0.7), WD_ROW_HEIGHT_RULE.AT_LEAST
        for cell in row.cells:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        cant_split(row)


def fill_label_cell(cell: _Cell, label: Bilingual, mandatory: bool = False) -> None:
    """Shaded label cell 'zh en'."""
    shade(cell, LABEL_FILL)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    add_label(first_paragraph(cell), label, mandatory=mandatory)


def field_groups(fields: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """Split the fields, in catalog order, into runs of non-table fields and single tables."""
    run: list[dict[str, Any]] = []
    for field in fields:
        if field["type"] == "table":
            if run:
                yield run
                run = []
            yield [field]
        else:
            run.append(field)
    if run:
        yield run


def build_field_table(document: DocxDocument, fields: list[dict[str, Any]], tid: str) -> Any:
    """Two columns: 'zh en' label (red * when mandatory) | {{ key }}; returns the last row."""
    widths = [LABEL_WIDTH_CM, TEXT_WIDTH_CM - LABEL_WIDTH_CM]
    table = document.add_table(rows=len(fields), cols=2)
    set_table_layout(table, widths)
    for row, field in zip(table.rows, fields):
        label = Bilingual.of(field["label"], f"{tid}.{field['key']}.label")
        label_cell, value_cell = row.cells
        fill_label_cell(label_cell, label, bool(field.get("mandatory")))
        value_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        add_tag(first_paragraph(value_cell), f"{{{{ {field['key']} }}}}")
        row.height, row.height_rule = Cm(0.8), WD_ROW_HEIGHT_RULE.AT_LEAST
        if field["type"] == "long-text":
            row.height = Cm(2.0)  # room for a paragraph on a printed form
        cant_split(row)
    return table.rows[-1]


def column_tag(column_key: str) -> str:
    """'{{ row.key }}', or '{{ row['key'] }}' where row.key would be a dict method."""
    if column_key in DICT_ATTRS:
        return f"{{{{ row['{column_key}'] }}}}"
    return f"{{{{ row.{column_key} }}}}"


def column_widths(columns: list[dict[str, Any]]) -> list[float]:
    """Split the text width between the columns by their type."""
    weights = [COLUMN_WEIGHT.get(c.get("type", "text"), 3.0) for c in columns]
    total = sum(weights)
    widths = [round(TEXT_WIDTH_CM * w / total, 2) for w in weights]
    widths[-1] = round(TEXT_WIDTH_CM - sum(widths[:-1]), 2)
    return widths


def build_table_field(document: DocxDocument, field: dict[str, Any], tid: str) -> Any:
    """Heading, then header row, {%tr for %} row, one {{ row.col }} per cell, {%tr endfor %};
    returns the data row (repeated once per row of the field)."""
    key, columns = field["key"], field["columns"]
    where = f"{tid}.{key}"
    heading = document.add_paragraph(style="Form Heading")
    add_label(heading, Bilingual.of(field["label"], f"{where}.label"),
              mandatory=bool(field.get("mandatory")))

    size = BODY_SIZE if len(columns) <= 5 else Pt(9)  # many columns: smaller text
    table = document.add_table(rows=4, cols=len(columns))
    set_table_layout(table, column_widths(columns))
    header, loop_start, data, loop_end = table.rows
    repeat_as_header(header)
    for cell, column in zip(header.cells, columns):
        shade(cell, HEAD_FILL)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        para = first_paragraph(cell)
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        label = Bilingual.of(column["label"], f"{where}.{column['key']}.label")
        if column.get("mandatory"):
            add_text(para, "*", style="Mandatory Mark", size=size)
        add_text(para, label.zh, bold=True, size=size)
        para = cell.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_text(para, label.en, style="Label EN")
    add_loop_row(loop_start, f"{{%tr for row in {key} %}}")
    for cell, column in zip(data.cells, columns):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        add_tag(first_paragraph(cell), column_tag(column["key"]), size=size)
    data.height, data.height_rule = Cm(0.7), WD_ROW_HEIGHT_RULE.AT_LEAST
    cant_split(data)
    add_loop_row(loop_end, "{%tr endfor %}")
    return data


def add_loop_row(row: Any, tag: str) -> None:
    """A row holding only a docxtpl row tag; merged to one cell (docxtpl drops the row)."""
    cells = row.cells
    cell = cells[0].merge(cells[-1]) if len(cells) > 1 else cells[0]
    add_tag(first_paragraph(cell), tag, color=GREY)


def build_signatures(document: DocxDocument) -> None:
    """'签字 Signatures': one row per required signature, in signing order."""
    heading = document.add_paragraph(style="Form Heading")
    add_label(heading, Bilingual("签字", "Signatures"))
    widths = [w for _, _, w in SIGNATURE_COLUMNS]
    table = document.add_table(rows=4, cols=len(widths))
    set_table_layout(table, widths)
    header, loop_start, data, loop_end = table.rows
    repeat_as_header(header)
    for cell, (zh, en, _) in zip(header.cells, SIGNATURE_COLUMNS):
        shade(cell, HEAD_FILL)
        para = first_paragraph(cell)
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_text(para, zh, bold=True)
        para = cell.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        add_text(para, en, style="Label EN")
    add_loop_row(loop_start, "{%tr for s in signatures %}")

    meaning, name, role, time, signature = data.cells
    para = first_paragraph(meaning)
    add_tag(para, "{{ s.meaning_zh }}")
    add_text(para, " ")
    add_tag(para, "{{ s.meaning_en }}", size=SMALL_SIZE, color=GREY)
    add_tag(first_paragraph(name), "{{ s.name }}")
    add_tag(name.add_paragraph(), "{{ s.comment }}", size=SMALL_SIZE, color=GREY)
    add_tag(first_paragraph(role), "{{ s.role }}")
    add_tag(first_paragraph(time), "{{ s.time }}")
    fill_signature_cell(signature)
    for cell in data.cells:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    data.height, data.height_rule = Cm(1.3), WD_ROW_HEIGHT_RULE.AT_LEAST  # room to sign
    cant_split(data)
    add_loop_row(loop_end, "{%tr endfor %}")
    for row in (header, data):  # keep the whole block on one page
        for cell in row.cells:
            for para in cell.paragraphs:
                para.paragraph_format.keep_with_next = True


def fill_signature_cell(cell: _Cell) -> None:
    """The signer's image when there is one (a paragraph docxtpl drops when there is
    none), then the manifestation of the electronic signature (21 CFR 11.50: signed
    electronically, meaning, printed name, date and time); empty until signed."""
    add_tag(first_paragraph(cell), "{%p if s.image %}")
    para = cell.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_tag(para, "{{ s.image }}")
    add_tag(cell.add_paragraph(), "{%p endif %}")
    add_tag(cell.add_paragraph(), "{{ s.manifestation }}", size=NOTE_SIZE)


def keep_with_next(row: Any) -> None:
    """Keep a table row on the page of what follows it."""
    for cell in row.cells:
        for para in cell.paragraphs:
            para.paragraph_format.keep_with_next = True


def build_mandatory_note(document: DocxDocument, type_def: dict[str, Any]) -> None:
    """Explain the red asterisk, if the type has mandatory fields."""
    if any(f.get("mandatory") for f in type_def["fields"]):
        para = document.add_paragraph(style="Form Note")
        para.paragraph_format.keep_with_next = True  # stays with the signature block
        add_text(para, "*", style="Mandatory Mark")
        add_text(para, " 为必填项 Items marked * are mandatory.")


def end_body(document: DocxDocument) -> None:
    """The paragraph a body needs after its last table: 1 pt high, so it never makes a page."""
    para = document.add_paragraph()
    fmt = para.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(1)
    para.paragraph_format.space_before = para.paragraph_format.space_after = Pt(0)
    mark = para._p.get_or_add_pPr()
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    rpr.append(size)
    mark.append(rpr)  # paragraph-mark size (rPr is the last child of pPr)


def build_template(type_def: dict[str, Any], catalog: dict[str, Any]) -> DocxDocument:
    """The whole template of one record type."""
    tid = type_def["id"]
    name = Bilingual.of(type_def["name"], f"{tid}.name")
    company = catalog.get("company", {}).get("zh", "")
    document = new_document(name, company)
    section = document.sections[0]
    build_header(section)
    build_footer(section, type_def)
    build_title(document)
    build_subject_table(document, type_def)
    last_row = None
    for group in field_groups(type_def["fields"]):
        if group[0]["type"] == "table":
            last_row = build_table_field(document, group[0], tid)
        else:
            document.add_paragraph()  # spacing between tables (keeps them separate)
            last_row = build_field_table(document, group, tid)
    if last_row is not None:
        # the signature block never starts a page alone: the last row of the fields goes with it
        keep_with_next(last_row)
    build_mandatory_note(document, type_def)
    build_signatures(document)
    end_body(document)
    return document


# --- output -----------------------------------------------------------------------
def save_deterministic(document: DocxDocument, path: Path) -> None:
    """Save with fixed zip timestamps so the same catalog gives identical bytes."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Write one docxtpl Word template per record type of the catalog "
                    "(overwrites existing templates).")
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG,
                        help="catalog YAML (default: templates/catalog.yaml)")
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="where to write the .docx files (default: the catalog's folder)")
    parser.add_argument("--only", action="append", metavar="TYPE", default=[],
                        help="generate only this type id (repeatable)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Write the templates; exit status 0, or 2 for an unknown --only type."""
    args = parse_args(argv)
    catalog = load_catalog(args.catalog)
    out_dir = args.out_dir or args.catalog.parent
    types = catalog["types"]
    unknown = set(args.only) - {t["id"] for t in types}
    if unknown:
        print(f"unknown type(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for type_def in types:
        if args.only and type_def["id"] not in args.only:
            continue
        path = out_dir / type_def["template"]
        save_deterministic(build_template(type_def, catalog), path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
