"""Japanese date helpers shared by ``diffs.text`` and ``diffs.flags`` (pure, no I/O).

Understands the ways municipal pages write dates and fiscal years:
``2025年4月1日``, ``令和7年4月1日``, ``令和元年``, ``R7.4.1``, ``H28.8``, ``2025/4/1``,
ISO ``2025-04-01`` / ``2025-04``, ``平成28年8月時点``, ``令和7年度``, ``2025年度``, full-width digits.
Eras and fiscal years (年度 N runs from N-04-01 to (N+1)-03-31) come from ``extractors.eras``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any, NamedTuple

from extractors.eras import ERA_LETTERS, ERA_NAMES, era_year, fiscal_year_of_month

_ERA = r"(?P<era>" + "|".join(ERA_NAMES) + "|[" + "".join(ERA_LETTERS) + r"](?=\s*\d))"
_YEAR = r"(?P<year>\d{1,4}|元)"
# 令和7年4月1日 / 2025年4月1日 / 平成28年8月 (day optional) and R7.4.1 / 2025/4/1 / 2025-04-01 / 2025-04
_DATE_RE = re.compile(
    r"(?:" + _ERA + r"\s*)?" + _YEAR
    + r"(?:\s*年\s*(?P<month>\d{1,2})\s*月(?:\s*(?P<day>\d{1,2})\s*日)?"
    + r"|(?P<sep>[./\-])(?P<month2>\d{1,2})(?:(?P=sep)(?P<day2>\d{1,2}))?(?!\d))"
)
_FY_RE = re.compile(r"(?:" + _ERA + r"\s*)?" + _YEAR + r"\s*年度")
_YEAR_ONLY_RE = re.compile(r"(?:" + _ERA + r"\s*)?" + _YEAR + r"\s*年(?!度)")


class JPDate(NamedTuple):
    """A possibly partial date: month/day are None when the text does not state them."""

    year: int
    month: int | None = None
    day: int | None = None

    def to_date(self, *, end: bool = False) -> date:
        """The first (or with ``end=True`` the last) day the partial date can denote."""
        if self.month is None:
            return date(self.year, 12, 31) if end else date(self.year, 1, 1)
        if self.day is None:
            if not end:
                return date(self.year, self.month, 1)
            nxt = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return date.fromordinal(nxt.toordinal() - 1)
        return date(self.year, self.month, self.day)

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def _western_year(era: str | None, year: str) -> int | None:
    if era:
        return era_year(era, year, lenient=True)
    n = 1 if year == "元" else int(year)
    if len(year) != 4 or not 1868 <= n <= 2200:
        return None
    return n


def parse_jp_date(s: Any) -> JPDate | None:
    """First date (year + month, day optional) in ``s``; None if there is none.

    Month-day-only texts such as ``4月1日`` have no year and return None.
    """
    if isinstance(s, date):
        return JPDate(s.year, s.month, s.day)
    if not isinstance(s, str):
        return None
    for m in _DATE_RE.finditer(nfkc(s)):
        y = _western_year(m.group("era"), m.group("year"))
        if y is None:
            continue
        month = int(m.group("month") or m.group("month2"))
        dd = m.group("day") or m.group("day2")
        day = int(dd) if dd else None
        if not 1 <= month <= 12:
            continue
        if day is not None:
            try:
                date(y, month, day)
            except ValueError:
                day = None
        return JPDate(y, month, day)
    return None


def find_jp_dates(s: Any) -> list[JPDate]:
    """Every date (with a year and month) in ``s``, in order."""
    if not isinstance(s, str):
        return []
    out = []
    t = nfkc(s)
    pos = 0
    while True:
        m = _DATE_RE.search(t, pos)
        if not m:
            return out
        pos = m.end()
        d = parse_jp_date(m.group(0))
        if d is not None:
            out.append(d)


_MONTH_DAY_RE = re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def period_end(s: Any) -> JPDate | None:
    """The last date in a period text; a trailing year-less ``M月D日`` inherits the year of the
    date before it (rolling into the next year when it would go backwards):
    ``2025年4月1日から6月30日まで`` -> 2025-06-30, ``令和7年12月1日～1月15日`` -> 2026-01-15."""
    if not isinstance(s, str):
        return None
    t = nfkc(s)
    last, last_end = None, 0
    for m in _DATE_RE.finditer(t):
        d = parse_jp_date(m.group(0))
        if d is not None:
            last, last_end = d, m.end()
    if last is None or last.month is None:
        return last
    md = list(_MONTH_DAY_RE.finditer(t, last_end))
    if md:
        mo, dd = int(md[-1].group(1)), int(md[-1].group(2))
        y = last.year + (1 if (mo, dd) < (last.month, last.day or 1) else 0)
        try:
            date(y, mo, dd)
            return JPDate(y, mo, dd)
        except ValueError:
            pass
    return last


def parse_fiscal_year(s: Any) -> int | None:
    """``令和7年度`` / ``2025年度`` / ``R7年度`` -> 2025; an int (or digit string) is taken as a year."""
    if isinstance(s, bool):
        return None
    if isinstance(s, int):
        return s if 1868 <= s <= 2200 else None
    if not isinstance(s, str):
        return None
    t = nfkc(s).strip()
    if t.isdigit() and len(t) == 4:
        return int(t)
    for m in _FY_RE.finditer(t):
        y = _western_year(m.group("era"), m.group("year"))
        if y is not None:
            return y
    return None


def parse_year(s: Any) -> int | None:
    """A bare year such as ``平成28年`` (no month) -> 2016."""
    if not isinstance(s, str):
        return None
    for m in _YEAR_ONLY_RE.finditer(nfkc(s)):
        y = _western_year(m.group("era"), m.group("year"))
        if y is not None:
            return y
    return None


def fiscal_year_of(d: date | JPDate) -> int:
    """The fiscal year a date falls in (April-March); a year-only JPDate counts as that year."""
    if d.month is None:
        return d.year
    return fiscal_year_of_month(d.year, d.month)
