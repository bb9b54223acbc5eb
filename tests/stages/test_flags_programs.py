"""The flag stage with program ids: flags and fact changes record their program id, cross rules pair programs by
id, and imported datasets go through the page rules (outdated_amount) as dataset pages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.support.datasets import civichat_json, record
from tests.support.helpers import q
from wardwatch.stages.datasets import import_dataset
from wardwatch.stages.flags import evaluate_flags
from warehouse.db import Warehouse
from warehouse.schema import migrate

TODAY = date(2026, 11, 22)  # FY2026


@pytest.mark.slow  # > 0.2 s: the session's demo warehouse (two crawls of the demo site's files)
def test_demo_flags_and_changes_carry_program_ids(demo_warehouse):
    assert q(demo_warehouse, "SELECT program_id, kind FROM changes ORDER BY kind") == [
        ("hitorioya-jutaku-shien-shikin-kashitsuke", "amount"), ("jiritsu-shien-program-sakutei", "phone")]
    rows = q(demo_warehouse, "SELECT rule, source_id, program_id FROM flags WHERE open AND rule <> 'broken_link' "
                             "ORDER BY ALL")
    assert ("secondary_outdated", "demo-matome-nerima", "hitorioya-jutaku-shien-shikin-kashitsuke") in rows
    assert ("fact_changed", "demo-nerima", "hitorioya-jutaku-shien-shikin-kashitsuke") in rows
    assert ("outdated_amount", "demo-mamamoi-kita", "tokubetsu-jido-fuyo-teate") in rows
    assert all(pid for _rule, _sid, pid in rows)
    (evidence,) = q(demo_warehouse, "SELECT evidence FROM flags WHERE open AND rule = 'outdated_amount' "
                                    "AND source_id = 'demo-mamamoi-kita'")[0]
    assert [a["text"] for a in json.loads(evidence)["amounts"]] == ["51,500円", "34,300円"]
    # the summary's 51,500円 (FY2016) is outdated_amount's, no longer also a contradiction
    contradictions = q(demo_warehouse, "SELECT evidence->'secondary'->>'text' FROM flags WHERE open "
                                       "AND rule = 'secondary_contradicts_official' AND source_id = 'demo-mamamoi-kita'")
    assert ("51,500円",) not in contradictions


def dataset(tmp_path: Path, name: str, amounts: str) -> Path:
    path = tmp_path / name
    path.write_bytes(civichat_json([record(1, **{"タイトル（制度名）": "特別児童扶養手当", "支援内容": amounts})]))
    return path


@pytest.mark.slow  # ~0.2 s: two dataset imports (Sudachi) and two evaluations
def test_an_imported_dataset_with_old_national_amounts_is_flagged_until_a_corrected_version(tmp_path):
    wh = Warehouse(":memory:")
    migrate(wh)
    old = dataset(tmp_path, "shibuya@2021-09-04.json", "手当額（月額）\n1級 51,500円\n2級 34,300円")
    import_dataset(wh, old, source_id="civichat-shibuya", municipality="渋谷区")
    assert q(wh, "SELECT program_id FROM dataset_facts WHERE kind = 'amount'") == [
        ("tokubetsu-jido-fuyo-teate",), ("tokubetsu-jido-fuyo-teate",)]
    evaluate_flags(wh, today=TODAY)
    [(url, sid, severity, program_id, evidence)] = q(
        wh, "SELECT url, source_id, severity, program_id, evidence FROM flags WHERE open AND rule = 'outdated_amount'")
    assert (url, sid, severity, program_id) == (str(old), "civichat-shibuya", "high", "tokubetsu-jido-fuyo-teate")
    assert json.loads(evidence)["amounts"][0]["description"] == (
        "51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円")
    fixed = dataset(tmp_path, "shibuya@2026-11-01.json", "手当額（月額）\n1級 56,800円\n2級 37,830円")
    import_dataset(wh, fixed, source_id="civichat-shibuya", municipality="渋谷区")
    result = evaluate_flags(wh, today=TODAY)  # the same day: a "changed" evaluation still re-checks datasets
    assert (result["flag_scope"], result["flags_closed"]) == ("changed", 1)
    assert q(wh, "SELECT count(*) FROM flags WHERE open AND rule = 'outdated_amount'") == [(0,)]
    wh.close()
