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


HOSTILE = "児童育成手当\x1b]8;;http://evil\x07リンク\x1b]8;;\x07\x1b[2J\u202e\u2066\x85\x9b31m\x07月額13,500円"


def test_safe_json_stays_valid_and_lossless_but_escapes_what_a_terminal_acts_on():
    import json

    from extractors.termsafe import safe_json

    text = safe_json({"program": HOSTILE, "n": 1}, indent=2)
    assert json.loads(text) == {"program": HOSTILE, "n": 1}  # the data round-trips unchanged
    assert not any(c in text for c in "\x1b\x07\x85\x9b\u202e\u2066")  # nothing raw on the terminal
    assert "\\u001b" in text and "\\u202e" in text and "\\u0085" in text and "児童育成手当" in text


def test_safe_print_and_safe_csv_remove_escapes(capsys):
    import csv
    import io

    from extractors.termsafe import safe_csv, safe_print

    safe_print("program:", HOSTILE)
    safe_csv([["program", "amount"], [HOSTILE, 13500], [None, "a\nb"]])
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "program: 児童育成手当リンク月額13,500円"
    assert list(csv.reader(io.StringIO(out.split("\n", 1)[1]))) == [
        ["program", "amount"], ["児童育成手当リンク月額13,500円", "13500"], ["", "a\nb"]]
