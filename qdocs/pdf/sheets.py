"""Small generated pages (stamps, the pack's cover, contents and manifest) written as a
flat OpenDocument text (``.fodt``) that LibreOffice renders in the same run as the
records: Chinese text gets the same fonts as the records, embedded and searchable.

A :class:`Sheet` is a list of A4 pages; each page is a list of blocks made by
:func:`paragraph` and :func:`table`.  (LibreOffice does not style text in frames read
from flat XML, so a stamp is one line on a page of its own that pypdf moves into place.)
"""

from __future__ import annotations

from xml.sax.saxutils import escape

NAMESPACES = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
    "loext": "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0",
}
LATIN_FONT = "Liberation Sans"
CHINESE_FONT = "Noto Sans CJK SC"
MONO_FONT = "Liberation Mono"
# style name: (size in pt, bold, colour, alignment, extra text properties)
TEXT_STYLES = {
    "Title": (20, True, "#1a1a1a", "center", ""),
    "Heading": (13, True, "#1a1a1a", "start", ""),
    "Body": (10, False, "#1a1a1a", "start", ""),
    "Small": (8, False, "#404040", "start", ""),
    "Cell": (7.5, False, "#1a1a1a", "start", ""),
    "CellHead": (7.5, True, "#1a1a1a", "start", ""),
    "Mono": (5.5, False, "#1a1a1a", "start", f'style:font-name="{MONO_FONT}"'),
    "Controlled": (7.5, True, "#1f4e9e", "center", ""),
    "Invalid": (7.5, True, "#c00000", "center", ""),
    "PageNumber": (6.5, False, "#404040", "start", ""),
    "Watermark": (66, True, "#c00000", "center", 'loext:opacity="22%"'),
}


def paragraph(text: str, style: str = "Body") -> str:
    lines = "<text:line-break/>".join(escape(line) for line in str(text).split("\n"))
    return f'<text:p text:style-name="{style}">{lines}</text:p>'


def table(rows: list[list[str]], widths_mm: list[float], header: bool = True, mono_columns: tuple[int, ...] = ()) -> str:
    """A table with a repeated header row; cells are text (newlines allowed).  A row is
    kept on one page (moved whole to the next one), so that a record's line in the
    contents or a rule's findings are never read in two halves."""
    columns = "".join(f'<table:table-column table:style-name="C{_width_name(width)}"/>' for width in widths_mm)
    body = []
    for number, row in enumerate(rows):
        cells = []
        for index, value in enumerate(row):
            style = "CellHead" if header and number == 0 else ("Mono" if index in mono_columns else "Cell")
            cells.append(f'<table:table-cell table:style-name="Box" office:value-type="string">'
                         f'{paragraph(value, style)}</table:table-cell>')
        body.append(f'<table:table-row table:style-name="Row">{"".join(cells)}</table:table-row>')
    head = f"<table:table-header-rows>{body[0]}</table:table-header-rows>" if header and body else ""
    rest = body[1:] if header else body
    return (f'<table:table table:style-name="Table{_total_name(widths_mm)}">{columns}{head}'
            f"{''.join(rest)}</table:table>")


class Sheet:
    """A4 pages of blocks, one page after another."""

    def __init__(self, margin_mm: float = 18) -> None:
        self.margin_mm = margin_mm
        self.pages: list[list[str]] = []

    def add_page(self, *blocks: str) -> int:
        """Add a page (the blocks may flow over several); returns its index in the sheet."""
        self.pages.append(list(blocks) or [paragraph("")])
        return len(self.pages) - 1

    def to_bytes(self) -> bytes:
        widths = sorted({width for page in self.pages for block in page for width in _widths_in(block)})
        body = []
        for index, blocks in enumerate(self.pages):
            if index:
                body.append('<text:p text:style-name="Break"/>')
            body.extend(blocks)
        declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {declarations} office:version="1.3" '
                f'office:mimetype="application/vnd.oasis.opendocument.text">'
                f"{_font_faces()}<office:styles>{_default_style()}{_text_styles()}</office:styles>"
                f"<office:automatic-styles>{self._layout()}{_column_styles(widths)}</office:automatic-styles>"
                f'<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="Page"/>'
                f"</office:master-styles><office:body><office:text>{''.join(body)}</office:text></office:body>"
                f"</office:document>").encode("utf-8")

    def _layout(self) -> str:
        margin = f"{self.margin_mm}mm"
        return (f'<style:page-layout style:name="Page"><style:page-layout-properties fo:page-width="210mm" '
                f'fo:page-height="297mm" style:print-orientation="portrait" fo:margin-top="{margin}" '
                f'fo:margin-bottom="{margin}" fo:margin-left="{margin}" fo:margin-right="{margin}"/></style:page-layout>'
                '<style:style style:name="Break" style:family="paragraph"><style:paragraph-properties '
                'fo:break-before="page"/></style:style>'
                '<style:style style:name="Row" style:family="table-row"><style:table-row-properties '
                'fo:keep-together="always"/></style:style>'
                '<style:style style:name="Box" style:family="table-cell"><style:table-cell-properties '
                'fo:border="0.5pt solid #808080" fo:padding="0.8mm"/></style:style>')


def _font_faces() -> str:
    faces = "".join(f'<style:font-face style:name="{name}" svg:font-family="&apos;{name}&apos;"/>'
                    for name in (LATIN_FONT, CHINESE_FONT, MONO_FONT))
    return f"<office:font-face-decls>{faces}</office:font-face-decls>"


def _default_style() -> str:
    return (f'<style:default-style style:family="paragraph"><style:text-properties style:font-name="{LATIN_FONT}" '
            f'style:font-name-asian="{CHINESE_FONT}" fo:font-size="10pt" style:font-size-asian="10pt" '
            'fo:language="en" fo:country="GB" style:language-asian="zh" style:country-asian="CN"/>'
            "</style:default-style>")


def _text_styles() -> str:
    styles = []
    for name, (size, bold, colour, align, extra) in TEXT_STYLES.items():
        weight = 'fo:font-weight="bold" style:font-weight-asian="bold"' if bold else ""
        styles.append(f'<style:style style:name="{name}" style:family="paragraph"><style:paragraph-properties '
                      f'fo:text-align="{align}" fo:margin-top="0mm" fo:margin-bottom="1.2mm"/><style:text-properties '
                      f'fo:font-size="{size}pt" style:font-size-asian="{size}pt" fo:color="{colour}" {weight} {extra}/>'
                      "</style:style>")
    return "".join(styles)


def _width_name(width: float) -> str:
    return f"{width:g}".replace(".", "_")


def _total_name(widths: list[float]) -> str:
    return _width_name(sum(widths))


def _widths_in(block: str) -> list[float]:
    """Column and table widths a block uses (from its style names), to declare their styles once."""
    import re

    found = [float(match.replace("_", ".")) for match in re.findall(r'style-name="C([0-9_]+)"', block)]
    found += [-float(match.replace("_", ".")) for match in re.findall(r'style-name="Table([0-9_]+)"', block)]
    return found


def _column_styles(widths: list[float]) -> str:
    styles = []
    for width in widths:
        if width < 0:
            styles.append(f'<style:style style:name="Table{_width_name(-width)}" style:family="table">'
                          f'<style:table-properties style:width="{-width:g}mm" table:align="left"/></style:style>')
        else:
            styles.append(f'<style:style style:name="C{_width_name(width)}" style:family="table-column">'
                          f'<style:table-column-properties style:column-width="{width:g}mm"/></style:style>')
    return "".join(styles)
