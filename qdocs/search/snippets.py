"""Snippets: where a record's text matches the query, with the matches marked.

The engine's own highlighter analyses the whole text of every hit again (about
5 ms a record in Whoosh's), which would be most of a query's time.  Here the
matches are found with regular expressions built once per query: Chinese words
as they were typed (检验, also inside 出厂检验报告), English words by their stem
(``inspections`` marks inspected and inspection), wildcards as patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .analysis import fold
from .model import MARK_END, MARK_START

#: A letter or digit of an English word; ASCII, because a regular expression with
#: the Unicode class compiles in about 6 ms, which a search would pay every time.
_WORD = "[A-Za-z0-9]"
WIDTH, BEFORE, FRAGMENTS = 160, 40, 2


@dataclass
class Needles:
    """What to mark: exact strings (Chinese), English stems, wildcard patterns."""

    exact: set[str] = field(default_factory=set)
    stems: set[str] = field(default_factory=set)
    wildcards: set[str] = field(default_factory=set)

    def finder(self, stem: Callable[[str], str]) -> Callable[[str], list[tuple[int, int]]]:
        """A function giving the merged (start, end) spans of matches in a text."""
        patterns = [re.escape(text) for text in sorted(self.exact, key=len, reverse=True)]
        for pattern in sorted(self.wildcards):
            patterns.append(rf"(?<!{_WORD})" + re.escape(pattern).replace(r"\*", f"{_WORD}*").replace(r"\?", _WORD)
                            + rf"(?!{_WORD})")
        candidates = None
        if self.stems:
            prefixes = sorted({re.escape(value[:-1] if value.endswith("i") else value) for value in self.stems})
            candidates = re.compile(rf"(?<!{_WORD})(?:{'|'.join(prefixes)}){_WORD}*", re.IGNORECASE)
        matcher = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

        def spans(text: str) -> list[tuple[int, int]]:
            found = [match.span() for match in matcher.finditer(text)] if matcher else []
            if candidates is not None:
                found.extend(match.span() for match in candidates.finditer(text)
                             if stem(fold(match.group())) in self.stems)
            return _merged(found)

        return spans


def snippet(text: str, spans: list[tuple[int, int]]) -> str:
    """Up to two fragments of ``text`` around its first matches, matches marked."""
    if not spans:
        return " ".join(text[:120].split())
    pieces: list[str] = []
    covered = -1
    for start, _ in spans:
        if start < covered:
            continue
        begin = max(0, start - BEFORE)
        end = min(len(text), begin + WIDTH)
        inside = [(low, high) for low, high in spans if low >= begin and low < end]
        end = max(end, inside[-1][1])
        parts, cursor = [], begin
        for low, high in inside:
            parts += [text[cursor:low], MARK_START, text[low:high], MARK_END]
            cursor = high
        parts.append(text[cursor:end])
        pieces.append(" ".join("".join(parts).split()))
        covered = end
        if len(pieces) == FRAGMENTS:
            break
    return " … ".join(pieces)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
