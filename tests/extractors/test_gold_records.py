"""The gold of rounds 4–6 of issue 11 (tests/gold/progs4_r<row>, civic5_<dataset>_<index>, nursery6_<index>: real
records annotated by reading) is sound, follows its split rule, and the held-out part of each round stays sealed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import extract_quality
from extractors.model import Document
from tests.support.gold import SEALED_SPLITS, Case, missing_texts, row_problems
from tests.support.gold_records import CORPUS, ROUNDS, RecordRound

FILES = [(rnd, path) for rnd in ROUNDS for path in rnd.files()]
IDS = [path.stem for _, path in FILES]
# files per round and their split sizes, fixed when each round was annotated
SIZES = {"progs4": (52, {"dev4": 35, "heldout4": 17}), "civic5": (127, {"dev5": 63, "heldout5": 64}),
         "nursery6": (103, {"dev6": 46, "heldout6": 57})}


@pytest.mark.parametrize(("rnd", "path"), FILES, ids=IDS)
def test_gold_file_header(rnd: RecordRound, path: Path) -> None:
    gold = json.loads(path.read_text(encoding="utf-8"))
    m = rnd.match(path.stem)
    assert gold["rendering"] == "text" and gold[rnd.number_field] == int(m.groups()[-1])
    assert gold["corpus_file"] == rnd.corpus_file(m)
    assert all(row_problems(row) == [] for row in gold["facts"])


@pytest.mark.parametrize("rnd", ROUNDS, ids=[r.prefix for r in ROUNDS])
def test_every_record_has_a_file_and_the_split_was_fixed_before_measuring(rnd: RecordRound) -> None:
    count, sizes = SIZES[rnd.prefix]
    assert len(rnd.files()) == count and Counter(rnd.split(p.stem) for p in rnd.files()) == sizes


def test_split_examples_and_bad_names() -> None:
    progs4, civic5, nursery6 = ROUNDS
    assert progs4.split("progs4_r5") == "heldout4" and progs4.split("progs4_r8") == "dev4"
    for rnd, bad in ((progs4, "progs4_5"), (civic5, "civic5_nagoya_1"), (nursery6, "nursery_1")):
        with pytest.raises(ValueError):
            rnd.split(bad)


@pytest.mark.parametrize(("rnd", "path"), FILES, ids=IDS)
def test_every_gold_text_occurs_in_its_record(rnd: RecordRound, path: Path) -> None:
    if not rnd.available(path.stem):
        pytest.skip(f"{CORPUS}: ../shared corpus not present")
    doc = rnd.load(path.stem)()
    case = Case(path.stem, "text", lambda: doc, json.loads(path.read_text(encoding="utf-8"))["facts"])
    assert missing_texts(case, doc) == []
    flat = "".join(doc.text.split())
    wanted = Counter("".join(g["text"].split()) for g in case.gold)
    assert {t: n for t, n in wanted.items() if flat.count(t) < n} == {}


@pytest.mark.parametrize("rnd", ROUNDS, ids=[r.prefix for r in ROUNDS])
def test_the_held_out_part_prints_no_document_and_no_mismatch(rnd: RecordRound,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert rnd.heldout in SEALED_SPLITS
    doc = Document.from_blocks([("問 住民課 ☎ 03-1234-5678", {})], "text/plain")
    gold = [{"kind": "department", "value": "総務課", "text": "総務課", "qualifier": None}]
    totals = extract_quality._run([Case(rnd.files()[0].stem, "text", lambda: doc, gold, split=rnd.heldout)],
                                  sudachi=True, verbose=True, sealed=True)
    assert capsys.readouterr().out == ""
    assert totals["department"].fn == 1 and totals["department"].fp == 1
