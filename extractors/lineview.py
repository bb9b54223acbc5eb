"""One line of a Document prepared for the fact rules.

Three layers, each mapping back to the one before:

* ``line``  — the exact text of the line in ``Document.text``;
* ``norm``  — NFKC + dash map (:func:`extractors.normalize.normalize`), mapped to ``line``;
* ``view``  — ``norm`` with every number rewritten as plain arabic digits, mapped to ``norm``:
  四万三千百六十 -> 43160, 4万 -> 40000, 13,500 -> 13500, 〇〇八 -> 008, 令和七年 -> 令和7年;
  spaces between a number and its unit are dropped (PDF text layers: "18 歳", "7 月").
  Which kanji are numerals is decided by Sudachi (数詞 tokens), so 一部, 一時金, 統一, 十分,
  千葉市 and 八王子 stay words. ``sudachi=False`` builds the view with regexes instead (the
  ablation baseline of ``benchmarks.extract_quality``).

Rules return :class:`Candidate` spans in ``line`` coordinates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from extractors.normalize import Mapped, normalize, replace_spans
from extractors.numerals import KANJI_NUMERAL_CHARS, KANJI_NUMERAL_RE, kanji_to_digits
from extractors.tokenizer import Token, tokenize

# a line needs number tokens when a kanji numeral is followed by a unit some rule reads
# (七年, 四万三千百六十円, 十八歳, 三分の二, 九時, 六丁目), or a number has 万/千/百/億 or commas
_NUMERAL_TRIGGER = re.compile(
    f"[{KANJI_NUMERAL_CHARS}][年月日円歳才割分時週か箇ヶカケ間度号丁番]|[0-9][万千百億兆]|[0-9],[0-9]"
)
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ASCII_NUMBER = re.compile(r"[0-9.]+")
_UNIT_GAP = re.compile("(?<=[0-9]) +(?=[年月日歳才円%割か箇ヶカケ時分週万千億])")
_LEXICAL_AGE = re.compile(f"([{KANJI_NUMERAL_CHARS}]+)[歳才]")
_COMMA_NUMBER = re.compile(r"(?<![0-9,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")


@dataclass
class Candidate:
    """A fact found by a rule, before overlap resolution; offsets are in line coordinates."""

    kind: str
    value: Any
    start: int
    end: int
    priority: int
    qualifiers: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    group: int | None = None  # candidates of one group may share a span (a list of months)


@dataclass
class LineView:
    line: str
    norm: Mapped
    view: Mapped
    sudachi: bool
    _tokens: list[Token] | None = None

    @classmethod
    def build(cls, line: str, sudachi: bool = True) -> LineView:
        norm = normalize(line)
        identity = Mapped(norm.text, None, None, len(norm.text))
        lv = cls(line=line, norm=norm, view=identity, sudachi=sudachi)
        edits: list[tuple[int, int, str]] = []
        if _NUMERAL_TRIGGER.search(norm.text):
            edits += lv._numeral_edits_sudachi() if sudachi else _numeral_edits_regex(norm.text)
        if " " in norm.text:  # PDF text layers space out "18 歳", "7 月"
            edits += [(m.start(), m.end(), "") for m in _UNIT_GAP.finditer(norm.text)]
        if edits:
            lv.view = replace_spans(identity, edits)
        return lv

    @property
    def tokens(self) -> list[Token]:
        """Sudachi tokens of ``norm.text`` (computed on first use)."""
        if self._tokens is None:
            self._tokens = tokenize(self.norm.text)
        return self._tokens

    def _numeral_edits_sudachi(self) -> list[tuple[int, int, str]]:
        edits = []
        tokens = self.tokens
        for i, t in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if (nxt is not None and nxt.surface == "十分" and nxt.start == t.end and t.number is not None
                    and _PLAIN_NUMBER.fullmatch(t.number) and int(t.number) < 10 and not _ASCII_NUMBER.fullmatch(t.surface)):
                # 三十分: Sudachi reads 三 + 十分 (enough); the numeral is 30 and 分 its unit
                edits.append((t.start, nxt.start + 1, str(int(t.number) * 10)))
                continue
            if t.surface == "十分" and i > 0 and edits and edits[-1][1] == t.start + 1:
                continue
            lexical = _LEXICAL_AGE.fullmatch(t.surface)
            if lexical:  # 二十歳 is one dictionary word; its numeral is still an age
                edits.append((t.start, t.start + len(lexical.group(1)), kanji_to_digits(lexical.group(1))))
                continue
            if t.number is None or _ASCII_NUMBER.fullmatch(t.surface):
                continue
            if _PLAIN_NUMBER.fullmatch(t.number) and t.number != t.surface:
                edits.append((t.start, t.end, t.number))
        return edits

    def norm_to_line(self, start: int, end: int) -> tuple[int, int]:
        return self.norm.to_source(start, end)

    def view_to_norm(self, start: int, end: int) -> tuple[int, int]:
        return self.view.to_source(start, end)

    def view_to_line(self, start: int, end: int) -> tuple[int, int]:
        return self.norm.to_source(*self.view.to_source(start, end))


def _numeral_edits_regex(text: str) -> list[tuple[int, int, str]]:
    """Regex-only numeral rewriting: every kanji-numeral run becomes digits (no word context)."""
    edits: list[tuple[int, int, str]] = []
    for m in KANJI_NUMERAL_RE.finditer(text):
        try:
            edits.append((m.start(), m.end(), kanji_to_digits(m.group())))
        except ValueError:
            continue
    taken = [(a, b) for a, b, _ in edits]
    for m in _COMMA_NUMBER.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            edits.append((m.start(), m.end(), m.group().replace(",", "")))
    return edits
