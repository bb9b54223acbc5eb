"""`wardwatch run --concurrency N`: one crawl process for every source (one run row), each source's extract and
diff as soon as its own crawl ends, a line per source, a failing source reported while the others go on, a
source held by another run waited for, stop signals, Prefect mode — and `--per-source-process`, the old way.

Real runs against a loopback "country" (tests/support/country.py), one host per source.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from spiders.registry import to_toml
from tests.support.country import Country
from tests.support.helpers import ROOT, free_port, q, wardwatch
from tests.support.registry import local_source
from tests.support.waiting import wait_until
from warehouse.locks import hold

pytestmark = pytest.mark.slow  # real crawls in child processes

DELAY = 0.2
QUICK = {"WARDWATCH_RETRY_TIMES": "0", "WARDWATCH_DOWNLOAD_TIMEOUT": "5"}  # a dead host fails at once


def progress_lines(text: str) -> dict[str, str]:
    """``[ i/n] source: status — …`` lines by source (each source must have exactly one)."""
    lines = [line for line in text.splitlines() if line.startswith("[") and "] " in line]
    by_source: dict[str, str] = {}
    for line in lines:
        sid = line.split("] ", 1)[1].split(":", 1)[0]
        assert sid not in by_source, f"two lines for {sid}:\n{text}"
        by_source[sid] = line
    return by_source


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wardwatch", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **QUICK, **(env or {})})


def test_one_crawl_process_for_every_source_and_a_dead_one_does_not_stop_the_others(tmp_path):
    with Country(hosts=5, pages=4, pdfs=1) as country:
        entries = country.entries(delay=DELAY)
        entries.append(local_source("closed-port", f"http://127.0.0.1:{free_port()}", "/index.html", municipality="北区",
                                    code="131172"))
        reg = tmp_path / "sources.toml"
        reg.write_text(to_toml(entries), encoding="utf-8")
        db = tmp_path / "data" / "w.duckdb"
        done = wardwatch("run", "--no-prefect", "--sources", str(reg), "--db", str(db), "--concurrency", "3",
                         "--format", "json", env=QUICK, timeout=300)
        assert country.max_hosts_busy() == 3  # N hosts at once, never more
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1].startswith("wardwatch run: 1 of 6 sources failed (first: closed-port:")
    lines = progress_lines(done.stderr)
    assert set(lines) == {e["id"] for e in entries}
    assert "closed-port: failed" in lines["closed-port"] and "connection_refused" in lines["closed-port"]
    assert all(": ok — 5 fetched" in lines[country.source_id(i)] for i in range(5))
    out = json.loads(done.stdout)
    ((run_id, sources, status),) = q(db, "SELECT run_id, source_ids, status FROM runs")  # one crawl, one run row
    assert out["crawl"]["run_ids"] == [run_id] and status == "partial" and len(sources) == 6
    assert out["extract"]["extracted"] == 25 and out["diff"]["versions_diffed"] == 25
    assert q(db, "SELECT url, count(*) FROM versions GROUP BY url HAVING count(*) > 1") == []
    assert q(db, "SELECT count(DISTINCT source_id) FROM extractions JOIN versions USING (sha256)") == [(5,)]


def test_per_source_process_is_the_old_way_one_process_and_one_run_per_source(tmp_path):
    with Country(hosts=3, pages=3) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=DELAY)
        db = tmp_path / "w.duckdb"
        done = wardwatch("run", "--no-prefect", "--sources", str(reg), "--db", str(db), "--per-source-process",
                         "--concurrency", "2", env=QUICK, timeout=300)
        assert country.max_hosts_busy() <= 2
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 source(s) at a time, each crawled in its own process" in done.stdout
    assert q(db, "SELECT count(*), max(len(source_ids)) FROM runs") == [(3, 1)]
    assert len(progress_lines(done.stdout)) == 3


def test_a_shard_runs_only_its_sources(tmp_path):
    from spiders.registry import shard_index

    with Country(hosts=4, pages=2) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=0)
        db = tmp_path / "w.duckdb"
        mine = [country.source_id(i) for i in range(4) if shard_index(country.source_id(i), 2) == 1]
        done = wardwatch("run", "--no-prefect", "--sources", str(reg), "--db", str(db), "--shard", "1/2", env=QUICK,
                         timeout=300)
        contacted = set(country.spans())
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(progress_lines(done.stdout)) == set(mine) and mine
    assert contacted == {f"127.0.0.{int(sid.split('-')[1])}" for sid in mine}


def test_a_source_held_by_another_run_is_waited_for_and_crawled_alone(tmp_path):
    with Country(hosts=3, pages=3) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=DELAY)
        db = tmp_path / "w.duckdb"
        held = hold(db, "host-003", timeout=5)
        held.__enter__()
        try:
            proc = start("run", "--no-prefect", "--sources", str(reg), "--db", str(db))
            wait_until(lambda: {"127.0.0.2", "127.0.0.4"} <= set(country.spans()), 120,
                       "the free sources' crawl", proc=proc)
            assert "127.0.0.3" not in country.spans()  # held: not crawled by the batch
        finally:
            held.__exit__(None, None, None)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert "waiting for another run of host-003 to finish" in err
    assert set(progress_lines(out)) == {"host-002", "host-003", "host-004"}
    assert sorted(q(db, "SELECT len(source_ids) FROM runs")) == [(1,), (2,)]  # the batch, then host-003 alone


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_during_the_batch_crawl(tmp_path, sig):
    with Country(hosts=3, pages=12) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=0.4)
        db = tmp_path / "w.duckdb"
        proc = start("run", "--no-prefect", "--sources", str(reg), "--db", str(db), "--concurrency", "2")
        wait_until(lambda: len(country.hits()) >= 6, 120, "the first pages", proc=proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        contacted = set(country.spans())
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err[-3000:]
    assert "Traceback" not in err
    assert "127.0.0.4" not in contacted  # the third source never started
    assert q(db, "SELECT status FROM runs") == [("interrupted",)]


def test_prefect_mode_crawls_the_batch_as_one_task(tmp_path):
    with Country(hosts=3, pages=3) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=DELAY)
        db = tmp_path / "data" / "w.duckdb"
        done = wardwatch("run", "--sources", str(reg), "--db", str(db), "--concurrency", "3", "--format", "json",
                         env={**QUICK, "WARDWATCH_PREFECT_START_TIMEOUT": "240"}, without="PREFECT_API_URL",
                         timeout=600)
        assert country.max_hosts_busy() >= 2
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    ((run_id, n),) = q(db, "SELECT run_id, len(source_ids) FROM runs")
    assert out["crawl"]["run_ids"] == [run_id] and n == 3
    assert out["prefect"]["flow_run_id"]
    assert set(progress_lines(done.stderr)) == {"host-002", "host-003", "host-004"}
    assert {r["status"] for r in out["crawl"]["sources"]} == {"ok"}
    assert Path(out["prefect"]["home"]).is_dir()
