"""extractors.termsafe: server-controlled strings (redirect targets, Retry-After, page text) are made
inert before they reach a terminal."""

from __future__ import annotations

from extractors.termsafe import terminal_safe


def test_terminal_safe_strips_escapes_and_controls():
    dirty = "a\x1b[2J\x1b[31mb\x1b]0;title\x07c\u009b31md\x00e\x07f\u202eg\rh\ni\tj"
    assert terminal_safe(dirty) == "abcdefgh\ni\tj"


def test_japanese_text_and_plain_urls_are_unchanged():
    text = "ひとり親家庭住宅支援資金貸付 https://www.city.example.lg.jp/kurashi/jinken/hitorioya/syuurou.html 上限4万円"
    assert terminal_safe(text) == text


def test_one_line_output_folds_newlines_and_tabs():
    assert terminal_safe("児童扶養手当\n月額\t46,690円\x1b[0m", keep_newlines=False) == "児童扶養手当 月額 46,690円"
