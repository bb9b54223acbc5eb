"""warehouse.doctor.check: every kind of damage a crash or a bug could leave is found.
(The command's output and exit codes: tests/cli/test_doctor.py; doctor after real kills: tests/e2e/test_crash.py.)"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.support.helpers import damaged, healthy_history
from warehouse.db import WarehouseError
from warehouse.doctor import check
from warehouse.schema import migrate


def test_a_healthy_history_has_no_problem(memory_warehouse):
    report = check(healthy_history(memory_warehouse))
    assert report.healthy and report.problems == [] and report.notes == []
    assert report.totals == {"blobs": 2, "fetches": 2, "versions": 2, "extractions": 0, "facts": 0}


def test_doctor_finds_every_kind_of_damage(memory_warehouse):
    report = check(damaged(memory_warehouse))
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
