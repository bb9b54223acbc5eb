"""Amounts (円), rates (割, %, 分の), durations (か月, 年以内 ...) and ages (歳).

All rules read ``LineView.view``, where numbers are already plain digits (4万 -> 40000,
13,500 -> 13500, 六割 -> 6割), so they only have to recognise units and qualifiers.
"""

from __future__ import annotations

import re
from decimal import Decimal

from extractors.lineview import Candidate, LineView
from extractors.qualifiers import DURATION_SUFFIXES, prefix_qualifiers, suffix_qualifiers

P_AMOUNT, P_RATE, P_AGE, P_DURATION = 70, 80, 90, 100
MAX_AGE = 130

_NUM = r"(?=[0-9])(?<![0-9])(?<![0-9][.\-])([0-9]{1,15}(?:\.[0-9]{1,6})?)"  # the lookahead is a cheap first test
_RANGE_SEP = r"\s*(?:~|-|から)\s*"
_AMOUNT_RE = re.compile(
    rf"{_NUM}(?:円)?{_RANGE_SEP}([0-9]{{1,15}}(?:\.[0-9]{{1,6}})?)円|{_NUM}円"
)
_PERCENT_RE = re.compile(rf"{_NUM}(?:%|パーセント)")
_WARI_RE = re.compile(r"(?<![0-9.])([0-9]{1,2})割(?:([0-9])分)?(?:([0-9])厘)?")
_FRACTION_RE = re.compile(r"(?<![0-9.])([0-9]{1,6})分の([0-9]{1,6})(?![0-9])")
# a slash fraction that is a share: ÷30日×(2/3), 月額×1/12, 税額の1/2を減額, 費用の1/2を助成, 一定(3/10)以上減少
_SLASH_FRACTION_RE = re.compile(r"(?<![0-9./])([0-9]{1,3})/([0-9]{1,3})(?![0-9/])")
_TIMES_BEFORE_RE = re.compile(r"(?:[×*]|[^0-9\s]の)\s*\(?\s*$")
_SHARE_AFTER_RE = re.compile(r"\s*\)?\s*(?:以上|以下|未満|相当|~\s*全額|を?(?:減額|助成|補助|負担|支給|軽減|免除|控除|補填|上限))")
_MONTH_UNITS = "か月|ヶ月|カ月|ヵ月|ケ月|箇月"
_YEAR_UNITS = "年|カ年|ヵ年|ヶ年|か年|ケ年|箇年"
_DURATION_RE = re.compile(
    rf"""(?=[0-9])(?<![0-9])(?<![0-9][.\-:/])
    (?:(?P<nights>[0-9]{{1,2}})泊(?P<d2>[0-9]{{1,2}})日
      |(?P<y>[0-9]{{1,4}}(?:\.[0-9])?)(?:{_YEAR_UNITS})(?!度|生|目|[0-9]+月)(?:(?P<mo2>[0-9]{{1,4}})(?:{_MONTH_UNITS})|(?P<yhalf>半)(?!ば))?
      |(?P<mo>[0-9]{{1,4}})(?:{_MONTH_UNITS})
      |(?P<mo3>[0-9]{{1,3}})月(?=間|\s*(?:以上|以内|未満|を超|を限度))
      |(?P<w>[0-9]{{1,4}})(?P<wk>週間|週)(?!目)
      |(?P<d>[0-9]{{1,4}}(?:\.[0-9])?)日(?!目)
      |(?P<h>[0-9]{{1,4}}(?:\.[0-9]{{1,2}})?)時間(?:(?P<hmi>[0-9]{{1,4}})分(?!の)|(?P<hhalf>半))?
      |(?P<mi>[0-9]{{1,4}})分(?!の|団|野|類|割|析|校|館|室|担|配|布|別|譲|会|署|娩|岐|散|解|量|母|子|数|裂|離|冊)
      |(?P<s>[0-9]{{1,4}})秒
    )(?P<kan>間(?!隔))?""",
    re.VERBOSE,
)
_UNIT_RANK = {"y": 6, "mo": 5, "w": 4, "d": 3, "h": 2, "mi": 1, "s": 0}


def _rank(parts: dict[str, int]) -> int:
    """The smallest unit of a length (1年6か月 -> months), -1 for none."""
    return min((_UNIT_RANK[k] for k in parts), default=-1)


_ERA_BEFORE = re.compile(r"(?:明治|大正|昭和|平成|令和|[MTSHR])\s*$")
_DATE_BEFORE = re.compile(r"[0-9]\s*月\s*$|[0-9]年\s*$|(?:前|翌|当|同|毎|今|来|先)月\s*の?\s*$")  # 4月10日, 令和7年, 前月1日: not lengths
# 9時30分 is a time of day, 2割5分 a rate, 44度43分 an angle
_SECONDS_OF_CLOCK_BEFORE = re.compile(r"[0-9]\s*分\s*$|[0-9]:[0-9]{2}:\s*$")
_CLOCK_BEFORE = re.compile(r"[0-9]\s*[時割度]\s*$|[0-9]:\s*$")
# frequencies (2か月に1回, 3年ごと, 30分間隔), rate bases (1時間あたり500円, 1日につき, 30分単位) and
# ticket names (1日券, 4時間券, 1日乗車券, 1日フリーパス: a product of a price list, not a length of time)
_NOT_A_LENGTH = re.compile(r"\s*(?:に\s*[0-9]+\s*(?:回|度)|ごと|毎|おき|間隔|あたり|当たり|当り|につき|単位"
                           r"|(?:乗車|入場|利用|共通|周遊|フリー)?券|フリーパス|乗り放題)")
_CONTEXT_AFTER = re.compile(
    r"\s*(?:前|後|程度|ほど|くらい|ぐらい|を?経過|が経過|周期|分|タイプ|契約|保証|据置|据え置き|"
    r"[をが]?超え|を?超過|に満たな|に達|有効|かか[りるっ]|を要|"
    r"コース|プラン|前納|納付|一括払|に(?:わた|渡)[りっる]|に及[ぶびん]|"
    r"(?:以上)?(?:居住|在住|勤務|在職|在籍|継続|連続)|"
    r"の(?:貸付|貸与|期間|任期|契約|猶予|据置|返済|延長|研修|在籍|勤務|居住|雇用|保存|保管|継続|実務|経験|有効))"
)
# 任期は3年, 契約期間:1年, 在籍期間 | 2年, 同じ期間(2年): the word may be the topic of the sentence, a table
# header, or stand before the length in brackets
_CONTEXT_BEFORE = re.compile(r"(?:最長|最短|最低|最大|通算|約|概ね|おおむね|およそ|期間|任期|年数|勤続|在職|在籍|築|満|"
                             r"(?<![午最])後)"
                             r"\s*(?:(?:[はがも:|で(]|して)\s*)?$")
# 交付日から3年, 発行日から1年, 転入後から10日: a length counted from a day named in words (not 4月1日から3日)
# 胆振東部地震から3年, 開校から50年: the time since an event named in words
_FROM_BEFORE = re.compile(r"(?:[^0-9\s]日|後|時点|地震|震災|災害|豪雨|発生|創立|設立|開校|開業|開設|開園|開館|誕生|結成)\s*から\s*$")
_DAY_RANGE_AFTER = re.compile(r"\s*(?:~|-|から)\s*[0-9]{1,2}日")  # 期間 | 10日~20日: days of a month
_RANGE_GAP = re.compile(r"\s*(?:から|~|-)\s*")
_CELL_BEFORE = re.compile(r"(?:^|\|)\s*$")
_CELL_AFTER = re.compile(r"\s*(?:\||$)")
# 4月1~3日, 毎月1~3日 (days of a month); 週2~3日, 月に3~4日, 年間120日 (days per week, month or year: a frequency)
_DAYS_OF_MONTH_BEFORE = re.compile(r"(?:[0-9]\s*月|毎月|月|毎|翌|同|前|当|週|年|年間|(?:週|月|年)\s*(?:に|あたり|当たり))\s*$")
_AGE_BEFORE = re.compile(r"[0-9]\s*(?:歳|才)\s*$")
_PER_WEEK_BEFORE = re.compile(r"(?:週|月に|週に)\s*$")
_PORTION_AFTER = re.compile(r"分(?!の?[0-9])")
# between a length and its alternative for other people: 2日(幼児は3日), 5年(大学生は4年
_ALTERNATIVE_GAP = re.compile(r"\s*\(\s*[^()0-9]{1,8}?(?:は|:)\s*")
_RANGE_LOW = re.compile(r"(?<![0-9.\-])([0-9]{1,4})\s*~\s*$")  # 3~4時間
_AGE_RE = re.compile(rf"{_NUM}(?:歳|才)?{_RANGE_SEP}([0-9]{{1,3}})(?:歳|才)|{_NUM}(?:歳|才)"
                     r"|(?<![0-9.,])([0-9]{1,2})\s*[,、・]\s*([0-9]{1,2})(?:歳|才)")  # 5,6歳, 0、1歳: neighbouring ages
_AGE_MONTHS_AFTER = re.compile(r"\s*[0-9]{1,2}\s*(?:か月|ヶ月|カ月|ヵ月|ケ月|箇月)")


def _number(s: str) -> int | float:
    d = Decimal(s)
    return int(d) if d == d.to_integral_value() else float(d)


def _qualified(lv: LineView, kind: str, value, start: int, end: int, priority: int,
               extra: dict | None = None, prefix: bool = True,
               allowed: frozenset[str] | None = None) -> Candidate:
    text = lv.view.text
    quals: list[str] = []
    if prefix:
        start, quals = prefix_qualifiers(text, start)
    end, after = suffix_qualifiers(text, end, allowed)
    a, b = lv.view_to_line(start, end)
    return Candidate(kind, value, a, b, priority, quals + after, extra or {})


def find_amounts(lv: LineView) -> list[Candidate]:
    """``N円``, ranges ``N~M円``/``N円~M円`` (value N, ``max`` M), with qualifiers.

    A range whose unit is written once scales both ends: 300~500万円 -> 3,000,000-5,000,000,
    1~1.5万円 -> 10,000-15,000, 二百~五百万円 -> 2,000,000-5,000,000: the first end, written
    with a smaller multiplier than the second (or none) and without 円, takes the second's
    largest multiplier unless that would put it above the second. 5千~1万円 is already complete
    (5,000-10,000), and so is 300円~500万円.
    """
    out = []
    text = lv.view.text
    for m in _AMOUNT_RE.finditer(text):
        if m.group(3) is not None:
            value, extra = _number(m.group(3)), {}
        else:
            low, high = _number(m.group(1)), _number(m.group(2))
            scale = _written_multiplier(lv, m.start(2), m.end(2))
            if (_written_multiplier(lv, m.start(1), m.end(1)) < scale and low * scale <= high
                    and not text.startswith("円", m.end(1))):
                low = _number(str(Decimal(m.group(1)) * scale))
            if low > high:  # 月額43,160円〜10,180円: a range written from its top
                low, high = high, low
            value, extra = low, {"max": high}
        if isinstance(value, float) or isinstance(extra.get("max", 0), float):
            continue  # fractional yen: not an amount we understand
        out.append(_qualified(lv, "amount", value, m.start(), m.end(), P_AMOUNT, extra))
    return out


_MULTIPLIERS = {"万": 10**4, "萬": 10**4, "億": 10**8, "兆": 10**12, "千": 1000, "百": 100}


def _written_multiplier(lv: LineView, start: int, end: int) -> int:
    """The largest multiplier a number was written with (500万 -> 10000, 1億5千万 -> 10**8, 300 -> 1)."""
    a, b = lv.view_to_norm(start, end)
    return max((_MULTIPLIERS.get(c, 1) for c in lv.norm.text[a:b]), default=1)


def find_rates(lv: LineView) -> list[Candidate]:
    """``6割`` -> 0.6, ``85%`` -> 0.85, ``3分の2`` -> 0.6667 (4 decimals)."""
    text = lv.view.text
    out = []
    for m in _PERCENT_RE.finditer(text):
        value = float(Decimal(m.group(1)) / 100)
        out.append(_qualified(lv, "rate", value, m.start(), m.end(), P_RATE))
    for m in _WARI_RE.finditer(text):
        value = Decimal(m.group(1)) / 10 + Decimal(m.group(2) or 0) / 100 + Decimal(m.group(3) or 0) / 1000
        out.append(_qualified(lv, "rate", float(value), m.start(), m.end(), P_RATE))
    for m in _FRACTION_RE.finditer(text):
        denominator, numerator = int(m.group(1)), int(m.group(2))
        if denominator == 0 or numerator > denominator:
            continue
        out.append(_qualified(lv, "rate", round(numerator / denominator, 4), m.start(), m.end(), P_RATE))
    if "/" in text:
        for m in _SLASH_FRACTION_RE.finditer(text):
            numerator, denominator = int(m.group(1)), int(m.group(2))
            if not (_TIMES_BEFORE_RE.search(text, max(0, m.start() - 4), m.start())
                    or _SHARE_AFTER_RE.match(text, m.end())):
                continue  # 1/2 alone may be a date (January 2): a share needs × or の before it, or a verb after it
            if 0 < numerator < denominator:
                out.append(_qualified(lv, "rate", round(numerator / denominator, 4), m.start(1), m.end(), P_RATE,
                                      prefix=False))
    return out


_UNITS = (("y", "Y"), ("mo", "M"), ("w", "W"), ("d", "D"), ("h", "H"), ("mi", "M"), ("s", "S"))


# a decimal of a unit is a whole number of the next smaller one: 6.5時間 = 6h30m, 1.5年 = 1y6m, 0.5日 = 12h
_SMALLER = {"y": ("mo", 12), "d": ("h", 24), "h": ("mi", 60)}


def _parts(m: re.Match[str]) -> dict[str, int] | None:
    """The numbers of one duration match by unit (1年6か月 -> {"y": 1, "mo": 6}, 2泊3日 -> {"d": 3},
    6.5時間 -> {"h": 6, "mi": 30}); None when a decimal is not a whole number of the smaller unit."""
    g = m.groupdict()
    raw = {"y": g["y"], "mo": g["mo"] or g["mo2"] or g["mo3"], "w": g["w"], "d": g["d"] or g["d2"], "h": g["h"],
           "mi": g["mi"] or g["hmi"], "s": g["s"]}
    parts: dict[str, int] = {}
    if g["yhalf"]:
        raw["mo"] = "6"  # 2年半 = 2 years 6 months
    if g["hhalf"]:
        raw["mi"] = "30"  # 1時間半 = 1 hour 30 minutes
    for k, v in raw.items():
        if not v:
            continue
        if "." not in v:
            parts[k] = int(v)
            continue
        whole, frac = divmod(Decimal(v), 1)
        smaller, factor = _SMALLER[k]
        rest = frac * factor
        if rest != rest.to_integral_value() or raw.get(smaller):
            return None
        if whole:
            parts[k] = int(whole)
        if rest:
            parts[smaller] = int(rest)
    return parts


def _duration_value(parts: dict[str, int]) -> str:
    date = "".join(f"{parts[k]}{letter}" for k, letter in _UNITS[:4] if k in parts)
    time = "".join(f"{parts[k]}{letter}" for k, letter in _UNITS[4:] if k in parts)
    return "P" + date + (f"T{time}" if time else "")


def _always(m: re.Match[str], parts: dict[str, int]) -> bool:
    """か月, 週間, 時間, minutes, ...間 and N泊M日 are lengths of time by themselves; 年, 週, 日 are not."""
    return bool(m.group("kan") or m.group("wk") == "週間" or m.group("nights") or {"mo", "h", "mi", "s"} & parts.keys())


# 半年 = P6M, 半日 = PT12H (as 0.5日); not 前半/後半/上半 (halves of a period), 半年度, 半ば
_HALF_RE = re.compile(r"(?<![前後上下大])半(?P<u>年|日)(?!度|ば|額|期)(?P<kan>間)?")
_HALF_VALUES = {"年": {"mo": 6}, "日": {"h": 12}}


def find_durations(lv: LineView) -> list[Candidate]:
    """``12か月間`` -> P12M, ``1年以内`` -> P1Y (以内), ``36ヶ月を限度`` -> P36M, ``24時間`` -> PT24H,
    ``1年6か月`` -> P1Y6M, ``2時間30分`` -> PT2H30M, ``15分`` -> PT15M, ``5カ年間`` -> P5Y;
    ``3~4時間`` (unit written once) -> PT3H with ``max`` PT4H; ``2泊3日`` -> P3D (a stay: nights and
    days are one span); decimals become the next smaller unit: ``6.5時間`` -> PT6H30M, ``1.5年`` ->
    P1Y6M, ``0.5日`` -> PT12H (none when inexact: 0.3年).

    か月, 週間, 時間 and minutes always are durations; years, weeks and days need 間, a bound word
    (以内/以上/未満/以下/を限度), or a word that makes them a length of time: 前/後 (90日前),
    程度/ほど, を経過, 周期, 分 (直近1年分), a contract-like noun (1年タイプ, 2年の貸付), a word
    before a year, also as the topic or a table header (最長/最低/約/期間/任期/勤続/経験年数 ...;
    任期は3年, 契約期間：1年, 在籍期間 | 2年), or a range whose other end is one
    (90日から30日前まで). Never durations: era years (令和7年), dates
    (4月10日, 28年4月), years of four digits, ordinals (4日目), school years (3年生) and
    frequencies (2か月に1回, 2年ごと). The words that give the context are not part of the span.

    Also (issue 11, broader phrasings): 1時間半 -> PT1H30M, 2年半 -> P2Y6M, 半年 -> P6M, 半日 -> PT12H
    (as 0.5日; not 前半/後半, 半ば); days and weeks take the same words before them as years (最大30日,
    最長で1年, 通算して5年, 築20年) and a length counted from a day named in words (交付日から3年, not
    4月1日から3日); 超え/満たない/有効/かかる/居住・勤務 after a number make it a length, and so do
    前納/納付/一括払 (「1年納付」, 「2年前納」: the length of a prepaid period). Not lengths:
    intervals (30分間隔, 5分おき), rate bases (1時間あたり, 1日につき, 30分単位) and ticket names
    (1日券, 4時間券, 1日乗車券: a product of a price list, as the dev gold of the ski page has it).
    Business days (7営業日) are not read.
    """
    text = lv.view.text
    found: list[tuple[re.Match[str], dict[str, int], bool]] = []
    for m in _DURATION_RE.finditer(text):
        parts = _parts(m)
        if not parts:
            continue
        before = text[max(0, m.start() - 8):m.start()]
        if "y" in parts and (parts["y"] >= 100 or _ERA_BEFORE.search(before)):
            continue
        if parts.keys() <= {"y", "d"} and not m.group("nights") and _DATE_BEFORE.search(before):
            continue
        if parts.keys() == {"mo"} and _AGE_BEFORE.search(before):
            continue  # 1歳2か月: the months of an age
        glued = _DURATION_RE.match(text, m.end())
        if glued and _rank(parts) > _rank(_parts(glued) or {}):
            continue  # 1か月24時間, 1年150時間: the base of a limit written before it, not a length
        if parts.keys() == {"mi"} and _CLOCK_BEFORE.search(before):
            continue
        if parts.keys() == {"s"} and _SECONDS_OF_CLOCK_BEFORE.search(before):
            continue  # 9時30分15秒: a time of day
        if _NOT_A_LENGTH.match(text, m.end()):
            continue
        ok = (_always(m, parts) or bool(_CONTEXT_AFTER.match(text, m.end()))
              # no month has a 32nd day: 交通事故死ゼロ 1,059日 is a length (not 年間120日: days per year)
              or (parts.keys() == {"d"} and parts["d"] > 31 and not _DAYS_OF_MONTH_BEFORE.search(before))
              or (bool(m.group("y") or m.group("d") or m.group("w"))
                  and bool(_CONTEXT_BEFORE.search(before) or _FROM_BEFORE.search(before))
                  and not (m.group("d") and _DAY_RANGE_AFTER.match(text, m.end()))))
        found.append((m, parts, ok))
    if "半" in text:
        for m in _HALF_RE.finditer(text):
            if not _NOT_A_LENGTH.match(text, m.end()):
                found.append((m, dict(_HALF_VALUES[m.group("u")]), True))
        found.sort(key=lambda x: x[0].start())
    out: list[Candidate] = []
    previous_end = -1  # end of the last accepted duration
    last_end = -1  # end of the last emitted one
    for i, (m, parts, ok) in enumerate(found):
        end, quals = suffix_qualifiers(text, m.end(), DURATION_SUFFIXES)
        lo = _RANGE_LOW.search(text, max(0, m.start() - 8), m.start()) if len(parts) == 1 else None
        if lo and int(lo.group(1)) >= next(iter(parts.values())):
            lo = None
        if not ok and not (set(quals) - {"まで"}):
            nxt = found[i + 1] if i + 1 < len(found) else None
            ok = bool(nxt and nxt[2] and _RANGE_GAP.fullmatch(text, m.end(), nxt[0].start()))
            # 感染症 | 2~7日 | 発熱 (a 潜伏期間 column): a range of days that is a whole table cell of a row without
            # a month is a length; 旭川会場(17~19日( under a row of dates, 毎月1~3日 and 4月1~3日 are days of a month
            ok = ok or bool(lo and "d" in parts and "月" not in text and _CELL_BEFORE.search(text, 0, lo.start())
                            and _CELL_AFTER.match(text, end))
            # 解熱後2日(幼児は3日)を経過: the alternative in brackets right after a length is one too
            ok = ok or (previous_end >= 0 and bool(_ALTERNATIVE_GAP.fullmatch(text, previous_end, m.start())))
            if not ok:
                continue
        if end == m.end() and parts.keys() in ({"d"}, {"mo"}) and _PORTION_AFTER.match(text, end):
            # 3日分の水, 313日分(から), 2か月分: days' or months' worth, written with the length (直近1年分 keeps 分
            # outside, as the gold has it)
            end, quals = suffix_qualifiers(text, end + 1, DURATION_SUFFIXES | {"から"})
        if parts.keys() == {"d"} and not (set(quals) - {"まで"}) and _PER_WEEK_BEFORE.search(
                text, max(0, (lo.start() if lo else m.start()) - 4), lo.start() if lo else m.start()):
            continue  # 週2~3日の勤務, 月に4日: days per week or month, a frequency
        value, extra, start = _duration_value(parts), {}, m.start()
        if lo:
            (unit, n), = parts.items()
            value, extra, start = _duration_value({unit: int(lo.group(1))}), {"max": value}, lo.start()
        previous_end = end
        if _PRICE_AFTER_RE.match(text, end):
            continue  # 1泊2日6,000円, 1時間500円: the unit a price is charged for, not a length
        a, b = lv.view_to_line(start, end)
        cand = Candidate("duration", value, a, b, P_DURATION, quals, extra)
        if out and _RANGE_GAP.fullmatch(text, last_end, start) and _ascending(out[-1], cand):
            first = out.pop()  # 2時間から4時間: one range, written with its unit twice
            cand = Candidate("duration", first.value, first.start, b, P_DURATION, quals, {"max": value})
        out.append(cand)
        last_end = end  # (in the view, like ``start``)
    return out


_SINGLE_UNIT_RE = re.compile(r"P(T?)([0-9]+)([YMWDHS])")
_PRICE_AFTER_RE = re.compile(r"\s*[:]?\s*[0-9][0-9,.]*\s*円")


def _ascending(low: Candidate, high: Candidate) -> bool:
    """``low`` and ``high`` are one number each of the same unit, ascending, ``low`` without a bound of its own."""
    a, b = _SINGLE_UNIT_RE.fullmatch(low.value), _SINGLE_UNIT_RE.fullmatch(high.value)
    return bool(a and b and a.group(1) == b.group(1) and a.group(3) == b.group(3)
                and int(a.group(2)) < int(b.group(2)) and not low.extra and not low.qualifiers)


def find_ages(lv: LineView) -> list[Candidate]:
    """``18歳未満`` -> 18 (未満); ranges ``0~2歳``/``3歳~5歳`` -> value 0, ``max`` 2.

    A "range" whose first number cannot be its low end (larger than the second, or no age at all:
    「U22 -2023-22歳以下」, a title running into the text) is only the age written with 歳. An age
    bracket (20~30歳代, 60歳代: the decades of life) is not an age.
    """
    out = []
    text = lv.view.text
    for m in _AGE_RE.finditer(text):
        if text.startswith("代", m.end()):
            continue  # 20~30歳代: people in their twenties and thirties
        start = m.start()
        if m.group(4) is not None:
            value, extra = _number(m.group(4)), {"max": _number(m.group(5))}
            if not value < extra["max"] <= MAX_AGE:
                continue
        elif m.group(3) is not None:
            value, extra = _number(m.group(3)), {}
            if _AGE_MONTHS_AFTER.match(text, m.end()):
                continue  # 1歳2か月: an age that is no whole number of years
        else:
            low, high = _number(m.group(1)), _number(m.group(2))
            if low < high <= MAX_AGE:
                value, extra = low, {"max": high}
            else:
                value, extra, start = high, {}, m.start(2)
        if value > MAX_AGE or isinstance(value, float):
            continue  # 0.5歳程度: no age in years
        out.append(_qualified(lv, "age", value, start, m.end(), P_AGE, extra, prefix=False))
    return out
