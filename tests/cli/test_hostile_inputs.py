"""Hostile input to the command line gets one clear line and exit 2 (bad usage) or 1 (the work failed),
never a traceback, a hang or an abort: `query` statements that switch logging/profiling on, change
settings or write files; `--db` naming a FIFO or a device; output paths that are symlinks; crawled and
imported text carrying terminal escapes and bidi controls (all terminal output goes through
extractors.termsafe). Every hostile input is built here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.datasets import civichat_json, record
from tests.support.helpers import healthy_history, main, q, wardwatch
from warehouse.db import Warehouse

ESC_TITLE = "\x1b]0;pwned\x07児童\x1b[2J育成\u202e手当\u2066\x9b31m"  # OSC title, clear screen, RLO, LRI, C1 CSI
SAFE_TITLE = "児童育成手当"
RAW = ("\x1b", "\x07", "\u202e", "\u2066", "\x9b")


def run(argv: list[str], capsys, wh: Warehouse | None = None) -> tuple[int, str, str]:
    code = main(argv, warehouse=wh)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse file the tests only read (query refusals, exports)."""
    path = tmp_path_factory.mktemp("hostile") / "w.duckdb"
    healthy_history(Warehouse(path))
    return path


# ------------------------------------------------------------------ query


@pytest.mark.parametrize("sql, why", [
    ("", "empty SQL: give one SELECT statement"),
    ("   \n", "empty SQL: give one SELECT statement"),
    ("-- nothing", "no SQL statement (only comments or whitespace): give one SELECT statement"),
    ("CALL enable_logging(storage='file', storage_path='{logs}')", "CALL statements are refused"),
    ("CALL enable_logging(storage='file', storage_path='{logs}'); SELECT 1", "one statement at a time, got 2"),
    ("SELECT * FROM enable_logging(storage='file', storage_path='{logs}')", "enable_logging() is refused"),
    ("SET enable_profiling = 'json'", "SET statements are refused"),
    ("PRAGMA enable_profiling", "PRAGMA statements are refused"),
    ("SET memory_limit = '64GB'", "SET statements are refused"),
    ("SET threads = 64", "SET statements are refused"),
    ("SET home_directory = '/tmp'", "SET statements are refused"),
    ("RESET lock_configuration", "SET statements are refused"),
    ("INSTALL fts", "LOAD statements are refused"),
    ("ATTACH '{logs}.duckdb' AS x", "ATTACH statements are refused"),
    ("SELECT * FROM query('SELECT 1')", "query() is refused"),
    ("SELECT * FROM checkpoint()", "checkpoint() is refused"),
    ("SELECT * FROM postgres_query('__ducklake_metadata_lake', 'SELECT pg_read_file(''/etc/hostname'')')",
     "postgres_query() is refused"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE statements are refused"),
])
def test_query_refuses_all_but_one_select_with_one_line(db, tmp_path, capsys, sql, why):
    logs = tmp_path / "logs"
    code, out, err = run(["query", "--db", str(db), sql.format(logs=logs)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"wardwatch query: refused: {why}") and err.count("\n") == 1
    assert not logs.exists() and not Path(f"{logs}.duckdb").exists()


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_query_configuration_is_locked_and_external_access_off(db, capsys):
    code, out, _ = run(["query", "--db", str(db), "--format", "json",
                        "SELECT current_setting('lock_configuration') AS locked, "
                        "current_setting('enable_external_access') AS external"], capsys)
    assert code == 0 and json.loads(out) == [{"locked": True, "external": False}]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_query_that_aborted_duckdb_now_exits_2(db, tmp_path):
    """`CALL enable_logging(storage='file')` followed by a query made DuckDB abort the process (SIGABRT, 134)."""
    logs = tmp_path / "logs"
    done = wardwatch("query", "--db", str(db), f"CALL enable_logging(storage='file', storage_path='{logs}'); SELECT 1",
                     timeout=60)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr == "wardwatch query: refused: one statement at a time, got 2\n"
    assert not logs.exists()


def test_in_memory_query_is_refused_the_same_way_and_writes_nothing(capsys):
    wh = healthy_history(Warehouse(":memory:"))
    code, _, err = run(["query", "DELETE FROM versions"], capsys, wh)
    assert code == 2 and err.startswith("wardwatch query: refused: DELETE statements are refused")
    code, out, _ = run(["query", "SELECT count(*) AS n FROM versions", "--format", "json"], capsys, wh)
    assert code == 0 and json.loads(out) == [{"n": 2}]
    wh.close()


# ------------------------------------------------------------------ --db


def test_db_fifo_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "w.duckdb"
    os.mkfifo(fifo)
    for argv in (["changes"], ["query", "SELECT 1"], ["flags"], ["doctor"], ["migrate"], ["report"], ["demo"]):
        code, out, err = run([*argv, "--db", str(fifo)], capsys)
        assert (code, out) == (2, ""), argv
        assert err == (f"wardwatch {argv[0]}: --db {fifo}: is a FIFO, not a warehouse file "
                       "(give a path to a .duckdb file)\n"), argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]  # no locks/, no staging beside it


@pytest.mark.parametrize("path, kind", [("/dev/null", "is a character device"), ("/dev/wardwatch-none.duckdb", "is under /dev"),
                                        ("/proc/self/w.duckdb", "is under /proc")])
def test_db_device_paths_are_refused(capsys, path, kind):
    code, out, err = run(["migrate", "--db", path], capsys)
    assert (code, out) == (2, "") and err.startswith(f"wardwatch migrate: --db {path}: {kind}")
    assert not Path("/dev/locks").exists() and not Path("/dev/wardwatch-none.duckdb").exists()


def test_db_directory_is_refused(tmp_path, capsys):
    code, _, err = run(["changes", "--db", str(tmp_path)], capsys)
    assert code == 2 and err == f"wardwatch changes: --db {tmp_path}: is a directory, not a warehouse file (give a path to a .duckdb file)\n"


def test_db_via_environment_is_checked_too(tmp_path, capsys, monkeypatch):
    fifo = tmp_path / "env.duckdb"
    os.mkfifo(fifo)
    monkeypatch.setenv("WARDWATCH_DB", str(fifo))
    code, _, err = run(["flags"], capsys)
    assert code == 2 and "is a FIFO" in err


# ------------------------------------------------------------------ output files


def test_export_refuses_a_planted_symlink(db, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out_dir = tmp_path / "pq"
    out_dir.mkdir()
    (out_dir / "flags.parquet").symlink_to(victim)
    code, _, err = run(["export", str(out_dir), "--db", str(db)], capsys)
    assert code == 2
    assert err == (f"wardwatch export: {out_dir / 'flags.parquet'}: is a symbolic link; refusing to write through it "
                   "(remove the link or choose another file)\n")
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]  # no temporary file left behind


def test_export_replaces_regular_files_atomically(db, tmp_path, capsys):
    out_dir = tmp_path / "pq"
    out_dir.mkdir()
    (out_dir / "versions.parquet").write_text("old", encoding="utf-8")
    code, out, _ = run(["export", str(out_dir), "--db", str(db)], capsys)
    assert code == 0 and f"{out_dir / 'versions.parquet'}: 2 rows" in out.splitlines()
    assert q(db, f"SELECT count(*) FROM '{out_dir / 'versions.parquet'}'") == [(2,)]
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".")]


def test_report_output_refuses_a_symlink_and_writes_a_regular_file(db, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    code, _, err = run(["report", "--db", str(db), "-o", str(link)], capsys)
    assert code == 2 and err == (f"wardwatch report: {link}: is a symbolic link; refusing to write through it "
                                 "(remove the link or choose another file)\n")
    assert victim.read_text(encoding="utf-8") == "precious"
    target = tmp_path / "out" / "report.md"
    code, _, err = run(["report", "--db", str(db), "--format", "md", "-o", str(target)], capsys)
    assert code == 0 and err == f"report written to {target}\n"
    assert target.read_text(encoding="utf-8").startswith("#") and sorted(p.name for p in target.parent.iterdir()) == ["report.md"]


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet", ".xlsx"])
def test_query_output_refuses_a_planted_symlink(db, tmp_path, capsys, suffix):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    link = tmp_path / f"out{suffix}"
    link.symlink_to(victim)
    code, out, err = run(["query", "--db", str(db), "SELECT * FROM versions", "-o", str(link)], capsys)
    assert (code, out) == (2, "")
    assert err == (f"wardwatch query: {link}: is a symbolic link; refusing to write through it "
                   "(remove the link or choose another file)\n")
    assert victim.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [link.name, "victim.txt"]  # no temporary file left


def test_query_column_names_and_cells_are_terminal_safe(capsys):
    wh = healthy_history(Warehouse(":memory:"))
    code, out, _ = run(["query", f"SELECT '{ESC_TITLE}' AS \"\x1b[2J列\u202e\""], capsys, wh)
    assert code == 0 and not any(c in out for c in RAW)
    assert out.splitlines()[0] == "列" and out.splitlines()[2] == SAFE_TITLE
    wh.close()


def test_outfile_helper_never_writes_through_links(tmp_path):
    from wardwatch.outfile import OutputRefused, write_output

    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "link").symlink_to(victim)
    for name in ("dangling", "link"):
        with pytest.raises(OutputRefused, match="is a symbolic link"):
            write_output(tmp_path / name, "x")
    with pytest.raises(OutputRefused, match="is not a regular file"):
        write_output(tmp_path, "x")
    assert victim.read_bytes() == b"keep" and not (tmp_path / "nowhere").exists()
    write_output(tmp_path / "new.html", "<p>ok</p>")
    assert (tmp_path / "new.html").read_text(encoding="utf-8") == "<p>ok</p>"
    assert (tmp_path / "new.html").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ terminal escapes


@pytest.fixture
def hostile_warehouse() -> Warehouse:
    """A warehouse whose fact change and flag name a program carrying escapes and bidi controls."""
    wh = healthy_history(Warehouse(":memory:"))
    with wh.transaction() as con:
        con.execute("INSERT INTO version_diffs VALUES ('v2', 'v1', 'http://x/ok', 's', TIMESTAMPTZ '2026-01-02 00:00:00Z', "
                    "'r', 'ok', 'content', NULL, NULL, 0, 0, 1, NULL, 'facts-1', now())")
        con.execute("INSERT INTO fact_changes (after_version_id, seq, program, kind, qualifier, change, before, after, "
                    "before_text, after_text) VALUES ('v2', 0, ?, 'amount', '月額', 'changed', '13000', '13500', ?, ?)",
                    [ESC_TITLE, "月額13,000円\x1b[8m", "月額13,500円\u202e"])
        con.execute("INSERT INTO flag_records VALUES ('f1', 'fact_changed', 'high', 's', 'http://x/ok', ?, 'amount', "
                    "NULL, now(), now(), NULL, NULL, NULL)", [ESC_TITLE])
    yield wh
    wh.close()


@pytest.mark.parametrize("argv", [["changes"], ["flags"], ["query", "SELECT program FROM changes"],
                                  ["query", "SELECT program FROM flags", "--format", "csv"],
                                  ["query", "SELECT program FROM flags", "--max-width", "4"],
                                  ["query", "SELECT 1 AS x, program FROM flags"],
                                  ["changes", "--format", "csv"], ["flags", "--format", "csv"]])
def test_tables_print_user_data_terminal_safe(hostile_warehouse, capsys, argv):
    code, out, _ = run(argv, capsys, hostile_warehouse)
    assert code == 0 and (SAFE_TITLE in out or "--max-width" in argv)
    assert not any(c in out for c in RAW)
    if argv == ["changes"]:
        assert "月額13,000円 → 月額13,500円" in out


@pytest.mark.parametrize("argv", [["changes", "--format", "json"], ["flags", "--format", "json"],
                                  ["query", "SELECT program FROM changes", "--format", "json"]])
def test_json_output_keeps_the_data_with_controls_escaped(hostile_warehouse, capsys, argv):
    code, out, _ = run(argv, capsys, hostile_warehouse)
    assert code == 0 and not any(c in out for c in RAW)
    assert [r["program"] for r in json.loads(out)] == [ESC_TITLE]  # lossless: the JSON still says what was stored


def test_dataset_cells_with_escapes_print_safely(tmp_path, capsys):
    wh = Warehouse(":memory:")
    path = tmp_path / "datas_x_systemsdata@2026-01-01_x.json"
    path.write_bytes(civichat_json([record(1, 市町村="渋谷区\x1b[2J"), record(2, **{"タイトル（制度名）": ESC_TITLE})]))
    code, out, err = run(["import-dataset", str(path)], capsys, wh)
    assert code == 1 and not any(c in out + err for c in RAW)
    assert err.count("\n") == 1
    path.write_bytes(civichat_json([record(1, **{"タイトル（制度名）": ESC_TITLE})]))
    code, out, err = run(["import-dataset", str(path), "--format", "json"], capsys, wh)
    assert code == 0 and not any(c in out for c in RAW) and json.loads(out)["status"] == "imported"
    code, out, _ = run(["query", "SELECT DISTINCT program FROM dataset_facts"], capsys, wh)
    assert code == 0 and SAFE_TITLE in out and not any(c in out for c in RAW)
    wh.close()


def test_report_on_the_terminal_is_terminal_safe(hostile_warehouse, capsys):
    code, out, _ = run(["report", "--format", "md"], capsys, hostile_warehouse)
    assert code == 0 and not any(c in out for c in RAW)
    code, out, _ = run(["report", "--format", "json"], capsys, hostile_warehouse)
    assert code == 0 and not any(c in out for c in RAW)
    json.loads(out)


def test_stage_summaries_are_terminal_safe():
    """What `crawl`, `run`, `reextract` and `diff` print: server-sent error texts and URLs made inert."""
    from wardwatch.cli.summaries import crawl_summary, extraction_summary
    from wardwatch.stages.crawl import CrawlResult

    row = {"source_id": "s", "status": "failed", "reason": "http_503: \x1b]52;c;cHduZWQ=\x07Service\u202e Unavailable",
           "fetched": 1, "new_versions": 0, "unchanged": 0, "not_modified": 0, "errors": 1, "error_kinds": {"http_503": 1}}
    text = crawl_summary(CrawlResult("r1", "failed", [row]))
    assert "  http_503: Service Unavailable" in text and not any(c in text for c in RAW)
    text = extraction_summary({"extractor_version": "facts-1", "extracted": 1, "facts": 0, "no_text": 0, "errors": 1,
                               "failures": [{"url": "http://x/\x1b[2Ja", "error": f"bad PDF {ESC_TITLE}"}]})
    assert text.splitlines()[1] == f"  http://x/a: bad PDF {SAFE_TITLE}"
