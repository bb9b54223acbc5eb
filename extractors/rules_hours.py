"""Office hours of one line (a time window and its days).

* office_hours: a time window, "[days ]HH:MM-HH:MM[,HH:MM-HH:MM ...]" (OSM opening_hours
  style). Days: Mo Tu We Th Fr Sa Su, PH for 祝日; a range "Mo-Fr", a list "Sa,Su,PH", the n-th
  weekday of the month "Sa[2]" (第2土曜日), "Sa[2,4]" (第2・第4土曜). Days come from words written directly before the
  times (月曜から金曜:, 平日, 土日祝日, 月曜日から木曜日の) or in brackets directly after them
  (09:00~19:00(月曜~金曜)); they are part of the span, and so is a 朝 between them and the times
  (平日朝9時半~午後4時まで). Several ranges in one window (separated
  by 、 , ・ / と 及び or spaces, no new days in between, in time order) are one fact: 午前8時30分から午前10時まで、
  正午から午後1時まで -> "08:30-10:00,12:00-13:00". 正午 is 12:00; 午前/午後, 24-hour "17:15" and
  "5時15分", "~"/"から…まで" are read; AM/PM like 午前/午後, and an end without 午前/午後 after a 午後 start
  is afternoon too (午後2時~6時 -> 14:00-18:00). Days may be followed by a bracket of excepted days before
  the times (月曜日~金曜日(祝日を除く)午前8時30分~ -> Mo-Fr), or written after the times without a bracket
  (8:30~17:15 月~金). A window followed by を除く (12:00~13:00を除く) is a break, not a window. A window without day words gets "Mo-Fr" from
  平日/開庁/土日祝日を除く/土日は休み on its line or the adjacent lines (document pass); the span
  stays the times. A window followed by 運休/休止/休館/休み (16:30~17:30はリフト一時運休) is a closure: no fact.
"""

from __future__ import annotations

import re

from extractors.lineview import Candidate, LineView
from extractors.rules_contacts import DASH, P_HOURS

_DAY = "[月火水木金土日祝]"
_TIME = r"(?:(?:午前|午後|AM|PM|am|pm|A\.M\.|P\.M\.|a\.m\.|p\.m\.)\s*)?[0-9]{1,2}(?:時(?:\s*[0-9]{1,2}\s*分|半)?|:[0-9]{2})|正午"
_RANGE_RE = re.compile(rf"(?P<t1>{_TIME})\s*(?:から|[~〜{DASH}ー])\s*(?P<t2>{_TIME})(?:まで)?")
_TIME_PARTS = re.compile(
    r"(午前|午後|AM|PM|am|pm|A\.M\.|P\.M\.|a\.m\.|p\.m\.)?\s*([0-9]{1,2})(?:時(?:\s*([0-9]{1,2})\s*分|(半))?|:([0-9]{2}))")
_PM = frozenset({"午後", "PM", "pm", "P.M.", "p.m."})
_DAY_CODES = {"月": "Mo", "火": "Tu", "水": "We", "木": "Th", "金": "Fr", "土": "Sa", "日": "Su", "祝": "PH"}
_KANJI_ORDINAL = str.maketrans("一二三四五", "12345")
_DAY_ITEM_RE = re.compile(
    rf"\s*(?:(?P<wd>平日)|第\s*(?P<nth>[1-5])\s*(?:(?P<nd>[月火水木金土日])(?:曜日?)?)?|(?P<ph>祝日|祝祭日|祝)"
    rf"|(?P<d>[月火水木金土日])(?:曜日?)?|(?P<to>から|[~〜ー{DASH}])|(?P<sep>[・、,と]|及び|および))\s*"
)
_SEL_CHARS = set("月火水木金土日祝曜平第毎週0123456789一二三四五・、,~〜ー-‐からと及びおよ ")
_LEAD_GAP = " :、,はの(|"  # between days and times: 月曜から金曜:, 土曜日 9:00, 月曜日から木曜日の, 平日 | 9:00
_GROUP_GAP_RE = re.compile(r"\s*(?:[、,・/]|及び|および|と)?\s*")
_CLOSED_AFTER_RE = re.compile(r"\s*(?:は|の間は?)\s*[^\s、。,()]{0,12}?(?:運休|休止|休館|休業|休診|休憩|閉鎖|停止|中止|休み)"
                              r"|\s*の?[^\s、。,()0-9]{0,8}?以外"  # 12時から15時の午睡時間以外: when not
                              r"|\s*を?除[くき]")  # 9:00~17:00(12:00~13:00を除く): the break, not a window
# a bracket saying which days are left out, between the days and the times: 月曜日~金曜日(祝日を除く)午前8時30分~
_EXCEPT_BRACKET_RE = re.compile(r"\([^()]{1,16}?(?:を除く|除く|を除き|除き)\)\s*$")
# days written after the times without a bracket: 8:30~17:15 月~金 (then the end of the line or a break)
_TRAIL_DAYS_RE = re.compile(r"\s*(?P<sel>[月火水木金土日祝曜平第毎週・、~ー\-からと及びおよ]{1,16}?)(?=\s|$|[。,(])")
_ONLY_RE = re.compile(r"\s*(?:のみ|だけ)$")
_HOLIDAY_CASE_RE = re.compile(r"(?:祝日|祝祭日|休日)の場合は\s*$")
_TRAIL_SEL_RE = re.compile(r"\s*\(\s*(?P<sel>[^()\n]{1,16}?)\s*(?:\)|(?=\()|$)")



def _clock(t: str) -> str:
    t = t.strip()
    if t == "正午":
        return "12:00"
    m = _TIME_PARTS.fullmatch(t)
    if not m:
        raise ValueError(t)
    half, hour = m.group(1), int(m.group(2))
    minute = int(m.group(3) or m.group(5) or (30 if m.group(4) else 0))
    if half in _PM and hour < 12:
        hour += 12
    if hour > 24 or minute > 59:
        raise ValueError(t)
    return f"{hour:02d}:{minute:02d}"


def _range_value(t1: str, t2: str) -> str:
    """"HH:MM-HH:MM"; an end without 午前/午後 after a 午後 start is afternoon too (午後2時~6時 -> 14:00-18:00)."""
    a, b = _clock(t1), _clock(t2)
    m1, m2 = _TIME_PARTS.match(t1.strip()), _TIME_PARTS.match(t2.strip())
    if (m1 and m2 and m1.group(1) in _PM and not m2.group(1) and b < a
            and int(b[:2]) < 12 and f"{int(b[:2]) + 12:02d}{b[2:]}" > a):
        b = f"{int(b[:2]) + 12:02d}{b[2:]}"
    return f"{a}-{b}"


def parse_days(text: str) -> str | None:
    """Day words -> "Mo-Fr", "Sa,Su,PH", "Sa[2]", "Tu-Su"; None unless ``text`` is only day words."""
    s = text.strip().translate(_KANJI_ORDINAL)
    for lead in ("毎週", "毎月"):
        if s.startswith(lead):
            s = s[len(lead):]
    if not s:
        return None
    items: list[str] = []
    pending_range = False
    nths: list[str] = []  # 第1・第3土曜日: ordinals waiting for their day
    pos = 0
    while pos < len(s):
        m = _DAY_ITEM_RE.match(s, pos)
        if not m or m.end() == pos:
            return None
        pos = m.end()
        if m.group("to"):
            if not items or pending_range:
                return None
            pending_range = True
            continue
        if m.group("sep"):
            continue
        if m.group("nth") and not m.group("nd"):
            nths.append(m.group("nth"))
            continue
        if nths and not m.group("nth"):
            return None  # 第1・土曜: an ordinal without its day
        if m.group("wd"):
            code = "Mo-Fr"
        elif m.group("nth"):
            code = f"{_DAY_CODES[m.group('nd')]}[{','.join([*nths, m.group('nth')])}]"
            nths = []
        elif m.group("ph"):
            code = "PH"
        else:
            code = _DAY_CODES[m.group("d")]
        if pending_range:
            items[-1] = f"{items[-1]}-{code}"
            pending_range = False
        else:
            items.append(code)
    if pending_range or nths or not items:
        return None
    return ",".join(items)


def _leading_days(text: str, start: int, floor: int) -> tuple[str, int] | None:
    """Day words written directly before ``text[start:]`` (not before ``floor``): (days, their start)."""
    end = start
    bracket = _EXCEPT_BRACKET_RE.search(text, floor, start)
    if bracket:
        end = bracket.start()
    while end > floor and text[end - 1] in _LEAD_GAP:
        end -= 1
    if end > floor + 1 and text[end - 1] == "朝" and text[end - 2] in _SEL_CHARS | set(_LEAD_GAP):
        end -= 1  # 平日朝9時半~: the morning of those days
        while end > floor and text[end - 1] in _LEAD_GAP:
            end -= 1
    if end == start and end > floor and text[end - 1] not in _SEL_CHARS:
        return None
    lo = end
    while lo > floor and end - lo < 20 and text[lo - 1] in _SEL_CHARS:
        lo -= 1
    for s in range(lo, end):
        if text[s] in " 、,・":
            continue
        days = parse_days(text[s:end])
        if days is None:
            continue
        if s > 0 and text[s - 1] == "(" and s > 1 and text[s - 2] in "日0123456789":
            return None  # 9月18日(土) 14:00~: the weekday of a date, not opening days
        if end - s == 1 and s > 0 and ("\u4e00" <= text[s - 1] <= "\u9fff" or text[s - 1] == "々"
                                       or "\u3041" <= text[s - 1] <= "\u3096"):
            return None  # 開庁日の8時30分から, 指定する日の14時: the 日 of a word or a phrase, not Sunday
        return days, s
    return None


# words that make the days before a window the days it is closed: 休診日:第2・第4土曜日, 土日祝日を除く
_CLOSED_DAYS_RE = re.compile("休|除|以外|閉")
_DAYS_AFTER = "・:|、 ◇◆●○■□"  # what may stand before day words that end a line (診療時間・金曜日)


def trailing_days(line: str) -> tuple[str, int] | None:
    """Day words that end ``line`` and so head the window the next line starts with (「診療時間・金曜日」 /
    「11:30~12:30 14:00~17:00」, a PDF line break): (days, their start); None when the line does not end
    with day words after a separator, or names days it is closed (休診日:第2・第4土曜日)."""
    lead = _leading_days(line, len(line), 0)
    if lead is None:
        return None
    days, s = lead
    if (s > 0 and line[s - 1] not in _DAYS_AFTER) or _CLOSED_DAYS_RE.search(line, 0, s):
        return None
    return days, s


def find_office_hours(lv: LineView) -> list[Candidate]:
    """月曜から金曜:午前8時30分から午後5時15分まで -> "Mo-Fr 08:30-17:15"; 土曜日9:00~11:30 -> "Sa 09:00-11:30";
    9:00~11:00 14:00~16:00 -> "09:00-11:00,14:00-16:00"; a window without days -> "14:00-16:00"."""
    text = lv.view.text
    ranges = []
    for m in _RANGE_RE.finditer(text):
        try:
            ranges.append((m.start(), m.end(), _range_value(m.group("t1"), m.group("t2"))))
        except ValueError:
            continue
    out = []
    i = 0
    floor = 0
    while i < len(ranges):
        start, end, first = ranges[i]
        lead = _leading_days(text, start, floor)
        days, span_start = (lead[0], lead[1]) if lead else (None, start)
        values = [first]
        j = i + 1
        while j < len(ranges):
            gap = text[end:ranges[j][0]]
            if (len(gap) > 3 or not _GROUP_GAP_RE.fullmatch(gap) or _leading_days(text, ranges[j][0], end)
                    or ranges[j][2][:5] < values[-1][-5:]):
                break  # a new window: other days, or a range that starts before the last one ended
            values.append(ranges[j][2])
            end = ranges[j][1]
            j += 1
        if days is None:
            tm = _TRAIL_SEL_RE.match(text, end) or _TRAIL_DAYS_RE.match(text, end)
            if tm:
                sel = tm.group("sel")
                only = _ONLY_RE.search(sel)  # (平日のみ): the days, without the word "only"
                trailing = parse_days(sel[:only.start()] if only else sel)
                if trailing:
                    days, end = trailing, tm.end("sel") - (len(sel) - only.start() if only else 0)
        if days is None:
            holiday = _HOLIDAY_CASE_RE.search(text, max(floor, span_start - 12), span_start)
            if holiday:  # 祝日の場合は9:30~16:30: the window of public holidays
                days, span_start = "PH", holiday.start()
        if _CLOSED_AFTER_RE.match(text, end):
            floor, i = end, j
            continue  # 16:30~17:30はリフト一時運休: when it is closed, not opening hours
        value = ",".join(values)
        if days:
            value = f"{days} {value}"
        a, b = lv.view_to_line(span_start, end)
        out.append(Candidate("office_hours", value, a, b, P_HOURS))
        floor = end
        i = j
    return out


