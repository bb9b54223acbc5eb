"""extract_pdf on our demo PDF and on real two-column municipal newsletters."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest

from extractors.model import Document, ExtractionError
from extractors.pdf import extract_pdf
from extractors.text import extract_document
from tests.support.helpers import demo_site
from tests.support.registry import NERIMA

DEMO_PDF = demo_site("v1") / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"


@pytest.fixture(scope="module")
def shared(shared_dir: Path) -> Path:
    return shared_dir


@pytest.fixture(scope="module")
def demo() -> Document:
    return extract_pdf(DEMO_PDF.read_bytes())


@pytest.fixture(scope="module")
def april(kouhou_2025_04: Document) -> Document:
    return kouhou_2025_04


def block(doc: Document, text: str):
    found = [b for b in doc.blocks if text in b.text]
    assert found, f"no block contains {text!r}"
    return found[0]


def test_demo_pdf_pages_headings_and_program(demo: Document) -> None:
    assert demo.media_type == "application/pdf" and demo.pages == 2 and demo.warnings == ()
    assert {b.page for b in demo.blocks} == {1, 2}
    heading = block(demo, "児童扶養手当")
    assert (heading.kind, heading.text, heading.page) == ("heading", "児童扶養手当", 1)
    amount = block(demo, "月額46,690円")
    assert amount.text == "手当額(全部支給)は、児童1人目が月額46,690円です。"
    assert amount.program == "児童扶養手当"
    assert "電話03-5984-1319" in demo.text.replace(" ", "")
    for b in demo.blocks:
        assert demo.text[b.start:b.end] == b.text


def test_demo_pdf_ruled_table_becomes_rows(demo: Document) -> None:
    rows = [b.text for b in demo.blocks if b.kind == "row"]
    assert rows == ["手当 | 区分 | 月額", "児童扶養手当 | 全部支給(1人目) | 46,690円",
                    "児童扶養手当 | 2人目以降加算 | 11,030円", "児童育成手当 | 育成手当 | 13,500円"]
    assert all(b.page == 2 for b in demo.blocks if b.kind == "row")


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_serial_and_pool_agree(demo: Document) -> None:
    assert extract_pdf(DEMO_PDF.read_bytes(), workers=2) == demo


def test_pdf_without_text_layer() -> None:
    doc = pypdfium2.PdfDocument.new()
    doc.new_page(595, 842)
    buf = io.BytesIO()
    doc.save(buf)
    result = extract_pdf(buf.getvalue())
    assert result.warnings == ("no text layer",) and result.blocks == () and result.pages == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"%PDF-1.4\nthis is not a pdf body", "malformed pdf"), (b"<html></html>", "malformed pdf: no %PDF- header"),
     (b"", "malformed pdf")],
)
def test_broken_pdf_raises_clear_error(body: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract_pdf(body)


def test_encrypted_pdf_raises_clear_error() -> None:
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
            b"4 0 obj<</Filter/Standard/V 1/R 2/O<" + b"11" * 32 + b">/U<" + b"22" * 32 + b">/P -4>>endobj\n"
            b"trailer<</Root 1 0 R/Encrypt 4 0 R/ID[<" + b"33" * 16 + b"><" + b"33" * 16 + b">]/Size 5>>\n%%EOF\n")
    with pytest.raises(ExtractionError, match="encrypted pdf"):
        extract_pdf(body)


def test_mislabelled_pdf_is_sniffed(demo: Document) -> None:
    assert extract_document(DEMO_PDF.read_bytes(), "application/octet-stream").text == demo.text


# --- real two-column newsletters (../shared/corpus/pdf) ---

ARTICLE = [
    "児童扶養手当・特別児童扶養手当について",
    "◇児童扶養手当は、父母の離婚等によって、父または母と生計を同じくしていない児童（父または母が重度障がい者の場合を含む）について、手当を支給する制度です。",
    "46,690円",
    "◇特別児童扶養手当は、精神または身体が障がいの状態（政令で定める程度以上）にある20歳未満の児童について、手当を支給する制度です。",
    "○重度障害児（１級） 56,800円",
    "◇どちらの手当も、毎年決まった月に「現況届」・「所得状況届」を提出しなければなりません。",
    "問 保健福祉センター ☎ 9-3050",
]


def test_two_column_article_is_not_interleaved(april: Document) -> None:
    text = april.text.replace(" ", "")  # spacing around digits and ☎ is typographic, not content
    positions = [text.index(s.replace(" ", "")) for s in ARTICLE]
    assert positions == sorted(positions)
    article = text[positions[0]:positions[-1]]
    for other_column in ("国民年金", "被保険者", "旭川年金", "気象台", "広報取材"):
        assert other_column not in article
    left = "◇国民年金は、国内に居住する20歳以上60歳未満のすべての方が加入し、保険料を納める制度です。"
    assert left in text


def test_article_blocks_carry_page_program_and_rows(april: Document) -> None:
    assert april.pages == 12 and all(b.page is not None for b in april.blocks)
    heading = block(april, "児童扶養手当・特別児童扶養手当について")
    assert heading.kind == "heading" and heading.page == 9
    row = block(april, "○全額支給（月額）46,690円")
    assert row.kind == "row" and row.page == 9 and row.text.startswith("手当月額 | ")
    assert row.program == "児童扶養手当・特別児童扶養手当について"
    assert block(april, "支給日 | 5月、7月、9月、11月、1月、3月の11日").kind == "row"


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_vertical_writing_reads_top_down_right_to_left(shared: Path) -> None:
    doc = extract_pdf((shared / "corpus/pdf/kouhou_otoineppu_2021-09.pdf").read_bytes())
    assert "令和二年度における音威子府村人事行政等の運営報告につきまして、「音威子府村人事行政の運営等の状況の公表に関する条例」に基づき" in doc.text


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_same_notice_two_years_both_extract(shared: Path) -> None:
    for name in ("kouhou_otoineppu_2020-12.pdf", "kouhou_otoineppu_2021-09.pdf"):
        doc = extract_pdf((shared / "corpus/pdf" / name).read_bytes())
        assert "「国の教育ローン」" in doc.text and "「母子家庭」、「父子家庭」" in doc.text
        assert "教教育育" not in doc.text  # fake-bold overprint is de-duplicated


@pytest.mark.slow  # every corpus PDF, page by page (~4-7 s)
def test_every_corpus_pdf_extracts(shared: Path) -> None:
    from tests.support.pdfs import HELD_OUT_PDFS

    for path in sorted(p for p in (shared / "corpus/pdf").glob("*.pdf") if p.name not in HELD_OUT_PDFS):
        data = path.read_bytes()
        doc = extract_pdf(data, workers=1)
        assert doc.pages == len(pypdfium2.PdfDocument(data)) >= 7 and len(doc.blocks) > 50 * doc.pages // 6, path.name
        assert sorted(b.page for b in doc.blocks) == [b.page for b in doc.blocks], path.name
        assert doc.title is None or not doc.title.endswith(".indd")


def test_a_text_layer_with_split_and_lone_surrogates_is_extracted() -> None:
    """pdfium hands out UTF-16 units: a pair in either order is one character, a lone half or a
    private-use code point becomes U+FFFD (recorded), and Sudachi never sees a surrogate."""
    from extractors.facts import extract_facts_result
    from tests.support.pdfs import SURROGATE_CMAP, pdf_with_pages, text_page

    doc = extract_pdf(pdf_with_pages([text_page("B D Tel 03-5984-1319", "A C 18", step=100)], to_unicode=SURROGATE_CMAP))
    assert doc.text == "𠮷𠮷Tel 03-5984-1319\n\ufffd\ufffd18"
    assert doc.warnings == ("2 unreadable or control character(s) in the text layer replaced",)
    result = extract_facts_result(doc)
    assert result.failed_lines == 0 and [f.value for f in result.facts if f.kind == "phone"] == ["+81359841319"]


def test_running_footers_page_numbers_and_repeated_margin_labels_are_dropped() -> None:
    """Furniture by geometry and repetition: the same margin text (numbers masked) on most pages."""
    from tests.support.pdfs import pdf_with_pages, text_page

    pages = []
    for n in range(1, 5):
        body = text_page(f"Section {n}: call 03-5984-131{n} from 2021/4/{n}", "Same notice 2021/5/1", top=500, step=100)
        footer = text_page("Kouhou 2021/4/1 No.559", top=20, size=8) + text_page(str(n), x=560, top=20, size=8)
        pages.append(body + footer)
    doc = extract_pdf(pdf_with_pages(pages))
    assert doc.pages == 4
    assert [b.text for b in doc.blocks if b.page == 1] == ["Section 1: call 03-5984-1311 from 2021/4/1",
                                                          "Same notice 2021/5/1"]
    assert "Kouhou" not in doc.text and not any(b.text.isdigit() for b in doc.blocks)
    two = extract_pdf(pdf_with_pages(pages[:2]))  # two pages: too few to call anything repeated
    assert "Kouhou 2021/4/1 No.559" in two.text


def test_a_period_split_over_two_boxes_reaches_the_rules_as_one_line() -> None:
    from extractors.facts import extract_facts
    from extractors.pdf import _join_periods

    g = (0.1, 0.1, 0.5, 0.2, False)
    page = [("申請期間は令和7年4月1日から", "para", 10.0, g), ("令和8年3月31日まで", "para", 10.0, g),
            ("受付 4月1日～", "para", 10.0, g), ("5月31日", "para", 10.0, g),
            ("相談日 6月1日（月）", "para", 10.0, g), ("〜6月5日（金）", "para", 10.0, g),
            ("6月中旬~", "para", 10.0, g), ("アンケート調査の実施", "para", 10.0, g),
            ("保健福祉センターだより", "para", 10.0, g), ("っと", "para", 10.0, g),
            ("期間 1月5日から", "para", 10.0, g), ("料金 | 500円", "row", 0.0, g)]
    joined = [t for t, *_ in _join_periods(page)]
    assert joined == ["申請期間は令和7年4月1日から令和8年3月31日まで", "受付 4月1日～5月31日",
                      "相談日 6月1日（月）〜6月5日（金）", "6月中旬~", "アンケート調査の実施",
                      "保健福祉センターだより", "っと", "期間 1月5日から", "料金 | 500円"]
    doc = Document.from_blocks([(t, {"kind": "para"}) for t in joined[:3]], "application/pdf")
    periods = [f for f in extract_facts(doc) if f.kind == "period"]
    assert [f.text for f in periods] == ["令和7年4月1日から令和8年3月31日まで", "4月1日～5月31日", "6月1日（月）〜6月5日（金）"]
    assert all(doc.text[f.start:f.end] == f.text for f in periods)
