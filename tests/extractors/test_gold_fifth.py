"""The fifth-round gold of issue 11 (tests/gold/civic5_<dataset>_<index>.json: municipal program records of
熊本市 and 渋谷区, annotated by reading) is sound, follows its split rule, and heldout5 stays sealed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import extract_quality
from extractors.model import Document
from tests.support.gold import (
    PROGRAM_DATASETS,
    SEALED_SPLITS,
    Case,
    fifth_case,
    fifth_gold_files,
    fifth_split,
    missing_texts,
    row_problems,
)

FIFTH = fifth_gold_files()
needs_datasets = pytest.mark.skipif(not all(p.exists() for p, _ in PROGRAM_DATASETS.values()),
                                    reason="../shared corpus not present")


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FIFTH, ids=[p.stem for p in FIFTH])
def test_fifth_round_header(path: Path) -> None:
    gold = _gold(path)
    dataset, index = path.stem.split("_")[1:]
    assert gold["rendering"] == "text" and gold["index"] == int(index)
    assert gold["corpus_file"] == str(PROGRAM_DATASETS[dataset][0].relative_to(PROGRAM_DATASETS[dataset][0].parents[3]))
    assert all(row_problems(row) == [] for row in gold["facts"])


def test_every_record_has_a_file_and_half_are_held_out() -> None:
    sizes = Counter(fifth_split(p.stem) for p in FIFTH)
    assert len(FIFTH) == 95 + 32 and sizes == {"dev5": 63, "heldout5": 64}
    with pytest.raises(ValueError):
        fifth_split("civic5_nagoya_1")


@needs_datasets
@pytest.mark.parametrize("path", FIFTH, ids=[p.stem for p in FIFTH])
def test_every_fifth_round_gold_text_occurs_in_its_record(path: Path) -> None:
    case = fifth_case(path)
    doc = case.load()
    assert missing_texts(case, doc) == []
    flat = "".join(doc.text.split())
    wanted = Counter("".join(g["text"].split()) for g in case.gold)
    assert {t: n for t, n in wanted.items() if flat.count(t) < n} == {}


def test_heldout5_prints_no_document_and_no_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert "heldout5" in SEALED_SPLITS
    doc = Document.from_blocks([("問 住民課 ☎ 03-1234-5678", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    totals = extract_quality._run([Case("civic5_shibuya_1", "text", lambda: doc, gold, split="heldout5")],
                                  sudachi=True, verbose=True, sealed=True)
    assert capsys.readouterr().out == ""
    assert totals["department"].fn == 1 and totals["department"].fp == 1
