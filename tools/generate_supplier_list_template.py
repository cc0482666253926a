"""Generate the Word (docxtpl) template of the qualified supplier list (§2.2.1).

The list is the one controlled document qdocs derives instead of having it typed
(``qdocs suppliers --docx FILE``).  Its template looks like the record templates
(same page, fonts, header and footer, tables; helpers of
``tools/generate_templates.py``) and is rendered with:

* ``company``, ``day`` (the date the list is as of), ``commit``, ``generated``,
  ``counts`` (``counts.total``, ``counts.qualified``);
* ``suppliers``: one row per supplier with ``s.supplier``, ``s.name``,
  ``s.materials``, ``s.evaluation``, ``s.conclusion``, ``s.evaluated``,
  ``s.valid_until`` and ``s.state`` (合格 qualified / 已过期 expired / ...).

The committed ``templates/qualified-supplier-list.docx`` is the source of truth
that QA staff may restyle in Word; this script made the first version and
overwrites it when run.  Output is deterministic.

    python tools/generate_supplier_list_template.py [--out FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_templates as base  # noqa: E402
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE  # noqa: E402
from docx.enum.text import WD_ALIGN_PARAGRAPH  # noqa: E402
from docx.shared import Cm, Pt  # noqa: E402

TITLE = base.Bilingual("合格供应商名录", "Qualified supplier list")
COLUMNS = [  # (zh, en, width cm, tag)
    ("供应商代码", "Supplier", 2.0, "{{ s.supplier }}"),
    ("供应商名称", "Name", 3.0, "{{ s.name }}"),
    ("供应物料", "Materials", 2.8, "{{ s.materials }}"),
    ("评价编号", "Evaluation", 2.6, "{{ s.evaluation }}"),
    ("评价结论", "Conclusion", 1.8, "{{ s.conclusion }}"),
    ("评价日期", "Evaluated", 1.6, "{{ s.evaluated }}"),
    ("有效期至", "Valid until", 1.6, "{{ s.valid_until }}"),
    ("状态", "State", 1.6, "{{ s.state }}"),
]
SMALL = Pt(9)


def build_header(section) -> None:
    """Company | title | as-of date and page X of Y."""
    header = section.header
    header.is_linked_to_previous = False
    widths = [3.6, 7.2, 6.2]
    table = header.add_table(rows=1, cols=3, width=Cm(sum(widths)))
    base.set_table_layout(table, widths)
    company, title, meta = table.rows[0].cells
    for cell in (company, title, meta):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    para = base.first_paragraph(company)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    base.add_tag(para, "{{ company }}", size=base.BODY_SIZE, bold=True)
    para = base.first_paragraph(title)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    base.add_text(para, TITLE.zh, size=Pt(12), bold=True)
    para = title.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    base.add_text(para, TITLE.en, size=base.SMALL_SIZE, color=base.GREY)
    para = base.first_paragraph(meta)
    base.add_text(para, "截至 As of: ")
    base.add_tag(para, "{{ day }}")
    para = meta.add_paragraph()
    for text, field in (("第 ", "PAGE"), (" 页 共 ", "NUMPAGES"), (" 页 Page ", "PAGE"), (" of ", "NUMPAGES")):
        base.add_text(para, text)
        base.add_complex_field(para, field, "1", base.HEADER_SIZE)
    spacer = header.paragraphs[0]
    table._tbl.addnext(spacer._p)


def build_footer(section) -> None:
    footer = section.footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0]
    base.set_top_border(para)
    base.add_text(para, "依据条款 Clause: §2.2.1\t\t由 qdocs 根据供应商评价记录生成 "
                        "Derived by qdocs from the supplier evaluations")


def build_body(document) -> None:
    base.add_text(document.add_paragraph(style="Form Title"), TITLE.zh)
    base.add_text(document.add_paragraph(style="Form Title EN"), TITLE.en)
    info = document.add_table(rows=2, cols=4)
    base.set_table_layout(info, [3.2, 5.3, 3.2, 5.3])
    for row, entries in zip(info.rows, ((("截至日期", "As of"), "{{ day }}", ("记录版本", "Commit"), "{{ commit }}"),
                                        (("供应商数", "Suppliers"), "{{ counts.total }}",
                                         ("合格供应商数", "Qualified"), "{{ counts.qualified }}"))):
        cells = row.cells
        for position in (0, 2):
            base.fill_label_cell(cells[position], base.Bilingual(*entries[position]))
            base.add_tag(base.first_paragraph(cells[position + 1]), entries[position + 1])
        row.height, row.height_rule = Cm(0.7), WD_ROW_HEIGHT_RULE.AT_LEAST
    heading = document.add_paragraph(style="Form Heading")
    base.add_label(heading, base.Bilingual("供应商", "Suppliers"))
    table = document.add_table(rows=4, cols=len(COLUMNS))
    base.set_table_layout(table, [width for _, _, width, _ in COLUMNS])
    header, loop_start, data, loop_end = table.rows
    base.repeat_as_header(header)
    for cell, (zh, en, _, tag) in zip(header.cells, COLUMNS):
        base.shade(cell, base.HEAD_FILL)
        para = base.first_paragraph(cell)
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        base.add_text(para, zh, bold=True, size=SMALL)
        para = cell.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        base.add_text(para, en, style="Label EN")
    base.add_loop_row(loop_start, "{%tr for s in suppliers %}")
    for cell, (_, _, _, tag) in zip(data.cells, COLUMNS):
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        base.add_tag(base.first_paragraph(cell), tag, size=SMALL)
    base.cant_split(data)
    base.add_loop_row(loop_end, "{%tr endfor %}")
    note = document.add_paragraph(style="Form Note")
    base.add_text(note, "只有状态为\u201c合格\u201d的供应商可继续采购；过期者须先复评。生成时间 ")
    base.add_tag(note, "{{ generated }}")
    base.add_text(note, ". Purchase only from suppliers in state qualified; re-assess expired ones first.")
    approval = document.add_table(rows=1, cols=4)
    base.set_table_layout(approval, [3.2, 5.3, 3.2, 5.3])
    cells = approval.rows[0].cells
    base.fill_label_cell(cells[0], base.Bilingual("批准", "Approved by"))
    base.fill_label_cell(cells[2], base.Bilingual("日期", "Date"))
    approval.rows[0].height, approval.rows[0].height_rule = Cm(1.3), WD_ROW_HEIGHT_RULE.AT_LEAST
    base.end_body(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the qualified supplier list template (overwrites it).")
    parser.add_argument("--out", type=Path, default=base.REPO_ROOT / "templates" / "qualified-supplier-list.docx")
    arguments = parser.parse_args(argv)
    catalog = base.load_catalog(base.DEFAULT_CATALOG)
    document = base.new_document(TITLE, catalog.get("company", {}).get("zh", ""))
    build_header(document.sections[0])
    build_footer(document.sections[0])
    build_body(document)
    base.save_deterministic(document, arguments.out)
    print(f"wrote {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
