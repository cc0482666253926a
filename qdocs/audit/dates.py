"""Dates for the audit: reading record dates, ``--as-of`` and the commit it means.

Record dates are kept as typed (``2026-03-21``; date-times ``2026-03-25 09:30``
with an optional offset), already checked when the record was created, so
same-format date strings compare as text.  ``--as-of DATE`` means the end of that
day in the company's time zone (``Repository.time_zone``): the repository as it stood then is the last commit (following
first parents, the history this copy lived through) made on or before it.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import functools
from pathlib import Path

from ..errors import UsageError
from ..store.runner import Git


@functools.lru_cache(maxsize=65536)
def parse_day(text: object) -> _dt.date | None:
    """``2026-03-21`` (or the date of a date-time) as a date; None when empty or not a date."""
    try:
        return _dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def parse_moment(text: object) -> _dt.datetime | None:
    """A record's date-time; without an offset it is local time."""
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(str(text).strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()


def add_months(day: _dt.date, months: float) -> _dt.date:
    """``day`` plus whole months (the month's last day when it is shorter), plus any fraction in days."""
    whole = int(months)
    index = day.month - 1 + whole
    year, month = day.year + index // 12, index % 12 + 1
    result = day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
    return result + _dt.timedelta(days=round((months - whole) * 30))


def day_option(value: str, option: str = "--as-of") -> _dt.date:
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: write a date as YYYY-MM-DD, e.g. 2026-03-21") from None


def end_of_day(day: _dt.date, zone: _dt.tzinfo) -> _dt.datetime:
    return _dt.datetime.combine(day, _dt.time(23, 59, 59), zone)


def commit_as_of(root: Path, day: _dt.date, zone: _dt.tzinfo) -> str:
    """The last commit on or before the end of ``day`` in ``zone``; refused when the repository is younger."""
    git = Git(root)
    limit = end_of_day(day, zone).strftime("%Y-%m-%d %H:%M:%S %z")
    commit = git.text("rev-list", "-1", "--first-parent", f"--before={limit}", "HEAD")
    if not commit:
        first = git.text("log", "--reverse", "--first-parent", "--format=%cs", "HEAD").splitlines()
        since = f" (its first commit is of {first[0]})" if first else ""
        raise UsageError(f"--as-of {day.isoformat()}: the repository has no commit on or before that day{since}")
    return commit
