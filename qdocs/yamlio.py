"""Deterministic YAML for files people read in git diffs.

Keys keep the order the program gives them, Unicode is written as is, and
multi-line text is written as a literal block so a diff shows the changed line.
"""

from __future__ import annotations

from typing import Any

import yaml

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def dump(data: Any) -> str:
    """The one YAML form qdocs writes: same data, same bytes."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=100, indent=2,
    )


def load(text: str) -> Any:
    """Read YAML qdocs wrote (typed: booleans, numbers, nulls)."""
    return yaml.load(text, Loader=_SafeLoader)


def load_as_text(text: str) -> Any:
    """Read user YAML keeping every scalar as the text typed (``12.50``, ``2026-03-05``)."""
    return yaml.load(text, Loader=_BaseLoader)


YAMLError = yaml.YAMLError
