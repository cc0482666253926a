"""``pip install .`` must ship every package of the library and the templates."""

from __future__ import annotations

import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def test_every_library_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(PROJECT).parts) for path in (PROJECT / "qdocs").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "qdocs.templates" in listed


def test_the_version_has_one_source():
    """``qdocs --version`` prints ``qdocs.__version__``; pyproject.toml takes the package metadata's
    version from there, so the installed metadata says the same."""
    from importlib.metadata import version

    from click.testing import CliRunner

    import cli
    import qdocs

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "qdocs.__version__"}
    result = CliRunner().invoke(cli.cli, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"qdocs {qdocs.__version__}\n"
    assert version("qdocs") == qdocs.__version__


def _imported_top_level_modules() -> dict[str, set[str]]:
    """Every module the installed code imports (qdocs/ and cli.py; inside functions and
    ``TYPE_CHECKING`` blocks too), by top-level name, with the files that import it."""
    import ast

    found: dict[str, set[str]] = {}
    for path in [PROJECT / "cli.py", *sorted((PROJECT / "qdocs").rglob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(PROJECT)))
    return found


def _normalized(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency():
    """A package the code imports but does not declare works only while another dependency
    happens to pull it in (lxml, Jinja2 and MarkupSafe came with docxtpl): declare each."""
    import re
    import sys
    from importlib.metadata import packages_distributions

    declared = {_normalized(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))
                for requirement in tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
                ["project"]["dependencies"]}
    distributions = packages_distributions()
    own = {"qdocs", "cli"}
    third_party = {module: files for module, files in _imported_top_level_modules().items()
                   if module not in sys.stdlib_module_names and module not in own}
    assert {"click", "docx", "lxml", "jinja2", "markupsafe"} <= set(third_party)  # the walk sees them
    undeclared = {}
    for module, files in sorted(third_party.items()):
        providers = {_normalized(name) for name in distributions.get(module, [])}
        if not providers & declared:
            undeclared[module] = (sorted(providers) or ["not installed"], sorted(files)[:3])
    assert not undeclared, f"declare in pyproject.toml [project] dependencies: {undeclared}"
