"""Small text helpers shared by the HTML and PDF extractors (pure functions)."""

from __future__ import annotations

import re
from functools import lru_cache

_WIDE = r"\u2E80-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF"
# A source line break between two Japanese characters is layout, not a space.
_CJK_BREAK = re.compile(rf"(?<=[{_WIDE}])[ \t\r\f\v]*\n\s*(?=[{_WIDE}])")
_SPACES = re.compile(r"[\s\u00A0\u3000\u200B\u200C\u200D\u2060\uFEFF]+")
_ENUM = re.compile(r"^(?:[0-9０-９]+[\s.)）．、]|[(（][0-9０-９]+[)）]|[\u2460-\u2473]|第[0-9０-９一二三四五六七八九十]+)")
_PROGRAM_WORDS = re.compile(
    r"手当|給付|助成|貸付|資金|事業|制度|支援|医療費|控除|減免|免除|補助|割引|ホーム|施設|相談|"
    r"プログラム|サービス|保育|養育費|手帳|奨学|年金|減額|無料|ローン"
)
_GENERIC = re.compile(
    r"月額|金額|[^一-龥]額$|助成額|支給額|要件|対象|方法|期限|期間|書類|持参|問い?合わ?せ|問合せ|概要|"
    r"手順|予約|申請|申込|とは|注意|窓口|連絡先|係$|課$|必要なもの|よくある質問|関連"
)


def clean_text(text: str) -> str:
    """Collapse whitespace (dropping line breaks inside Japanese text) and strip."""
    if "\n" in text:
        text = _CJK_BREAK.sub("", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def names_program(heading: str) -> bool:
    """Does a (sub)heading name a program rather than a generic section like 対象者/お問い合わせ?"""
    h = heading.strip()
    if len(h) < 4 or len(h) > 60 or _ENUM.match(h):
        return False
    return bool(_PROGRAM_WORDS.search(h)) and not _GENERIC.search(h)
