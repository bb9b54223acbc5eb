"""`wardwatch doctor` in this process: exit 0 healthy, 1 with problems (one line on stderr), JSON and table output."""

from __future__ import annotations

import json

import duckdb

from tests.support.helpers import damaged, main
from tests.warehouse.test_doctor import extracted, with_run


def test_healthy_warehouse(demo_warehouse, capsys):
    assert main(["doctor", "--format", "json"], warehouse=demo_warehouse) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["db"] == ":memory:" and report["healthy"] is True and report["problems"] == []
    assert report["totals"]["versions"] == 22 and report["totals"]["blobs"] == 22  # 8 demo pages, 2 revised; 14 stand-ins
    assert main(["doctor"], warehouse=demo_warehouse) == 0
    assert capsys.readouterr().out.startswith(":memory:: healthy (")


def test_damaged_warehouse(memory_warehouse, capsys):
    with_run(damaged(memory_warehouse))
    assert main(["doctor", "--format", "json"], warehouse=memory_warehouse) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["healthy"] is False and len(report["problems"]) == 11
    assert err.startswith("wardwatch doctor: :memory:: 11 integrity problem(s): version_blob (1); blob_hash (1); ")
    assert err.count("\n") == 1
    assert main(["doctor"], warehouse=memory_warehouse) == 1
    table = capsys.readouterr().out
    assert table.startswith(":memory:: PROBLEMS FOUND")
    assert "  problem  version_blob" in table and "e.g. http://x/noblob" in table


def test_missing_or_foreign_file(tmp_path, capsys):
    assert main(["doctor", "--db", str(tmp_path / "nope.duckdb")]) == 1
    assert capsys.readouterr() == ("", f"wardwatch doctor: {tmp_path / 'nope.duckdb'}: no warehouse here\n")
    foreign = tmp_path / "other.duckdb"
    duckdb.connect(str(foreign)).close()
    assert main(["doctor", "--db", str(foreign), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"][0]["check"] == "schema"


def test_the_damage_doctor_used_to_miss(memory_warehouse, capsys):
    """A fact edited away from its main text, a fetch of a deleted run, a version moved to another URL."""
    extracted(memory_warehouse)
    with memory_warehouse.connect() as con:
        con.execute("UPDATE facts SET text = '月額46,000円' WHERE seq = 0")
        con.execute("UPDATE fetches SET run_id = 'gone' WHERE fetch_id = 'v2'")
        con.execute("UPDATE versions SET url = 'http://x/moved' WHERE version_id = 'v1'")
    assert main(["doctor"], warehouse=memory_warehouse) == 1
    out, err = capsys.readouterr()
    assert err == ("wardwatch doctor: :memory:: 3 integrity problem(s): version_fetch_mismatch (1); fetch_run (1); "
                   "fact_text (1)\n")
    assert "e.g. http://x/moved v1 (first fetch v1: http://x/ok)" in out and "e.g. gone (1 fetches" in out
    assert '#0 amount "月額46,000円" is not "月額46,690円"' in out
