"""Suggestions ("did you mean ...?") for a name that is not in the catalog.

A record type, role or signature meaning is typed by hand and looked up by its
exact id.  When the lookup fails, the message names the closest ids (difflib's
ratio, as Python's own "did you mean" does), so ``final-inspecton`` leads to
``final-inspection`` at once; when nothing is close, it lists every id, which is
short enough in a catalog of a few dozen names.
"""

from __future__ import annotations

import difflib
from typing import Iterable

#: how alike (0 to 1, difflib's ratio) a name must be to be suggested; 0.6 is difflib's own default
CUTOFF = 0.6
#: names less alike than the best by more than this are left out: ``final-inspecton`` is 0.97 like
#: final-inspection and 0.71 like incoming-inspection, and naming the second only blurs the answer
MARGIN = 0.1
MOST = 3


def closest(word: str, names: Iterable[str]) -> list[str]:
    """The names most like ``word``, best first (at most three); none when nothing is close."""
    by_folded = {name.casefold(): name for name in names}  # a slip of case is as close as can be
    typed = word.strip().casefold()
    scored = sorted(((difflib.SequenceMatcher(None, typed, folded).ratio(), folded) for folded in by_folded),
                    key=lambda pair: -pair[0])
    if not scored or scored[0][0] < CUTOFF:
        return []
    best = scored[0][0]
    return [by_folded[folded] for ratio, folded in scored[:MOST] if ratio >= max(CUTOFF, best - MARGIN)]


def unknown(kind: str, word: object, names: Iterable[str], plural: str | None = None) -> str:
    """``unknown record type 'final-inspecton'; did you mean final-inspection?``, or, when
    nothing is close, ``unknown record type 'x'; known record types: a, b, c``."""
    names = list(names)
    near = closest(word, names) if isinstance(word, str) else []
    if near:
        return f"unknown {kind} {word!r}; did you mean {' or '.join(near)}?"
    return f"unknown {kind} {word!r}; known {plural or kind + 's'}: {', '.join(names)}"
