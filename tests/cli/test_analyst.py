"""The analyst commands in this process: `changes`, `flags`, `query`, `export`, `diff` — output
contracts and exit codes over warehouses filled from the demo site's files (no crawl)."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from tests.support.helpers import crawl_files, demo_site, demo_sources, fill_demo, healthy_history, main, q
from warehouse.db import Warehouse

CHANGE_KEYS = {"url", "source_id", "municipality", "program", "kind", "qualifier", "change", "before", "after", "before_text",
               "after_text", "detected_at", "program_id"}
FLAG_KEYS = {"rule", "severity", "source_id", "municipality", "url", "program", "kind", "evidence", "first_seen", "closed_at",
             "program_id"}
SYUUROU = "http://127.0.0.1:8000/nerima/kurashi/jinken/hitorioya/syuurou.html"


def run(argv: list[str], wh: Warehouse, capsys) -> tuple[int, str, str]:
    code = main(argv, warehouse=wh)
    out, err = capsys.readouterr()
    return code, out, err


def test_changes_json_contract(demo_warehouse, capsys):
    code, out, _ = run(["changes", "--format", "json"], demo_warehouse, capsys)
    assert code == 0
    changes = json.loads(out)
    assert all(set(c) == CHANGE_KEYS for c in changes)
    assert sorted((c["kind"], c["before"], c["after"], c["before_text"], c["after_text"]) for c in changes) == [
        ("amount", 40000, 50000, "上限4万円", "上限5万円"),
        ("phone", "+81359844742", "+81359844700", "03-5984-4742", "03-5984-4700")]
    assert {(c["url"], c["source_id"], c["change"]) for c in changes} == {(SYUUROU, "demo-nerima", "changed")}
    (amount,) = [c for c in changes if c["kind"] == "amount"]
    assert (amount["program"], amount["qualifier"]) == ("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "上限")


def test_changes_since_a_date_or_a_run(demo_warehouse, capsys):
    first, second = (r[0] for r in q(demo_warehouse, "SELECT run_id FROM runs ORDER BY started_at"))
    for since, expected in (("2999-01-01", 0), ("2000-01-01", 2), (first, 2), (second, 2)):
        code, out, _ = run(["changes", "--since", since, "--format", "json"], demo_warehouse, capsys)
        assert code == 0 and len(json.loads(out)) == expected, since


def test_changes_table(demo_warehouse, capsys):
    code, out, _ = run(["changes"], demo_warehouse, capsys)
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "(2 changes)"
    assert any("ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会) / amount / 上限: 上限4万円 → 上限5万円  (changed)  "
               + SYUUROU in line for line in lines)


def test_flags_json_contract(demo_warehouse, capsys):
    code, out, _ = run(["flags", "--open", "--format", "json"], demo_warehouse, capsys)
    assert code == 0
    flags = json.loads(out)
    assert flags and all(set(f) == FLAG_KEYS for f in flags)
    assert all(f["closed_at"] is None for f in flags)
    assert {(f["rule"], f["source_id"]) for f in flags if f["rule"] != "broken_link"} == {
        ("fact_changed", "demo-nerima"),
        ("secondary_outdated", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-matome-nerima"),
        ("secondary_contradicts_official", "demo-mamamoi-kita"),
        ("stale_reference", "demo-mamamoi-kita"),
        ("outdated_amount", "demo-mamamoi-kita"),  # 特別児童扶養手当 51,500円: FY2016's amount
        ("outdated_amount", "demo-nerima"),  # the 令和7年度版 guide's 児童扶養手当 46,690円 in FY2026
    }
    (outdated,) = [f for f in flags if f["rule"] == "secondary_outdated"]
    assert outdated["severity"] == "high" and outdated["evidence"]["secondary"]["text"] == "上限4万円"
    # the demo site ships the pages it links to: its one broken link is the deliberate one
    broken = [f["url"].rsplit("/", 1)[1] for f in flags if f["rule"] == "broken_link"]
    assert broken == ["missing.html"]


def test_flags_table_counts_every_flag(demo_warehouse, capsys):
    n = q(demo_warehouse, "SELECT count(*) FROM flags")[0][0]
    code, out, _ = run(["flags"], demo_warehouse, capsys)
    assert code == 0 and out.splitlines()[-1] == f"({n} flags)"
    assert len(out.splitlines()) == n + 1


def test_query_formats(demo_warehouse, capsys):
    sql = "SELECT kind, count(*) AS n FROM current_facts WHERE kind IN ('amount', 'phone') GROUP BY kind ORDER BY kind"
    expected = q(demo_warehouse, sql)
    code, out, _ = run(["query", sql, "--format", "json"], demo_warehouse, capsys)
    assert code == 0 and [(r["kind"], r["n"]) for r in json.loads(out)] == expected
    code, out, _ = run(["query", sql, "--format", "csv"], demo_warehouse, capsys)
    assert code == 0 and list(csv.reader(io.StringIO(out))) == [["kind", "n"], *([k, str(n)] for k, n in expected)]
    code, out, _ = run(["query", sql], demo_warehouse, capsys)
    assert code == 0 and out.splitlines()[0].split() == ["kind", "n"] and out.splitlines()[-1] == "(2 rows)"


def test_bad_sql_is_one_line_exit_1(demo_warehouse, capsys):
    code, out, err = run(["query", "SELECT nope FROM facts"], demo_warehouse, capsys)
    assert code == 1 and out == ""
    assert err.startswith("wardwatch query: query failed: Binder Error: ") and err.count("\n") == 1


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_query_is_read_only(tmp_path, capsys):
    """On a warehouse file: writes and file writes are refused before DuckDB sees them (exit 2), file
    reads by DuckDB (external access off, exit 1); the data stays."""
    db = tmp_path / "w.duckdb"
    healthy_history(Warehouse(db))
    for sql, kind in (("DELETE FROM versions", "DELETE"), ("DROP TABLE blobs", "DROP"),
                      (f"COPY versions TO '{tmp_path / 'out.csv'}'", "COPY")):
        code, out, err = run(["query", "--db", str(db), sql], None, capsys)
        assert (code, out) == (2, "") and err == (f"wardwatch query: refused: {kind} statements are refused "
                                                  "(read-only: one SELECT, WITH … SELECT or EXPLAIN)\n"), sql
    code, _, err = run(["query", "--db", str(db), f"SELECT * FROM read_csv('{tmp_path / 'w.duckdb'}')"], None, capsys)
    assert code == 1 and err.startswith("wardwatch query: query failed: Permission Error: ") and err.count("\n") == 1
    assert q(db, "SELECT count(*) FROM versions") == [(2,)] and q(db, "SELECT count(*) FROM blobs") == [(2,)]
    assert not (tmp_path / "out.csv").exists()
    assert list((tmp_path / "w.duckdb.snapshots").iterdir()) == []  # every snapshot removed after its query


def test_export_writes_every_table_and_view_as_parquet(demo_warehouse, tmp_path, capsys):
    code, out, _ = run(["export", str(tmp_path / "pq")], demo_warehouse, capsys)
    assert code == 0
    names = {r[0] for r in q(demo_warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}
    assert {"documents", "current_facts", "fact_history", "changes", "flags", "program_summary", "versions"} <= names
    assert {p.stem for p in (tmp_path / "pq").glob("*.parquet")} == names
    assert len(out.splitlines()) == len(names)
    for name in ("current_facts", "changes", "flags"):
        n = duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'pq' / (name + '.parquet')}'").fetchone()[0]
        assert n == q(demo_warehouse, f"SELECT count(*) FROM {name}")[0][0] > 0
        assert f"{tmp_path / 'pq' / (name + '.parquet')}: {n} rows" in out.splitlines()


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_diff_detects_the_changes_of_a_new_crawl(memory_warehouse, capsys):
    fill_demo(memory_warehouse, [demo_site("v1")], sources=["demo-nerima"])
    crawl_files(memory_warehouse, demo_site("v2"), sources=demo_sources("demo-nerima"))
    from wardwatch.stages.extract import extract_pending

    extract_pending(memory_warehouse)
    code, out, _ = run(["diff", "--format", "json"], memory_warehouse, capsys)
    result = json.loads(out)
    assert code == 0
    assert (result["versions_diffed"], result["content"], result["changes"]) == (1, 1, 2)
    assert result["changed_urls"] == [SYUUROU]
    code, out, _ = run(["diff", "--format", "json"], memory_warehouse, capsys)
    assert code == 0 and (json.loads(out)["versions_diffed"], json.loads(out)["changes"]) == (0, 0)  # incremental


@pytest.mark.parametrize("argv", [["changes"], ["flags"], ["query", "SELECT 1"], ["export", "out"], ["diff"]])
def test_commands_on_a_missing_warehouse_exit_1(argv, tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    code, out, err = run([*argv, "--db", str(missing)], None, capsys)
    assert code == 1 and out == ""
    assert err == f"wardwatch {argv[0]}: {missing}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)\n"
    assert not missing.exists()
