"""Qualifier words attached to a value: 上限4万円, 36ヶ月を限度, 18歳未満, 平成28年1月1日現在.

Vocabulary (the exact strings that appear in ``Fact.qualifier``):

* before the value: 上限 下限 月額 年額 一時金 (separated from it by nothing, spaces, ":",
  brackets, "は" or "として": 上限4万円, 月額:13,500円, 全額支給(月額) 46,690円, 一時金として5万円);
* after the value: 上限 下限 加算 (optionally after を/が: 20万円を上限, 38万円を加算),
  を限度 (36ヶ月を限度, also written 限度), 以内 未満 以上 以下 まで 現在 以降 以前 から より.

A value carries every qualifier found, in reading order, joined with "," ("月額,上限");
None when there is none. The fact's span is widened to cover them.
"""

from __future__ import annotations

import re

PREFIX_WORDS = ("上限", "下限", "月額", "年額", "一時金")
_PREFIX_RE = re.compile(r"(上限|下限|月額|年額|一時金)(?:\s|[:()]|として|は)*$")
_SUFFIX_RE = re.compile(
    r" ?(?:[をが]?(上限|下限|加算)|(を?限度)|(以内|未満|以上|以下|まで|現在|以降|以前|から|より))"
)
_LOOKBACK = 16

DATE_SUFFIXES = frozenset({"現在", "まで", "以降", "以前", "から", "より"})
DURATION_SUFFIXES = frozenset({"以内", "以上", "未満", "以下", "を限度", "上限", "まで"})  # 上限: 4年を上限


def prefix_qualifiers(text: str, start: int) -> tuple[int, list[str]]:
    """Qualifiers written just before ``text[start:]``; returns the new span start and the words."""
    found: list[str] = []
    pos = start
    while True:
        m = _PREFIX_RE.search(text, max(0, pos - _LOOKBACK), pos)
        if not m:
            break
        found.insert(0, m.group(1))
        pos = m.start()
        if ")" in text[m.end(1) : m.end()] and pos > 0 and text[pos - 1] == "(":
            pos -= 1  # keep the bracket pair: "(月額) 46,690円"
    return pos, found


def suffix_qualifiers(text: str, end: int, allowed: frozenset[str] | None = None) -> tuple[int, list[str]]:
    """Qualifiers written just after ``text[:end]`` (at most two, e.g. "を上限として" -> 上限)."""
    found: list[str] = []
    pos = end
    for _ in range(2):
        m = _SUFFIX_RE.match(text, pos)
        if not m:
            break
        word = m.group(1) or ("を限度" if m.group(2) else m.group(3))
        if allowed is not None and word not in allowed:
            break
        found.append(word)
        pos = m.end()
    return pos, found


def join(qualifiers: list[str]) -> str | None:
    """The ``Fact.qualifier`` string: reading order, "," separated, None when empty."""
    return ",".join(qualifiers) if qualifiers else None
