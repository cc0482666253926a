"""Checks for PDFs that are built to hurt the programs reading them (run in the child
process of :mod:`.sandbox`): loops in the page tree or the outline, and active content
(JavaScript, launch actions)."""

from __future__ import annotations

from typing import Any

ACTIVE = ("/JavaScript", "/JS", "/Launch")


class Refused(Exception):
    """The file is refused; the message says why, for the user."""


LOOP = "the PDF refers to itself in a loop (a damaged or hostile file)"


def refuse_loops(reader: Any) -> None:
    """Page trees whose /Parent chain comes back on itself, outlines whose /First or /Next
    chain does: pypdf walks some of these without noticing, a viewer may not."""
    for page in reader.pages:
        seen: set[int] = set()
        node = page
        while node is not None:
            reference = getattr(node, "indirect_reference", None)
            key = reference.idnum if reference is not None else id(node)
            if key in seen or len(seen) > 256:
                raise Refused(LOOP)
            seen.add(key)
            parent = node.get("/Parent")
            node = parent.get_object() if parent is not None else None
    outlines = reader.trailer["/Root"].get_object().get("/Outlines")
    if outlines is None:
        return
    visited: set[int] = set()
    pending = [outlines.get_object().raw_get("/First")] if "/First" in outlines.get_object() else []
    while pending:
        reference = pending.pop()
        while reference is not None:
            key = getattr(reference, "idnum", None)
            if key is None or key in visited or len(visited) > 100_000:
                raise Refused(LOOP)
            visited.add(key)
            item = reference.get_object()
            if "/First" in item:
                pending.append(item.raw_get("/First"))
            reference = item.raw_get("/Next") if "/Next" in item else None


def refuse_active_content(reader: Any) -> None:
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    found = []
    if names is not None and "/JavaScript" in names.get_object():
        found.append("document JavaScript")
    holders = [(root, "the document"), *((page, f"page {number}") for number, page in enumerate(reader.pages, 1))]
    for holder, label in holders:
        for key in ("/OpenAction", "/AA"):
            if key in holder and _is_active(holder[key].get_object()):
                found.append(f"an automatic action on {label}")
        annotations = holder.get("/Annots") if holder is not root else None
        for annotation in (annotations.get_object() if annotations is not None else []):
            action = annotation.get_object().get("/A")
            if action is not None and _is_active(action.get_object()):
                found.append(f"a link that runs a program or script on {label}")
    if found:
        raise Refused(f"the PDF contains active content ({found[0]}); ask for a plain PDF, or print it to PDF")


def _is_active(value: Any, depth: int = 0) -> bool:
    if depth > 8 or not hasattr(value, "get"):
        return False
    if value.get("/S") in ACTIVE or "/JS" in value:
        return True
    return any(_is_active(item.get_object(), depth + 1) for item in value.values() if hasattr(item, "get_object"))
