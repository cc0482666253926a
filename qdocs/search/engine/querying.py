"""From a query's tree (:mod:`.parsing`) to tantivy queries, and what a snippet marks.

- a word is all of its terms (``Must``); a one-character Chinese word is every term
  of up to two characters beginning with it (the index has each character at the
  start of some term, see :mod:`qdocs.search.analysis`);
- a quoted phrase of two or three words is one term of the ``groups`` field; a longer
  one all its groups of three, and a phrase with Chinese or numbers all its terms,
  both then checked against the record's stored text (the index keeps no positions):
  the records passing the check are found first, and the phrase becomes "its terms,
  in one of those records", so that it can stand anywhere in a query;
- ``NOT x`` alone is every record but those of ``x``;
- dates are integer ranges, counted as a constant.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ..analysis import CJK_CLASS, STOP_WORDS, cjk_text, phrase_groups, single_cjk_character
from ..snippets import Needles
from .parsing import And, AndMaybe, DateRange, Every, Node, Not, Nothing, Or, Pattern, Phrase, Terms
from .schema import GROUP_JOINER, TEXT_FIELD

#: Finds the records holding a phrase: (query of its terms, the text pattern) → paths.
PhraseCheck = Callable[[Any, re.Pattern], list[str]]


class Compiler:
    def __init__(self, tantivy: Any, schema: Any, check: PhraseCheck) -> None:
        self.tantivy, self.schema, self.check = tantivy, schema, check

    def query(self, node: Node) -> Any:
        tantivy, Occur, Query = self.tantivy, self.tantivy.Occur, self.tantivy.Query
        if isinstance(node, Every):
            return Query.all_query()
        if isinstance(node, Nothing):
            return Query.empty_query()
        if isinstance(node, Terms):
            if len(node.texts) == 1 and node.field == TEXT_FIELD and single_cjk_character(node.texts[0]):
                return Query.regex_query(self.schema, TEXT_FIELD, escape(node.texts[0]) + ".?")
            return self._all([self._term(node.field, text) for text in node.texts])
        if isinstance(node, Pattern):
            pattern = ".*" if node.text == "*" else escape(node.text).replace(r"\*", ".*").replace(r"\?", ".")
            return Query.regex_query(self.schema, node.field, pattern)
        if isinstance(node, DateRange):
            return Query.range_query(self.schema, node.field, tantivy.FieldType.Integer,
                                     node.low if node.low is not None else -2 ** 63,
                                     node.high if node.high is not None else 2 ** 63 - 1)
        if isinstance(node, Phrase):
            return self._phrase(node)
        if isinstance(node, And):
            return Query.boolean_query([(Occur.MustNot, self.query(child.child)) if isinstance(child, Not)
                                        else (Occur.Must, self.query(child)) for child in node.children]
                                       + self._every_if_only_exclusions(node.children))
        if isinstance(node, Or):
            return Query.boolean_query([(Occur.Should, self.query(child)) for child in node.children])
        if isinstance(node, Not):
            return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, self.query(node.child))])
        if isinstance(node, AndMaybe):
            return Query.boolean_query([(Occur.Must, self.query(node.required)),
                                        (Occur.Should, self.query(node.optional))])
        raise TypeError(f"not a query node: {node!r}")

    def _every_if_only_exclusions(self, children: tuple[Node, ...]) -> list[tuple[Any, Any]]:
        if all(isinstance(child, Not) for child in children):
            return [(self.tantivy.Occur.Must, self.tantivy.Query.all_query())]
        return []

    def _phrase(self, node: Phrase) -> Any:
        groups = phrase_groups(list(node.words))
        if groups is not None:
            found = self._all([self._term("groups", group.replace(" ", GROUP_JOINER)) for group in groups])
            if len(groups) == 1:
                return found
        else:
            found = self._all([self._term(node.field, text) for text in node.required])
        paths = self.check(found, phrase_pattern(list(node.words)))
        if not paths:
            return self.tantivy.Query.empty_query()
        return self.tantivy.Query.boolean_query([
            (self.tantivy.Occur.Must, found),
            (self.tantivy.Occur.Must, self.tantivy.Query.term_set_query(self.schema, "path", paths))])

    def _term(self, field: str, text: str) -> Any:
        return self.tantivy.Query.term_query(self.schema, field, text)

    def _all(self, queries: list[Any]) -> Any:
        if len(queries) == 1:
            return queries[0]
        return self.tantivy.Query.boolean_query([(self.tantivy.Occur.Must, query) for query in queries])


def needles(node: Node) -> Needles:
    """What the query asks of the text, for marking in snippets (not what it excludes)."""
    found = Needles()
    _collect(node, found)
    return found


def _collect(node: Node, found: Needles) -> None:
    if isinstance(node, Terms) and node.field == TEXT_FIELD:
        _add_words(found, list(node.texts))
    elif isinstance(node, Phrase) and node.field == TEXT_FIELD:
        _add_words(found, list(node.words))
    elif isinstance(node, Pattern) and node.field == TEXT_FIELD and node.text != "*":
        found.wildcards.add(node.text)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            _collect(child, found)
    elif isinstance(node, AndMaybe):
        _collect(node.required, found)
        _collect(node.optional, found)


#: The characters a tantivy (Rust) regular expression needs escaped.
_SPECIAL = set("\\.+*?()|[]{}^$#&-~")


def escape(text: str) -> str:
    return "".join("\\" + character if character in _SPECIAL else character for character in text)


def phrase_pattern(words: list[str]) -> re.Pattern:
    """A quoted phrase as a pattern over the stored text: its words in order, next to
    each other (only spaces, punctuation or dropped stop words between them); Chinese
    n-grams joined back into the characters typed, English words by their stem."""
    pieces: list[str] = []
    for part in _joined(words):
        if cjk_text(part):
            pieces.append(re.escape(part))
        else:
            stem = part[:-1] if part.endswith("i") and len(part) > 2 else part
            pieces.append(rf"(?<![A-Za-z0-9]){re.escape(stem)}[A-Za-z0-9]*")
    return re.compile(_GAP.join(pieces), re.IGNORECASE)


_SEPARATOR = rf"[^A-Za-z0-9{CJK_CLASS}]*"
_GAP = rf"{_SEPARATOR}(?:(?:{'|'.join(sorted(STOP_WORDS))}){_SEPARATOR}){{0,2}}?"


def _joined(words: list[str]) -> list[str]:
    """Chinese n-grams of one word joined back into the word; other words as they are."""
    parts: list[str] = []
    for word in words:
        if cjk_text(word) and parts and cjk_text(parts[-1]):
            if parts[-1].endswith(word[:-1]):
                parts[-1] += word[-1]
                continue
            if word in parts[-1]:
                continue
        parts.append(word)
    return parts


def _add_words(found: Needles, words: list[str]) -> None:
    for part in _joined(words):
        (found.exact if cjk_text(part) else found.stems).add(part)
