"""The third-round gold of issue 11 (tests/gold/otoineppu3_*.json: articles of the dev-side newsletters that
no earlier gold file covers) is sound, its dev3/heldout3 split follows the rule, and the benchmark prints no
mismatch of heldout3.

No extractor precision/recall is asserted here (``python -m benchmarks.extract_quality --split dev3`` reports
it); these tests check the measurement itself.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import extract_quality
from extractors.model import Document
from tests.support.gold import (
    CORPUS,
    MEASURE_ONLY_SPLITS,
    SEALED_SPLITS,
    SPLITS,
    THIRD_PDFS,
    Case,
    missing_texts,
    real_gold_files,
    row_problems,
    second_gold_files,
    third_case,
    third_gold_files,
    third_key,
    third_split,
)

THIRD = third_gold_files()
needs_corpus = pytest.mark.skipif(not (CORPUS / "pdf").exists(), reason="../shared corpus not present")


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", THIRD, ids=[p.stem for p in THIRD])
def test_third_round_header_follows_the_split_rule(path: Path) -> None:
    gold = _gold(path)
    assert gold["split"] == third_split(path.stem) and gold["split"] in SPLITS
    assert gold["rendering"] == "pdf" and Path(gold["corpus_file"]).name in THIRD_PDFS
    assert path.stem.startswith(f"otoineppu3_{Path(gold['corpus_file']).stem[-7:]}_p{gold['page']}")
    assert ("from" in gold) == ("to" in gold)
    assert gold["facts"] and all(row_problems(row) == [] for row in gold["facts"])


def test_the_split_is_by_newsletter_and_keeps_a_third_held_out() -> None:
    split_of_key: dict[str, set[str]] = {}
    sizes: Counter[str] = Counter()
    for path in THIRD:
        split_of_key.setdefault(third_key(path.stem), set()).add(_gold(path)["split"])
        sizes[_gold(path)["split"]] += len(_gold(path)["facts"])
    assert all(len(s) == 1 for s in split_of_key.values())  # all articles of one newsletter on one side
    assert {s for (s,) in split_of_key.values()} == {"dev3", "heldout3"}
    assert sizes["heldout3"] * 3 >= sum(sizes.values()) and sizes["dev3"] >= 150


def test_third_key_and_split_on_names() -> None:
    assert third_key("otoineppu3_2023-02_p7") == third_key("otoineppu3_2023-02_p8_tenshutsu_shinryou") == (
        "otoineppu_pdf_2023-02")
    assert [third_split(f"otoineppu3_{m}_p1") for m in ("2020-08", "2020-12", "2022-04", "2025-08")] == ["heldout3"] * 4
    assert [third_split(f"otoineppu3_{m}_p1") for m in ("2021-04", "2022-09", "2023-02", "2023-04", "2024-07",
                                                         "2025-04")] == ["dev3"] * 6
    with pytest.raises(ValueError, match="not a third-round gold file"):
        third_key("otoineppu_pdf_2023-02_p7")


def test_third_round_files_are_in_no_other_round() -> None:
    assert not set(THIRD) & (set(real_gold_files()) | set(second_gold_files()))
    assert len(THIRD_PDFS) == 10


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("path", THIRD, ids=[p.stem for p in THIRD])
def test_every_third_round_gold_text_occurs_in_its_article(path: Path) -> None:
    case = third_case(path)
    doc = case.load()
    assert missing_texts(case, doc) == []
    lo, hi = case.article_range(doc)
    flat = "".join(doc.text[lo:hi].split())
    wanted = Counter("".join(g["text"].split()) for g in case.gold)
    assert {t: n for t, n in wanted.items() if flat.count(t) < n} == {}  # each as often as it is annotated


def test_heldout3_prints_no_document_and_no_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    assert "heldout3" in MEASURE_ONLY_SPLITS and SEALED_SPLITS <= MEASURE_ONLY_SPLITS
    doc = Document.from_blocks([("問 住民課 ☎ 01656-5-3312", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    case = Case("otoineppu3_2020-08_p1", "pdf", lambda: doc, gold, split="heldout3")
    totals = extract_quality._run([case], sudachi=True, verbose=True, sealed="heldout3" in MEASURE_ONLY_SPLITS)
    assert capsys.readouterr().out == ""
    assert totals["department"].fn == 1 and totals["department"].fp == 1
