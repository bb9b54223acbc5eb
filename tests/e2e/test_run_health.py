"""Runs you can trust at a glance (issue 14): the CLI summary opens with the report's run-health line and
explains error kinds in Japanese; ``runs.error_kinds`` is filled; a failed source keeps its numbers and
run id; only captures of dead runs count as "resumed"; a progress line per source."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.helpers import free_port, q, wardwatch
from tests.support.registry import registry_text
from warehouse import runs, schema, staging
from warehouse.db import staging_dir
from warehouse.load import load_pending
from warehouse.locks import hold


def capture(run_id: str, n: int, *, kind: str | None = None, status: int | None = 200) -> staging.Capture:
    url = f"https://www.city.nerima.tokyo.jp/kurashi/jinken/hitorioya/p{n}.html"
    if kind:
        return staging.Capture(run_id=run_id, source_id="nerima", url=url, requested_url=url, status=status,
                               error_kind=kind, error=f"{kind} on p{n}")
    return staging.Capture(run_id=run_id, source_id="nerima", url=url, requested_url=url, status=200,
                           content_type="text/html", media_type="text/html",
                           body=f"<html><body>児童扶養手当 {n}</body></html>".encode())


def test_finish_run_fills_error_kinds_from_the_runs_fetches(db):
    schema.migrate(db)
    runs.start_run(db, "r1", ["nerima"])
    runs.start_run(db, "r2", ["nerima"])
    folder = staging_dir(db)
    for i, kind in enumerate(["dns", "dns", "http_404", None, None]):
        staging.write(folder, capture("r1", i, kind=kind, status=None if kind == "dns" else 404))
    staging.write(folder, capture("r2", 9, kind="timeout", status=None))  # another run's error: not r1's
    load_pending(db, folder)
    runs.finish_run(db, "r1", None, "partial")  # counts from the fetch rows, whoever loaded them
    assert runs.error_kinds(db, "r1") == {"dns": 2, "http_404": 1}
    (raw, errors, fetched), = q(db, "SELECT error_kinds, errors, fetched FROM runs WHERE run_id = 'r1'")
    assert json.loads(raw) == {"dns": 2, "http_404": 1} and (errors, fetched) == (3, 5)
    runs.finish_run(db, "r2", None, "failed")
    assert runs.error_kinds(db, "r2") == {"timeout": 1}
    assert runs.error_kinds(db, "nope") == {}


def test_only_captures_of_dead_runs_count_as_resumed(db):
    """Parallel sources share the staging folder: another live crawl's in-flight captures are not "left by
    an interrupted crawl" (a fresh warehouse printed "(loaded 11 capture(s) …)")."""
    from wardwatch.stages.crawl import prepare

    schema.migrate(db)
    folder = staging_dir(db)
    with hold(db, runs.run_lock_name("live"), timeout=0):  # a parallel source's crawl, still going
        for i in range(11):
            staging.write(folder, capture("live", i))
        assert prepare(db) == 0
        for i in range(3):  # a crawl that was killed: its lock is free
            staging.write(folder, capture("dead", 20 + i))
        staging.write(folder, capture("live", 30))
        assert prepare(db) == 3
    assert not staging.pending(folder)  # everything was loaded all the same, once
    assert q(db, "SELECT run_id, count(*) FROM fetches GROUP BY ALL ORDER BY 1") == [("dead", 3), ("live", 12)]


def test_a_dead_runs_capture_already_loaded_is_not_resumed_again(db):
    """A kill between a batch's commit and the removal of its files: loaded already, not counted."""
    from wardwatch.stages.crawl import prepare

    schema.migrate(db)
    folder = staging_dir(db)
    loaded = [capture("dead", i) for i in range(4)]
    for c in loaded:
        staging.write(folder, c)
    load_pending(db, folder)
    for c in loaded[:2]:  # their files came back: as if their removal never happened
        staging.write(folder, c)
    fresh = [staging.write(folder, capture("dead", 10 + i)).stem for i in range(2)]
    assert sorted(runs.left_by_dead_runs(db, folder)) == sorted(fresh)
    assert prepare(db) == 2
    assert q(db, "SELECT count(*) FROM fetches") == [(6,)]


def summary_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.slow  # real crawls in child processes
def test_run_summary_opens_with_the_health_line_and_keeps_a_failed_sources_numbers(site, tmp_path, db):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: connection refused
    reg = tmp_path / "two.toml"
    reg.write_text(registry_text(site.base) + registry_text(down, sid="down"), encoding="utf-8")
    out = wardwatch("run", "--no-prefect", "--sources", str(reg), "--db", str(db),
                    env={"WARDWATCH_RETRY_TIMES": "0"}, timeout=300)
    assert out.returncode == 1, out.stderr[-2000:]
    lines = summary_lines(out.stdout)
    assert lines[0].startswith("starting 2 source(s): fixture-nerima, down …")
    progress = [line for line in lines if re.match(r"\[[12]/2\] (down|fixture-nerima): ", line)]
    assert sorted(line.split()[1] for line in progress) == ["down:", "fixture-nerima:"]
    assert lines[1:3] == progress  # right after the starting line, before the summary
    down_line = next(p for p in progress if " down: " in p)
    assert "failed — " in down_line and "connection_refused" in down_line
    health = lines[len(progress) + 1]
    assert health == "🛑 2件中1件のソースを取得できませんでした — これらのソースの変更は確認できていません(取得できなかったソース: down)"
    run_line = lines[len(progress) + 2]
    run_ids = [r for (r,) in q(db, "SELECT run_id FROM runs ORDER BY started_at, run_id")]
    # one crawl process for both sources: one run row, named once
    assert len(run_ids) == 1 and run_line.startswith(f"run {run_ids[0]}: ")
    assert "more)" not in run_line and run_line.endswith(": partial — 1 of 2 sources failed")
    row = next(line for line in lines if line.startswith("down "))
    fetched, errors = int(row.split()[1]), int(row.split()[5])
    assert fetched >= 1 and errors == fetched  # not "0 fetched / 0 errors": the failed crawl's own numbers
    assert "connection_refused" in row
    i = lines.index("errors by kind (エラーの種類):")
    kinds = dict((line.split()[0], line) for line in lines[i + 1:] if line.startswith("  "))
    assert "接続を拒否されました(サーバー停止中)" in kinds["connection_refused"]
    assert "ページがありません(404)" in kinds["http_404"]
    assert "Traceback" not in out.stderr
    ((source_ids, recorded),) = q(db, "SELECT source_ids, error_kinds FROM runs")  # the one batch crawl
    assert sorted(source_ids) == ["down", "fixture-nerima"]
    kinds_recorded = json.loads(recorded)
    assert kinds_recorded["connection_refused"] == fetched and kinds_recorded.get("http_404", 0) >= 1


@pytest.mark.slow  # a real crawl in a child process
def test_crawl_json_keeps_stdout_clean_and_reports_progress_on_stderr(site, registry, tmp_path):
    out = wardwatch("crawl", "--sources", str(registry), "--db", str(tmp_path / "w.duckdb"), "--format", "json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # nothing but the JSON on stdout
    assert result["resumed"] == 0
    err = out.stderr.splitlines()
    assert err[0] == "starting 1 source(s): fixture-nerima … (a line per source as it finishes)"
    (done,) = [line for line in err if line.startswith("[1/1] fixture-nerima: ")]
    assert f"{result['sources'][0]['fetched']} fetched" in done and "http_404 1" in done
