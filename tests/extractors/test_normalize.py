"""Normalisation, numerals, eras, the offset map and the Sudachi wrapper (incl. hypothesis properties)."""

from __future__ import annotations

import subprocess
import sys
import threading
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.eras import era_year, fiscal_year_of, fiscal_year_range, format_era_date, parse_era_date, to_era
from extractors.facts import extract_facts
from extractors.lineview import LineView
from extractors.model import Document
from extractors.normalize import DIGIT_DASHES, normalize
from extractors.numerals import int_to_kanji, kanji_to_digits, kanji_to_int
from extractors.tokenizer import MAX_CHUNK_CHARS, split_for_sudachi, tokenize

FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@.:-"}
SPECIAL_CHARS = (
    list("0123456789０１２３４５６７８９ＡＢｚ＠．：　 ~〜～ー−‐–―-円月年日歳万四一〇")
    + ["ｶ", "ﾞ", "ﾟ", "ﾊ", "ｰ", "㍻", "①", "㈱", "\u3099", "e", "か", "\u0301", "…", "ﬁ", "𝟏"]
)
texts = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIAL_CHARS), st.characters(exclude_categories=("Cs",))),
    max_size=40,
)


def to_fullwidth(s: str) -> str:
    return "".join(FULLWIDTH.get(c, c) for c in s)


# --- normalize ---------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "norm"), [
    ("０３－５９８４－１３１９", "03-5984-1319"),
    ("03ー5984ー1319", "03-5984-1319"),
    ("メートル", "メートル"),  # ー between kana stays
    ("2,200〜170,200円", "2,200~170,200円"),
    ("4月～11月", "4月~11月"),
    ("1−15−22", "1-15-22"),
    ("1‐2", "1-2"),
    ("5–6", "5-6"),
    ("― 関連記事 ―", "― 関連記事 ―"),  # U+2015 is a hyphen only between digits
    ("ｶﾞｲﾄﾞ", "ガイド"),
    ("㍻28年", "平成28年"),
    ("ＴＥＬ：03", "TEL:03"),
    ("全額支給（　月額）", "全額支給( 月額)"),
])
def test_normalize_examples(raw: str, norm: str) -> None:
    assert normalize(raw).text == norm


def test_offsets_map_back_to_exact_source() -> None:
    src = "上限４万円、ｶﾞｲﾄﾞ㍻28年、０３ー５９８４"
    m = normalize(src)
    assert m.text == "上限4万円、ガイド平成28年、03-5984"
    i = m.text.index("4万円")
    a, b = m.to_source(i, i + 3)
    assert src[a:b] == "４万円"
    i = m.text.index("ガイド")
    assert src[slice(*m.to_source(i, i + 3))] == "ｶﾞｲﾄﾞ"
    i = m.text.index("平成")
    assert src[slice(*m.to_source(i, i + 1))] == "㍻"  # half a ligature maps to the whole ligature
    i = m.text.index("03-5984")
    assert src[slice(*m.to_source(i, i + 7))] == "０３ー５９８４"


def test_identity_is_cheap() -> None:
    m = normalize("ひとり親家庭")
    assert m.starts is None and m.to_source(1, 3) == (1, 3)


def test_view_maps_kanji_numerals_back() -> None:
    line = "令和七年四月一日、四万三千百六十円"
    lv = LineView.build(line)
    assert lv.view.text == "令和7年4月1日、43160円"
    i = lv.view.text.index("43160円")
    assert line[slice(*lv.view_to_line(i, i + 6))] == "四万三千百六十円"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_offset_map_property(src: str) -> None:
    m = normalize(src)
    n = len(m.text)
    if m.starts is None:
        assert m.text == src
        return
    assert len(m.starts) == len(m.ends) == n
    covered = set()
    for i in range(n):
        s, e = m.starts[i], m.ends[i]
        assert 0 <= s < e <= len(src)
        if i:
            assert m.starts[i - 1] <= s and m.ends[i - 1] <= e
        covered.update(range(s, e))
    assert covered == set(range(len(src)))  # no source character is lost
    # every group of output characters is the normalisation of exactly its source characters
    i = 0
    while i < n:
        j = i
        while j < n and (m.starts[j], m.ends[j]) == (m.starts[i], m.ends[i]):
            j += 1
        group, out = src[m.starts[i]:m.ends[i]], m.text[i:j]
        if not (out == "-" and group in DIGIT_DASHES):
            assert normalize(group).text == out
        a, b = m.to_source(i, j)
        assert (a, b) == (m.starts[i], m.ends[i])
        i = j


@given(st.text(alphabet=st.sampled_from(sorted(FULLWIDTH)), max_size=30))
def test_fullwidth_forms_normalize(ascii_text: str) -> None:
    assert normalize(to_fullwidth(ascii_text)).text == ascii_text


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1000, max_value=9999))
def test_fullwidth_facts_equal_ascii_facts(amount: int, tail: int) -> None:
    ascii_line = f"月額{amount:,}円 TEL:03-5984-{tail}"
    wide_line = to_fullwidth(ascii_line)

    def values(line: str) -> list:
        doc = Document.from_blocks([(line, {})], "text/plain")
        facts = extract_facts(doc)
        assert all(doc.text[f.start:f.end] == f.text for f in facts)
        return [(f.kind, f.value, f.qualifier) for f in facts]

    assert values(wide_line) == values(ascii_line) == [
        ("amount", amount, "月額"), ("phone", f"+8135984{tail}", None)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from([
    "上限４万円", "月額13,500円", "０３－５９８４－１３１９", "令和七年四月一日", "ｶﾞｲﾄﾞ", "㍻28年度", "18歳未満",
    "4月〜11月", "1年以内", "FAX 03-3908-9999", "東京都北区王子本町1-15-22", "生活福祉課", "、", " ", "〇〇八",
    "ページ番号:805-576-132", "e\u0301", "①", "…50,000円",
]), max_size=8), st.integers(min_value=1, max_value=3))
def test_fact_spans_are_exact_source_slices(parts: list[str], lines: int) -> None:
    text_lines = ["".join(parts[k::lines]) for k in range(lines)]
    doc = Document.from_blocks([(t, {}) for t in text_lines], "text/plain")
    for f in extract_facts(doc):
        assert doc.text[f.start:f.end] == f.text
        assert f.text.strip() == f.text and f.text


# --- numerals ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kanji", "value"), [
    ("四万三千百六十", 43160), ("二十", 20), ("十", 10), ("千", 1000), ("百一", 101), ("一億二千万", 120000000),
    ("4万3千", 43000), ("壱万", 10000), ("二〇二五", 2025), ("三十六", 36), ("十万", 100000),
])
def test_kanji_to_int(kanji: str, value: int) -> None:
    assert kanji_to_int(kanji) == value


def test_positional_keeps_leading_zeros() -> None:
    assert kanji_to_digits("〇〇八") == "008"
    assert kanji_to_digits("二〇二五") == "2025"
    assert kanji_to_digits("四万三千百六十") == "43160"


def test_int_to_kanji_examples() -> None:
    assert int_to_kanji(43160) == "四万三千百六十"
    assert int_to_kanji(0) == "〇"
    assert int_to_kanji(10010) == "一万十"


@pytest.mark.parametrize("bad", ["", "円", "四x"])
def test_kanji_to_int_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        kanji_to_int(bad)


@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_kanji_numerals_round_trip(n: int) -> None:
    assert kanji_to_int(int_to_kanji(n)) == n


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_positional_round_trip(digits: str) -> None:
    kanji = "".join("〇一二三四五六七八九"[int(c)] for c in digits)
    assert kanji_to_digits(kanji) == digits


# --- eras --------------------------------------------------------------------------------

def test_era_years() -> None:
    assert era_year("令和", "元") == 2019
    assert era_year("平成", 31) == 2019
    assert era_year("平成", 32) == 2020  # past the era's end: keep counting
    assert era_year("昭和", 64) == 1989
    assert era_year("明治", 1) == 1868
    assert to_era(date(2019, 4, 30)) == ("平成", 31)
    assert to_era(date(2019, 5, 1)) == ("令和", 1)
    assert format_era_date(date(2019, 5, 1)) == "令和元年5月1日"
    with pytest.raises(ValueError):
        era_year("令和", 0)


def test_fiscal_year() -> None:
    assert fiscal_year_of(date(2026, 3, 31)) == 2025
    assert fiscal_year_of(date(2026, 4, 1)) == 2026
    assert fiscal_year_range(2016) == (date(2016, 4, 1), date(2017, 3, 31))


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2150, 12, 31)))
def test_era_dates_round_trip(d: date) -> None:
    assert parse_era_date(format_era_date(d)) == d


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)), st.booleans())
def test_era_dates_round_trip_through_facts(d: date, kanji: bool) -> None:
    era, year = to_era(d)
    if kanji:
        y = "元" if year == 1 else int_to_kanji(year)
        text = f"{era}{y}年{int_to_kanji(d.month)}月{int_to_kanji(d.day)}日"
    else:
        text = format_era_date(d)
    facts = extract_facts(Document.from_blocks([(text, {})], "text/plain"))
    assert [(f.kind, f.value, f.text) for f in facts] == [("date", d.isoformat(), text)]


# --- Sudachi wrapper -----------------------------------------------------------------------

def test_split_for_sudachi_keeps_text_and_limit() -> None:
    text = ("あ" * 50 + "。") * 300 + "い" * 9000
    chunks = split_for_sudachi(text)
    assert "".join(c for _, c in chunks) == text
    assert all(len(c) <= MAX_CHUNK_CHARS for _, c in chunks)
    assert all(text[o:o + len(c)] == c for o, c in chunks)


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_huge_line_is_tokenized_and_facts_found() -> None:
    line = "住民税非課税世帯の方は対象です。" * 4000 + "上限4万円、四万三千百六十円"  # ~64 000 chars, > 49 KB
    doc = Document.from_blocks([(line, {})], "text/plain")
    facts = extract_facts(doc)
    assert [(f.kind, f.value, f.text) for f in facts] == [
        ("amount", 40000, "上限4万円"), ("amount", 43160, "四万三千百六十円")]
    assert tokenize(line)[-1].end == len(line)


def test_tokenizer_is_per_thread_and_consistent() -> None:
    lines = ["生活福祉課ひとり親家庭支援係(本庁舎10階)", "四万三千百六十円", "東京都北区王子本町1-15-22"] * 30
    expected = [tokenize(line) for line in lines]
    results: dict[int, list] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = [tokenize(line) for line in lines]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == expected for r in results.values())


def test_no_dictionary_at_import_time() -> None:
    code = ("import extractors.facts, extractors.tokenizer as t; assert t._dictionary is None; "
            "t.tokenize('一'); assert t._dictionary is not None")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_numbers_use_sudachi_words() -> None:
    # 一時金 / 十分 / 千葉市 are words: the view must not turn them into digits
    lv = LineView.build("一時金と十分な千葉市の四万円")
    assert lv.view.text == "一時金と十分な千葉市の40000円"
    assert unicodedata.is_normalized("NFKC", lv.view.text)
