"""Deterministic YAML for files people read in git diffs, and user YAML read as typed.

The front door to :mod:`qdocs.yamlcodec` (where the reading and writing are, and why they
read and write as they do): PyYAML is imported on the first call, so a command that reads no
YAML (a search with its index current) does not pay for loading it.
"""

from __future__ import annotations

from typing import Any


def dump(data: Any) -> str:
    """The one YAML form qdocs writes: same data, same bytes."""
    from .yamlcodec import dump as dumped

    return dumped(data)


def load(text: str) -> Any:
    """Read YAML qdocs wrote (typed: booleans, numbers, nulls)."""
    from .yamlcodec import load as loaded

    return loaded(text)


def load_as_text(text: str) -> Any:
    """Read user YAML keeping every scalar as the text typed; see :mod:`qdocs.yamlcodec`."""
    from .yamlcodec import load_as_text as loaded

    return loaded(text)


def load_list_as_text(text: str) -> Any:
    """:func:`load_as_text` for a batch file, one list item at a time; see :mod:`qdocs.yamlcodec`."""
    from .yamlcodec import load_list_as_text as loaded

    return loaded(text)


def __getattr__(name: str) -> Any:
    """``YAMLError`` (what ``except yamlio.YAMLError`` catches), PyYAML's own, loaded when asked."""
    if name == "YAMLError":
        import yaml

        return yaml.YAMLError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
