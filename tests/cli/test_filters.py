"""`changes` / `flags` filters and CSV, `--since` parsing (also `report --since`), unknown source ids,
`export --tables/--exclude` — in this process, over the demo warehouse (the oracle: SQL on the same
warehouse) and small warehouses built here."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.helpers import healthy_history, main, q
from warehouse.db import Warehouse

DEMO_SOURCES = "demo-kita, demo-mamamoi-kita, demo-matome-nerima, demo-nerima"


def run(argv: list[str], wh: Warehouse | None, capsys) -> tuple[int, str, str]:
    code = main(argv, warehouse=wh)
    out, err = capsys.readouterr()
    return code, out, err


def as_json(argv: list[str], wh: Warehouse, capsys) -> list[dict]:
    code, out, err = run([*argv, "--format", "json"], wh, capsys)
    assert (code, err) == (0, ""), argv
    return json.loads(out)


# ------------------------------------------------------------------ changes / flags filters


@pytest.mark.parametrize("filters, where", [
    (["--source", "demo-nerima"], "source_id = 'demo-nerima'"),
    (["--source", "demo-kita"], "source_id = 'demo-kita'"),
    (["--municipality", "練馬区"], "municipality = '練馬区'"),
    (["--municipality", "北区"], "municipality = '北区'"),
    (["--program", "住宅支援"], "program LIKE '%住宅支援%'"),
    (["--kind", "phone"], "kind = 'phone'"),
    (["--kind", "amount", "--program", "策定事業"], "kind = 'amount' AND program LIKE '%策定事業%'"),
    (["--kind", "amount,phone"], "kind IN ('amount', 'phone')"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_changes_filters_match_sql(demo_warehouse, capsys, filters, where):
    expected = q(demo_warehouse, f"SELECT kind, after_text FROM changes WHERE {where} ORDER BY kind")
    rows = as_json(["changes", *filters], demo_warehouse, capsys)
    assert sorted((r["kind"], r["after_text"]) for r in rows) == expected
    assert all(r["municipality"] == "練馬区" for r in rows)


def test_changes_filters_select_something_and_nothing(demo_warehouse, capsys):
    """The demo's two changes are on one 練馬区 page: each filter keeps them or drops them as it should."""
    assert len(as_json(["changes", "--municipality", "練馬区"], demo_warehouse, capsys)) == 2
    assert as_json(["changes", "--municipality", "北区"], demo_warehouse, capsys) == []
    (amount,) = as_json(["changes", "--program", "住宅支援"], demo_warehouse, capsys)
    assert (amount["kind"], amount["before_text"], amount["after_text"]) == ("amount", "上限4万円", "上限5万円")
    (phone,) = as_json(["changes", "--kind", "phone", "--source", "demo-nerima"], demo_warehouse, capsys)
    assert phone["after_text"] == "03-5984-4700"


@pytest.mark.parametrize("filters, where", [
    (["--rule", "secondary_contradicts_official"], "rule = 'secondary_contradicts_official'"),
    (["--rule", "fact_changed,secondary_outdated"], "rule IN ('fact_changed', 'secondary_outdated')"),
    (["--rule", "fact_changed", "--rule", "stale_reference"], "rule IN ('fact_changed', 'stale_reference')"),
    (["--severity", "high"], "severity = 'high'"),
    (["--severity", "medium", "--municipality", "北区"], "severity = 'medium' AND municipality = '北区'"),
    (["--source", "demo-mamamoi-kita", "--rule", "stale_reference"],
     "source_id = 'demo-mamamoi-kita' AND rule = 'stale_reference'"),
    (["--program", "児童扶養"], "program LIKE '%児童扶養%'"),
    (["--kind", "amount", "--open"], "kind = 'amount' AND open"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_flags_filters_match_sql(demo_warehouse, capsys, filters, where):
    expected = q(demo_warehouse, f"SELECT rule, source_id, url FROM flags WHERE {where} ORDER BY ALL")
    assert expected  # every case selects some flags, and not all of them
    assert len(expected) < q(demo_warehouse, "SELECT count(*) FROM flags")[0][0]
    rows = as_json(["flags", *filters], demo_warehouse, capsys)
    assert sorted((r["rule"], r["source_id"], r["url"]) for r in rows) == expected


def test_flags_table_filtered(demo_warehouse, capsys):
    code, out, _ = run(["flags", "--rule", "secondary_outdated"], demo_warehouse, capsys)
    lines = out.splitlines()
    assert code == 0 and lines[-1] == "(1 flags)" and len(lines) == 2
    assert lines[0].startswith("high   secondary_outdated") and "ひとり親家庭住宅支援資金貸付" in lines[0]


def test_filter_values_are_bound_parameters(demo_warehouse, capsys):
    """Quotes and SQL in a filter value are data: no error, no rows, the warehouse untouched."""
    n = q(demo_warehouse, "SELECT count(*) FROM flags")[0][0]
    for argv in (["flags", "--program", "'); DROP TABLE flag_records; --"],
                 ["changes", "--program", "' OR 1=1 --"], ["flags", "--kind", "x' OR '1'='1"]):
        assert as_json(argv, demo_warehouse, capsys) == [], argv
    assert q(demo_warehouse, "SELECT count(*) FROM flags")[0][0] == n


def test_changes_csv(demo_warehouse, capsys):
    code, out, _ = run(["changes", "--format", "csv"], demo_warehouse, capsys)
    assert code == 0
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header == ["detected_at", "municipality", "source_id", "program", "kind", "qualifier", "change", "before",
                      "after", "before_text", "after_text", "url", "program_id"]
    got = sorted(dict(zip(header, r))["kind"] + " " + dict(zip(header, r))["after"] for r in rows)
    assert got == ["amount 50000", "phone +81359844700"]
    (amount,) = [dict(zip(header, r)) for r in rows if r[4] == "amount"]
    assert (amount["program"], amount["qualifier"], amount["before_text"], amount["after_text"]) == (
        "ひとり親家庭住宅支援資金貸付(東京都社会福祉協議会)", "上限", "上限4万円", "上限5万円")
    assert amount["detected_at"].endswith("+09:00")  # shown in Asia/Tokyo, as the report


def test_flags_csv_matches_json(demo_warehouse, capsys):
    rows = as_json(["flags", "--open"], demo_warehouse, capsys)
    code, out, _ = run(["flags", "--open", "--format", "csv"], demo_warehouse, capsys)
    assert code == 0
    header, *cells = list(csv.reader(io.StringIO(out)))
    assert set(header) == set(rows[0]) and len(cells) == len(rows)
    by_csv = [dict(zip(header, c)) for c in cells]
    assert [(c["rule"], c["url"], c["closed_at"]) for c in by_csv] == [(r["rule"], r["url"], "") for r in rows]
    outdated = next(c for c in by_csv if c["rule"] == "secondary_outdated")
    assert json.loads(outdated["evidence"])["secondary"]["text"] == "上限4万円"  # evidence as JSON text


# ------------------------------------------------------------------ unknown names


@pytest.mark.parametrize("argv", [["changes", "--source", "nope"], ["flags", "--source", "nope"],
                                  ["flags", "--source", "demo-nerima,nope"], ["diff", "--source", "nope"]])
def test_unknown_source_ids_are_refused(demo_warehouse, capsys, argv):
    code, out, err = run(argv, demo_warehouse, capsys)
    assert (code, out) == (2, "")
    assert err == f"wardwatch {argv[0]}: unknown source id(s): nope (known: {DEMO_SOURCES})\n"


def test_reextract_refuses_an_unknown_source(capsys):
    wh = healthy_history(Warehouse(":memory:"))
    code, out, err = run(["reextract", "--source", "nope"], wh, capsys)
    assert (code, out) == (2, "")
    assert err == "wardwatch reextract: unknown source id(s): nope (the warehouse has no sources yet)\n"
    wh.close()


def test_the_source_check_helper_for_other_commands(demo_warehouse):
    from wardwatch.cli.common import Usage
    from wardwatch.cli.filters import require_known_sources

    require_known_sources(demo_warehouse, [None])  # no --source given
    require_known_sources(demo_warehouse, ["demo-kita"])
    with pytest.raises(Usage, match=r"^unknown source id\(s\): x, y \(known: demo-kita, "):
        require_known_sources(demo_warehouse, ["x", "demo-kita", "y", "x"])
    empty = healthy_history(Warehouse(":memory:"))
    with pytest.raises(Usage, match=r"^unknown source id\(s\): s \(the warehouse has no sources yet\)$"):
        require_known_sources(empty, ["s"])
    empty.close()


@pytest.mark.parametrize("argv, message", [
    (["changes", "--municipality", "渋谷区"], "unknown municipality: 渋谷区 (known: 北区, 練馬区)"),
    (["flags", "--rule", "fact_changd"], "unknown rule(s): fact_changd (known: broken_link, deadline_passed, "),
    (["flags", "--severity", "urgent"], "unknown severity: urgent (known: high, medium, low)"),
])
def test_unknown_filter_values_are_refused(demo_warehouse, capsys, argv, message):
    code, out, err = run(argv, demo_warehouse, capsys)
    assert (code, out) == (2, "") and err.startswith(f"wardwatch {argv[0]}: {message}") and err.count("\n") == 1


def test_changes_refuses_flag_only_filters(demo_warehouse, capsys):
    code, out, err = run(["changes", "--rule", "fact_changed"], demo_warehouse, capsys)
    assert (code, out) == (2, "") and "unrecognized arguments: --rule fact_changed" in err


# ------------------------------------------------------------------ --since


@pytest.fixture(scope="module")
def late_night() -> Warehouse:
    """One fact change detected at 2026-12-02 00:30 JST — 2026-12-01 15:30 UTC, the previous day in UTC."""
    wh = healthy_history(Warehouse(":memory:"))
    with wh.transaction() as con:
        con.execute("INSERT INTO sources (source_id, municipality, code, kind, start_urls, allowed_domains, schedule, "
                    "updated_at) VALUES ('s', '練馬区', '131202', 'official', [], [], '0 6 * * *', now())")
        con.execute("UPDATE runs SET started_at = TIMESTAMPTZ '2026-12-01 15:00:00Z'")
        con.execute("INSERT INTO version_diffs VALUES ('v2', 'v1', 'http://x/ok', 's', TIMESTAMPTZ '2026-12-01 15:30:00Z', "
                    "'r', 'ok', 'content', NULL, NULL, 0, 0, 1, NULL, 'facts-1', now())")
        con.execute("INSERT INTO fact_changes (after_version_id, seq, program, kind, qualifier, change, before, after, "
                    "before_text, after_text) VALUES ('v2', 0, '児童育成手当', 'amount', '月額', 'changed', '13500', "
                    "'14000', '月額13,500円', '月額14,000円')")
    yield wh
    wh.close()


@pytest.mark.parametrize("since, extra, n", [
    ("2026-12-02", [], 1),                      # midnight JST: 00:30 JST is after it
    ("2026-12-03", [], 0),
    ("2026-12-02", ["--timezone", "UTC"], 0),   # midnight UTC is after 15:30 UTC the day before
    ("2026-12-01", ["--timezone", "UTC"], 1),
    ("2026-12-02T00:30", [], 1),                # a date-time without an offset: JST too
    ("2026-12-02T00:31", [], 0),
    ("2026-12-01T15:30Z", [], 1),               # with an offset: as written
    ("2026-12-01T15:31:00+00:00", [], 0),
    ("2026-12-02 00:29:59+09:00", [], 1),
])
def test_since_is_read_in_asia_tokyo(late_night, capsys, since, extra, n):
    rows = as_json(["changes", "--since", since, *extra], late_night, capsys)
    assert len(rows) == n, since
    if n:
        assert rows[0]["detected_at"] == ("2026-12-02 00:30:00+09:00" if not extra else "2026-12-01 15:30:00+00:00")


def test_changes_table_shows_the_tokyo_date(late_night, capsys):
    code, out, _ = run(["changes"], late_night, capsys)
    assert code == 0 and out.splitlines()[0].startswith("2026-12-02  児童育成手当 / amount / 月額: 月額13,500円 → 月額14,000円")


@pytest.mark.parametrize("since, n", [("2026-12-02", 1), ("2026-12-03", 0), ("2026-12-02T00:31", 0)])
def test_report_since_is_read_in_asia_tokyo_too(late_night, capsys, since, n):
    code, out, _ = run(["report", "--format", "json", "--all", "--since", since], late_night, capsys)
    assert code == 0 and json.loads(out)["summary"]["total"]["changes"] == n


def test_since_run_ids(demo_warehouse, capsys):
    first, second = (r[0] for r in q(demo_warehouse, "SELECT run_id FROM runs ORDER BY started_at"))
    assert len(as_json(["changes", "--since", first], demo_warehouse, capsys)) == 2
    assert len(as_json(["flags", "--since", second], demo_warehouse, capsys)) == q(
        demo_warehouse, "SELECT count(*) FROM flags WHERE first_seen >= (SELECT started_at FROM runs WHERE run_id = ?)",
        [second])[0][0]
    code, out, err = run(["changes", "--since", "20200101T000000Z-abcdef"], demo_warehouse, capsys)
    assert (code, out, err) == (2, "", "wardwatch changes: --since: no run '20200101T000000Z-abcdef' in :memory:\n")


EXPECTED = "expected a date (2026-11-01), a date-time or a run id"


@pytest.mark.parametrize("command", ["changes", "flags", "report"])
@pytest.mark.parametrize("since, message", [
    ("yesterday", f"--since: {EXPECTED}, got 'yesterday'"),
    ("2026-13-40", "--since: not a valid date or date-time (month must be in 1..12), got '2026-13-40'"),
    ("2026-02-30", "--since: not a valid date or date-time (day is out of range for month), got '2026-02-30'"),
    ("2026-12-02T24:30", "--since: not a valid date or date-time (hour must be in 0..23), got '2026-12-02T24:30'"),
    ("7d", f"--since: {EXPECTED}, got '7d'"),
    ("", f"--since: {EXPECTED}, got ''"),
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_bad_since_is_one_line_exit_2(late_night, capsys, command, since, message):
    code, out, err = run([command, "--since", since], late_night, capsys)
    assert (code, out, err) == (2, "", f"wardwatch {command}: {message}\n")


@pytest.mark.parametrize("command", ["changes", "flags", "report", "query"])
def test_unknown_timezone_is_refused(late_night, capsys, command):
    argv = [command, "--timezone", "Asia/Nerima"] + (["SELECT 1"] if command == "query" else [])
    code, out, err = run(argv, late_night, capsys)
    assert (code, out) == (2, "")
    assert err == f"wardwatch {command}: --timezone 'Asia/Nerima': unknown time zone (give an IANA name such as Asia/Tokyo or UTC)\n"


def test_since_parsing_gives_an_offset():
    from zoneinfo import ZoneInfo

    from wardwatch.cli.since import parse_since

    tokyo = ZoneInfo("Asia/Tokyo")
    assert parse_since("2026-12-02", tokyo) == "2026-12-02T00:00:00+09:00"
    assert parse_since("20261202", tokyo) == "2026-12-02T00:00:00+09:00"
    assert parse_since(" 2026-12-02T09:15 ", tokyo) == "2026-12-02T09:15:00+09:00"
    assert parse_since("2026-12-02T09:15Z", tokyo) == "2026-12-02T09:15:00+00:00"
    assert parse_since("2026-07-01", ZoneInfo("Europe/Berlin")) == "2026-07-01T00:00:00+02:00"  # summer time
    assert parse_since("20261122T182202Z-a9d185", tokyo) == "20261122T182202Z-a9d185"
    assert parse_since(None, tokyo) is None


# ------------------------------------------------------------------ export subsets


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_export_tables_and_exclude(demo_warehouse, tmp_path, capsys):
    names = {r[0] for r in q(demo_warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}
    cases = [(["--tables", "flags,changes"], {"flags", "changes"}),
             (["--tables", "flags", "--tables", "versions"], {"flags", "versions"}),
             (["--exclude", "blobs,fetches", "--exclude", "facts"], names - {"blobs", "fetches", "facts"}),
             (["--tables", "flags,changes,current_facts", "--exclude", "changes"], {"flags", "current_facts"})]
    for i, (options, expected) in enumerate(cases):
        folder = tmp_path / str(i)
        code, out, _ = run(["export", str(folder), *options], demo_warehouse, capsys)
        assert code == 0, options
        assert {p.stem for p in folder.iterdir()} == expected, options
        assert len(out.splitlines()) == len(expected)
    n = q(demo_warehouse, "SELECT count(*) FROM flags")[0][0]
    assert q(demo_warehouse, f"SELECT count(*) FROM '{tmp_path / '0' / 'flags.parquet'}'") == [(n,)]


@pytest.mark.parametrize("options, message", [
    (["--tables", "flags,nope"], "unknown table(s)/view(s): nope (known: blobs, changes, "),
    (["--exclude", "flag"], "unknown table(s)/view(s): flag (known: blobs, changes, "),
    (["--tables", "flags", "--exclude", "flags"], "nothing left to export: every table and view is excluded"),
])
def test_export_bad_names_exit_2_and_write_nothing(demo_warehouse, tmp_path, capsys, options, message):
    folder = tmp_path / "out"
    code, out, err = run(["export", str(folder), *options], demo_warehouse, capsys)
    assert (code, out) == (2, "") and err.startswith(f"wardwatch export: {message}") and err.count("\n") == 1
    assert not folder.exists()
