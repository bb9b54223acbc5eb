"""The second-round gold of issue 11 (tests/gold/realhtml_*.json and the newsletters never used before)
is sound, its dev2/heldout2 split follows the rule, and the benchmark keeps the sealed splits sealed.

No extractor precision/recall is asserted here (``python -m benchmarks.extract_quality`` reports it);
these tests check the measurement itself.
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
    DEV_PDFS,
    FILE_SPLITS,
    HELDOUT_PDFS,
    HTML_NOISE,
    SEALED_SPLITS,
    SECOND_PDFS,
    Case,
    missing_texts,
    real_gold_files,
    row_problems,
    second_case,
    second_gold_files,
    second_key,
    second_split,
)

SECOND = second_gold_files()
needs_corpus = pytest.mark.skipif(not (HTML_NOISE.exists() and (CORPUS / "pdf").exists()),
                                  reason="../shared corpus not present")


def _gold(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_second_round_has_material_of_both_kinds() -> None:
    names = [p.stem for p in SECOND]
    governments = {second_key(n) for n in names if n.startswith("realhtml_")}
    newsletters = {second_key(n) for n in names if n.startswith("otoineppu_pdf_")}
    assert governments == {f"realhtml_{g}" for g in ("tokyo", "chiba", "hokkaido", "yokohama", "naha")}
    assert newsletters == {f"otoineppu_pdf_{p[len('kouhou_otoineppu_'):-4]}" for p in SECOND_PDFS}
    assert not (SECOND_PDFS & (DEV_PDFS | HELDOUT_PDFS))  # never used for the first gold


@pytest.mark.parametrize("path", SECOND, ids=[p.stem for p in SECOND])
def test_second_round_header_follows_the_split_rule(path: Path) -> None:
    gold = _gold(path)
    assert gold["split"] == second_split(path.stem)
    assert gold["split"] in FILE_SPLITS and gold["split"] in ("dev2", "heldout2")
    if gold["rendering"] == "html":
        assert gold["corpus_file"].startswith("html_noise/") and path.stem.startswith("realhtml_")
        gov = second_key(path.stem)[len("realhtml_"):]
        assert gov in gold["corpus_file"]
    else:
        assert gold["rendering"] == "pdf" and Path(gold["corpus_file"]).name in SECOND_PDFS
        assert path.stem.startswith(f"otoineppu_pdf_{Path(gold['corpus_file']).stem[-7:]}_p{gold['page']}")
        assert ("from" in gold) == ("to" in gold)
    assert gold["facts"] and all(row_problems(row) == [] for row in gold["facts"])


def test_the_split_is_computed_by_document_and_keeps_two_governments_on_each_side() -> None:
    split_of_key: dict[str, set[str]] = {}
    sizes: Counter[str] = Counter()
    for path in SECOND:
        split_of_key.setdefault(second_key(path.stem), set()).add(_gold(path)["split"])
        sizes[_gold(path)["split"]] += len(_gold(path)["facts"])
    assert all(len(s) == 1 for s in split_of_key.values())  # all articles of one newsletter on one side
    for split in ("dev2", "heldout2"):
        govs = [k for k, s in split_of_key.items() if k.startswith("realhtml_") and split in s]
        assert len(govs) >= 2, split
    assert min(sizes.values()) >= 150 and 0.4 <= sizes["heldout2"] / sum(sizes.values()) <= 0.6


def test_second_key_and_split_on_names() -> None:
    assert second_key("otoineppu_pdf_2021-09_p7") == second_key("otoineppu_pdf_2021-09_p3_kenshin") == (
        "otoineppu_pdf_2021-09")
    assert second_key("realhtml_hokkaido_center") == "realhtml_hokkaido"
    assert second_split("realhtml_chiba") == "heldout2" and second_split("realhtml_naha") == "dev2"
    with pytest.raises(ValueError, match="not a second-round gold file"):
        second_key("otoineppu_page_about__kouhou")


def test_first_round_files_are_not_in_the_second_round() -> None:
    first, second = set(real_gold_files()), set(SECOND)
    assert not first & second
    assert all(Path(_gold(p)["corpus_file"]).name not in SECOND_PDFS for p in first if "_pdf_" in p.stem)


@needs_corpus
@pytest.mark.slow
@pytest.mark.parametrize("path", SECOND, ids=[p.stem for p in SECOND])
def test_every_second_round_gold_text_occurs_in_the_extracted_document(path: Path) -> None:
    case = second_case(path)
    assert missing_texts(case, case.load()) == []


def test_sealed_splits_print_no_document_and_no_mismatch(capsys: pytest.CaptureFixture[str]) -> None:
    doc = Document.from_blocks([("問 住民課 ☎ 01656-5-3312", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    case = Case("progs4_r5", "text", lambda: doc, gold, split="heldout4")
    assert {"heldout4", "heldout5"} <= SEALED_SPLITS and not {"heldout", "heldout2"} & SEALED_SPLITS  # opened
    totals = extract_quality._run([case], sudachi=True, verbose=True, sealed=True)
    out = capsys.readouterr().out
    assert out == ""  # neither the document nor its errors
    assert totals["department"].fn == 1 and totals["department"].fp == 1  # ... but they are counted
    extract_quality._run([case], sudachi=True, verbose=True, sealed=False)
    out = capsys.readouterr().out
    assert "progs4_r5/text" in out and "missed department" in out and "spurious department" in out
