"""decode_html: declared charsets are trusted only when they do not produce mojibake."""

from __future__ import annotations

import codecs

import pytest

from extractors.encoding import decode_html, normalize_charset, plausibility
from extractors.model import ExtractionError
from tests.support.helpers import demo_site
from tests.support.registry import NERIMA

DEMO = demo_site("v1") / NERIMA.lstrip("/")
SJIS_PAGE = DEMO / "jiritsushien.html"
UTF8_PAGE = DEMO / "syuurou.html"


@pytest.fixture(scope="module")
def sjis_bytes() -> bytes:
    return SJIS_PAGE.read_bytes()


@pytest.fixture(scope="module")
def utf8_bytes() -> bytes:
    return UTF8_PAGE.read_bytes()


def test_demo_sjis_page_really_is_sjis_without_meta(sjis_bytes: bytes) -> None:
    with pytest.raises(UnicodeDecodeError):
        sjis_bytes.decode("utf-8")
    assert b"charset" not in sjis_bytes.lower()


@pytest.mark.parametrize("header", [None, "Shift_JIS", "utf-8", "UTF-8", "iso-8859-1", "euc-jp", "bogus-charset"])
def test_sjis_page_decodes_as_cp932_whatever_the_header_says(sjis_bytes: bytes, header: str | None) -> None:
    text, enc = decode_html(sjis_bytes, header)
    assert enc == "cp932"
    assert "対象講座の受講料の60%(上限20万円、下限12,001円)" in text
    assert "ひとり親家庭自立支援教育訓練給付金" in text


@pytest.mark.parametrize("header", [None, "utf-8", "shift_jis", "euc-jp", "windows-1252", "iso-8859-1"])
def test_utf8_page_never_becomes_mojibake(utf8_bytes: bytes, header: str | None) -> None:
    text, enc = decode_html(utf8_bytes, header)
    assert enc == "utf-8"
    assert "貸付額は上限4万円、12か月間です。" in text


def test_euc_jp_without_any_declaration(utf8_bytes: bytes) -> None:
    original = utf8_bytes.decode("utf-8").replace('<meta charset="utf-8">', "")
    body = original.encode("euc_jp")
    text, enc = decode_html(body)
    assert enc == "euc_jp"
    assert text == original


def test_meta_http_equiv_alias_maps_to_cp932() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=x-sjis"></head><body>児童扶養手当は月額46,690円です。</body></html>'
    text, enc = decode_html(html.encode("cp932"))
    assert enc == "cp932"
    assert "月額46,690円" in text


def test_cp932_extensions_decode() -> None:
    html = "<p>①ひとり親家庭 ～ ㈱ 髙橋さん</p>"  # NEC/IBM extensions absent from strict Shift_JIS
    text, enc = decode_html(html.encode("cp932"), "Shift_JIS")
    assert enc == "cp932" and text == html


def test_utf8_bom_wins() -> None:
    text, enc = decode_html(codecs.BOM_UTF8 + "<p>就労支援</p>".encode(), "shift_jis")
    assert (text, enc) == ("<p>就労支援</p>", "utf-8")


def test_ascii_only_is_utf8() -> None:
    assert decode_html(b"<html><body>hello</body></html>") == ("<html><body>hello</body></html>", "utf-8")


def test_undecodable_bytes_raise_with_reason() -> None:
    junk = bytes(range(0x80, 0x100)) * 40
    with pytest.raises(ExtractionError, match="undecodable"):
        decode_html(junk)


@pytest.mark.parametrize(
    ("label", "expected"),
    [("Shift_JIS", "cp932"), ("x-sjis", "cp932"), ("Windows-31J", "cp932"), ("SJIS", "cp932"),
     ("EUC-JP", "euc_jp"), ("utf8", "utf-8"), ("nonsense", None), (None, None)],
)
def test_normalize_charset(label: str | None, expected: str | None) -> None:
    assert normalize_charset(label) == expected


def test_plausibility_separates_real_text_from_mojibake(utf8_bytes: bytes) -> None:
    real = utf8_bytes.decode("utf-8")
    mojibake = utf8_bytes.decode("cp932", errors="replace")
    assert plausibility(real) > 0.95
    assert plausibility(mojibake) < 0.5
