"""`wardwatch doctor` in this process: exit 0 healthy, 1 with problems (one line on stderr), JSON and table output."""

from __future__ import annotations

import json

import duckdb

from tests.support.helpers import damaged, main


def test_healthy_warehouse(demo_warehouse, capsys):
    assert main(["doctor", "--format", "json"], warehouse=demo_warehouse) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["db"] == ":memory:" and report["healthy"] is True and report["problems"] == []
    assert report["totals"]["versions"] == 8 and report["totals"]["blobs"] == 8
    assert main(["doctor"], warehouse=demo_warehouse) == 0
    assert capsys.readouterr().out.startswith(":memory:: healthy (")


def test_damaged_warehouse(memory_warehouse, capsys):
    damaged(memory_warehouse)
    assert main(["doctor", "--format", "json"], warehouse=memory_warehouse) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["healthy"] is False and len(report["problems"]) == 10
    assert err.startswith("wardwatch doctor: :memory:: 10 integrity problem(s): version_blob (1); blob_hash (1); ")
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
