"""Simplified-Chinese fonts of their own for LibreOffice, so that PDFs name the faces they use.

The Noto CJK collections (``NotoSerifCJK-Regular.ttc``, ``NotoSansCJK-Bold.ttc``, ...) hold
a Japanese, Korean, simplified-Chinese (SC), traditional and Hong Kong face that share one
CFF font program named after the Japanese face (``NotoSerifCJKjp-Regular``, with
sub-fonts ``NotoSerifCJKjp-Regular-Ideographs``, ...).  LibreOffice embeds that program
under its own name, so a PDF drawn with the SC glyphs says it uses a Japanese font, which
is what an auditor reading ``pdffonts`` or the document properties sees.

So the SC face of each collection the records and qdocs' own pages use (Noto Serif CJK
SC and Noto Sans CJK SC, regular and bold) is saved once per machine as a font file of
its own whose font program carries the SC face's PostScript name, in the user cache
(:mod:`qdocs.usercache`, ``fonts/``).  Every LibreOffice run then gets a fontconfig
configuration (``FONTCONFIG_FILE``) that includes the system's, adds those files and
rejects the collections they come from: the same family names find the same glyphs
under SC names.  Deriving takes a few seconds and about 200 MB for a moment, the files
take about 80 MB.  Without the collections (another font, another system) or when a face
cannot be derived, LibreOffice runs with the system's fonts as it always did.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..progress import Steps
from ..usercache import cache_directory

#: PostScript names of the SC faces the templates (Noto Serif CJK SC) and qdocs' own pages
#: (Noto Sans CJK SC, :mod:`.sheets`) use, regular and bold
FACES = ("NotoSerifCJKsc-Regular", "NotoSerifCJKsc-Bold", "NotoSansCJKsc-Regular", "NotoSansCJKsc-Bold")
#: changes when what is derived changes, so that older files are not used
DERIVATION = "1"
COLLECTIONS = (".ttc", ".otc")
#: a generation of fonts nobody used for this long is removed when a new one is made
UNUSED_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Face:
    """One face inside a font collection."""

    postscript_name: str
    file: Path
    index: int


def office_environment(steps: Steps | None = None) -> dict[str, str]:
    """Variables for a LibreOffice run: ``FONTCONFIG_FILE`` naming the configuration with the
    derived SC fonts (made first when missing, told to ``steps``), or nothing when there is
    nothing to derive or deriving failed."""
    if sys.platform == "darwin" or not shutil.which("fc-list"):
        return {}  # LibreOffice on macOS does not read fontconfig
    faces = collection_faces()
    if not faces:
        return {}
    try:
        generation = cache_directory() / "fonts" / _generation_name(faces)
    except (ImportError, OSError):  # no fontTools, or a collection went away
        return {}
    configuration = generation / "fonts.conf"
    if not (configuration.is_file() and all(_face_file(generation, face).is_file() for face in faces)):
        (steps or Steps()).start("preparing the simplified-Chinese fonts for PDFs (once)…")
        if not _derive(faces, generation):
            return {}
        _remove_unused_generations(generation)
    try:
        os.utime(configuration)  # in use: not removed as unused
    except OSError:
        pass
    return {"FONTCONFIG_FILE": str(configuration)}


def collection_faces() -> list[Face]:
    """The faces of :data:`FACES` that fontconfig finds inside font collections."""
    try:
        listed = subprocess.run(["fc-list", "-f", "%{postscriptname}\t%{index}\t%{file}\n"], capture_output=True,
                                text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    found: dict[str, Face] = {}
    for line in listed.splitlines():
        name, _, rest = line.partition("\t")
        index, _, file = rest.partition("\t")
        if name in FACES and file.lower().endswith(COLLECTIONS) and index.isdigit():
            found.setdefault(name, Face(name, Path(file), int(index)))
    return [found[name] for name in FACES if name in found]


def derive_face(face: Face, target: Path) -> None:
    """Save ``face`` as a font of its own at ``target``, its font program (and each of its
    sub-fonts) renamed to the face's PostScript name; the glyphs and tables are kept as
    they are (no bounding box or time stamp is recomputed, which would take minutes)."""
    from fontTools.ttLib import TTFont

    font = TTFont(face.file, fontNumber=face.index, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    names = font["name"]
    family = names.getDebugName(16) or names.getDebugName(1)
    program = font["CFF "].cff
    old_name, top = program.fontNames[0], program.topDictIndex[0]
    program.fontNames[0] = face.postscript_name
    for sub_font in getattr(top, "FDArray", []):
        sub_font.FontName = sub_font.FontName.replace(old_name, face.postscript_name)
    if family and getattr(top, "FamilyName", None):
        top.FullName = top.FullName.replace(top.FamilyName, family)
        top.FamilyName = family
    for record in names.names:
        text = record.toUnicode()
        if old_name in text:
            record.string = text.replace(old_name, face.postscript_name)
    font.save(target)
    font.close()


def _generation_name(faces: list[Face]) -> str:
    """Names the derived fonts after what they come from: the collections (path, index, size,
    modification time), the fontTools version and :data:`DERIVATION`."""
    from fontTools import version as fonttools_version

    digest = hashlib.sha256(f"{DERIVATION}\0{fonttools_version}".encode())
    for face in faces:
        status = face.file.stat()
        digest.update(f"\0{face.postscript_name}\0{face.file}\0{face.index}\0{status.st_size}\0{status.st_mtime_ns}"
                      .encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _derive(faces: list[Face], generation: Path) -> bool:
    """Write each face into ``generation/faces`` and then the configuration, each file beside
    its place and renamed into it, so that processes doing the same at once are safe; False
    when something failed (the run then goes without)."""
    folder = generation / "faces"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for face in faces:
            target = _face_file(generation, face)
            if not target.is_file():
                _write_atomically(target, generation, lambda temporary: derive_face(face, temporary))
        text = _configuration(faces, folder, generation / "fontconfig")
        _write_atomically(generation / "fonts.conf", generation,
                          lambda temporary: temporary.write_text(text, encoding="utf-8"))
    except Exception:  # noqa: BLE001 - any failure of fontTools on a font file: export goes on without
        return False
    return True


def _face_file(generation: Path, face: Face) -> Path:
    return generation / "faces" / f"{face.postscript_name}.otf"


def _write_atomically(target: Path, folder: Path, write) -> None:
    temporary = folder / f".{target.name}.{os.getpid()}"  # outside faces/: fontconfig never sees it half written
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _configuration(faces: list[Face], folder: Path, cache: Path) -> str:
    """The system's configuration, plus ``folder``, minus the collections of ``faces``."""
    system = os.environ.get("FONTCONFIG_FILE") or "fonts.conf"  # relative: found where fontconfig keeps it
    rejected = "".join(f"<glob>{escape(str(file))}</glob>" for file in sorted({face.file for face in faces}))
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
            f"  <cachedir>{escape(str(cache))}</cachedir>\n"
            f'  <include ignore_missing="yes">{escape(system)}</include>\n'
            f"  <dir>{escape(str(folder))}</dir>\n"
            f"  <selectfont><rejectfont>{rejected}</rejectfont></selectfont>\n</fontconfig>\n")


def _remove_unused_generations(current: Path) -> None:
    """Fonts derived from an earlier installation (or left half made) that nobody used for a
    day: about 80 MB each."""
    now = time.time()
    for generation in current.parent.iterdir():
        try:
            configuration = generation / "fonts.conf"
            used = (configuration if configuration.is_file() else generation).stat().st_mtime
        except OSError:
            continue
        if generation != current and now - used > UNUSED_SECONDS:
            shutil.rmtree(generation, ignore_errors=True)
