"""YAML read with line numbers, so an error in a hand-edited file can name its line.

:func:`load_located` returns plain dicts, lists and scalars (scalars as
PyYAML's safe loader types them) where every dict and list also knows the line
it starts on and the line of each of its keys or items.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import QdocsError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


class RulesError(QdocsError):
    """The rules file is malformed; the message names the file and line."""


class Where:
    """A place in a file, for messages like ``rules.yaml line 12: ...``."""

    def __init__(self, source: str, line: int = 0) -> None:
        self.source, self.line = source, line

    def at(self, container: Any, key: Any) -> "Where":
        line = container.line_of(key) if hasattr(container, "line_of") else self.line
        return Where(self.source, line or self.line)

    def fail(self, message: str) -> RulesError:
        return RulesError(f"{self.source} line {self.line}: {message}")

    def error(self, container: Any, key: Any, message: str) -> RulesError:
        return self.at(container, key).fail(message)


class LocatedDict(dict):
    """A mapping that remembers its line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A sequence that remembers its line and each item's line (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(value: Any, default: int = 0) -> int:
    return getattr(value, "line", default)


def load_located(text: str) -> Any:
    """Parse ``text``; raises ``yaml.YAMLError`` (with ``problem_mark``) on bad syntax."""
    node = yaml.compose(text, Loader=_Loader)
    if node is None:
        return None
    constructor = yaml.SafeLoader("")
    return _convert(node, constructor)


def _convert(node: yaml.Node, constructor: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = LocatedDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        constructor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _convert(key_node, constructor)
            if isinstance(key, (dict, list)):
                raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value",
                                                        key_node.start_mark)
            result[key] = _convert(value_node, constructor)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList(_convert(item, constructor) for item in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    return constructor.construct_object(node, deep=True)


def syntax_error_line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else None
