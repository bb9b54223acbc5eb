"""extract_html / extract_document on our demo site and on real municipal HTML."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from extractors.html import extract_html
from extractors.model import Document
from extractors.text import extract_document, sniff_media_type
from tests.support.helpers import demo_site

NERIMA = "nerima/kurashi/jinken/hitorioya"
H1 = "練馬区ひとり親家庭自立支援プログラム策定事業"
LOAN = "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"


def demo(path: str, version: str = "v1") -> bytes:
    return (demo_site(version) / path).read_bytes()


@pytest.fixture(scope="module")
def syuurou() -> Document:
    return extract_html(demo(f"{NERIMA}/syuurou.html"), url="http://127.0.0.1/nerima/kurashi/jinken/hitorioya/syuurou.html")


@pytest.fixture(scope="module")
def shared(shared_dir: Path) -> Path:
    return shared_dir


def block(doc: Document, text: str):
    found = [b for b in doc.blocks if text in b.text]
    assert found, f"no block contains {text!r}"
    return found[0]


def assert_offsets(doc: Document) -> None:
    for b in doc.blocks:
        assert doc.text[b.start:b.end] == b.text


@pytest.mark.parametrize(
    "noise",
    ["サイトメニュー", "Nerima city office", "みどりの風吹くまちへ", "くらし・手続き", "現在のページ", "人権・男女共同参画・その他福祉",
     "このページを見ている人は", "情報が見つからないときは", "ページの先頭へ", "03-3993-1111", "豊玉北",
     "読み上げる", "LINEで送る", "ポスト", "dataLayer", "googletagmanager", "新規ウィンドウで開きます", "本文へ移動"],
)
def test_page_furniture_is_dropped(syuurou: Document, noise: str) -> None:
    assert noise not in syuurou.text


def test_main_text_is_complete_and_in_order(syuurou: Document) -> None:
    text = syuurou.text
    order = ["ページ番号:805-576-132", "更新日:2025年4月1日", "個々のひとり親家庭の状況やニーズ等に応じた支援計画",
             "(3) 配偶者からの暴力を受けた被害者", "03-5984-4742", "03-5905-5263", "ハローワーク池袋と協定を結び",
             "貸付額は上限4万円、12か月間です。", "電話 03-5984-1319", "午前8時30分から午後5時15分まで"]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert syuurou.title.startswith(H1)
    assert_offsets(syuurou)


def test_page_id_and_update_date_are_their_own_blocks(syuurou: Document) -> None:
    texts = [b.text for b in syuurou.blocks]
    assert "ページ番号:805-576-132" in texts
    assert "更新日:2025年4月1日" in texts


def test_headings_are_blocks_and_set_program(syuurou: Document) -> None:
    h1 = syuurou.blocks[0]
    assert (h1.kind, h1.level, h1.text) == ("heading", 1, H1)
    heads = {b.text: b.level for b in syuurou.blocks if b.kind == "heading"}
    assert heads["対象者"] == 2 and heads["1 相談予約"] == 3 and heads[LOAN] == 2
    assert block(syuurou, "貸付額は上限4万円").program == LOAN
    assert block(syuurou, "ハローワーク池袋の専門スタッフ").program.startswith("「就労応援ねりま」")
    # generic section headings (対象者, 1 相談予約, お問い合わせ) fall back to the page's program
    assert block(syuurou, "(1) ひとり親家庭の親").program == H1
    assert block(syuurou, "電話 03-5984-1319").program == H1


def test_table_rows_and_caption(syuurou: Document) -> None:
    rows = [b for b in syuurou.blocks if b.kind == "row"]
    assert [r.text for r in rows][0] == "練馬総合福祉事務所相談係 | 03-5984-4742"
    assert len(rows) == 4
    assert block(syuurou, "各総合福祉事務所の相談係").kind == "caption"


def test_list_items_are_one_block_each(syuurou: Document) -> None:
    assert block(syuurou, "在宅就業推進事業").text == "在宅就業推進事業"
    assert block(syuurou, "「就労応援ねりま」と連携した就労支援").text == "「就労応援ねりま」と連携した就労支援(下記をご覧ください。)"


def test_v2_differs_by_exactly_the_three_edits(syuurou: Document) -> None:
    v2 = extract_html(demo(f"{NERIMA}/syuurou.html", "v2"))
    changed = [(a.text, b.text) for a, b in zip(syuurou.blocks, v2.blocks) if a.text != b.text]
    assert len(syuurou.blocks) == len(v2.blocks)
    assert changed == [
        ("更新日:2025年4月1日", "更新日:2026年4月1日"),
        ("練馬総合福祉事務所相談係 | 03-5984-4742", "練馬総合福祉事務所相談係 | 03-5984-4700"),
        ("貸付額は上限4万円、12か月間です。条件を満たせば、返済免除となります。", "貸付額は上限5万円、12か月間です。条件を満たせば、返済免除となります。"),
    ]


@pytest.mark.parametrize("header", [None, "utf-8", "Shift_JIS"])
def test_shift_jis_page_without_charset(header: str | None) -> None:
    doc = extract_html(demo(f"{NERIMA}/jiritsushien.html"), charset=header)
    assert block(doc, "受講料の60%").text == "対象講座の受講料の60%(上限20万円、下限12,001円)を支給します。専門実践教育訓練の講座は、修学年数×40万円(上限160万円)です。"
    assert block(doc, "受講料の60%").program == "ひとり親家庭自立支援教育訓練給付金"
    assert "練馬区役所" not in doc.text


def test_secondary_blog_summary_structure() -> None:
    doc = extract_html(demo("press/225813.html"))
    assert block(doc, "一住宅20万円を上限").program == "親元近居助成"
    assert block(doc, "TEL:03-3908-9201").program == "親元近居助成"
    assert block(doc, "月額100,000円").program == "ひとり親家庭高等職業訓練促進給付金事業"
    term = next(b for b in doc.blocks if b.text == "民間賃貸住宅")
    assert term.kind == "term"
    assert term.program == "ファミリー世帯転居費用助成"  # a definition term is not a program
    assert block(doc, "年齢 | 換算人数").kind == "row"
    assert block(doc, "平成28年8月時点のものです").kind == "para"
    assert doc.blocks[-1].text == "info@mail.mamamoi.jp"
    assert "人気記事" not in doc.text and "ツイート" not in doc.text and "運営会社" not in doc.text
    assert_offsets(doc)


def test_kita_index_programs() -> None:
    doc = extract_html(demo("kita/kitahapi/mokuteki/hitori.html"))
    assert block(doc, "育成手当:月額13,500円").program == "児童育成手当"
    assert block(doc, "1級:月額56,800円").program == "特別児童扶養手当"
    assert "TEL:03-3908-1142" in doc.text and "03-3908-1111" not in doc.text


def test_fallback_to_body_drops_header_footer_nav() -> None:
    html = ("<html><head><title>t</title></head><body><header><ul><li>メニュー</li></ul></header>"
            "<nav>ナビ</nav><div><h2>児童育成手当</h2><p>月額13,500円</p></div>"
            "<footer>フッター 03-0000-0000</footer></body></html>").encode()
    doc = extract_html(html)
    assert [b.text for b in doc.blocks] == ["児童育成手当", "月額13,500円"]
    assert doc.blocks[1].program == "児童育成手当"


def test_empty_and_broken_input_do_not_crash() -> None:
    assert extract_html(b"").blocks == ()
    assert extract_html(b"<p>just a fragment</p>").text == "just a fragment"
    assert extract_html(b"<?xml version='1.0' encoding='utf-8'?><html><body><p>x</p></body></html>").text == "x"


def test_dispatch_sniffs_pdf_magic_and_html() -> None:
    pdf = demo(f"{NERIMA}/documents/hitorioya_guide.pdf")
    assert sniff_media_type(pdf, "text/html") == "application/pdf"
    assert extract_document(pdf, "text/html; charset=utf-8").media_type == "application/pdf"
    assert extract_document(demo(f"{NERIMA}/index.html"), None).media_type == "text/html"
    plain = extract_document("児童扶養手当\n\n月額46,690円\n".encode("cp932"), "text/plain")
    assert [b.text for b in plain.blocks] == ["児童扶養手当", "月額46,690円"]


# --- real municipal HTML (../shared/corpus/html_noise) ---

def test_soft_404_still_extracts(shared: Path) -> None:
    doc = extract_html((shared / "corpus/html_noise/chiba__chiba-city-cats__20251112_172251_tail.html").read_bytes())
    assert doc.blocks[0].kind == "heading"
    assert doc.blocks[0].text == "ご指定のページは見つかりませんでした"


def test_hard_404_page_extracts(shared: Path) -> None:
    doc = extract_html((shared / "corpus/html_noise/hokkaido__hokkaido-pref__20251112_172941_tail.html").read_bytes())
    assert "ご指定のページまたはファイルは見つかりませんでした" in doc.text


@pytest.mark.parametrize(
    "names",
    [("chiba__chiba-city-cats__20251112_172419", "chiba__chiba-city-cats__20251113_151445",
      "chiba__chiba-city-cats__20251113_152136", "chiba__chiba-city-cats__20251113_154734"),
     ("kanagawa__yokohama-city__20251112_071037", "kanagawa__yokohama-city__20251113_155033",
      "kanagawa__yokohama-city__20251113_162432"),
     ("hokkaido__hokkaido-pref__20251112_173141", "hokkaido__hokkaido-pref__20251113_154827"),
     ("okinawa__naha-city__20251112_175436", "okinawa__naha-city__20251113_160924"),
     ("tokyo__tokyo-metro-cats__20251112_062735", "tokyo__tokyo-metro-cats__20251113_155354")],
)
def test_refetches_with_only_noise_extract_identically(shared: Path, names: tuple[str, ...]) -> None:
    docs = [extract_html((shared / f"corpus/html_noise/{n}_tail.html").read_bytes()) for n in names]
    assert len(docs[0].text) > 200
    assert all(d.text == docs[0].text and d.blocks == docs[0].blocks for d in docs[1:])


def test_naha_sidebar_feedback_and_adobe_notice_dropped(shared: Path) -> None:
    doc = extract_html((shared / "corpus/html_noise/okinawa__naha-city__20251112_175359_tail.html").read_bytes())
    assert doc.blocks[0].text == "犬猫の収容・保護情報について"
    for noise in ("なはねこサポーター", "分かりやすかった", "Adobe", "現在のページ", "本文ここから"):
        assert noise not in doc.text
    assert "電話：098-951-1530" in doc.text


def test_readspeaker_and_breadcrumbs_dropped_on_yokohama(shared: Path) -> None:
    doc = extract_html((shared / "corpus/html_noise/kanagawa__yokohama-city__20251112_071037_tail.html").read_bytes())
    assert "webReader" not in doc.text and "読み上げ" not in doc.text and "トップページ" not in doc.text
    assert block(doc, "お問合せ番号-112").kind == "row"


def test_extraction_is_fast(shared: Path) -> None:
    body = (shared / "corpus/html_noise/kanagawa__yokohama-city__20251112_071037_tail.html").read_bytes()
    extract_html(body)
    start = time.perf_counter()
    for _ in range(5):
        extract_html(body)
    per_page = (time.perf_counter() - start) / 5
    assert per_page < 0.05, f"{per_page * 1000:.1f} ms for a {len(body) // 1024} KB page"


def test_empty_marker_region_falls_back_to_main() -> None:
    html = "<html><body><!-- 本文ここから --><!-- 本文ここまで --><nav>メニュー</nav><main><p>月額13,500円</p></main></body></html>"
    assert extract_html(html.encode()).text == "月額13,500円"


def test_deeply_nested_markup_is_not_truncated() -> None:
    deep = "<strong><span>" * 400 + "深い" + "</span></strong>" * 400
    html = f"<html><body><main><p>{deep}</p><p>電話 03-5984-1319</p></main></body></html>"
    assert extract_html(html.encode()).text == "深い\n電話 03-5984-1319"


def test_html_too_deep_even_for_flattening_is_partial_with_the_reason() -> None:
    """Tables are kept when flattening (their rows matter), so 3 000 nested tables still pass
    libxml2's depth limit: the page is extracted as far as the parser got, marked partial."""
    from extractors.html import extract_html

    depth = 3000
    body = ("<html><body><main><p>上限4万円</p>" + "<table><tr><td>" * depth + "深い" + "</td></tr></table>" * depth
            + "<p>上限5万円</p></main></body></html>").encode()
    doc = extract_html(body)
    assert doc.partial == "HTML nested too deep even after flattening: the text below level 2048 is cut"
    assert doc.blocks[0].text == "上限4万円" and "上限5万円" not in doc.text
