"""Character-level normalisation of Japanese text with an offset map back to the source.

``normalize(text)`` applies NFKC (full-width digits/letters/punctuation -> ASCII, ideographic
space -> " ", half-width katakana -> full-width, ㍻ -> 平成 ...) plus an explicit dash map:

* 〜 (U+301C), ～ (U+FF5E) and ∼ (U+223C) always become ``~`` (a range marker);
* ‐ ‑ ‒ – — ― − ー ｰ become ``-`` only when both neighbours are digits, also across up to two
  spaces on each side (``03ー5984`` is a phone number and so is the PDF's ``5 ‐ 3312``;
  ``メートル`` keeps its long-vowel mark); a dash right after a katakana and before no digit or Latin letter
  is that mark (``センタ－`` -> ``センター``: typed with the wrong key). A comma before one or two digits and
  万/億/兆 is a decimal point (``13,4万円`` = 134,000 yen: thousands take three digits), and a space between a
  number and its multiplier goes (``月額15 万円``).

Kanji numerals are *not* rewritten here: whether 一 is a number depends on the word it is in
(一部, 一時金, 統一), which is decided with Sudachi in ``extractors.lineview``.

Every result is a :class:`Mapped` text that knows, for each of its characters, which source
characters produced it, so a span found in normalised text maps back to the exact source span.

``sanitize_text(text)`` is the text layer's side of it (HTML, PDF and plain-text extractors run
every block through it before offsets are computed, so ``Fact.text == Document.text[start:end]``
holds on the cleaned text): lone surrogates, private-use code points (PDF gaiji) and
non-characters become U+FFFD, control characters other than tab and newline are dropped.
Ligatures (ﬁ, ㍿ …) are left to NFKC in :func:`normalize`, which maps them with their offsets.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

WAVE_DASHES = "\u301c\uff5e\u223c"
DIGIT_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
# a dash right after a katakana (not before a digit or a Latin letter) is the long-vowel mark: 北海道立動物愛護センタ－
_KANA_DASH_CHARS = "-" + DIGIT_DASHES.replace("\u30fc", "").replace("\uff70", "")  # (ー itself, ｰ is NFKC'd to it)
_KANA_DASH_RE = re.compile(f"(?<=[ァ-ヺ])[{_KANA_DASH_CHARS}](?![0-9A-Za-z])")
# a comma before one or two digits and a multiplier is a decimal point (thousands take three digits): 13,4万円
_DECIMAL_COMMA_RE = re.compile(r"(?<=[0-9]),(?=[0-9]{1,2} ?[万億兆])")
_DASH_RE = re.compile(f"[-{DIGIT_DASHES}]")
_TYPED_DASH_RE = re.compile(f"[{_KANA_DASH_CHARS}]")  # a dash other than ー itself
_MULTIPLIER_RE = re.compile("[万億兆]")
_FIXUP_TRIGGER_RE = re.compile(f"[-{DIGIT_DASHES}万億兆]")
_MULTIPLIER_GAP_RE = re.compile(r"(?<=[0-9]) (?=[万億兆]円?)")
_DIGIT_DASH_RE = re.compile(f"(?<=[0-9])( {{0,2}})[{DIGIT_DASHES}](?= {{0,2}}[0-9])")


REPLACEMENT = "\ufffd"
# lone surrogates, private use (BMP and planes 15/16), non-characters -> U+FFFD
_UNREADABLE_RE = re.compile(
    "[\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef\ufffe\uffff\U000f0000-\U0010ffff]"
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff]"
)
# C0/C1 controls except tab/newline, plus DEL: dropped
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_PAIR_RE = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def sanitize_text(text: str) -> tuple[str, int]:
    """``text`` safe for the fact rules and for UTF-8 storage, plus how many characters were changed.

    A surrogate pair left as two code points (``"\\ud842\\udfb7"``, e.g. from ``surrogateescape``
    or a UTF-16 layer) is joined into its character first; what remains unreadable becomes U+FFFD.
    """
    if text.isascii():
        if not _CONTROL_RE.search(text):
            return text, 0
        out, n = _CONTROL_RE.subn("", text)
        return out, n
    changed = 0
    if _SURROGATE_PAIR_RE.search(text):
        text, n = _SURROGATE_PAIR_RE.subn(_join_pair, text)
        changed += n
    text, n = _UNREADABLE_RE.subn(REPLACEMENT, text)
    changed += n
    text, n = _CONTROL_RE.subn("", text)
    return text, changed + n


def _join_pair(m: re.Match[str]) -> str:
    hi, lo = m.group()
    return chr(0x10000 + ((ord(hi) - 0xD800) << 10) + (ord(lo) - 0xDC00))


@dataclass(frozen=True)
class Mapped:
    """A derived text plus, per character, the ``[start, end)`` of the source characters it came from.

    ``starts``/``ends`` are None when the text is identical to its source (identity map).
    """

    text: str
    starts: Sequence[int] | None
    ends: Sequence[int] | None
    source_len: int

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``text[start:end]`` to the smallest source span that produced it."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.text) else self.source_len
            return pos, pos
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=1)
def _special_re() -> re.Pattern[str]:
    """Characters NFKC changes, plus combining marks that must be folded with their base.

    Built lazily on first use (a scan of the BMP takes ~50 ms), never at import time.
    """
    changed: list[str] = []
    marks: list[str] = []
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.combining(c) or cp in (0xFF9E, 0xFF9F):
            marks.append(c)
        elif unicodedata.normalize("NFKC", c) != c or c in WAVE_DASHES:
            changed.append(c)
    mark_class = _char_class(marks)
    changed_class = _char_class(changed)
    # a base character followed by combining marks is normalised as one group (ｶﾞ -> ガ)
    return re.compile(f"[^{mark_class}][{mark_class}]+|[{changed_class}]|[\U00010000-{chr(sys.maxunicode)}]")


def _char_class(chars: list[str]) -> str:
    """A regex character class body for ``chars``, compressed into ranges."""
    out: list[str] = []
    cps = sorted(ord(c) for c in chars)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        lo, hi = re.escape(chr(cps[i])), re.escape(chr(cps[j]))
        out.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "".join(out)


# circled numbers (①-⑳, ㉑-㉟, ㊱-㊿) are list markers: NFKC would glue their digit to the number after them
# (「②50歳に達している者」 -> "250歳"); they become "(2)" instead
_CIRCLED = {chr(0x2460 + i): f"({i + 1})" for i in range(20)} | {chr(0x3251 + i): f"({21 + i})" for i in range(15)} | {
    chr(0x32B1 + i): f"({36 + i})" for i in range(15)}


def _normalize_group(group: str) -> str:
    if group in WAVE_DASHES:
        return "~"
    circled = _CIRCLED.get(group)
    if circled:
        return circled
    return unicodedata.normalize("NFKC", group)


def normalize(text: str) -> Mapped:
    """NFKC + dash map, with an offset map back to ``text``."""
    if text.isascii():
        return Mapped(text, None, None, len(text))
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    changed = False
    for m in _special_re().finditer(text):
        a, b = m.span()
        group = m.group()
        new = _normalize_group(group)
        if new == group:
            continue
        changed = True
        if pos < a:
            pieces.append(text[pos:a])
            starts.extend(range(pos, a))
            ends.extend(range(pos + 1, a + 1))
        pieces.append(new)
        starts.extend([a] * len(new))
        ends.extend([b] * len(new))
        pos = b
    if not changed:
        out = text
    else:
        if pos < len(text):
            pieces.append(text[pos:])
            starts.extend(range(pos, len(text)))
            ends.extend(range(pos + 1, len(text) + 1))
        out = "".join(pieces)
    gaps: list[int] = []
    trigger = _FIXUP_TRIGGER_RE.search(out)  # one scan decides whether any 1:1 fix below can apply
    if trigger is not None:
        dashes = _DASH_RE.search(out, trigger.start()) is not None
        if dashes:
            out2 = _DIGIT_DASH_RE.sub(r"\1-", out)  # 1:1 replacements: offsets unchanged
            if _TYPED_DASH_RE.search(out2) is not None:
                out2 = _KANA_DASH_RE.sub("ー", out2)
            if out2 != out:  # 03ー5984 -> 03-5984; センタ－ (a dash typed for the long-vowel mark) -> センター
                out = out2
                changed = True
        if _MULTIPLIER_RE.search(out, trigger.start()) is not None:
            if "," in out:
                out2 = _DECIMAL_COMMA_RE.sub(".", out)  # 「月額13,4万円」: 1:1 as well
                if out2 != out:
                    out = out2
                    changed = True
            if " " in out:
                gaps = [m.start() for m in _MULTIPLIER_GAP_RE.finditer(out)]
    if not changed and not gaps:
        return Mapped(text, None, None, len(text))
    if not starts:  # only the 1:1 dash replacement happened
        starts = list(range(len(text)))
        ends = list(range(1, len(text) + 1))
    if gaps:  # 「月額15 万円」: the space between a number and its multiplier goes (the span still covers it)
        drop = set(gaps)
        out = "".join(c for i, c in enumerate(out) if i not in drop)
        starts = [x for i, x in enumerate(starts) if i not in drop]
        ends = [x for i, x in enumerate(ends) if i not in drop]
    return Mapped(out, starts, ends, len(text))


def replace_spans(base: Mapped, edits: list[tuple[int, int, str]]) -> Mapped:
    """Rewrite non-overlapping ``(start, end, new_text)`` spans of ``base.text``.

    The result maps to ``base``'s source: every character of a replacement maps to the
    whole source span of the characters it replaced.
    """
    if not edits:
        return base
    n = len(base.text)
    b_starts = base.starts if base.starts is not None else range(n)
    b_ends = base.ends if base.ends is not None else range(1, n + 1)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for a, b, new in sorted(edits):
        if a < pos or b <= a:
            raise ValueError(f"overlapping or empty edit at {a}:{b}")
        pieces.append(base.text[pos:a])
        starts.extend(b_starts[pos:a])
        ends.extend(b_ends[pos:a])
        pieces.append(new)
        starts.extend([b_starts[a]] * len(new))
        ends.extend([b_ends[b - 1]] * len(new))
        pos = b
    pieces.append(base.text[pos:])
    starts.extend(b_starts[pos:])
    ends.extend(b_ends[pos:])
    return Mapped("".join(pieces), starts, ends, base.source_len)
