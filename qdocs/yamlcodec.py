"""Deterministic YAML for files people read in git diffs, and user YAML read as typed
(through :mod:`qdocs.yamlio`, which loads this module and PyYAML on first use).

Keys keep the order the program gives them, Unicode is written as is, and
multi-line text is written as a literal block so a diff shows the changed line.

User data files are read by :func:`load_as_text`: every scalar stays the text
typed (``0012``, ``1.50``, ``yes``), except YAML's own word for "no value": a
plain ``null``, ``Null``, ``NULL``, ``~`` or nothing at all is ``None``, as the
YAML specification says, so a mandatory field left as ``conclusion: ~`` is
refused instead of being filled with the text "~".  Quoted (``"null"``,
``'~'``) it is text the user typed on purpose and stays.  A key named twice in
one mapping is refused (:class:`~qdocs.errors.DuplicateKeyError`, with both
lines) rather than the last value silently winning.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import DuplicateKeyError

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
    """Read user YAML keeping every scalar as the text typed (``12.50``, ``2026-03-05``);
    a plain YAML null is ``None``; a key twice in a mapping raises :class:`DuplicateKeyError`."""
    return yaml.load(text, Loader=_TextLoader)


#: YAML 1.1 and 1.2 core schema: the plain scalars that mean "no value"
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})


class _TextLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The base loader (no type guessing), with nulls and duplicate keys recognised."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        places: dict[str, tuple[int, int]] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                place = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key_node.value in places:
                    raise DuplicateKeyError(key_node.value, places[key_node.value], place)
                places[key_node.value] = place
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # keys stay text even when they read like null: a key `~` is an unknown field, not None
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else self.construct_object(key_node, deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark,
                                                        "found unhashable key", key_node.start_mark) from None
            mapping[key] = self.construct_object(value_node, deep)
        return mapping


def _construct_text(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> str | None:
    # the C parser marks a plain scalar with style '', the Python one with None; quoted or block: '"', "'", '|', '>'
    if not node.style and node.value in NULL_WORDS:
        return None
    return node.value


_TextLoader.add_constructor("tag:yaml.org,2002:str", _construct_text)
_TextLoader.add_constructor("tag:yaml.org,2002:null", lambda loader, node: None)


YAMLError = yaml.YAMLError


def load_list_as_text(text: str) -> Any:
    """:func:`load_as_text` for a batch file, in a fraction of its memory: when the document is
    a list, its items are read one at a time.  PyYAML builds a node (with two position marks)
    for every scalar of a document before it makes any Python value of it: a 10 MB list of
    10,000 records took 230 MiB that way, against the 46 MiB of the values themselves.  Here
    the parser's events are gathered for one item, that item composed and constructed, and
    its nodes dropped before the next.  Anything else (a mapping, several documents, an alias
    to an anchor of another item) is read whole by :func:`load_as_text`, which answers it (or
    refuses it) exactly as before."""
    events = yaml.parse(text, Loader=_BaseLoader)
    opening = [next(events, None), next(events, None), next(events, None)]
    if not isinstance(opening[2], yaml.SequenceStartEvent) or opening[2].anchor is not None:
        return load_as_text(text)
    constructor = _TextLoader("")
    items: list[Any] = []
    try:
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                break
            gathered, depth = [event], _depth(event)
            while depth:
                following = next(events)
                gathered.append(following)
                depth += _depth(following)
            items.append(constructor.construct_document(_ItemComposer(gathered).get_single_node()))
        rest = [type(event) for event in events]
    except yaml.composer.ComposerError:
        return load_as_text(text)  # an alias to an anchor of another item: read whole
    if rest != [yaml.DocumentEndEvent, yaml.StreamEndEvent]:
        return load_as_text(text)
    return items


def _depth(event: yaml.Event) -> int:
    if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
        return 1
    if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
        return -1
    return 0


class _ItemComposer(yaml.composer.Composer, yaml.resolver.BaseResolver):
    """Composes one item of a list from its gathered parser events, as a document of its own
    (with the base resolver: every scalar is text, as for :class:`_TextLoader`)."""

    def __init__(self, events: list[yaml.Event]) -> None:
        yaml.composer.Composer.__init__(self)
        yaml.resolver.BaseResolver.__init__(self)
        self._events = [yaml.StreamStartEvent(), yaml.DocumentStartEvent(), *events, yaml.DocumentEndEvent(),
                        yaml.StreamEndEvent()]
        self._events.reverse()

    def check_event(self, *choices: type) -> bool:
        return bool(self._events) and (not choices or isinstance(self._events[-1], choices))

    def peek_event(self) -> yaml.Event:
        return self._events[-1]

    def get_event(self) -> yaml.Event:
        return self._events.pop()
