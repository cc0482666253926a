"""Splitting mixed Chinese and English text into index terms.

Why CJK bigrams and not a dictionary segmenter: jieba loads its dictionary in
about 1.6 s per process, which a command-line tool pays on every search.  Bigrams
(what Lucene's CJKAnalyzer does) need no dictionary, start in well under a
millisecond, and find *every* Chinese word of two or more characters wherever it
occurs, also inside longer words (检验 in 出厂检验报告), which a segmenter can miss
when it cuts the sentence differently.  The price is a larger index and some
false positives across word boundaries, which phrase matching of consecutive
bigrams keeps rare.

How a run of CJK characters ``c1 c2 … cn`` is indexed:

- bigrams ``c1c2, c2c3, …`` at consecutive positions, so a query word of three or
  more characters is the phrase of its bigrams and matches only the exact
  sequence;
- the last character ``cn`` as a unigram (at the position of the last bigram), so
  every character of the text starts some term: a one-character query ``c``
  becomes the prefix query ``c*`` (see :func:`single_cjk_character`) and finds
  ``c`` anywhere;
- a run of one character is that character.

Other words are case-folded (with NFKC, so full-width ``ＡＢＣ１２３`` is ``abc123``),
English stop words are dropped and the rest stemmed (``inspections`` →
``inspect``).  Nothing here imports the search engine: the engine module wraps
:func:`terms` in its own tokenizer and passes in its stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Iterator, NamedTuple

#: Han (with extension A and compatibility ideographs), kana and Hangul.
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD_CLASS = rf"[^\W_{_CJK_CLASS}]"
_PIECES = re.compile(rf"(?P<cjk>[{_CJK_CLASS}]+)|(?P<word>{_WORD_CLASS}+(?:\.{_WORD_CLASS}+)*)")
_SINGLE_CJK = re.compile(rf"^[{_CJK_CLASS}]$")

#: The stop words of Whoosh's and Lucene's English analyzers.
STOP_WORDS = frozenset("""
a an and are as at be by can for from have if in is it may not of on or tbd that the this to us we when will
with yet you your
""".split())


class Term(NamedTuple):
    text: str
    position: int
    start: int
    end: int


Stemmer = Callable[[str], str]


def terms(text: str, stem: Stemmer, query: bool = False) -> Iterator[Term]:
    """The index terms of ``text`` with positions and character offsets.

    With ``query`` true a CJK run of two or more characters gives only its
    bigrams (the last-character unigram is an index-side aid for one-character
    queries).
    """
    position = 0
    for match in _PIECES.finditer(text):
        start = match.start()
        if match.lastgroup == "word":
            word = fold(match.group())
            if word in STOP_WORDS:
                position += 1
                continue
            yield Term(stem(word) if word.isalpha() else word, position, start, match.end())
            position += 1
            continue
        run = fold(match.group())
        if len(run) != len(match.group()):  # keep offsets true for highlighting
            run = match.group()
        if len(run) == 1:
            yield Term(run, position, start, start + 1)
            position += 1
            continue
        for offset in range(len(run) - 1):
            yield Term(run[offset:offset + 2], position + offset, start + offset, start + offset + 2)
        last = len(run) - 2
        if not query:
            yield Term(run[-1], position + last, start + last + 1, start + last + 2)
        position += last + 1


def single_cjk_character(text: str) -> bool:
    """A one-character CJK term, which search expands to a prefix query."""
    return bool(_SINGLE_CJK.match(text))


def fold(text: str) -> str:
    """Case-folded, with full-width letters and digits made ordinary (NFKC)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()
