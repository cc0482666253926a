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

Groups of two and three words next to each other (``mechan seal``) are index
terms too, so that a quoted phrase of words is found by one term instead of
being checked against every record's text (:func:`word_groups`).

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
#: The CJK ranges of :data:`CJK_CLASS` as code points, for checks without another pattern
#: (each pattern with these classes costs milliseconds to compile, in every search process).
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xAC00, 0xD7AF))
#: Between the words of a group term ("mechan seal"); no word holds one.
GROUP_SEPARATOR = " "

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


def word_groups(text: str, stem: Stemmer) -> dict[str, int]:
    """The groups of two and of three words standing next to each other in ``text``
    (words as the index has them; stop words between them do not separate them, any
    CJK text or number does), each with how often it occurs: the index keeps them so
    that a quoted phrase of words is found by one term (see :func:`phrase_groups`),
    the way Chinese n-grams find a Chinese word, without positions.  Numbers are left
    out (measurements would make millions of groups found by nobody): a phrase with a
    number is checked against the text."""
    return index_terms(text, stem)[1]


def phrase_groups(words: list[str]) -> list[str] | None:
    """The index terms that find a quoted phrase of words (see :func:`word_groups`):
    the phrase itself for two or three words, its overlapping groups of three for
    more (those then hold the words in order, to be checked against the text).
    None when the phrase is not made of words with letters only (Chinese is found by
    its n-grams, numbers are not grouped)."""
    if len(words) < 2 or not all(_word_only(word) and _has_letter(word) for word in words):
        return None
    if len(words) <= 3:
        return [GROUP_SEPARATOR.join(words)]
    return [GROUP_SEPARATOR.join(words[start:start + 3]) for start in range(len(words) - 2)]


def index_terms(text: str, stem: Stemmer) -> tuple[dict[str, int], dict[str, int]]:
    """Each index term of ``text`` with how often it occurs (what :func:`terms` gives on
    the index side, counted the way the index stores it, in a third of the time), and
    each group of words (:func:`word_groups`), from one pass over the text."""
    found: dict[str, int] = collections.defaultdict(int)
    groups: dict[str, int] = collections.defaultdict(int)
    before = after = ""  # the last two words of the current run of words, for groups
    for match in _PIECES.finditer(text):
        piece = match.group()
        if match.lastgroup == "word":
            word = fold(piece)
            if word not in STOP_WORDS:
                alphabetic = word.isalpha()
                term = stem(word) if alphabetic else word
                found[term] += 1
                if not (alphabetic or _has_letter(word)):  # a number: not grouped, and it parts groups
                    before = after = ""
                    continue
                if after:
                    groups[after + GROUP_SEPARATOR + term] += 1
                    if before:
                        groups[before + GROUP_SEPARATOR + after + GROUP_SEPARATOR + term] += 1
                before, after = after, term
            continue
        before = after = ""
        run = _fold_run(piece)
        last = len(run) - 1
        for offset in range(last):
            found[run[offset:offset + 2]] += 1
            if offset < last - 1:
                found[run[offset:offset + 3]] += 1
        found[run[-1]] += 1
    return found, groups


def _has_letter(word: str) -> bool:
    return any(map(str.isalpha, word))


def single_cjk_character(text: str) -> bool:
    """A one-character CJK term, which search widens to the terms starting with it."""
    return len(text) == 1 and cjk_text(text)


def cjk_text(text: str) -> bool:
    return bool(text) and all(any(low <= ord(character) <= high for low, high in _CJK_RANGES) for character in text)


def _word_only(text: str) -> bool:
    """Whether ``text`` is one word as :func:`terms` reads words (letters and digits, inner dots)."""
    match = _PIECES.fullmatch(text)
    return match is not None and match.lastgroup == "word"


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
