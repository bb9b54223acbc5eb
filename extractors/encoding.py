"""Decode HTML bytes to text without ever returning mojibake.

Declared charsets (HTTP header, ``<meta>``) are trusted only when the bytes decode
strictly with them *and* the result scores as plausible Japanese/ASCII text; otherwise
the best of utf-8 / euc-jp / cp932 wins. Pure functions, no I/O.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache
from itertools import islice

from extractors.model import ExtractionError

# Labels servers and pages use for the Microsoft flavour of Shift_JIS.
_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "s-jis": "cp932", "windows-31j": "cp932", "ms_kanji": "cp932", "ms932": "cp932",
    "csshiftjis": "cp932", "cp932": "cp932", "x-euc-jp": "euc_jp", "euc-jp": "euc_jp",
    "eucjp": "euc_jp", "x-euc": "euc_jp",
}
_FALLBACKS = ("utf-8", "euc_jp", "cp932")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_TRUST = 0.85  # declared charset accepted at or above this plausibility score
_MIN_SCORE = 0.5  # below this no candidate counts as a clean decode
_SAMPLE = 2000  # non-ASCII characters scored at most
_NONASCII = re.compile(r"[^\t\n\r\f\x20-\x7e]")


def normalize_charset(label: str | None) -> str | None:
    """Map a charset label to a Python codec name (Shift_JIS family -> cp932), or None."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)


def declared_charset(body: bytes) -> str | None:
    """The charset a page declares in a ``<meta>`` tag within its first 4 KB."""
    m = _META_RE.search(body[:4096])
    return normalize_charset(m.group(1).decode("ascii", "ignore")) if m else None


@lru_cache(maxsize=8192)
def _char_weight(ch: str) -> float:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E:
        return 1.0  # kana, CJK punctuation, full-width ASCII
    if 0x4E00 <= o <= 0x9FFF:
        try:  # JIS level-1 kanji are common; mojibake spreads evenly over level 2 too
            return 1.0 if ch.encode("euc_jp")[0] < 0xD0 else 0.3
        except UnicodeEncodeError:
            return 0.1
    if 0x2000 <= o <= 0x27BF or 0x2460 <= o <= 0x24FF or 0x3200 <= o <= 0x33FF or o in (0xA0, 0xA9, 0xAE, 0xB0, 0xD7, 0xF7):
        return 1.0  # punctuation, arrows, circled numbers, units, common symbols
    if 0xC0 <= o <= 0x24F or 0x370 <= o <= 0x4FF:
        return 0.5  # Latin/Greek/Cyrillic letters: legitimate but also typical mojibake
    return 0.0  # C1 controls, half-width katakana runs, private use, replacement char


def plausibility(text: str) -> float:
    """Share of non-ASCII characters that look like real Japanese text (1.0 = all)."""
    sample = [m.group() for m in islice(_NONASCII.finditer(text), _SAMPLE)]
    if not sample:
        return 1.0
    score = sum(_char_weight(c) for c in sample) / len(sample)
    halfwidth = sum(1 for c in sample if 0xFF61 <= ord(c) <= 0xFF9F)
    if halfwidth > 0.02 * len(sample):  # real pages rarely use half-width kana at all
        score -= halfwidth / len(sample)
    return score


def _strict(body: bytes, enc: str) -> str | None:
    try:
        return body.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode ``body`` and return ``(text, encoding used)``; raise ExtractionError if impossible."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            text = _strict(body[len(bom):], enc)
            if text is not None:
                return text, enc
    declared = [c for c in (normalize_charset(header_charset), declared_charset(body)) if c]
    tried: dict[str, float] = {}
    best: tuple[float, str, str] | None = None
    for enc in dict.fromkeys([*declared, *_FALLBACKS]):
        text = _strict(body, enc)
        if text is None:
            continue
        score = plausibility(text)
        tried[enc] = score
        if enc in declared and score >= _TRUST:
            return text, enc
        if best is None or score > best[0]:
            best = (score, text, enc)
    if best is not None and best[0] >= _MIN_SCORE:
        return best[1], best[2]
    detail = ", ".join(f"{e}={s:.2f}" for e, s in tried.items()) or "no candidate decodes strictly"
    raise ExtractionError(f"undecodable: declared {declared or 'nothing'}; {detail}")
