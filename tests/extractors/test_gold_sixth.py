"""The sixth-round gold of issue 11 (tests/gold/nursery6_<index>.json: 渋谷区's nursery records as table rows,
annotated by reading) is sound, follows its split rule, and heldout6 stays sealed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import extract_quality
from extractors.model import Document
from tests.support.gold import (
    NURSERIES,
    SEALED_SPLITS,
    Case,
    missing_texts,
    row_problems,
    sixth_case,
    sixth_gold_files,
    sixth_split,
)

SIXTH = sixth_gold_files()
needs_dataset = pytest.mark.skipif(not NURSERIES.exists(), reason="../shared corpus not present")


@pytest.mark.parametrize("path", SIXTH, ids=[p.stem for p in SIXTH])
def test_sixth_round_header(path: Path) -> None:
    gold = json.loads(path.read_text(encoding="utf-8"))
    assert gold["rendering"] == "text" and gold["index"] == int(path.stem.split("_")[1])
    assert gold["corpus_file"] == "datasets/civichat/head/shibuyaPreschool_systemsdata.json"
    assert all(row_problems(row) == [] for row in gold["facts"])


def test_every_nursery_has_a_file_and_about_half_are_held_out() -> None:
    assert len(SIXTH) == 103 and Counter(sixth_split(p.stem) for p in SIXTH) == {"dev6": 46, "heldout6": 57}
    with pytest.raises(ValueError):
        sixth_split("nursery_1")


@needs_dataset
@pytest.mark.parametrize("path", SIXTH, ids=[p.stem for p in SIXTH])
def test_every_sixth_round_gold_text_occurs_in_its_record(path: Path) -> None:
    case = sixth_case(path)
    doc = case.load()
    assert missing_texts(case, doc) == []
    flat = "".join(doc.text.split())
    wanted = Counter("".join(g["text"].split()) for g in case.gold)
    assert {t: n for t, n in wanted.items() if flat.count(t) < n} == {}


def test_heldout6_prints_no_document_and_no_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert "heldout6" in SEALED_SPLITS
    doc = Document.from_blocks([("申し込み受付先 | 住民課", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    totals = extract_quality._run([Case("nursery6_1", "text", lambda: doc, gold, split="heldout6")],
                                  sudachi=True, verbose=True, sealed=True)
    assert capsys.readouterr().out == ""
    assert totals["department"].fn == 1
