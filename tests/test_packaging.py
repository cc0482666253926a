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
