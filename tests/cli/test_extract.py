"""`wardwatch extract FILE` (facts of one document) and `wardwatch reextract` (the stage over stored
versions) in this process."""

from __future__ import annotations

import json

from tests.support.helpers import crawl_files, demo_site, main, q
from tests.support.registry import NERIMA

PAGE = demo_site("v1") / NERIMA.lstrip("/") / "syuurou.html"


def test_extract_prints_the_facts_of_a_file(capsys):
    assert main(["extract", str(PAGE), "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    (amount,) = [f for f in facts if f["kind"] == "amount"]
    assert {"kind": "amount", "value": 40000, "text": "上限4万円", "qualifier": "上限",
            "program": "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)"}.items() <= amount.items()
    assert "+81359841319" in {f["value"] for f in facts if f["kind"] == "phone"}
    assert main(["extract", str(PAGE), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "上限4万円" in table and "+81359841319" in table
    assert table.splitlines()[-1] == f"({len(facts)} facts)"


def test_extract_a_pdf_and_a_missing_file(tmp_path, capsys):
    pdf = demo_site("v1") / NERIMA.lstrip("/") / "documents" / "hitorioya_guide.pdf"
    assert main(["extract", str(pdf), "--format", "json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert {f["page"] for f in facts} == {1, 2} and 46690 in {f["value"] for f in facts if f["kind"] == "amount"}
    assert main(["extract", str(tmp_path / "nope.html")]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("wardwatch extract: ") and "Traceback" not in err


def test_reextract(memory_warehouse, capsys):
    crawl_files(memory_warehouse, demo_site("v1"))  # stored, not extracted yet
    assert main(["reextract", "--format", "json"], warehouse=memory_warehouse) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["extracted"], first["errors"]) == (7, 0)
    assert main(["reextract", "--format", "json"], warehouse=memory_warehouse) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 0  # nothing new
    assert main(["reextract", "--force", "--source", "demo-kita", "--format", "json"], warehouse=memory_warehouse) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 1
    assert q(memory_warehouse, "SELECT count(*) FROM extractions") == [(7,)]  # redone in place, same extractor version


def test_reextract_needs_a_warehouse(tmp_path, capsys):
    assert main(["reextract", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert capsys.readouterr().err == (f"wardwatch reextract: {tmp_path / 'none.duckdb'}: no warehouse here "
                                       "(run `wardwatch crawl` first)\n")
