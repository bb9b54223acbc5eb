"""Dates, periods and fiscal years (年度), eras converted.

Values:

* 令和7年4月1日 -> "2025-04-01", 平成28年8月 -> "2016-08", 平成28年 -> "2016", 2025/4/1 and R7.4.1 ->
  "2025-04-01"; an alternative year in brackets is part of the date (令和7(2025)年4月1日,
  平成31年(2019年)4月1日, 1931年(昭和6年));
* no year -> recurring/yearless: 4月1日 -> "--04-01", 毎年8月 -> "--08", 毎月11日 -> "---11";
* month end (月末, 末日): the month's last day, 令和7年5月末 -> "2025-05-31", 4月末 -> "--04-30". The
  last day of a yearless February is not known, so 2月末 (no year) stays "--02"; 毎月末 is "---31"
  (the day clamps to the month's length). Every month-end date carries ``extra["end_of_month"]``;
* 平成27年度 -> fiscal_year 2015 (年度 = April 1 - March 31, see :mod:`extractors.eras`); a year
  without era (24年度, 28年4月) takes the era of the nearest era written earlier in the document
  (``DateContext``).

Lists and ranges share what is written once:

* 5月、7月、9月の各11日 / 4月、8月、12月の各月11日 -> one date per month, all with the phrase's span;
* a date without a year that follows a dated one in a list or a range takes its year
  (令和8年1月と4月 -> 2026-01, 2026-04; 令和7年12月と1月 -> 2026-01: lists and ranges run forward),
  and a bare day takes the month too (7月22日(水)と23日(木) -> --07-22, --07-23); 翌(年)/翌々年
  before a month moves it one/two years on; 同年 (before a month) and 同月 (before a day) take the
  previous date's year/month wherever it is written in the line. A bare day never stands alone
  (20日以内 is a duration) — except a bare day with its weekday in brackets (18日(金)), which is a day
  of a month for sure: it takes the month (and year) of the last date written before it in its line,
  or else of the last date of the line above (a table row under the row that names the month:
  「試験日 | 9月18日(金)~9月20日(日)」 / 「試験会場 | 18日(金):名寄会場 19日(土)・20日(日):旭川会場」);
* two dates joined by ~ / - / から / より (optionally closed by まで) -> one period {"start", "end"}:
  6月1日~30日, 6月1~30日, 4~5月, 令和7年10月1日~3月31日 (the end takes the start's year, +1 if it
  would go backwards), 8月~翌4月, 2025-2026年, 1977年~78年, 平成30年~31年; 上旬/中旬/下旬 after a month is
  part of the span of its period (~3月下旬, 令和6年10月中旬~11月上旬; the value keeps month precision; a
  lone 9月下旬 is the date 9月 over 「9月」), and two of them after one month are a period within it
  (令和6年10月中旬~下旬 -> 2024-10 .. 2024-10). A date followed by から
  alone stays a date (qualifier から). 分 after a month or year (令和2年2月分, the portion for that
  month) is part of the date's span; an ordinal of fiscal years (3年度目) is no fiscal year;
* a yearless period on the line right below a heading that names one year, season or fiscal year
  takes it (「2025-2026年シーズン営業予定」 + 「12月19日~3月下旬」 -> 2025-12-19 .. 2026-03;
  a 年度 gives April-March). Only when the caller reports lines (``DateContext.next_line``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from extractors.eras import ERA_LETTERS, ERA_NAMES, era_year
from extractors.lineview import Candidate, LineView
from extractors.qualifiers import DATE_SUFFIXES, suffix_qualifiers

P_PERIOD, P_DATE = 50, 60

_ERA = "|".join(ERA_NAMES)
_N = r"[0-9]{1,2}"
_LIST_WORD = r"(?:[、,・]|と|及び|および|並びに|又は|または|や)"
# N日 followed by these is a number of days (10日間, 20日以内, 3日前), not a day of the month
_NOT_A_DAY = "(?!間|以内|以上|未満|以下|前|後|程度|分|目|ほど|を限度|限度|を経過|経過|ごと|毎)"
# an alternative year in brackets: 令和7(2025)年, 平成31年(2019年), 1931年(昭和6年)
_ALT = rf"(?:\s*\(\s*(?:[0-9]{{4}}|(?:{_ERA})\s*(?:元|{_N}))\s*年?\s*\))"
# the same fiscal year written again in brackets: 平成30年度(2018年度), 2018年度(平成30年度)
_ALT_FY = rf"(?:\s*\(\s*(?:[0-9]{{4}}|(?:{_ERA})\s*(?:元|{_N}))\s*年度\s*\))"
_DATE_RE = re.compile(
    rf"""(?=[0-9明大昭平令毎MTSHR])  # a cheap test first: most positions start no date
    (?:(?P<list>
        (?:(?P<lera>{_ERA})\s*(?P<ley>元|{_N}){_ALT}?\s*年{_ALT}?|(?<![0-9])(?P<lgy>[0-9]{{4}}){_ALT}?\s*年{_ALT}?)?
        (?:毎年)?(?P<lmonths>(?<![0-9.])(?<![0-9]\.){_N}月(?:\s*{_LIST_WORD}\s*(?:翌々?年?)?{_N}月){{1,12}})
        \s*\)?\s*の?\s*(?:各月?)?\s*(?:(?P<lday>{_N})日{_NOT_A_DAY}|(?P<lend>末日?)))
  | (?:(?P<era>{_ERA})\s*(?P<ey>元|{_N}){_ALT}?
      |(?<![0-9])(?P<y>[0-9]{{4}}){_ALT}?
      |(?<![0-9.\-])(?P<iy>{_N})(?=年(?:度(?!目)|{_N}月)))
    \s*年{_ALT}?
    (?:(?P<fy>度)(?!目){_ALT_FY}?|(?P<m>{_N})月(?!曜)(?:\s*(?P<d>{_N})日|(?P<me>末日?))?)?
  | (?<![A-Za-z0-9])(?P<el>[MTSHR])(?P<ely>{_N})\.(?P<elm>{_N})\.(?P<eld>{_N})(?![0-9.])
  | (?<![0-9])(?P<sy>[0-9]{{4}})[/.](?P<sm>{_N})[/.](?P<sd>{_N})(?![0-9])
  | (?P<every>毎年)?(?<![0-9])(?<![0-9]\.)(?P<rm>{_N})月(?!曜|間|目|\s*(?:以上|以内|未満|を超|を限度))(?:\s*(?P<rd>{_N})日|(?P<rme>末日?))?
  | 毎月(?:(?P<md>{_N})日|(?P<mme>末日?))
  | (?<![0-9.\-/])(?<![0-9]:)(?P<bd>{_N})日{_NOT_A_DAY})  # 休診日:15日(土): a label's colon
    """,
    re.VERBOSE,
)
_WEEKDAY_RE = re.compile(
    r"\s*\(\s*[月火水木金土日](?:曜日?)?(?:\s*[・･,、]\s*(?:祝日?|休日?|振休|祭日?))?\s*[)(]"
)
_TEN_DAYS_RE = re.compile(r"(?:上|中|下|初)旬")
# 10月中旬~下旬: two parts of one month
_TEN_DAYS_RANGE_RE = re.compile(r"(?:上|中|下|初)旬\s*(?:~|-|から)\s*(?:上|中|下)旬")
_NEXT_YEAR_RE = re.compile(r"(翌々年|翌年|翌々|翌)$")
_LIST_GAP_RE = re.compile(rf"\s*{_LIST_WORD}\s*(?:翌々?年?|同年|同月)?")
_PERIOD_GAP_RE = re.compile(r"(?:分|頃|ごろ)?\s*(?:~|-|から|より)\s*(?:翌々?年?|同年|同月)?")  # 8月頃~11月
_UNIT_ONCE_GAP_RE = re.compile(rf"(?<![0-9.])({_N})\s*~\s*")  # 4~5月, 6月1~30日
_UNIT_ONCE_TAIL_RE = re.compile(rf"(?<![0-9.])({_N})\s*~\s*$")
_UNTIL_RE = re.compile(r"分?\s*まで")
_YEAR_RANGE_START_RE = re.compile(r"(?<![0-9.\-])([0-9]{4})\s*[~\-]\s*$")  # 2025-2026年
# 1977年~78年, 平成30年~31年 (not 令和2年から5年以上: a duration)
_SHORT_YEAR_END_RE = re.compile(r"\s*(?:~|-|から)\s*([0-9]{1,2})年(?!度|間|[0-9]|以|未満|を?経過|程度|前|後|を?限度|ぶり)")


@dataclass
class DateContext:
    """State carried across the lines of one document: the last era written, and the year a
    heading names for the line right below it.

    The heading year needs to know which lines are headings and which line comes next: a caller
    that calls :meth:`next_line` for every non-blank line (before its rules) enables it; without
    those calls it stays off.
    """

    era: str | None = None
    above: tuple[int, int, bool] | None = None  # (first, last, fiscal) named by the heading just above
    month_above: tuple[int | None, int, bool] | None = None  # (year, month, every) of the line above's last date
    _heading: bool = False  # the current line is a heading
    _names: tuple[int, int, bool] | None = None  # what the current heading names
    _last_month: tuple[int | None, int, bool] | None = None  # the current line's last date with a month

    def next_line(self, heading: bool = False) -> None:
        """A new line starts (``heading``: it is a heading block)."""
        self.above, self._names, self._heading = self._names, None, heading
        self.month_above, self._last_month = self._last_month, None


@dataclass
class _Date:
    start: int  # view offsets
    end: int
    year: int | None
    month: int | None
    day: int | None
    eom: bool = False  # month end (月末/末日)
    every: bool = False  # 毎年/毎月: recurring, never takes a year from a neighbour
    listed: int | None = None  # group id: a month list sharing one day
    bare_day: bool = False  # 23日 alone: needs a dated neighbour
    next_year: int = 0  # 翌 / 翌々 written before it
    same: bool = False  # 同年 (before a month) / 同月 (before a day): the previous date's year/month
    fiscal: bool = False  # a 年度 (``year`` is the fiscal year)
    dead: bool = False  # not a date after all (a bare day with nothing to attach to)
    era: str | None = None  # the era the year was written in (None: Gregorian or no year)
    weekday: bool = False  # a weekday bracket follows it: 18日(金)

    def value(self) -> str:
        return _iso(self.year, self.month, self.day, self.eom)

    def key(self) -> tuple[int, int]:
        return self.month or 0, self.day or 0


def _last_day(year: int | None, month: int) -> int | None:
    if year is None:
        return None if month == 2 else calendar.monthrange(2001, month)[1]
    return calendar.monthrange(year, month)[1]


def _valid(year: int | None, month: int | None, day: int | None) -> bool:
    if month is not None and not 1 <= month <= 12:
        return False
    if day is None:
        return True
    if month is None:
        return 1 <= day <= 31
    return 1 <= day <= calendar.monthrange(year or 2000, month)[1]


def _iso(year: int | None, month: int | None, day: int | None, eom: bool = False) -> str:
    if eom and month is not None:
        day = _last_day(year, month)
    if month is None and year is None:
        return f"---{day:02d}" if day else ""
    if year is None:
        return f"--{month:02d}" + (f"-{day:02d}" if day else "")
    out = f"{year:04d}"
    if month:
        out += f"-{month:02d}"
        if day:
            out += f"-{day:02d}"
    return out


def _int(s: str | None) -> int | None:
    return int(s) if s else None


def _scan(text: str, ctx: DateContext) -> list[_Date]:
    """Date atoms in reading order (fiscal years included, ``fiscal=True``)."""
    out: list[_Date] = []
    for m in _DATE_RE.finditer(text):
        g = m.groupdict()
        start, end = m.start(), m.end()
        w = _WEEKDAY_RE.match(text, end)
        if w and (g["d"] or g["rd"] or g["sd"] or g["eld"] or g["bd"] or g["md"]):
            end = w.end()
        if g["list"]:
            if ")" in text[m.end("lmonths"):end] and start > 0 and text[start - 1] == "(":
                start -= 1  # keep the bracket pair: (2月・4月・…・12月)の15日
            year = None
            if g["lera"] and (g["ley"] == "元" or int(g["ley"]) > 0):
                ctx.era = g["lera"]
                year = era_year(g["lera"], g["ley"])
            elif g["lgy"]:
                year = int(g["lgy"])
            day, eom = _int(g["lday"]), bool(g["lend"])
            prev_month, y = None, year
            for part in re.finditer(rf"(翌々?年?)?({_N})月", g["lmonths"]):
                month = int(part.group(2))
                if y is not None:
                    if part.group(1):
                        y += 2 if "々" in part.group(1) else 1
                    elif prev_month is not None and month < prev_month:
                        y += 1
                prev_month = month
                if _valid(y, month, day):
                    out.append(_Date(start, end, y, month, day, eom=eom, every=year is None,
                                     listed=start))
            continue
        if g["md"] or g["mme"]:
            day = int(g["md"]) if g["md"] else 31
            if 1 <= day <= 31:
                out.append(_Date(start, end, None, None, day, eom=bool(g["mme"]), every=True))
            continue
        if g["bd"]:
            out.append(_Date(start, end, None, None, int(g["bd"]), bare_day=True, same=text.endswith("同月", 0, start),
                             weekday=w is not None))
            continue
        if g["sy"] or g["el"]:
            if g["sy"]:
                y, mo, d = int(g["sy"]), int(g["sm"]), int(g["sd"])
            else:
                if int(g["ely"]) == 0:
                    continue
                ctx.era = ERA_LETTERS[g["el"]]
                y, mo, d = era_year(g["el"], g["ely"]), int(g["elm"]), int(g["eld"])
            if _valid(y, mo, d):
                out.append(_Date(start, end, y, mo, d))
            continue
        if g["rm"]:
            mo, d = int(g["rm"]), _int(g["rd"])
            if _valid(None, mo, d):
                date = _Date(start, end, None, mo, d, eom=bool(g["rme"]), every=bool(g["every"]))
                nxt = _NEXT_YEAR_RE.search(text, max(0, start - 3), start)
                if nxt and not date.every:
                    date.next_year = 2 if "々" in nxt.group(1) else 1
                date.same = not date.every and text.endswith("同年", 0, start)
                out.append(date)
            continue
        era = None
        if g["era"]:
            if g["ey"] != "元" and int(g["ey"]) == 0:
                continue
            era = ctx.era = g["era"]
            year = era_year(g["era"], g["ey"])
        elif g["iy"]:
            if ctx.era is None or int(g["iy"]) == 0:
                continue
            era = ctx.era
            year = era_year(ctx.era, int(g["iy"]))
        else:
            year = int(g["y"])
        if g["fy"]:
            out.append(_Date(start, end, year, None, None, fiscal=True, era=era))
            continue
        mo, d = _int(g["m"]), _int(g["d"])
        if _valid(year, mo, d):
            out.append(_Date(start, end, year, mo, d, eom=bool(g["me"]), era=era))
    return out


def _linked(text: str, a: _Date, b: _Date) -> bool:
    """Is ``b`` written as the next item of a list or range that ``a`` starts?"""
    if a.end == b.start:  # table cells: 22日(土)23日(日)
        return text[a.end - 1] in ")("
    return bool(_LIST_GAP_RE.fullmatch(text, a.end, b.start) or _PERIOD_GAP_RE.fullmatch(text, a.end, b.start)
                or (b.bare_day and a.day is None and _UNIT_ONCE_GAP_RE.fullmatch(text, a.end, b.start)))


def _share(text: str, dates: list[_Date], above: tuple[int | None, int, bool] | None = None) -> None:
    """What a list or range writes once (year, month) goes to the items that omit it; a bare day
    with its weekday (18日(金)) takes the month of the last date before it, in its line or above."""
    prev: _Date | None = None
    month_before = above  # (year, month, every) of the last date with a month written before
    for d in dates:
        if d.fiscal or d.listed is not None:
            prev = None if d.fiscal else d
            if d.listed is not None and d.month is not None:
                month_before = (d.year, d.month, d.every)
            continue
        # 同年/同月 refer back to the previous date however far before it is written
        linked = prev is not None and (d.same or _linked(text, prev, d))
        if d.bare_day:  # (毎月5日・20日: a recurring day passes on "every month")
            if not linked or prev is None or (prev.month is None and not (prev.every and prev.day)):
                if d.weekday and month_before is not None:  # 18日(金): a day of the month written before
                    d.year, d.month, d.every = month_before
                    d.bare_day = False
                    if _valid(d.year, d.month, d.day):
                        prev = d
                        continue
                d.dead = True
                continue
            d.year, d.month, d.every = prev.year, prev.month, prev.every
            if prev.day is not None and d.day < prev.day and not d.same:  # 29日~3日: the next month
                d.month += 1
                if d.month == 13:
                    d.month = 1
                    d.year = d.year + 1 if d.year is not None else None
        elif (linked and prev is not None and d.year is None and not d.every and prev.year is not None
              and prev.month is not None and d.month is not None):
            d.year = prev.year + (0 if d.same else d.next_year or (1 if d.key() < prev.key() else 0))
        if not _valid(d.year, d.month, d.day):
            d.dead = True
            continue
        prev = d
        if d.month is not None:
            month_before = (d.year, d.month, d.every)


def _span_end(text: str, d: _Date) -> int:
    """A period end's span end, with 上旬/中旬/下旬 after a month (~3月下旬)."""
    if d.day is None and d.month is not None and not d.eom:
        t = _TEN_DAYS_RE.match(text, d.end)
        if t:
            return t.end()
    return d.end


def _end_value(a: _Date, b: _Date) -> str:
    if b.year is not None or a.year is None:
        return b.value()
    return _iso(a.year + (b.next_year or (1 if b.key() < a.key() else 0)), b.month, b.day, b.eom)


def _unit_once_start(text: str, dates: list[_Date], i: int) -> tuple[_Date, int] | None:
    """4~5月 / 令和7年4~5月 / 6月1~30日: the start written as a bare number before ``dates[i]``.

    Returns the start and the index of the atom it absorbs (the year-only or month atom written
    just before the number), or -1 when it absorbs none.
    """
    b = dates[i]
    prev = dates[i - 1] if i > 0 else None
    m = _UNIT_ONCE_TAIL_RE.search(text, prev.end if prev else 0, b.start)
    if m is None or b.listed is not None:
        return None
    n = int(m.group(1))
    adjacent = (prev is not None and not prev.dead and prev.end == m.start() and prev.listed is None
                and not prev.fiscal)
    if b.day is not None:  # 6月1~30日
        if not adjacent or prev.month is None or prev.day is not None or prev.month != b.month:
            return None
        return _Date(prev.start, m.end(), prev.year, prev.month, n, every=prev.every), i - 1
    if b.month is None:
        return None
    if adjacent and prev.month is None and prev.year is not None:  # 令和7年4~5月
        return _Date(prev.start, m.end(), prev.year, n, None), i - 1
    return _Date(m.start(), m.end(), b.year, n, None, every=b.every), -1


def find_dates(lv: LineView, ctx: DateContext) -> list[Candidate]:
    """date, period and fiscal_year candidates of one line (updates ``ctx``)."""
    text = lv.view.text
    dates = _scan(text, ctx)
    _share(text, dates, ctx.month_above)
    out: list[Candidate] = []
    used: set[int] = set()

    def period(a: _Date, b: _Date, start: int, end: int) -> None:
        until = _UNTIL_RE.match(text, end)
        if until:
            end = until.end()
        value = _under_heading(a, b, ctx.above) if a.year is None and b.year is None else None
        value = value or {"start": a.value(), "end": _end_value(a, b)}
        s, e = lv.view_to_line(start, end)
        out.append(Candidate("period", value, s, e, P_PERIOD))

    for i, b in enumerate(dates):
        if i in used or b.dead or b.fiscal or b.listed is not None:
            continue
        once = _unit_once_start(text, dates, i)
        if once is not None:
            a, absorbed = once
            if absorbed in used:
                continue
            used.update((absorbed, i) if absorbed >= 0 else (i,))
            period(a, b, a.start, _span_end(text, b))
            continue
        a = dates[i - 1] if i > 0 else None
        if a is None or (i - 1) in used or a.dead or a.fiscal or a.listed is not None:
            continue
        if (a.month is None) != (b.month is None) or (
                a.month is None and (a.day is None) != (b.day is None)):  # 毎月5日~10日: days of every month
            continue
        if not _PERIOD_GAP_RE.fullmatch(text, _span_end(text, a), b.start):
            continue  # (10月中旬~11月上旬: the start's 旬 is inside the period)
        used.update((i - 1, i))
        period(a, b, a.start, _span_end(text, b))
    for i, d in enumerate(dates):  # 10月中旬~下旬: a period inside one month
        if i in used or d.dead or d.fiscal or d.listed is not None or d.month is None or d.day is not None or d.eom:
            continue
        m = _TEN_DAYS_RANGE_RE.match(text, d.end)
        if m:
            used.add(i)
            period(d, d, d.start, m.end())
    for i, d in enumerate(dates):  # 2025-2026年 and 1977年~78年: years written once or abbreviated
        if i in used or d.dead or d.fiscal or d.month is not None or d.year is None or d.listed is not None:
            continue
        m = _YEAR_RANGE_START_RE.search(text, dates[i - 1].end if i > 0 else 0, d.start)
        if m and d.era is None and 1800 <= int(m.group(1)) < d.year <= int(m.group(1)) + 20:
            used.add(i)
            s, e = lv.view_to_line(m.start(1), d.end)
            out.append(Candidate("period", {"start": m.group(1), "end": f"{d.year:04d}"}, s, e, P_PERIOD))
            continue
        m = _SHORT_YEAR_END_RE.match(text, d.end)
        if m and (i + 1 >= len(dates) or dates[i + 1].start >= m.end()):
            if d.era is not None:  # 平成30年~31年: the end is a year of the same era
                end_year = era_year(d.era, int(m.group(1)))
            elif len(m.group(1)) == 2:  # 1977年~78年: the end drops the century
                end_year = d.year - d.year % 100 + int(m.group(1))
                end_year += 100 if end_year < d.year else 0
            else:
                continue
            if 0 < end_year - d.year <= 20:
                used.add(i)
                end = m.end()
                until = _UNTIL_RE.match(text, end)
                end = until.end() if until else end
                s, e = lv.view_to_line(d.start, end)
                out.append(Candidate("period", {"start": f"{d.year:04d}", "end": f"{end_year:04d}"}, s, e, P_PERIOD))
    for i, d in enumerate(dates):
        if i in used or d.dead:
            continue
        end = d.end + 1 if d.day is None and not d.fiscal and text.startswith("分", d.end) else d.end
        end, quals = suffix_qualifiers(text, end, DATE_SUFFIXES)
        s, e = lv.view_to_line(d.start, end)
        if d.fiscal:
            out.append(Candidate("fiscal_year", d.year, s, e, P_DATE, quals))
            continue
        extra = {"end_of_month": True} if d.eom else {}
        out.append(Candidate("date", d.value(), s, e, P_DATE, quals, extra, group=d.listed))
    if ctx._heading:
        ctx._names = _years_named(out)
    last = next((d for d in reversed(dates) if not d.dead and not d.fiscal and d.month is not None), None)
    if last is not None:
        ctx._last_month = (last.year, last.month, last.every)
    return out


def _years_named(out: list[Candidate]) -> tuple[int, int, bool] | None:
    """(first, last, fiscal) when a heading names one year (2025年), season (2025-2026年) or
    fiscal year (令和7年度) and no month."""
    if len(out) != 1:
        return None
    c = out[0]
    if c.kind == "fiscal_year":
        return c.value, c.value + 1, True
    if c.kind == "date" and c.value.isdigit():
        return int(c.value), int(c.value), False
    if c.kind == "period" and c.value["start"].isdigit() and c.value["end"].isdigit():
        first, last = int(c.value["start"]), int(c.value["end"])
        return (first, last, False) if last == first + 1 else None
    return None


def _under_heading(a: _Date, b: _Date, above: tuple[int, int, bool] | None) -> dict[str, str] | None:
    """A yearless period right under a heading that names its year, season or fiscal year
    (「2025-2026年シーズン」 / 「12月19日~3月下旬」 -> 2025-12-19 .. 2026-03)."""
    if above is None or a.every or b.every or a.month is None or b.month is None:
        return None
    first, last, fiscal = above
    y_a = first + 1 if fiscal and a.month < 4 else first
    y_b = y_a + (b.next_year or (1 if b.key() < a.key() else 0))
    if y_b > last or not _valid(y_a, a.month, a.day) or not _valid(y_b, b.month, b.day):
        return None
    return {"start": _iso(y_a, a.month, a.day, a.eom), "end": _iso(y_b, b.month, b.day, b.eom)}
