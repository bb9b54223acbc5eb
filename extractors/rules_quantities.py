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

_NUM = r"(?<![0-9])(?<![0-9][.\-])([0-9]+(?:\.[0-9]+)?)"
_RANGE_SEP = r"\s*(?:~|-|から)\s*"
_AMOUNT_RE = re.compile(
    rf"{_NUM}(?:円)?{_RANGE_SEP}([0-9]+(?:\.[0-9]+)?)円|{_NUM}円"
)
_PERCENT_RE = re.compile(rf"{_NUM}(?:%|パーセント)")
_WARI_RE = re.compile(r"(?<![0-9.])([0-9]+)割(?:([0-9])分)?(?:([0-9])厘)?")
_FRACTION_RE = re.compile(r"(?<![0-9.])([0-9]+)分の([0-9]+)(?![0-9])")
_MONTH_UNITS = "か月|ヶ月|カ月|ヵ月|ケ月|箇月"
_DURATION_RE = re.compile(
    rf"(?<![0-9.\-])([0-9]+)({_MONTH_UNITS}|年|週|日|時間)(間)?"
)
_ERA_BEFORE = re.compile(r"(?:明治|大正|昭和|平成|令和)\s*$")
_AGE_RE = re.compile(rf"{_NUM}(?:歳|才)?{_RANGE_SEP}([0-9]+)(?:歳|才)|{_NUM}(?:歳|才)")


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
    """``N円``, ranges ``N~M円``/``N円~M円`` (value N, ``max`` M), with qualifiers."""
    out = []
    for m in _AMOUNT_RE.finditer(lv.view.text):
        if m.group(3) is not None:
            value, extra = _number(m.group(3)), {}
        else:
            value, extra = _number(m.group(1)), {"max": _number(m.group(2))}
        if isinstance(value, float) or isinstance(extra.get("max", 0), float):
            continue  # fractional yen: not an amount we understand
        out.append(_qualified(lv, "amount", value, m.start(), m.end(), P_AMOUNT, extra))
    return out


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
    return out


def find_durations(lv: LineView) -> list[Candidate]:
    """``12か月間`` -> P12M, ``1年以内`` -> P1Y (以内), ``36ヶ月を限度`` -> P36M, ``24時間`` -> PT24H.

    Years, weeks and days need 間 or a bound word (以内/以上/未満/以下/を限度) so that
    平成28年 or 11日 are not read as durations; か月 and 時間 always are.
    """
    text = lv.view.text
    out = []
    for m in _DURATION_RE.finditer(text):
        n, unit, kan = m.group(1), m.group(2), m.group(3)
        if unit == "年" and _ERA_BEFORE.search(text, 0, m.start()):
            continue
        end, quals = suffix_qualifiers(text, m.end(), DURATION_SUFFIXES)
        if unit in ("年", "週", "日") and not kan and not (set(quals) - {"まで"}):
            continue
        if unit == "時間":
            value = f"PT{int(n)}H"
        else:
            letter = {"年": "Y", "週": "W", "日": "D"}.get(unit, "M")
            value = f"P{int(n)}{letter}"
        a, b = lv.view_to_line(m.start(), end)
        out.append(Candidate("duration", value, a, b, P_DURATION, quals))
    return out


def find_ages(lv: LineView) -> list[Candidate]:
    """``18歳未満`` -> 18 (未満); ranges ``0~2歳``/``3歳~5歳`` -> value 0, ``max`` 2."""
    out = []
    for m in _AGE_RE.finditer(lv.view.text):
        if m.group(3) is not None:
            value, extra = _number(m.group(3)), {}
        else:
            value, extra = _number(m.group(1)), {"max": _number(m.group(2))}
        out.append(_qualified(lv, "age", value, m.start(), m.end(), P_AGE, extra, prefix=False))
    return out
