"""The real-material gold of issue 11 (tests/gold/otoineppu_page_*.json, otoineppu_pdf_*.json) is sound.

No extractor precision/recall is asserted here (the benchmark reports it); these tests check the
measurement itself: rows well-formed, every gold text present in the rendered document, the
dev/held-out split computed by the rule, and the CMS rendering of the Markdown pages.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.model import Document
from tests.support import cms
from tests.support.gold import (
    CORPUS,
    GOLD_DIR,
    KINDS,
    REAL_PAGES,
    Case,
    missing_texts,
    real_case,
    real_gold_files,
    row_problems,
    split_of,
)

ALL_GOLD = sorted(GOLD_DIR.glob("*.json"))
REAL_GOLD = real_gold_files()
# kinds the material of a split has no instance of (the held-out pages and PDFs print no e-mail address)
ABSENT = {"dev": frozenset(), "heldout": frozenset({"email"})}
needs_shared = pytest.mark.skipif(not REAL_PAGES.exists(), reason="../shared corpus not present")


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", ALL_GOLD, ids=[p.stem for p in ALL_GOLD])
def test_gold_rows_are_well_formed(path: Path) -> None:
    problems = [(row, p) for row in _gold(path)["facts"] for p in row_problems(row)]
    assert problems == []


@pytest.mark.parametrize(("row", "needle"), [
    ({"kind": "departement", "value": "住民課", "text": "住民課", "qualifier": None}, "unknown kind"),
    ({"kind": "date", "value": "2025-13-01", "text": "令和7年13月1日", "qualifier": None}, "malformed date"),
    ({"kind": "date", "value": "--02-30", "text": "2月30日", "qualifier": None}, "malformed date"),
    ({"kind": "amount", "value": "16610", "text": "月額16,610円", "qualifier": "月額"}, "malformed amount"),
    ({"kind": "amount", "value": 500, "text": "500~300円", "qualifier": None, "max": 300}, "malformed amount"),
    ({"kind": "phone", "value": "01656-5-3311", "text": "01656-5-3311", "qualifier": None}, "malformed phone"),
    ({"kind": "phone", "value": "+81165693050", "text": "9-3050", "qualifier": None, "local": False}, "local must"),
    ({"kind": "office_hours", "value": "Mo-Fr 8:30-17:15", "text": "平日8時30分から", "qualifier": None},
     "malformed office_hours"),
    ({"kind": "duration", "value": "P", "text": "日", "qualifier": None}, "malformed duration"),
    ({"kind": "period", "value": {"start": "--04"}, "text": "4月~", "qualifier": None}, "malformed period"),
    ({"kind": "rate", "value": 85, "text": "85%", "qualifier": None}, "malformed rate"),
    ({"kind": "department", "value": "総務課 総務係", "text": "総務課 総務係", "qualifier": None}, "malformed department"),
    ({"kind": "age", "value": 20, "text": "20歳以上", "qualifier": "以上くらい"}, "qualifier"),
    ({"kind": "age", "value": 20, "text": "20歳", "qualifier": None, "maximum": 60}, "unknown keys"),
    ({"kind": "age", "value": 20, "text": " ", "qualifier": None}, "empty text"),
])
def test_validator_rejects_defective_rows(row: dict, needle: str) -> None:
    assert any(needle in p for p in row_problems(row)), row_problems(row)


def test_a_typo_in_gold_text_is_caught() -> None:
    doc = Document.from_blocks([("電話: 01656-5-3312（内線 35）", {}), ("住民課住民生活室 住民係", {})], "text/plain")
    good = {"kind": "department", "value": "住民課住民生活室住民係", "text": "住民課住民生活室住民係", "qualifier": None}
    typo = dict(good, text="住民課住民生活室住民課")
    spaced = {"kind": "phone", "value": "+81165653312", "text": "01656 - 5 - 3312", "qualifier": None}
    case = Case("t", "html", lambda: doc, [good, typo, spaced])
    assert missing_texts(case, doc) == ["住民課住民生活室住民課"]


@pytest.mark.parametrize("path", REAL_GOLD, ids=[p.stem for p in REAL_GOLD])
def test_real_gold_header_follows_the_split_rule(path: Path) -> None:
    gold = _gold(path)
    corpus_file = gold["corpus_file"]
    assert gold["split"] == split_of(corpus_file)
    if corpus_file.startswith("real_pages/otoineppu/"):
        assert gold["rendering"] == "html"
        assert path.stem == "otoineppu_page_" + Path(corpus_file).stem
    else:
        assert corpus_file.startswith("pdf/kouhou_otoineppu_") and gold["rendering"] == "pdf"
        assert isinstance(gold["page"], int) and gold["page"] >= 1
        assert ("from" in gold) == ("to" in gold)
    assert gold["facts"], "a gold file without facts measures nothing"


def test_split_rule_is_computed_from_the_file_name() -> None:
    # cross-check of the computed rule against names the lead listed (both ways)
    for name in ("kurashi__zeikin__juminzei.md", "shisetsu__bunka__mokuyukan.md", "about__jinkou_kokudo.md"):
        assert split_of(f"real_pages/otoineppu/{name}") == "heldout"
    for name in ("kurashi__zeikin__kotei.md", "shisetsu__sports__ski.md", "about__kouhou.md"):
        assert split_of(f"real_pages/otoineppu/{name}") == "dev"
    assert split_of("pdf/kouhou_otoineppu_2025-12.pdf") == "heldout"
    assert split_of("pdf/kouhou_otoineppu_2021-04.pdf") == "dev"
    with pytest.raises(ValueError, match="no split"):
        split_of("pdf/kouhou_otoineppu_2020-06.pdf")


@needs_shared
def test_every_real_page_has_gold_and_the_split_sizes_hold() -> None:
    pages = sorted(p.name for p in REAL_PAGES.glob("*.md"))
    assert len(pages) == 45
    assert sum(split_of(f"real_pages/otoineppu/{n}") == "heldout" for n in pages) == 14
    annotated = {Path(_gold(p)["corpus_file"]).name for p in REAL_GOLD if p.stem.startswith("otoineppu_page_")}
    assert annotated == set(pages)


def test_each_document_is_in_exactly_one_split_and_every_kind_in_both() -> None:
    split_of_doc: dict[str, set[str]] = {}
    kinds: dict[str, set[str]] = {"dev": set(), "heldout": set()}
    sizes = {"dev": 0, "heldout": 0}
    for path in REAL_GOLD:
        gold = _gold(path)
        split_of_doc.setdefault(gold["corpus_file"], set()).add(gold["split"])
        kinds[gold["split"]] |= {row["kind"] for row in gold["facts"]}
        sizes[gold["split"]] += len(gold["facts"])
    assert all(len(s) == 1 for s in split_of_doc.values())
    for split, seen in kinds.items():
        assert seen == KINDS - ABSENT[split], split
    assert sizes["dev"] + sizes["heldout"] >= 400 and min(sizes.values()) >= 150


@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("path", REAL_GOLD, ids=[p.stem for p in REAL_GOLD])
def test_every_gold_text_occurs_in_the_rendered_document(path: Path) -> None:
    case = real_case(path)
    if not (CORPUS / _gold(path)["corpus_file"]).exists():
        pytest.skip("corpus file absent")
    assert missing_texts(case, case.load()) == []


MARKDOWN = """# 固定資産税

固定資産税は、土地、家屋に対して課される税金です。

## 免税点

| 種類 | 免税点 |
|------|------|
| 土地 | 30万円 |
| 家屋 | 20万円 |

### 縦覧

- 毎年4月1日から縦覧ができます。
- 詳細は[村のページ](https://www.vill.otoineppu.hokkaido.jp/)をご覧ください。

<script>alert("x")</script>

## お問い合わせ
住民課住民生活室
電話：01656-5-3312
"""


def test_cms_rendering_keeps_headings_and_tables_as_blocks() -> None:
    doc = cms.page_document(MARKDOWN, "kurashi__zeikin__kotei")
    headings = [(b.level, b.text) for b in doc.blocks if b.kind == "heading"]
    assert headings == [(1, "固定資産税"), (2, "免税点"), (3, "縦覧"), (2, "お問い合わせ")]
    rows = [b.text for b in doc.blocks if b.kind == "row"]
    assert rows == ["種類 | 免税点", "土地 | 30万円", "家屋 | 20万円"]
    assert "詳細は村のページをご覧ください。" in doc.text.split("\n")


def test_cms_furniture_stays_out_of_the_main_text() -> None:
    html = cms.render_page(MARKDOWN, "kurashi__zeikin__kotei")
    doc = cms.page_document(MARKDOWN, "kurashi__zeikin__kotei")
    # the furniture is really there, with facts of its own ...
    for furniture in ("くらし・手続き", cms.OFFICE_ADDRESS, "（代表）", "開庁時間", "ページの先頭へ", "サイトマップ"):
        assert furniture in html
        assert furniture not in doc.text
    # ... and the raw HTML of the Markdown is text, never markup
    assert "<script>" not in html.split("<article")[1].split("</article>")[0]
    assert doc.text.startswith("固定資産税\n")


@needs_shared
def test_real_page_rendering_keeps_markdown_structure() -> None:
    path = REAL_PAGES / "kurashi__zeikin__kotei.md"
    markdown = path.read_text(encoding="utf-8")
    doc = cms.load_page(path)
    md_headings = [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]
    assert [b.text for b in doc.blocks if b.kind == "heading"] == md_headings
    table_lines = [line for line in markdown.splitlines() if line.startswith("|") and not line.startswith("|-")]
    assert len([b for b in doc.blocks if b.kind == "row"]) == len(table_lines)
    assert "FAX：01656-5-3837" in doc.text.split("\n")
