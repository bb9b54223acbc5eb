"""warehouse.doctor.check: every kind of damage a crash or a bug could leave is found.
(The command's output and exit codes: tests/cli/test_doctor.py; doctor after real kills: tests/e2e/test_crash.py.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tests.support.helpers import damaged, healthy_history
from warehouse.db import Warehouse, WarehouseError
from warehouse.doctor import check
from warehouse.schema import migrate


def with_run(wh: Warehouse) -> Warehouse:
    """``wh`` with the run 'r' that tests.support.helpers.Rows writes fetches for (when the helper did not)."""
    with wh.connect() as con:
        con.execute("INSERT INTO runs (run_id, started_at, status) SELECT 'r', now(), 'ok' "
                    "WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = 'r')")
    return wh


def test_a_healthy_history_has_no_problem(memory_warehouse):
    report = check(with_run(healthy_history(memory_warehouse)))
    assert report.healthy and report.problems == [] and report.notes == []
    assert report.totals == {"blobs": 2, "fetches": 2, "versions": 2, "extractions": 0, "facts": 0}


def test_doctor_finds_every_kind_of_damage(memory_warehouse):
    report = check(with_run(damaged(memory_warehouse)))
    assert not report.healthy
    found = {p.check: (p.count, p.examples) for p in report.problems}
    assert found == {
        "version_blob": (1, [f"http://x/noblob ({'f' * 64})"]),
        "blob_hash": (1, ["0" * 64]),
        "current_versions": (1, ["http://x/two (2 current)"]),
        "interval_order": (1, ["http://x/back v6"]),
        "interval_overlap": (1, ["http://x/two v4 overlaps v5"]),
        "duplicate_versions": (1, ["http://x/dup v8"]),
        "version_fetch": (1, ["http://x/ok v2"]),
        "fetch_blob": (1, ["http://x/noblob v3"]),
        "fact_extraction": (1, ["9999 facts-1"]),
        "fact_version": (1, ["9999"]),
        "fact_value": (1, ["9999 facts-1 #0 amount value NULL number NULL"]),
    }
    assert report.totals == {"blobs": 3, "fetches": 7, "versions": 8, "extractions": 0, "facts": 1}
    assert report.to_json()["healthy"] is False


def test_doctor_on_a_missing_or_foreign_file(tmp_path: Path):
    with pytest.raises(WarehouseError, match="no warehouse here"):
        check(tmp_path / "nope.duckdb")
    foreign = tmp_path / "other.duckdb"
    duckdb.connect(str(foreign)).close()
    (problem,) = check(foreign).problems
    assert problem.check == "schema" and problem.examples == ["blobs", "fetches", "versions", "runs", "sources"]


def test_staged_captures_and_running_runs_are_noted_not_problems(memory_warehouse):
    from warehouse import runs, staging

    migrate(memory_warehouse)
    runs.start_run(memory_warehouse, "20261122T060000Z-abc123", ["s"])
    staging.write(memory_warehouse.staging_dir, staging.Capture(run_id="20261122T060000Z-abc123", source_id="s",
                                                                url="http://x/a", requested_url="http://x/a", status=200,
                                                                body=b"<p>a</p>", media_type="text/html"))
    report = check(memory_warehouse)
    assert report.healthy
    assert report.notes == ["1 run(s) marked running (in progress, or killed: the next crawl marks them interrupted)",
                            f"1 staged capture(s) waiting in {memory_warehouse.staging_dir} (loaded by the next crawl)"]


# The kinds of damage `doctor` used to call healthy (issue 15), each built here on a real extraction.

MAIN_TEXT = "児童扶養手当\n月額46,690円を支給します。\n問合せ 03-5984-4742"


def extracted(wh: Warehouse) -> Warehouse:
    """A healthy warehouse with one extraction of version v2 and three facts that match its main text."""
    with_run(healthy_history(wh))
    sha = hashlib.sha256(b"b").hexdigest()
    facts = [("amount", "46690", 46690.0, "月額46,690円"), ("phone", '"+81359844742"', None, "03-5984-4742"),
             ("rate", "0.6", 0.6, "児童扶養手当")]
    with wh.connect() as con:
        con.execute("INSERT INTO extractions VALUES (?, 'facts-1', now(), 'ok', NULL, 'text/html', 't', NULL, ?, 3)",
                    [sha, MAIN_TEXT])
        for seq, (kind, value, num, text) in enumerate(facts):
            start = MAIN_TEXT.index(text)
            con.execute("INSERT INTO facts (sha256, extractor_version, seq, kind, value, value_num, text, start_offset, "
                        "end_offset) VALUES (?, 'facts-1', ?, ?, ?, ?, ?, ?, ?)",
                        [sha, seq, kind, value, num, text, start, start + len(text)])
    return wh


def test_matching_facts_are_healthy(memory_warehouse):
    report = check(extracted(memory_warehouse))
    assert report.healthy, report.problems
    assert report.totals["facts"] == 3


def test_a_version_whose_url_or_content_differs_from_its_first_fetch(memory_warehouse):
    wh = with_run(healthy_history(memory_warehouse))
    with wh.connect() as con:
        con.execute("UPDATE fetches SET url = 'http://x/elsewhere' WHERE fetch_id = 'v1'")
        con.execute("UPDATE fetches SET sha256 = ? WHERE fetch_id = 'v2'", [hashlib.sha256(b"a").hexdigest()])
    (problem,) = [p for p in check(wh).problems if p.check == "version_fetch_mismatch"]
    assert problem.count == 2
    assert problem.examples == ["http://x/ok v1 (first fetch v1: http://x/elsewhere)",
                                f"http://x/ok v2 (first fetch v2: content {hashlib.sha256(b'a').hexdigest()})"]


def test_fetches_whose_run_is_missing(memory_warehouse):
    wh = with_run(healthy_history(memory_warehouse))
    with wh.connect() as con:
        con.execute("UPDATE fetches SET run_id = 'gone-run' WHERE fetch_id = 'v2'")
        con.execute("DELETE FROM runs WHERE run_id = 'r'")
    report = check(wh)
    assert [(p.check, p.count, p.examples) for p in report.problems] == [
        ("fetch_run", 2, ["gone-run (1 fetches, e.g. http://x/ok)", "r (1 fetches, e.g. http://x/ok)"])]


@pytest.mark.parametrize("damage, example", [
    ("UPDATE facts SET text = '月額46,000円' WHERE seq = 0", '#0 amount "月額46,000円" is not "月額46,690円"'),
    ("UPDATE facts SET start_offset = start_offset + 1, end_offset = end_offset + 1 WHERE seq = 0",
     '#0 amount "月額46,690円" is not "額46,690円を"'),
    ("UPDATE facts SET end_offset = 9999 WHERE seq = 1", "#1 phone offsets 28-9999 outside 0-40"),
    ("UPDATE facts SET start_offset = 5, end_offset = 5 WHERE seq = 2", "#2 rate offsets 5-5 outside 0-40"),
    ("UPDATE extractions SET main_text = replace(main_text, '46,690', '46,691')", '#0 amount "月額46,690円" is not "月額46,691円"'),
    ("UPDATE extractions SET main_text = NULL", "#0 amount no main text"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_facts_that_no_longer_match_the_main_text(memory_warehouse, damage, example):
    wh = extracted(memory_warehouse)
    with wh.connect() as con:
        con.execute(damage)
    problems = {p.check: p for p in check(wh).problems}
    assert set(problems) == {"fact_text"}
    sha = hashlib.sha256(b"b").hexdigest()
    assert f"{sha} facts-1 {example}" in problems["fact_text"].examples


@pytest.mark.parametrize("damage, example", [
    ("UPDATE facts SET value_num = 50000 WHERE seq = 0", "#0 amount value 46690 number 50000.0"),
    ("UPDATE facts SET value = '50000' WHERE seq = 0", "#0 amount value 50000 number 46690.0"),
    ("UPDATE facts SET value = '\"46690\"' WHERE seq = 0", '#0 amount value "46690" number 46690.0'),
    ("UPDATE facts SET value_num = 1 WHERE seq = 1", '#1 phone value "+81359844742" number 1.0'),
    ("UPDATE facts SET value = NULL WHERE seq = 2", "#2 rate value NULL number 0.6"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_facts_whose_value_is_damaged(memory_warehouse, damage, example):
    wh = extracted(memory_warehouse)
    with wh.connect() as con:
        con.execute(damage)
    problems = {p.check: p for p in check(wh).problems}
    assert set(problems) == {"fact_value"}
    assert problems["fact_value"].examples == [f"{hashlib.sha256(b'b').hexdigest()} facts-1 {example}"]


def test_an_extraction_that_lost_facts(memory_warehouse):
    wh = extracted(memory_warehouse)
    with wh.connect() as con:
        con.execute("DELETE FROM facts WHERE seq = 2")
    (problem,) = check(wh).problems
    assert (problem.check, problem.examples) == (
        "extraction_fact_count", [f"{hashlib.sha256(b'b').hexdigest()} facts-1 (3 recorded, 2 stored)"])


def test_the_demo_warehouse_is_healthy(demo_warehouse):
    """Every fact the real extractor stored passes the text, value and count checks."""
    report = check(demo_warehouse)
    assert report.healthy, report.problems
    assert report.totals["facts"] > 100
