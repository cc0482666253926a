"""The simplified-Chinese fonts LibreOffice gets (:mod:`qdocs.pdf.chinesefonts`): derived once
per machine into the user cache (shared by every test, so derived at most once per run), found
by their family names, and never a reason for an export to fail.  That PDFs name only SC
faces is checked on real exports in ``tests/test_pdf.py``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from qdocs.pdf import chinesefonts
from qdocs.progress import Steps

FAMILIES = {"NotoSerifCJKsc-Regular": "Noto Serif CJK SC:style=Regular", "NotoSerifCJKsc-Bold": "Noto Serif CJK SC:style=Bold",
            "NotoSansCJKsc-Regular": "Noto Sans CJK SC:style=Regular", "NotoSansCJKsc-Bold": "Noto Sans CJK SC:style=Bold"}


@pytest.fixture(scope="module")
def configuration() -> Path:
    """The configuration LibreOffice runs get, from the real user cache (made there if missing)."""
    assert {face.postscript_name for face in chinesefonts.collection_faces()} == set(FAMILIES), \
        "the Noto CJK collections are installed"
    environment = chinesefonts.office_environment()
    assert set(environment) == {"FONTCONFIG_FILE"}
    return Path(environment["FONTCONFIG_FILE"])


def test_each_family_finds_its_derived_sc_font_and_never_a_collection(configuration):
    from fontTools.ttLib import TTFont

    for postscript_name, pattern in FAMILIES.items():
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=True,
                               env={**os.environ, "FONTCONFIG_FILE": str(configuration)}).stdout
        assert Path(found).parent == configuration.parent / "faces", (pattern, found)
        font = TTFont(found, lazy=True)
        program = font["CFF "].cff
        assert program.fontNames == [postscript_name]
        sub_fonts = [sub_font.FontName for sub_font in program.topDictIndex[0].FDArray]
        assert sub_fonts and all(name.startswith(f"{postscript_name}-") for name in sub_fonts), sub_fonts
        assert font["name"].getDebugName(6) == postscript_name
        assert "CJKjp" not in " ".join(record.toUnicode() for record in font["name"].names)
    listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=True,
                            env={**os.environ, "FONTCONFIG_FILE": str(configuration)}).stdout
    assert not [line for line in listed.splitlines() if line.rstrip(": ").endswith(".ttc")
                and Path(line.rstrip(": ")).name.startswith(("NotoSerifCJK-", "NotoSansCJK-"))]


def test_a_face_that_cannot_be_derived_leaves_the_system_fonts(tmp_path, monkeypatch):
    """A fresh cache: the step is told, deriving fails, and LibreOffice runs as it would without."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def broken(face, target):
        raise ValueError("damaged font file")

    monkeypatch.setattr(chinesefonts, "derive_face", broken)
    seen = []
    assert chinesefonts.office_environment(Steps(seen.append)) == {}
    assert [step.label for step in seen] == ["preparing the simplified-Chinese fonts for PDFs (once)…"]
    assert not list((tmp_path / "cache").rglob("fonts.conf")) and not list((tmp_path / "cache").rglob("*.otf"))
    assert not [path for path in (tmp_path / "cache").rglob(".*")]  # no temporary file left


def test_without_the_collections_nothing_is_derived(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(chinesefonts, "collection_faces", lambda: [])
    seen = []
    assert chinesefonts.office_environment(Steps(seen.append)) == {}
    assert not seen and not (tmp_path / "cache").exists()


def test_a_cached_configuration_is_used_without_deriving_again(configuration, monkeypatch):
    def forbidden(face, target):
        raise AssertionError("derived again")

    monkeypatch.setattr(chinesefonts, "derive_face", forbidden)
    seen = []
    assert chinesefonts.office_environment(Steps(seen.append)) == {"FONTCONFIG_FILE": str(configuration)}
    assert not seen
