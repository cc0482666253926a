"""Which regional face of Noto CJK drew the Chinese text of a PDF.

A font's name is not enough: the faces of a Noto CJK collection (``NotoSerifCJK-Regular.ttc``:
JP, KR, SC, TC, HK) share one CFF table whose font name is ``NotoSerifCJKjp-Regular``
(qdocs gives LibreOffice the SC faces renamed ``...CJKsc...``, :mod:`qdocs.pdf.chinesefonts`),
and a font named SC could still draw another region's glyphs.  The faces differ in their
character maps: 直 is glyph cid27873 in the JP face, cid27874 in the SC face.  So this
reads, for each CJK font of the PDF, which glyph drew which character (the font's
encoding and its ToUnicode map), and finds the faces of the installed collection whose
character map gives those same glyphs (with fontTools, independently of qdocs).
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path

REGIONS = ("SC", "TC", "HK", "JP", "KR")


def faces_per_font(pdf: Path) -> dict[str, set[str]]:
    """Embedded CJK font name -> the regions (SC, TC, HK, JP, KR) whose face draws every
    character of that font in the PDF with the glyph the PDF has."""
    from pypdf import PdfReader

    fonts: dict[str, dict[str, int]] = {}
    for page in PdfReader(pdf).pages:
        _collect(page.get("/Resources"), fonts, set())
    found = {}
    for name, glyphs in fonts.items():
        maps = _region_maps(name)
        found[name] = {region for region, character_map in maps.items()
                       if all(character_map.get(ord(character)) == glyph for character, glyph in glyphs.items())}
    return found


def _collect(resources, fonts: dict[str, dict[str, int]], seen: set[int]) -> None:
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        name = str(font.get("/BaseFont", "")).split("+")[-1]
        if "CJK" in name:
            fonts.setdefault(name, {}).update(_glyphs(font, name))
    for xobject in (resources.get("/XObject") or {}).values():
        reference = getattr(xobject, "idnum", None)
        xobject = xobject.get_object()
        if reference not in seen and "/Resources" in xobject:
            seen.add(reference)
            _collect(xobject["/Resources"], fonts, seen)


def _glyphs(font, name: str) -> dict[str, int]:
    """Character -> CID of the glyph that draws it, for the Type 1 fonts LibreOffice embeds
    (a built-in encoding of code -> /cidNNNNN, and a ToUnicode map of code -> character)."""
    program = font["/FontDescriptor"].get_object().get("/FontFile")
    assert program is not None, f"{name}: not an embedded Type 1 font; this check reads only those"
    data = program.get_object().get_data()
    clear = data[:data.find(b"eexec")]
    names = {int(code): int(cid) for code, cid in re.findall(rb"dup (\d+) /cid(\d+) put", clear)}
    characters = {}
    for code, text in re.findall(rb"<([0-9A-Fa-f]{2,4})>\s*<([0-9A-Fa-f]{4,8})>",
                                 font["/ToUnicode"].get_object().get_data()):
        value = int(text[:8], 16) if len(text) == 8 else int(text[:4], 16)
        characters[int(code, 16)] = chr(value)
    return {character: names[code] for code, character in characters.items()
            if code in names and ord(character) >= 0x2E80}  # CJK characters and punctuation


@lru_cache(maxsize=None)
def _region_maps(font_name: str) -> dict[str, dict[int, int]]:
    """Region -> character -> CID for the installed collection ``font_name`` comes from."""
    from fontTools.ttLib import TTCollection

    family = "Noto Serif CJK" if "Serif" in font_name else "Noto Sans CJK"
    style = "Bold" if "Bold" in font_name else "Regular"
    path = subprocess.run(["fc-match", "-f", "%{file}", f"{family} SC:style={style}"], capture_output=True,
                          text=True, check=True).stdout
    maps = {}
    for face in TTCollection(path).fonts:
        face_family = face["name"].getDebugName(1) or ""
        region = face_family.rsplit(" ", 1)[-1]
        if face_family.startswith(family) and "Mono" not in face_family and region in REGIONS:
            maps[region] = {code: int(glyph.removeprefix("cid"))
                            for code, glyph in face["cmap"].getBestCmap().items()}
    assert set(maps) == set(REGIONS), f"{path}: not a Noto CJK collection with every region"
    return maps
