"""The company's time zone: the zone every time qdocs shows or stamps is written in.

A record made in Suzhou says ``2026-03-25 14:03:05 +08:00`` whether the server that
wrote it runs on UTC or on Berlin time, so the zone is a setting of the records
repository, not of the machine: ``time_zone`` in ``.qdocs/config.yaml``, either an
IANA name (``Asia/Shanghai``, which follows daylight saving where a zone has it) or a
fixed offset (``+08:00``).  ``qdocs init`` writes the machine's zone there (from
``TZ``, else ``/etc/localtime``); a repository made before the setting existed uses
the machine's zone until one is added.

What is stored is unchanged by the setting: signature times stay UTC (``...Z``), the
moments of record stamps stay ISO 8601 with their offset.  The setting decides the
offset new stamps are written with and how every time is shown (documents, PDF
stamps, ``qdocs show``, reports).
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from pathlib import Path

from . import clock
from .errors import UsageError

SETTING = "time_zone"
_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2})$")
_LOCALTIME = Path("/etc/localtime")
_TIMEZONE_FILE = Path("/etc/timezone")


class TimeZoneError(UsageError):
    """A time zone setting or option names no time zone."""


def parse_zone(setting: object, where: str) -> _dt.tzinfo:
    """The zone ``setting`` names: an IANA name or an offset ``+08:00``; ``where`` says
    where the setting was read (``/srv/records/.qdocs/config.yaml: time_zone``)."""
    text = setting.strip() if isinstance(setting, str) else ""
    offset = _OFFSET.match(text)
    if offset:
        hours, minutes = int(offset["hours"]), int(offset["minutes"])
        if hours < 24 and minutes < 60:
            sign = -1 if offset["sign"] == "-" else 1
            return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))
    zone = _named_zone(text)
    if zone is None:
        raise TimeZoneError(f"{where} {setting!r} is not a time zone: write an IANA name such as Asia/Shanghai "
                            "or Europe/Berlin, or a fixed offset such as +08:00")
    return zone


def machine_setting() -> str:
    """The machine's zone as a setting: its IANA name when one can be found (``TZ``,
    then ``/etc/localtime``, then ``/etc/timezone``), else its current UTC offset
    (``+08:00``), which is right until the next daylight-saving change."""
    name = machine_zone_name()
    return name if name is not None else offset_text(clock.now().utcoffset() or _dt.timedelta())


def machine_zone() -> _dt.tzinfo:
    return parse_zone(machine_setting(), "the machine's time zone")


def machine_zone_name() -> str | None:
    variable = os.environ.get("TZ")
    if variable is not None and variable.strip():
        # TZ overrides /etc/localtime; a POSIX rule such as "CST-8" has no name
        return _name_from(variable.strip().removeprefix(":"))
    try:
        if _LOCALTIME.is_symlink():
            name = _name_from(os.path.realpath(_LOCALTIME))
            if name is not None:
                return name
        if _TIMEZONE_FILE.is_file():
            return _name_from(_TIMEZONE_FILE.read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return None


def zone_setting(zone: _dt.tzinfo) -> str:
    """How ``zone`` is written in the configuration."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    return offset_text(zone.utcoffset(None) or _dt.timedelta())


def offset_text(offset: _dt.timedelta) -> str:
    """``+08:00``, ``-05:30``."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def display(moment: _dt.datetime, zone: _dt.tzinfo) -> str:
    """``2026-03-25 14:03:05 +08:00``: ``moment`` in ``zone``, to the second, with its offset."""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + offset_text(local.utcoffset() or _dt.timedelta())


def display_text(text: str, zone: _dt.tzinfo) -> str:
    """A stored time (ISO 8601 with an offset, or UTC with ``Z``) as :func:`display` shows it;
    text that is not such a time is returned as it is."""
    try:
        moment = _dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if moment.tzinfo is None:
        return str(text)
    return display(moment, zone)


def _named_zone(name: str) -> _dt.tzinfo | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, IsADirectoryError, UnicodeError, OSError):
        return None


def _name_from(text: str) -> str | None:
    """The IANA name in ``text``: a name, or a path into a zoneinfo folder
    (``/usr/share/zoneinfo/Asia/Shanghai``, macOS ``/var/db/timezone/zoneinfo/...``)."""
    if "zoneinfo/" in text:
        text = text.rsplit("zoneinfo/", 1)[1]
    for prefix in ("posix/", "right/"):
        text = text.removeprefix(prefix)
    return text if _named_zone(text) is not None else None
