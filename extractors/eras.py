"""Japanese eras (明治-令和) and fiscal years (年度: April 1 to March 31): the one place for both.

An era year is ``first_year + n - 1`` (元年 = 1). Years past an era's end are accepted and keep
counting (平成31年 = 2019, 平成32年 = 2020): documents printed before a change of era do this.
Eras may also be written by their initial (``ERA_LETTERS``: R7 = 令和7年, H28 = 平成28年).
"""

from __future__ import annotations

import re
from datetime import date

# (name, first day). 明治 was proclaimed 1868-10-23 and applied from the start of that year.
ERAS: tuple[tuple[str, date], ...] = (
    ("明治", date(1868, 10, 23)),
    ("大正", date(1912, 7, 30)),
    ("昭和", date(1926, 12, 25)),
    ("平成", date(1989, 1, 8)),
    ("令和", date(2019, 5, 1)),
)
ERA_NAMES = tuple(name for name, _ in ERAS)
# the initials used in abbreviated dates (R7.4.1, H28.8)
ERA_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
_FIRST_YEAR = {name: start.year for name, start in ERAS}
_ERA_DATE_RE = re.compile(r"(明治|大正|昭和|平成|令和)(元|\d+)年(\d+)月(\d+)日")


def era_year(era: str, year: str | int, *, lenient: bool = False) -> int:
    """Gregorian year of ``era`` year ``year`` ("元" or 1 is the first year).

    ``era`` is an era name or its initial (``ERA_LETTERS``). With ``lenient`` a year below 1 is not
    an error but counts back from the first year (令和0年 -> 2018), as a text scanner that must
    not fail on a misprint wants.
    """
    name = ERA_LETTERS.get(era, era)
    if name not in _FIRST_YEAR:
        raise ValueError(f"unknown era {era!r}")
    n = 1 if year == "元" else int(year)
    if n < 1 and not lenient:
        raise ValueError(f"era year must be >= 1, got {year!r}")
    return _FIRST_YEAR[name] + n - 1


def to_era(d: date) -> tuple[str, int]:
    """The era in effect on ``d`` and the year within it."""
    if d.year < 1868:
        raise ValueError(f"{d} is before 明治")
    current = ERAS[0][0]
    for name, start in ERAS:
        if d >= start:
            current = name
    return current, d.year - _FIRST_YEAR[current] + 1


def format_era_date(d: date) -> str:
    """``date(2019, 5, 1)`` -> "令和元年5月1日"."""
    era, year = to_era(d)
    return f"{era}{'元' if year == 1 else year}年{d.month}月{d.day}日"


def parse_era_date(text: str) -> date:
    """Parse "令和元年5月1日" / "平成32年1月1日" (arabic digits) into a date."""
    m = _ERA_DATE_RE.fullmatch(text)
    if not m:
        raise ValueError(f"not an era date: {text!r}")
    return date(era_year(m.group(1), m.group(2)), int(m.group(3)), int(m.group(4)))


def fiscal_year_of_month(year: int, month: int) -> int:
    """The 年度 containing month ``month`` of ``year`` (2026, 3 -> 2025; 2026, 4 -> 2026)."""
    return year if month >= 4 else year - 1


def fiscal_year_of(d: date) -> int:
    """The 年度 containing ``d``, named by its starting year (2026-03-31 -> 2025)."""
    return fiscal_year_of_month(d.year, d.month)


def fiscal_year_start(year: int) -> date:
    """First day of 年度 ``year``: April 1 of ``year``."""
    return date(year, 4, 1)


def fiscal_year_end(year: int) -> date:
    """Last day of 年度 ``year``: March 31 of the next year."""
    return date(year + 1, 3, 31)


def fiscal_year_range(year: int) -> tuple[date, date]:
    """First and last day of 年度 ``year``: April 1 to March 31 of the next year."""
    return fiscal_year_start(year), fiscal_year_end(year)


def fiscal_year_start_of(d: date) -> date:
    """First day of the 年度 containing ``d`` (2026-03-31 -> 2025-04-01)."""
    return fiscal_year_start(fiscal_year_of(d))
