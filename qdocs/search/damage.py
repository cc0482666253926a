"""When the search index counts as damaged: decided here, and only here.

The index is a cache of the records (git-ignored, rebuilt at will), so damage
is never the user's problem: it is detected, the index rebuilt with one notice
and the command answered.  The opposite mistake must not happen either: a bug
in qdocs taken for damage and hidden by a rebuild.  Hence two steps.

1. **The manifest decides.**  When a generation of the index is committed,
   ``state.json`` records every file of it with its size and SHA-256
   (:mod:`.manifest`).  A file that is missing or differs from its entry is
   damage, whatever a reader would make of it.  Exceptions alone could not
   tell: in a trial on a small index (each file in turn truncated, garbled or
   with bits flipped) more than half of the damaged copies still read without
   an error, and some of those answered searches differently (a field length
   changed the ranking).  The state file carries a checksum of itself;
   ``CURRENT`` must name a generation folder.

2. **Exceptions only raise suspicion.**  While the index is read, an exception
   counts as a sign of damage (:func:`suspected`) only if it is what reading a
   file that is not what was written raises: an ``OSError`` (a file gone or
   unreadable), a ``ValueError`` (what tantivy's binding raises for its errors,
   a stored field that is not JSON, a ``UnicodeDecodeError``), the engine's own
   format errors (a panic of tantivy on what it read), or a ``KeyError``,
   ``IndexError``, ``AssertionError`` or bare ``Exception`` raised inside the
   engine's own Python code.  Everything else (``AttributeError``, ``TypeError``, ``NameError``,
   a ``KeyError`` in qdocs' code...) is a bug and propagates untouched.  A
   suspected error leads to a thorough check (every file hashed) under the
   index lock: if the files differ from the manifest the index is rebuilt; if
   they are intact the read is tried once more *outside* this module, so that
   a bug shows itself instead of being rebuilt away.  A writer replacing files
   under a reader also looks like damage for a moment; the check under the
   lock waits for that writer and then finds the index intact.
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import qdocs


class IndexUnreadable(Exception):
    """The live index cannot be used as it is.  ``str()`` says how, to follow
    "the search index is" or "the search index was" (e.g. "damaged (…)")."""


class IndexMissing(IndexUnreadable):
    """There is no index at all (none was ever built, or its folder is empty)."""


class IndexDamaged(IndexUnreadable):
    """Files of the index are missing or differ from what was written."""


class IndexOutdated(IndexUnreadable):
    """An index of an older format, or of a commit the repository no longer has."""


class IndexSuspect(IndexUnreadable):
    """A read failed the way a damaged file makes it fail; not yet checked."""


_QDOCS = os.path.dirname(qdocs.__file__) + os.sep


def suspected(error: BaseException) -> bool:
    """Whether ``error``, raised while reading the index, may come from damaged files."""
    from . import engine  # tantivy: imported only where the index is read anyway

    if isinstance(error, (OSError, ValueError, *engine.FORMAT_ERRORS)):
        return True
    if isinstance(error, (KeyError, IndexError, AssertionError)) or type(error) is Exception:
        return _raised_in_engine(error, engine.SOURCE)
    return False


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Reads of the index: a suspected error becomes :class:`IndexSuspect`."""
    try:
        yield
    except IndexUnreadable:
        raise
    except Exception as error:
        if not suspected(error):
            raise
        raise IndexSuspect(f"unreadable ({type(error).__name__}: {error})") from error


def _raised_in_engine(error: BaseException, engine_source: str) -> bool:
    """Whether the innermost frame of ``error`` that is the engine's or qdocs' own
    is the engine's (frames of the standard library are looked through)."""
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame.f_code.co_filename)
        trace = trace.tb_next
    for filename in reversed(frames):
        if filename.startswith(engine_source):
            return True
        if filename.startswith(_QDOCS):
            return False
    return False
