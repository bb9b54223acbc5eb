"""Dates, periods and fiscal years (年度), eras converted.

* 令和7年4月1日 -> "2025-04-01", 平成28年8月 -> "2016-08", 平成28年 -> "2016", 2025/4/1 -> "2025-04-01";
* no year -> recurring: 4月1日 -> "--04-01", 毎年8月 -> "--08", 毎月11日 -> "---11";
  5月、7月、9月の11日 / 4月、8月、12月の各月11日 -> one date per month, all with the phrase's span;
* 平成27年度 -> fiscal_year 2015; a year without era (24年度, 28年4月) takes the era of the
  nearest era written earlier in the document (``DateContext``);
* two dates joined by ~ / - / から (optionally closed by まで) -> one period
  {"start", "end"}; an end without a year takes the start's year (+1 if it would go backwards).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from extractors.eras import ERA_NAMES, era_year
from extractors.lineview import Candidate, LineView
from extractors.qualifiers import DATE_SUFFIXES, suffix_qualifiers

P_PERIOD, P_DATE = 50, 60

_ERA = "|".join(ERA_NAMES)
_DATE_RE = re.compile(
    rf"""
    (?P<list>(?:毎年)?(?P<lmonths>(?<![0-9])[0-9]{{1,2}}月(?:\s*[、,・]\s*[0-9]{{1,2}}月)+)\s*の?\s*(?:各月)?\s*(?P<lday>[0-9]{{1,2}})日)
  | (?:(?P<era>{_ERA})\s*(?P<ey>元|[0-9]{{1,2}})|(?<![0-9])(?P<y>[0-9]{{4}})|(?<![0-9.\-])(?P<iy>[0-9]{{1,2}})(?=年(?:度|[0-9]{{1,2}}月)))年
        (?:(?P<fy>度)|(?P<m>[0-9]{{1,2}})月(?:(?P<d>[0-9]{{1,2}})日)?)?
  | (?<![0-9])(?P<sy>[0-9]{{4}})[/.](?P<sm>[0-9]{{1,2}})[/.](?P<sd>[0-9]{{1,2}})(?![0-9])
  | (?P<every>毎年)?(?<![0-9])(?P<rm>[0-9]{{1,2}})月(?:(?P<rd>[0-9]{{1,2}})日)?
  | 毎月(?P<md>[0-9]{{1,2}})日
    """,
    re.VERBOSE,
)
_WEEKDAY_RE = re.compile(r"\s*\(\s*[月火水木金土日](?:曜日?)?\s*\)")
_PERIOD_SEP_RE = re.compile(r"\s*(?:~|-|から)\s*")
_UNTIL_RE = re.compile(r"\s*まで")


@dataclass
class DateContext:
    """State carried across the lines of one document: the last era written."""

    era: str | None = None


@dataclass
class _Date:
    value: str
    start: int  # view offsets
    end: int
    year: int | None
    month: int | None
    day: int | None
    listed: bool = False  # part of a month list


def _valid(year: int | None, month: int | None, day: int | None) -> bool:
    if month is not None and not 1 <= month <= 12:
        return False
    return not (day is not None and (month is None or day < 1 or day > calendar.monthrange(year or 2000, month)[1]))


def _iso(year: int | None, month: int | None, day: int | None) -> str:
    if year is None:
        return f"--{month:02d}" + (f"-{day:02d}" if day else "")
    out = f"{year:04d}"
    if month:
        out += f"-{month:02d}"
        if day:
            out += f"-{day:02d}"
    return out


def _scan(text: str, ctx: DateContext) -> tuple[list[_Date], list[tuple[int, int, int, int]]]:
    """Dates and fiscal years (as ``(year, start, end, 0)``) in reading order."""
    dates: list[_Date] = []
    fiscal: list[tuple[int, int, int, int]] = []
    for m in _DATE_RE.finditer(text):
        g = m.groupdict()
        end = m.end()
        w = _WEEKDAY_RE.match(text, end)
        if w and (g["d"] or g["rd"] or g["sd"]):
            end = w.end()
        if g["list"]:
            day = int(g["lday"])
            for month in (int(x) for x in re.findall(r"[0-9]+", g["lmonths"])):
                if _valid(None, month, day):
                    dates.append(_Date(_iso(None, month, day), m.start(), end, None, month, day, listed=True))
            continue
        if g["md"]:
            day = int(g["md"])
            if 1 <= day <= 31:
                dates.append(_Date(f"---{day:02d}", m.start(), end, None, None, day))
            continue
        if g["sy"]:
            y, mo, d = int(g["sy"]), int(g["sm"]), int(g["sd"])
            if _valid(y, mo, d):
                dates.append(_Date(_iso(y, mo, d), m.start(), end, y, mo, d))
            continue
        if g["rm"]:
            mo, d = int(g["rm"]), int(g["rd"]) if g["rd"] else None
            if _valid(None, mo, d):
                dates.append(_Date(_iso(None, mo, d), m.start(), end, None, mo, d))
            continue
        if g["era"]:
            ctx.era = g["era"]
            year = era_year(g["era"], g["ey"])
        elif g["iy"]:
            if ctx.era is None or int(g["iy"]) == 0:
                continue
            year = era_year(ctx.era, int(g["iy"]))
        else:
            year = int(g["y"])
        if g["fy"]:
            fiscal.append((year, m.start(), end, 0))
            continue
        mo, d = (int(g["m"]) if g["m"] else None), (int(g["d"]) if g["d"] else None)
        if _valid(year, mo, d):
            dates.append(_Date(_iso(year, mo, d), m.start(), end, year, mo, d))
    return dates, fiscal


def _period_end(a: _Date, b: _Date) -> str:
    if b.year is not None or a.year is None:
        return b.value
    year = a.year
    if (b.month or 0, b.day or 0) < (a.month or 0, a.day or 0):
        year += 1
    return _iso(year, b.month, b.day)


def find_dates(lv: LineView, ctx: DateContext) -> list[Candidate]:
    """date, period and fiscal_year candidates of one line (updates ``ctx.era``)."""
    text = lv.view.text
    dates, fiscal = _scan(text, ctx)
    out: list[Candidate] = []
    used: set[int] = set()
    for i in range(len(dates) - 1):
        a, b = dates[i], dates[i + 1]
        if i in used or a.listed or b.listed or (a.month is None) != (b.month is None):
            continue
        sep = _PERIOD_SEP_RE.fullmatch(text, a.end, b.start)
        if not sep:
            continue
        end = b.end
        until = _UNTIL_RE.match(text, end)
        if until:
            end = until.end()
        s, e = lv.view_to_line(a.start, end)
        out.append(Candidate("period", {"start": a.value, "end": _period_end(a, b)}, s, e, P_PERIOD))
        used.update((i, i + 1))
    for i, d in enumerate(dates):
        if i in used:
            continue
        end, quals = suffix_qualifiers(text, d.end, DATE_SUFFIXES)
        s, e = lv.view_to_line(d.start, end)
        group = d.start if d.listed else None
        out.append(Candidate("date", d.value, s, e, P_DATE, quals, group=group))
    for year, start, end0, _ in fiscal:
        end, quals = suffix_qualifiers(text, end0, DATE_SUFFIXES)
        s, e = lv.view_to_line(start, end)
        out.append(Candidate("fiscal_year", year, s, e, P_DATE, quals))
    return out
