"""Is a referenced product, lot, supplier, material lot, machine, person or case on file?

Answered from the record folders of the work tree (the state a new record is
created in), reading ``record.yaml`` directly: checking a record that is then
refused writes nothing.  With ``check_references: once-kept`` a reference is
checked once the repository keeps records of both kinds, the referring one and
the one referred to: a repository that brings its records into qdocs kind by
kind, in whatever order they are typed, is not blocked meanwhile (the release
rules still report what is missing); ``always`` checks from the first record.
"""

from __future__ import annotations

import glob
import os
from typing import TYPE_CHECKING

from .. import yamlio
from ..subjects import SCOPES, subject_id_problem

if TYPE_CHECKING:
    from ..repository import Repository
    from .references import Reference

#: what a reference may name -> folder patterns of its records (``*``: any)
REFERENTS: dict[str, tuple[str, ...]] = {
    "product": ("product/{product}/*", "lot/{product}/*/*"),
    "lot": ("lot/{product}/{lot}/*",),
    "supplier": ("supplier/{supplier}/*", "contract/{supplier}/*/*"),
    "contract": ("contract/{supplier}/{contract}/*",),
    "material-lot": ("material-lot/{material_lot}/*",),
    "equipment": ("equipment/{equipment}/*",),
    "staff": ("staff/{staff}/*",),
    "case": ("case/{case}/*",),
}
KEY = {"product": "product", "lot": "lot", "supplier": "supplier", "contract": "contract",
       "material-lot": "material_lot", "equipment": "equipment", "staff": "staff", "case": "case"}
QUALIFIER = {"lot": "product", "contract": "supplier"}


class Lookup:
    """Answers "is this on file?" from the record folders, remembering what it read."""

    def __init__(self, repository: "Repository", always: bool) -> None:
        self.repository = repository
        self.always = always
        self._known: dict[tuple, bool] = {}
        self._kept: dict[tuple, bool] = {}

    def problem(self, reference: "Reference", value: str, qualifier: str | None) -> str | None:
        what = reference.refers_to.replace("-", " ")
        invalid = subject_id_problem(KEY[reference.refers_to], value)
        if invalid:
            return f"not a valid {what} id ({invalid})"
        qualifier = qualifier if qualifier and not subject_id_problem("id", qualifier) else None
        if not self.always and not (self._is_kept(reference) and self._type_kept(reference.type)):
            return None
        if self._is_known(reference, value, qualifier):
            return None
        of_type = f" (no {reference.record_type} record)" if reference.record_type else ""
        within = f" of {qualifier}" if qualifier else ""
        return f"no {what} {value}{within} on file{of_type}"

    def _patterns(self, reference: "Reference", values: dict[str, str]) -> list[str]:
        prefix = ""
        if reference.record_type:
            prefix = self.repository.catalog.get(reference.record_type).prefix + "-"
        patterns = []
        for pattern in REFERENTS[reference.refers_to]:
            filled = pattern.format(**{key: glob.escape(values[key]) if values.get(key) else "*"
                                       for key in KEY.values()})
            patterns.append(filled[:-1] + prefix + "*" if prefix else filled)
        return patterns

    def _is_kept(self, reference: "Reference") -> bool:
        key = (reference.refers_to, reference.record_type)
        if key not in self._kept:
            root = str(self.repository.root)
            self._kept[key] = any(next(glob.iglob(os.path.join(root, pattern, "record.yaml")), None)
                                  for pattern in self._patterns(reference, {}))
        return self._kept[key]

    def _type_kept(self, type_id: str) -> bool:
        """The repository holds a record of ``type_id`` (before the one being created)."""
        key = ("type", type_id)
        if key not in self._kept:
            record_type = self.repository.catalog.get(type_id)
            root = str(self.repository.root)
            patterns = [os.path.join(root, scope, *("*" * len(SCOPES[scope])), f"{record_type.prefix}-*",
                                     "record.yaml") for scope in record_type.scopes]
            self._kept[key] = any(next(glob.iglob(pattern), None) for pattern in patterns)
        return self._kept[key]

    def _is_known(self, reference: "Reference", value: str, qualifier: str | None) -> bool:
        key = (reference.refers_to, reference.record_type, value, qualifier)
        if key not in self._known:
            values = {KEY[reference.refers_to]: value}
            if qualifier:
                values[QUALIFIER[reference.refers_to]] = qualifier
            self._known[key] = any(self._live(path) for pattern in self._patterns(reference, values)
                                   for path in glob.iglob(os.path.join(str(self.repository.root), pattern,
                                                                       "record.yaml")))
        return self._known[key]

    @staticmethod
    def _live(path: str) -> bool:
        """The record at ``path`` is not void (read directly: a refused record writes nothing, not even a cache)."""
        try:
            with open(path, encoding="utf-8") as handle:
                raw = yamlio.load(handle.read())
        except (OSError, ValueError, yamlio.YAMLError):  # unreadable: not evidence of anything
            return False
        return isinstance(raw, dict) and raw.get("status") != "void"
