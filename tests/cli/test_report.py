"""`wardwatch report` and `wardwatch review` in this process over the demo warehouse (no crawl):
formats, --since, -o, exit codes. (The report's content rules: tests/report/; in Chromium: tests/e2e/test_browser.py.)"""

from __future__ import annotations

import json
import socket
import sys

import pytest

from tests.support.helpers import main, q


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_html_report_to_a_file(demo_warehouse, tmp_path, capsys):
    out = tmp_path / "r" / "report.html"
    assert main(["report", "-o", str(out)], warehouse=demo_warehouse) == 0
    assert capsys.readouterr() == ("", f"report written to {out}\n")
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "貸付額は<mark>上限5万円</mark>、12か月間です。" in html and "<script" not in html


def test_markdown_and_json_reports(demo_warehouse, capsys):
    assert main(["report", "--format", "md"], warehouse=demo_warehouse) == 0
    md = capsys.readouterr().out
    assert md.startswith("# wardwatch 変更レポート")
    assert "## 変更 (2件)" in md and "上限4万円 → 上限5万円" in md and "03-5984-4742 → 03-5984-4700" in md
    assert main(["report", "--format", "json"], warehouse=demo_warehouse) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["total"]["changes"] == 2
    assert {f["rule"] for f in report["flags"]} == {"fact_changed", "secondary_outdated",
                                                    "secondary_contradicts_official", "outdated_amount",
                                                    "stale_reference"}
    assert {f["rule"] for f in report["health"]["broken_links"]} == {"broken_link"}


def test_since(demo_warehouse, capsys):
    (second,) = q(demo_warehouse, "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")[0]
    assert main(["report", "--format", "json", "--since", second], warehouse=demo_warehouse) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["total"]["changes"] == 2
    assert main(["report", "--format", "md", "--since", "2999-01-01"], warehouse=demo_warehouse) == 0
    assert "新しい変更はありません" in capsys.readouterr().out


@pytest.mark.parametrize("since, message", [
    ("yesterday", "--since: expected a date (2026-11-01), a date-time or a run id, got 'yesterday'"),
    ("20200101T000000Z-abcdef", "--since: no run '20200101T000000Z-abcdef' in :memory:"),
])
def test_bad_since_exits_2(demo_warehouse, capsys, since, message):
    assert main(["report", "--since", since], warehouse=demo_warehouse) == 2
    assert capsys.readouterr() == ("", f"wardwatch report: {message}\n")


def test_report_on_a_missing_warehouse_exits_1(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    assert main(["report", "--db", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == (f"wardwatch report: {missing}: no warehouse here "
                                 "(run `wardwatch crawl` or `wardwatch demo` first)\n")


def test_unwritable_output_exits_1(demo_warehouse, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "-o", str(blocker / "report.html")], warehouse=demo_warehouse) == 1
    assert capsys.readouterr().err.startswith(f"wardwatch report: {blocker / 'report.html'}: cannot write: ")


def test_review_refuses_a_busy_port_and_a_bad_one(demo_warehouse, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["review", "--port", str(port)], warehouse=demo_warehouse) == 1
    assert capsys.readouterr().err.startswith(f"wardwatch review: cannot listen on 127.0.0.1:{port}: ")
    assert main(["review", "--port", "70000"], warehouse=demo_warehouse) == 2
    assert "port out of range: 70000" in capsys.readouterr().err


def test_html_report_on_a_terminal_goes_to_a_file_not_the_screen(tmp_path, capsys, monkeypatch):
    from warehouse.schema import migrate

    db = tmp_path / "data" / "w.duckdb"
    db.parent.mkdir()
    migrate(db)
    capsys.readouterr()
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["report", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    (written,) = (tmp_path / "data" / "reports").glob("report-*.html")
    assert out.startswith(f"report written to {written.resolve()}") and "<html" not in out
    assert "まだクロールの記録がありません" in written.read_text(encoding="utf-8")  # the health banner, even when empty
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)  # piped: the HTML itself, for scripts
    assert main(["report", "--db", str(db)]) == 0
    assert capsys.readouterr().out.lstrip().lower().startswith("<!doctype html")
