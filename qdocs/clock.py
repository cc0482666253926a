"""The one clock of qdocs: every "now" and "today" of the library comes from here.

A compliance record is only as good as its dates, and a test suite that passes
today must pass on any later day.  So no module asks the machine for the time
itself; they call :func:`now`, :func:`utc_now`, :func:`today` or :func:`epoch_seconds`,
and git is given the same moment for its commits (:func:`git_dates`).

``QDOCS_CLOCK`` sets the clock (tests, demonstrations, re-running a day):

- unset: the machine's clock;
- a date, ``2029-12-02``: the machine's clock moved by whole days so that today is
  that date; the time of day runs on, so events keep their order;
- a moment with its offset, ``2029-12-02T09:30:00+08:00``: the clock stands still
  at that moment.

Anything else is refused with one line (:class:`ClockError`), because a record
dated from a mistyped clock would be worse than no record.
"""

from __future__ import annotations

import datetime as _dt
import os
import time

from .errors import UsageError

VARIABLE = "QDOCS_CLOCK"


class ClockError(UsageError):
    """``QDOCS_CLOCK`` holds something that is not a date or a moment with an offset."""


def now(zone: _dt.tzinfo | None = None) -> _dt.datetime:
    """The current moment, to the second, in ``zone`` (default: the machine's zone)."""
    moment = _moment()
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def utc_now() -> _dt.datetime:
    return _moment().astimezone(_dt.timezone.utc)


def today(zone: _dt.tzinfo | None = None) -> _dt.date:
    return now(zone).date()


def epoch_seconds() -> int:
    return int(_moment().timestamp())


def is_set() -> bool:
    return bool(os.environ.get(VARIABLE, "").strip())


def git_dates() -> dict[str, str]:
    """``GIT_AUTHOR_DATE`` and ``GIT_COMMITTER_DATE`` for a git child process when the
    clock is set, so that commits carry the same moment as the records; empty otherwise."""
    if not is_set():
        return {}
    stamp = f"@{epoch_seconds()} {now().strftime('%z')}"
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}


def _moment() -> _dt.datetime:
    setting = os.environ.get(VARIABLE, "").strip()
    real = _dt.datetime.fromtimestamp(time.time(), _dt.timezone.utc).replace(microsecond=0)
    if not setting:
        return real
    if len(setting) == 10:
        try:
            target = _dt.date.fromisoformat(setting)
        except ValueError:
            raise _refused(setting) from None
        return real + _dt.timedelta(days=(target - real.astimezone().date()).days)
    try:
        moment = _dt.datetime.fromisoformat(setting)
    except ValueError:
        raise _refused(setting) from None
    if moment.tzinfo is None:
        raise _refused(setting)
    return moment.replace(microsecond=0)


def _refused(setting: str) -> ClockError:
    return ClockError(f"{VARIABLE}={setting!r}: give a date (2029-12-02) or a moment with its offset "
                      "(2029-12-02T09:30:00+08:00), or unset it to use the machine's clock")
