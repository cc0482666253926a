"""Splitting mixed Chinese and English text into index terms.

Why character n-grams and not a dictionary segmenter: jieba loads its dictionary
in about 1.6 s per process, which a command-line tool pays on every search.
N-grams (as Lucene's CJKAnalyzer does with bigrams) need no dictionary, start
in well under a millisecond, and find *every* Chinese word of two or more
characters wherever it occurs, also inside longer words (检验 in 出厂检验报告),
which a segmenter misses when it cuts the sentence differently.

How a run of CJK characters ``c1 c2 … cn`` is indexed (position ``i`` is the
offset of the n-gram's first character in the run):

- bigrams ``c1c2, c2c3, …`` and trigrams ``c1c2c3, c2c3c4, …``: a query word of
  two or three characters is then found exactly by one term, a longer word by
  all of its trigrams, without positions (the index
  keeps none: in a pure-Python engine they cost more than everything else
  together).  The only inexactness: a record holding every trigram of a word of
  four or more characters, but never all together; a quoted phrase is checked
  against the record's text and is exact;
- the last character ``cn`` as a unigram, so every character starts some term:
  a one-character query ``c`` becomes the terms of up to two characters
  starting with ``c`` (see :func:`single_cjk_character`);
- a run of one character is that character.

Other words are case-folded (with NFKC, so full-width ``ＡＢＣ１２３`` is ``abc123``),
English stop words are dropped and the rest stemmed (``inspections`` →
``inspect``).  Nothing here imports the search engine: the engine module wraps
:func:`terms` in its own tokenizer and passes in its stemmer.
"""

from __future__ import annotations

import collections
import re
import unicodedata
from typing import Callable, Iterator, NamedTuple

#: Han (with extension A and compatibility ideographs), kana and Hangul.
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
#: A letter or digit of a non-CJK word (a regular-expression class).
WORD_CLASS = rf"[^\W_{CJK_CLASS}]"
_PIECES = re.compile(rf"(?P<cjk>[{CJK_CLASS}]+)|(?P<word>{WORD_CLASS}+(?:\.{WORD_CLASS}+)*)")
_CJK_ONLY = re.compile(rf"^[{CJK_CLASS}]+$")

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
    """The terms of ``text`` with positions and character offsets, in position order.

    The index side gives every term above.  The query side gives what finds a
    word: one term for one or two characters, else its trigrams.
    """
    position = 0
    for match in _PIECES.finditer(text):
        start, piece = match.start(), match.group()
        if match.lastgroup == "word":
            word = fold(piece)
            if word not in STOP_WORDS:
                yield Term(stem(word) if word.isalpha() else word, position, start, match.end())
            position += 1
            continue
        run = _fold_run(piece)
        size = len(run)
        if size == 1:
            yield Term(run, position, start, start + 1)
        elif query and size == 2:
            yield Term(run, position, start, start + size)
        elif query:
            for offset in range(size - 2):
                yield Term(run[offset:offset + 3], position + offset, start + offset, start + offset + 3)
        else:
            for offset in range(size - 1):
                yield Term(run[offset:offset + 2], position + offset, start + offset, start + offset + 2)
                if offset < size - 2:
                    yield Term(run[offset:offset + 3], position + offset, start + offset, start + offset + 3)
            yield Term(run[-1], position + size - 2, start + size - 1, start + size)
        position += max(size - 1, 1)


def term_positions(text: str, stem: Stemmer) -> dict[str, list[int]]:
    """Each index term of ``text`` with its positions: what :func:`terms` gives on
    the index side, gathered the way an index stores it, at a third of the cost."""
    found: dict[str, list[int]] = collections.defaultdict(list)
    position = 0
    for match in _PIECES.finditer(text):
        piece = match.group()
        if match.lastgroup == "word":
            word = fold(piece)
            if word not in STOP_WORDS:
                found[stem(word) if word.isalpha() else word].append(position)
            position += 1
            continue
        run = _fold_run(piece)
        last = len(run) - 1
        for offset in range(last):
            found[run[offset:offset + 2]].append(position + offset)
            if offset < last - 1:
                found[run[offset:offset + 3]].append(position + offset)
        found[run[-1]].append(position + max(last - 1, 0))
        position += max(last, 1)
    return found


def single_cjk_character(text: str) -> bool:
    """A one-character CJK term, which search widens to the terms starting with it."""
    return len(text) == 1 and bool(_CJK_ONLY.match(text))


def cjk_text(text: str) -> bool:
    return bool(_CJK_ONLY.match(text))


def fold(text: str) -> str:
    """Case-folded, with full-width letters and digits made ordinary (NFKC)."""
    if text.isascii():
        return text.lower()
    if unicodedata.is_normalized("NFKC", text):
        return text.casefold()
    return unicodedata.normalize("NFKC", text).casefold()


def _fold_run(run: str) -> str:
    folded = fold(run)
    return folded if len(folded) == len(run) else run  # keep character offsets true
