"""`--since` and `--timezone`: what the analyst commands and `report` accept as a starting point.

``--since`` takes an ISO date (``2026-12-02``), an ISO date-time (``2026-12-02T09:00``,
``2026-12-02 09:00:00+09:00``, ``…Z``) or a run id (``20261122T182202Z-a9d185``). A date or a
date-time without a UTC offset is read in ``--timezone`` (default Asia/Tokyo, the time zone the
report shows), never in the machine's. Anything else — ``yesterday``, ``2026-13-40`` — is bad usage
(exit 2) with one line saying what is accepted. The value handed on is a run id or an ISO
date-time with its offset, so the SQL reading it (``?::TIMESTAMPTZ``) is independent of DuckDB's
session time zone.
"""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from wardwatch.cli.common import Usage

DEFAULT_TIMEZONE = "Asia/Tokyo"
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")  # warehouse.runs.new_run_id
_DATE_LIKE = re.compile(r"\d{4}-?\d{2}-?\d{2}")
ACCEPTED = "a date (2026-11-01), a date-time or a run id"  # --help says the rest


def add_since(p: argparse.ArgumentParser, what: str = "changes detected",
              tz_help: str = "time zone for --since dates without an offset and for the times shown") -> None:
    p.add_argument("--since", metavar="DATE|RUN",
                   help=f"only {what} at or after an ISO date (2026-11-01) or date-time (2026-11-01T09:00; read in "
                        "--timezone unless it has an offset such as +09:00 or Z), or the start of a run "
                        "(20261122T182202Z-a9d185)")
    add_timezone(p, tz_help)


def add_timezone(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--timezone", default=DEFAULT_TIMEZONE, metavar="TZ",
                   help=f"{what} (an IANA name; default: {DEFAULT_TIMEZONE}, as the report)")


def zone(name: str | None) -> tzinfo:
    """The IANA time zone ``name`` (default Asia/Tokyo); Usage when unknown."""
    name = name or DEFAULT_TIMEZONE
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name == DEFAULT_TIMEZONE:  # no time zone database on this machine: Japan has no DST
            return timezone(timedelta(hours=9), "JST")
        raise Usage(f"--timezone {name!r}: unknown time zone (give an IANA name such as Asia/Tokyo or UTC)") from None


def parse_since(value: str | None, tz: tzinfo) -> str | None:
    """``value`` as a run id or an ISO date-time with its UTC offset (``2026-12-02T00:00:00+09:00``);
    None when not given; Usage (one line) when it is neither."""
    if value is None:
        return None
    text = value.strip()
    if RUN_ID.fullmatch(text):
        return text
    try:
        if _DATE_LIKE.fullmatch(text):
            moment = datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
    except ValueError as exc:
        if _DATE_LIKE.match(text):  # looks like a date: say what is wrong with it
            raise Usage(f"--since: not a valid date or date-time ({exc}), got {value!r}") from None
        raise Usage(f"--since: expected {ACCEPTED}, got {value!r}") from None
    return moment.isoformat()


def resolve_since(db: Any, value: str | None, tz: tzinfo) -> str | None:
    """:func:`parse_since`, and a run id must name a run of the warehouse ``db``."""
    since = parse_since(value, tz)
    if since is not None and RUN_ID.fullmatch(since):
        from warehouse.analyst import run_exists

        if not run_exists(db, since):
            raise Usage(f"--since: no run {since!r} in {db}")
    return since
