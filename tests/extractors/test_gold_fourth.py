"""The fourth-round gold of issue 11 (tests/gold/progs4_r<row>.json: national program texts of the 内閣官房
chatbot sheet, annotated by reading) is sound, follows its split rule, and the benchmark keeps heldout4 sealed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import extract_quality
from extractors.model import Document
from tests.support.gold import (
    PROGRAMS_XLSX,
    SEALED_SPLITS,
    Case,
    fourth_case,
    fourth_gold_files,
    fourth_split,
    missing_texts,
    row_problems,
)

FOURTH = fourth_gold_files()
needs_sheet = pytest.mark.skipif(not PROGRAMS_XLSX.exists(), reason="../shared corpus not present")


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FOURTH, ids=[p.stem for p in FOURTH])
def test_fourth_round_header(path: Path) -> None:
    gold = _gold(path)
    assert gold["rendering"] == "text" and gold["corpus_file"].endswith(PROGRAMS_XLSX.name)
    assert path.stem == f"progs4_r{gold['row']}"
    assert all(row_problems(row) == [] for row in gold["facts"])


def test_the_split_rule_keeps_a_third_held_out_and_was_fixed_before_measuring() -> None:
    sizes = Counter(fourth_split(p.stem) for p in FOURTH)
    assert len(FOURTH) == 52 and sizes == {"dev4": 35, "heldout4": 17}
    assert fourth_split("progs4_r5") == "heldout4" and fourth_split("progs4_r8") == "dev4"
    with pytest.raises(ValueError):
        fourth_split("progs4_5")


@needs_sheet
@pytest.mark.parametrize("path", FOURTH, ids=[p.stem for p in FOURTH])
def test_every_fourth_round_gold_text_occurs_in_its_row(path: Path) -> None:
    case = fourth_case(path)
    doc = case.load()
    assert missing_texts(case, doc) == []
    flat = "".join(doc.text.split())
    wanted = Counter("".join(g["text"].split()) for g in case.gold)
    assert {t: n for t, n in wanted.items() if flat.count(t) < n} == {}


def test_heldout4_prints_no_document_and_no_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert "heldout4" in SEALED_SPLITS
    doc = Document.from_blocks([("問 住民課 ☎ 03-1234-5678", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    totals = extract_quality._run([Case("progs4_r1", "text", lambda: doc, gold, split="heldout4")],
                                  sudachi=True, verbose=True, sealed=True)
    assert capsys.readouterr().out == ""
    assert totals["department"].fn == 1 and totals["department"].fp == 1
