"""What a changed form must pass before anyone may approve it.

The forms are checked together as they would be in force: the catalog (the changed
one, or the approved one), every template (changed or approved) against that catalog
(:mod:`qdocs.templatecheck`), and the rules (changed or approved) against it.  A
template that names a field the catalog lacks would otherwise only fail when the
first record of its type is made, on the shop floor.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..audit.located import RulesError
from ..audit.rules import parse_rules
from ..catalog import catalog_from_text
from ..errors import CatalogError, UsageError
from ..forms import CATALOG_FORM, FORMS_FOLDER, RULES_FORM, read_approved
from ..templatecheck import check_templates

if TYPE_CHECKING:
    from ..repository import Repository


def check_forms_before_approval(repository: "Repository", changed: dict[str, bytes]) -> None:
    """Raise with the first problems found when the forms, with ``changed`` in force, do not fit."""
    catalog_text = (changed.get(CATALOG_FORM) or read_approved(repository, CATALOG_FORM)).decode("utf-8", "replace")
    try:
        catalog = catalog_from_text(catalog_text, repository.root / CATALOG_FORM)
    except CatalogError as error:
        raise UsageError(f"{CATALOG_FORM} cannot be approved: {error}") from None
    with tempfile.TemporaryDirectory(prefix="qdocs-forms-") as folder:
        for record_type in catalog.types.values():
            path = f"{FORMS_FOLDER}/{record_type.template}"
            try:
                content = changed.get(path) or read_approved(repository, path)
            except UsageError:
                raise UsageError(f"{path} cannot be approved with the catalog: {record_type.id} has no approved "
                                 f"template; add {path} and approve it too") from None
            (Path(folder) / record_type.template).write_bytes(content)
        findings = [finding for finding in check_templates(catalog, [Path(folder) / record_type.template
                                                                      for record_type in catalog.types.values()])
                    if finding.severity == "error"]
    if findings:
        shown = "; ".join(str(finding) for finding in findings[:3])
        more = f" (and {len(findings) - 3} more)" if len(findings) > 3 else ""
        raise UsageError(f"the forms cannot be approved: {shown}{more}; run qdocs templates check")
    rules_text = (changed.get(RULES_FORM) or read_approved(repository, RULES_FORM)).decode("utf-8", "replace")
    try:
        parse_rules(rules_text, RULES_FORM, catalog)
    except RulesError as error:
        raise UsageError(f"the forms cannot be approved: {error}") from None
