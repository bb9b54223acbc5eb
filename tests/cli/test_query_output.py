"""`query` output an analyst can trust: tables aligned by display width (CJK cells take two columns),
every cell in full unless --max-width asks for an explicit …, NULL as NULL, JSON columns as JSON,
and `-o FILE.csv|.json|.parquet|.xlsx` read back with the csv module, json, DuckDB and openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from wcwidth import wcswidth

from tests.support.helpers import healthy_history, main, q
from warehouse.db import Warehouse

AMOUNTS = ("SELECT municipality, program, kind, value_num AS yen, url FROM current_facts "
           "WHERE kind = 'amount' ORDER BY municipality, program, value_num")


def run(argv: list[str], wh: Warehouse | None, capsys) -> tuple[int, str, str]:
    code = main(argv, warehouse=wh)
    out, err = capsys.readouterr()
    return code, out, err


def columns_at(line: str, cells: list[str]) -> list[tuple[int, int]]:
    """(start, end) display column of each cell, found left to right in ``line`` (measured with wcwidth)."""
    spans, pos = [], 0
    for cell in cells:
        i = line.index(cell, pos)
        start = wcswidth(line[:i])
        spans.append((start, start + wcswidth(cell)))
        pos = i + len(cell)
    return spans


def cell_text(value) -> str:
    return "NULL" if value is None else str(value)


def test_cjk_table_is_aligned_by_display_width(demo_warehouse, capsys):
    cols = ["municipality", "program", "kind", "yen", "url"]
    rows = q(demo_warehouse, AMOUNTS)
    assert len({wcswidth(r[1]) for r in rows if r[1]}) > 2 and any(r[0] == "北区" for r in rows)  # CJK of varying width
    code, out, _ = run(["query", AMOUNTS], demo_warehouse, capsys)
    header, rule, *body, footer = out.splitlines()
    assert code == 0 and footer == f"({len(rows)} rows)" and len(body) == len(rows)
    spans = [columns_at(header, cols)] + [columns_at(line, [cell_text(v) for v in r]) for line, r in zip(body, rows)]
    for i in (0, 1, 2, 4):  # text columns: every cell starts at the same display column
        assert len({s[i][0] for s in spans}) == 1, cols[i]
    assert len({s[3][1] for s in spans}) == 1  # the number column is right-aligned: same end column
    # each column is as wide as its widest cell, two spaces apart; the rule under the header shows it
    widths = [max(wcswidth(c) for c in [cols[i], *(cell_text(r[i]) for r in rows)]) for i in range(len(cols))]
    assert rule == "  ".join("-" * w for w in widths)
    assert all(line == line.rstrip() for line in out.splitlines())


def test_cells_are_never_cut_silently(demo_warehouse, capsys):
    sql = "SELECT url, text FROM current_facts WHERE length(text) > 0 ORDER BY length(url) DESC LIMIT 3"
    rows = q(demo_warehouse, sql)
    long = "練" * 120 + "END"
    code, out, _ = run(["query", f"SELECT '{long}' AS long, 1 AS n"], demo_warehouse, capsys)
    assert code == 0 and long in out.splitlines()[2] and "…" not in out
    code, out, _ = run(["query", sql], demo_warehouse, capsys)
    assert code == 0 and all(r[0] in out for r in rows)


def test_max_width_cuts_with_an_explicit_ellipsis(demo_warehouse, capsys):
    code, out, _ = run(["query", AMOUNTS, "--max-width", "12"], demo_warehouse, capsys)
    header, rule, *body, footer = out.splitlines()
    assert code == 0
    cells = [c for line in body for c in line.split("  ") if c.strip()]
    cut = [c for c in cells if c.strip().endswith("…")]
    assert cut and all(wcswidth(c.strip()) <= 12 for c in cells)
    assert any(c.strip().startswith("ひとり親家") for c in cut)  # a CJK cell cut on a character boundary
    assert footer == f"({len(body)} rows; {len(cut)} cell(s) cut at 12 columns (…))"
    assert header.split() == ["municipality", "program", "kind", "yen", "url"]


def test_null_is_shown_as_null(demo_warehouse, capsys):
    code, out, _ = run(["query", "SELECT NULL AS nothing, 'x' AS something, NULL::INTEGER AS n"], demo_warehouse, capsys)
    assert code == 0 and out.splitlines()[2].split() == ["NULL", "x", "NULL"] and "None" not in out
    code, out, _ = run(["query", "SELECT qualifier FROM changes WHERE kind = 'phone'"], demo_warehouse, capsys)
    assert code == 0 and out.splitlines()[2] == "NULL"


def test_json_columns_are_json(demo_warehouse, capsys):
    code, out, _ = run(["query", "SELECT rule, evidence FROM flags WHERE rule = 'secondary_outdated'", "--format", "json"],
                       demo_warehouse, capsys)
    (row,) = json.loads(out)
    assert code == 0 and row["evidence"]["secondary"]["text"] == "上限4万円"
    assert row["evidence"]["official_change"]["after"] == 50000
    code, out, _ = run(["query", "SELECT before, after, before_text FROM changes WHERE kind = 'amount'", "--format", "json"],
                       demo_warehouse, capsys)
    assert json.loads(out) == [{"before": 40000, "after": 50000, "before_text": "上限4万円"}]


def test_json_values_of_other_types(demo_warehouse, capsys):
    sql = ("SELECT [1, 2] AS l, {'区': '練馬区', 'n': NULL} AS s, 1.50::DECIMAL(5, 2) AS d, "
           "TIMESTAMPTZ '2026-12-01 15:30:00Z' AS t, DATE '2026-12-02' AS day, 'a\"b'::VARCHAR AS q, "
           "'{\"k\": [true]}'::JSON AS j, 'not json' AS text_col, 'x'::BLOB AS b, 1, 2 AS \"1\"")
    code, out, _ = run(["query", sql, "--format", "json"], demo_warehouse, capsys)
    (row,) = json.loads(out)
    assert code == 0 and row == {"l": [1, 2], "s": {"区": "練馬区", "n": None}, "d": 1.5, "t": "2026-12-02T00:30:00+09:00",
                                 "day": "2026-12-02", "q": 'a"b', "j": {"k": [True]}, "text_col": "not json", "b": "x",
                                 "1": 1, "1_1": 2}
    code, out, _ = run(["query", sql, "--format", "json", "--timezone", "UTC"], demo_warehouse, capsys)
    assert json.loads(out)[0]["t"] == "2026-12-01T15:30:00+00:00"


def test_explain_prints_the_plan(demo_warehouse, capsys):
    code, out, _ = run(["query", "EXPLAIN SELECT count(*) FROM versions"], demo_warehouse, capsys)
    assert code == 0 and "┌" in out and "\n" in out.strip() and "explain_value" not in out


# ------------------------------------------------------------------ -o FILE

ROWS_SQL = ("SELECT program, value_num AS yen, NULL::VARCHAR AS nothing, '=1+1' AS formula, [1, 2] AS list, "
            "TIMESTAMPTZ '2026-12-01 15:30:00Z' AS at, value FROM current_facts WHERE kind = 'amount' "
            "ORDER BY program, value_num")


@pytest.fixture(scope="module")
def file_warehouse(tmp_path_factory, demo_warehouse) -> Path:
    """The demo's amount facts in a warehouse file (the locked, file-less query connection of a real file)."""
    db = tmp_path_factory.mktemp("query-out") / "w.duckdb"
    healthy_history(Warehouse(db))
    rows = q(demo_warehouse, "SELECT municipality, program, kind, value_num, url FROM current_facts WHERE kind = 'amount'")
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE amounts (municipality VARCHAR, program VARCHAR, kind VARCHAR, yen DOUBLE, url VARCHAR, "
                "extra JSON)")
    con.executemany("INSERT INTO amounts VALUES (?, ?, ?, ?, ?, ?)",
                    [(*r, json.dumps({"区": r[0], "yen": r[3]}, ensure_ascii=False)) for r in rows])
    con.close()
    return db


def test_output_csv(demo_warehouse, tmp_path, capsys):
    target = tmp_path / "out" / "amounts.csv"
    expected = q(demo_warehouse, ROWS_SQL)
    code, out, err = run(["query", ROWS_SQL, "-o", str(target)], demo_warehouse, capsys)
    assert (code, out, err) == (0, "", f"{len(expected)} rows written to {target}\n")
    with target.open(encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert header == ["program", "yen", "nothing", "formula", "list", "at", "value"]
    assert [(r[0], float(r[1]), r[2], r[3], r[4], r[5]) for r in rows] == [
        (e[0] or "", e[1], "", "=1+1", "[1, 2]", "2026-12-02 00:30:00+09:00") for e in expected]
    assert sorted(p.name for p in target.parent.iterdir()) == ["amounts.csv"]


def test_output_json(demo_warehouse, tmp_path, capsys):
    target = tmp_path / "amounts.json"
    code, _, _ = run(["query", ROWS_SQL, "-o", str(target)], demo_warehouse, capsys)
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert code == 0 and len(rows) == len(q(demo_warehouse, ROWS_SQL))
    assert rows[0]["nothing"] is None and rows[0]["list"] == [1, 2] and isinstance(rows[0]["value"], int)


@pytest.mark.parametrize("where", ["memory", "file"])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_output_parquet(demo_warehouse, file_warehouse, tmp_path, capsys, where):
    target = tmp_path / "amounts.parquet"
    if where == "memory":
        argv, wh, expected = ["query", ROWS_SQL, "-o", str(target)], demo_warehouse, q(demo_warehouse, ROWS_SQL)
    else:
        sql = "SELECT municipality, program, yen, extra, NULL::INTEGER AS nothing FROM amounts ORDER BY program, yen"
        argv, wh, expected = ["query", "--db", str(file_warehouse), sql, "-o", str(target)], None, q(file_warehouse, sql)
    code, _, err = run(argv, wh, capsys)
    assert code == 0 and err == f"{len(expected)} rows written to {target}\n"
    back = duckdb.connect()
    assert back.execute(f"SELECT * FROM read_parquet('{target}')").fetchall() == expected
    types = dict(back.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{target}'))").fetchall())
    assert types[("value" if where == "memory" else "extra")] == "JSON"  # JSON columns keep their type
    if where == "memory":
        assert types["list"] == "INTEGER[]" and types["at"] == "TIMESTAMP WITH TIME ZONE"
    assert [p.name for p in tmp_path.iterdir()] == ["amounts.parquet"]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_output_xlsx(demo_warehouse, tmp_path, capsys):
    import openpyxl

    target = tmp_path / "amounts.xlsx"
    expected = q(demo_warehouse, ROWS_SQL)
    code, _, err = run(["query", ROWS_SQL, "-o", str(target)], demo_warehouse, capsys)
    assert code == 0 and err == f"{len(expected)} rows written to {target}\n"
    ws = openpyxl.load_workbook(target)["query"]
    header, *rows = list(ws.iter_rows(values_only=True))
    assert header == ("program", "yen", "nothing", "formula", "list", "at", "value")
    assert [r[:2] for r in rows] == [(e[0], e[1]) for e in expected]
    assert all(r[2] is None and r[3] == "=1+1" and r[4] == "[1, 2]" for r in rows)
    assert rows[0][5] == dt.datetime(2026, 12, 2, 0, 30)  # Asia/Tokyo, as the report (Excel keeps no offset)
    assert ws["D2"].data_type == "s"  # text that looks like a formula stays text
    assert ws.freeze_panes == "A2"


def test_output_xlsx_text_excel_cannot_hold(demo_warehouse, tmp_path, capsys, monkeypatch):
    import openpyxl

    from wardwatch.cli import resultfiles

    target = tmp_path / "odd.xlsx"
    monkeypatch.setattr(resultfiles, "XLSX_MAX_CELL", 25)
    sql = "SELECT 'a' || chr(27) || 'b' AS ctl, repeat('練', 30) AS long, 12345678901234567890 AS big"
    code, _, err = run(["query", sql, "-o", str(target)], demo_warehouse, capsys)
    assert code == 0
    assert err == f"1 rows written to {target}; 1 cell(s) longer than an Excel cell holds were cut (…): use .parquet or .csv\n"
    (row,) = list(openpyxl.load_workbook(target)["query"].iter_rows(min_row=2, values_only=True))
    assert row == ("a\\x1Bb", "練" * 24 + "…", "12345678901234567890")
    monkeypatch.setattr(resultfiles, "XLSX_MAX_ROWS", 3)
    code, _, err = run(["query", "SELECT * FROM range(5)", "-o", str(tmp_path / "big.xlsx")], demo_warehouse, capsys)
    assert code == 2 and err == (f"wardwatch query: -o {tmp_path / 'big.xlsx'}: 5 rows do not fit in an Excel sheet "
                                 "(2 at most); write .parquet or .csv instead\n")
    assert not (tmp_path / "big.xlsx").exists()


@pytest.mark.parametrize("argv, message", [
    (["-o", "{tmp}/x.txt"], "-o {tmp}/x.txt: extension '.txt'; give a file ending in .csv, .json, .parquet, .xlsx"),
    (["-o", "{tmp}/x"], "-o {tmp}/x: no extension; give a file ending in .csv, .json, .parquet, .xlsx"),
    (["-o", "{tmp}/x.csv", "--format", "json"], "--format json and -o {tmp}/x.csv (csv) disagree: give one of them"),
    (["-o", "{tmp}/x.csv", "--max-width", "5"], "--max-width shortens table cells only (not with --format csv/json or -o FILE)"),
    (["--format", "json", "--max-width", "5"], "--max-width shortens table cells only (not with --format csv/json or -o FILE)"),
])
def test_output_bad_usage_exits_2(demo_warehouse, tmp_path, capsys, argv, message):
    code, out, err = run(["query", "SELECT 1", *(a.format(tmp=tmp_path) for a in argv)], demo_warehouse, capsys)
    assert (code, out, err) == (2, "", f"wardwatch query: {message.format(tmp=tmp_path)}\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_output_keeps_the_query_checks(file_warehouse, tmp_path, capsys, suffix):
    """-o FILE runs the same refusals and the same file-less connection: no file written, none left."""
    target = tmp_path / f"out{suffix}"
    code, _, err = run(["query", "--db", str(file_warehouse), f"COPY versions TO '{tmp_path / 'x.csv'}'", "-o",
                        str(target)], None, capsys)
    assert code == 2 and err.startswith("wardwatch query: refused: COPY statements are refused")
    code, _, err = run(["query", "--db", str(file_warehouse), f"SELECT * FROM read_csv('{file_warehouse}')", "-o",
                        str(target)], None, capsys)
    assert code == 1 and err.startswith("wardwatch query: query failed: Permission Error: ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_file_queries_run_in_the_chosen_time_zone(file_warehouse, capsys):
    sql = ("SELECT (TIMESTAMPTZ '2026-12-01 15:30:00Z')::DATE AS day, current_setting('TimeZone') AS tz, "
           "current_setting('lock_configuration') AS locked")
    code, out, _ = run(["query", "--db", str(file_warehouse), sql, "--format", "json"], None, capsys)
    assert code == 0 and json.loads(out) == [{"day": "2026-12-02", "tz": "Asia/Tokyo", "locked": True}]
    code, out, _ = run(["query", "--db", str(file_warehouse), sql, "--format", "json", "--timezone", "UTC"], None, capsys)
    assert json.loads(out) == [{"day": "2026-12-01", "tz": "UTC", "locked": True}]
