"""Kanji numerals <-> integers.

Two notations are handled:

* multiplicative: 四万三千百六十 -> 43160, 二十 -> 20, 千 -> 1000, 4万3千 -> 43000 (arabic digits may
  be mixed in, as in 広報 text);
* positional (no 十/百/千/万...): 〇〇八 -> "008", 二〇二五 -> "2025" — kept as a digit *string*
  because leading zeros matter (bank branch numbers, codes).
"""

from __future__ import annotations

import re

DIGITS = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000, "阡": 1000}
LARGE_UNITS = {"万": 10**4, "萬": 10**4, "億": 10**8, "兆": 10**12}
KANJI_NUMERAL_CHARS = "".join(DIGITS) + "".join(SMALL_UNITS) + "".join(LARGE_UNITS)
KANJI_NUMERAL_RE = re.compile(f"[0-9{KANJI_NUMERAL_CHARS}]*[{KANJI_NUMERAL_CHARS}][0-9{KANJI_NUMERAL_CHARS}]*")

_WRITE_DIGITS = "〇一二三四五六七八九"
_WRITE_LARGE = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))


def is_positional(text: str) -> bool:
    """True for digit-by-digit kanji (〇〇八, 二〇二五): no 十/百/千/万/億/兆."""
    return bool(text) and all(c in DIGITS or c.isdigit() for c in text)


def kanji_to_int(text: str) -> int:
    """Value of a kanji (or mixed kanji/arabic) numeral. Raises ValueError if ``text`` is not one."""
    if not text:
        raise ValueError("empty numeral")
    if is_positional(text):
        return int(kanji_to_digits(text))
    total = 0  # completed 万/億/兆 groups
    group = 0  # value below the current large unit
    number: int | None = None  # digits read since the last unit
    for ch in text:
        if ch in DIGITS or ch.isdigit():
            d = DIGITS[ch] if ch in DIGITS else int(ch)
            number = d if number is None else number * 10 + d
        elif ch in SMALL_UNITS:
            group += (1 if number is None else number) * SMALL_UNITS[ch]
            number = None
        elif ch in LARGE_UNITS:
            value = group + (number or 0)
            if value == 0:
                value = 1
            total += value * LARGE_UNITS[ch]
            group, number = 0, None
        else:
            raise ValueError(f"not a numeral character: {ch!r} in {text!r}")
    return total + group + (number or 0)


def kanji_to_digits(text: str) -> str:
    """Arabic digit string for a numeral; positional numerals keep leading zeros (〇〇八 -> "008")."""
    if is_positional(text):
        return "".join(str(DIGITS[c]) if c in DIGITS else c for c in text)
    return str(kanji_to_int(text))


def int_to_kanji(n: int) -> str:
    """Standard multiplicative kanji for a non-negative integer (43160 -> 四万三千百六十)."""
    if n < 0:
        raise ValueError("negative numbers have no kanji form here")
    if n == 0:
        return "〇"
    out: list[str] = []
    for unit, name in _WRITE_LARGE:
        if n >= unit:
            out.append(_below_10000(n // unit) + name)
            n %= unit
    if n:
        out.append(_below_10000(n))
    return "".join(out)


def _below_10000(n: int) -> str:
    out: list[str] = []
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        d, n = divmod(n, unit)
        if d:
            out.append(("" if d == 1 else _WRITE_DIGITS[d]) + name)
    if n:
        out.append(_WRITE_DIGITS[n])
    return "".join(out)
