"""Whole documents: the hand-written gold (seeds, demo pages, corpus PDF) and document-level behaviour."""

from __future__ import annotations

import json

import pytest

from extractors.facts import EXTRACTOR_VERSION, extract_facts, facts_to_json
from extractors.model import Document
from tests.support.gold import DEMO_V1, GOLD_DIR, SHARED, Case, cases, score, target

ALL_CASES = cases()
SYUUROU = DEMO_V1 / "nerima" / "kurashi" / "jinken" / "hitorioya" / "syuurou.html"


def doc_of(*lines: str) -> Document:
    return Document.from_blocks([(line, {}) for line in lines], "text/plain")


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.label for c in ALL_CASES])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_gold_quality(case: Case) -> None:
    doc = case.load()
    facts = case.facts(doc=doc)
    assert all(doc.text[f.start:f.end] == f.text for f in facts)
    counts = score(facts, case.gold)
    problems = [e for c in counts.values() for e in c.errors]
    for kind, c in counts.items():
        assert c.precision >= target(kind) and c.recall >= target(kind), (kind, problems)
    if case.rendering == "text":  # the seed texts are fully under our control: exact
        assert problems == []


@pytest.mark.skipif(not (SHARED / "seeds").is_dir(), reason="../shared/seeds is not present")
def test_seed_gold_has_no_missing_kinds() -> None:
    text_cases = [c for c in ALL_CASES if c.rendering == "text"]
    kinds = {g["kind"] for c in text_cases for g in c.gold}
    assert kinds >= {"amount", "rate", "date", "period", "fiscal_year", "duration", "age", "phone",
                     "email", "address", "department", "office_hours", "url"}


def test_pdf_facts_carry_page_and_program(kouhou_2025_04: Document) -> None:
    doc = kouhou_2025_04
    facts = extract_facts(doc)
    for f in facts:
        assert doc.text[f.start:f.end] == f.text
        assert f.page is not None and 1 <= f.page <= 12
    amounts = {f.value: f for f in facts if f.kind == "amount"}
    assert amounts[46690].page == 9 and amounts[46690].qualifier == "月額"
    assert amounts[46690].program == "児童扶養手当・特別児童扶養手当について"


def test_html_footer_switchboard_and_page_id_yield_nothing() -> None:
    from extractors.html import extract_html

    body = SYUUROU.read_bytes()
    assert b"03-3993-1111" in body  # the ward switchboard is in the page footer...
    doc = extract_html(body)
    facts = extract_facts(doc)
    assert "+81339931111" not in {f.value for f in facts}  # ...but never becomes a fact
    assert not [f for f in facts if "805" in f.text or "576" in f.text]  # ページ番号:805-576-132
    programs = {f.program for f in facts if f.kind == "amount"}
    assert programs == {"ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"}


def test_every_mention_is_its_own_fact() -> None:
    doc = doc_of("貸付額は上限4万円です。", "再掲:上限4万円、上限4万円")
    facts = [f for f in extract_facts(doc) if f.kind == "amount"]
    assert [(f.value, f.start) for f in facts] == [(40000, 4), (40000, 16), (40000, 22)]
    assert all(doc.text[f.start:f.end] == "上限4万円" for f in facts)


def test_program_and_page_come_from_blocks() -> None:
    doc = Document.from_blocks([
        ("児童扶養手当", {"kind": "heading", "program": "児童扶養手当", "page": 3, "level": 2}),
        ("月額46,690円", {"program": "児童扶養手当", "page": 3}),
    ], "application/pdf", pages=3)
    (f,) = extract_facts(doc)
    assert (f.program, f.page, f.start) == ("児童扶養手当", 3, len("児童扶養手当") + 1)


def test_era_is_inherited_from_earlier_lines() -> None:
    facts = extract_facts(doc_of("平成28年度の案内", "※24年度より宿泊助成は行っていません。"))
    assert [(f.kind, f.value, f.text) for f in facts] == [
        ("fiscal_year", 2016, "平成28年度"), ("fiscal_year", 2012, "24年度より")]
    assert extract_facts(doc_of("※24年度より")) == []  # no era known: no guess


def test_facts_to_json_shape() -> None:
    facts = extract_facts(doc_of("その他世帯・・・月額2,200~170,200円", "支給日 5月、7月の11日"))
    out = facts_to_json(facts)
    json.dumps(out, ensure_ascii=False)  # serialisable
    assert out[0] == {
        "kind": "amount", "value": 2200, "text": "月額2,200~170,200円", "start": 8, "end": 24,
        "qualifier": "月額", "program": None, "page": None, "max": 170200, "heading_path": [],
    }
    assert [(d["value"], d["text"]) for d in out[1:]] == [("--05-11", "5月、7月の11日"), ("--07-11", "5月、7月の11日")]


def test_extractor_version() -> None:
    assert isinstance(EXTRACTOR_VERSION, str) and EXTRACTOR_VERSION.startswith("facts-")


def test_empty_and_blank_documents() -> None:
    assert extract_facts(doc_of()) == []
    assert extract_facts(doc_of("", "   ", "\u3000")) == []


def test_gold_files_are_well_formed() -> None:
    files = sorted(GOLD_DIR.glob("*.json"))
    assert len(files) >= 3
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for row in data["facts"]:
            assert {"kind", "value", "text", "qualifier"} <= set(row), (path.name, row)
            assert row.get("only") in (None, "text", "html")
