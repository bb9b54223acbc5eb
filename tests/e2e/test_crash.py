"""Crash safety and concurrency with real processes: kill -9, a full disk, a read-only
warehouse, two runs at once, an analyst reading during a crawl (each checked with `wardwatch doctor`).

Every crawl runs as a child `wardwatch` process against the loopback fixture server.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.support.faultsrv import FAST, page
from tests.support.helpers import ROOT, q, wardwatch
from tests.support.registry import registry_text
from wardwatch.demo.server import SiteConfig, SiteServer
from warehouse.db import WarehouseError, connect, staging_dir

PAGES = 40

pytestmark = pytest.mark.slow  # real processes, killed and restarted


def doctor(db: Path, fmt: str = "json") -> subprocess.CompletedProcess:
    """`wardwatch doctor` in a fresh process, as an operator would run it after a crash."""
    return wardwatch("doctor", "--db", str(db), "--format", fmt, timeout=120)


def crawl(reg: Path, db: Path, fmt: str = "json", **kw) -> subprocess.CompletedProcess:
    return wardwatch("crawl", "--sources", str(reg), "--db", str(db), "--format", fmt, env=FAST, timeout=180, **kw)


def build_site(root: Path, revision: int = 0, changed: range = range(0)) -> dict[str, str]:
    """PAGES linked pages; pages in ``changed`` get revision-specific text. Returns path -> sha256."""
    (root / "s").mkdir(parents=True, exist_ok=True)
    paths = [f"/s/p{i:03d}.html" for i in range(PAGES)]
    (root / "s" / "index.html").write_bytes(
        ("<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in paths) + "</body></html>").encode())
    for i, p in enumerate(paths):
        text = f"ページ{i} 改訂{revision}" if i in changed else f"ページ{i}"
        data = page(text, text + "。" + "本文。" * (i % 7 * 40))
        if not (root / p[1:]).exists() or (root / p[1:]).read_bytes() != data:
            (root / p[1:]).write_bytes(data)
    return {p: hashlib.sha256((root / p[1:]).read_bytes()).hexdigest() for p in ["/s/index.html", *paths]}


@pytest.fixture
def slow_site(tmp_path: Path):
    root = tmp_path / "site"
    build_site(root)
    with SiteServer(root, SiteConfig(robots="User-agent: *\nAllow: /\n")) as site:
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(site.base, sid="faults", start="/s/index.html", follow=("^/s/",), delay_seconds=0.04),
                       encoding="utf-8")
        site.registry = reg
        yield site


KILL_ENV = {"WARDWATCH_LOAD_BATCH": "4", "WARDWATCH_LOAD_INTERVAL": "0.2"}  # many short load transactions to interrupt


def crawl_cmd(reg: Path, db: Path, fmt: str = "json") -> list[str]:
    return [sys.executable, "-m", "wardwatch", "crawl", "--sources", str(reg), "--db", str(db), "--format", fmt]


# ---------------------------------------------------------------- kill -9


def test_kill_9_at_random_points_loses_nothing_and_duplicates_nothing(slow_site, tmp_path, record_property):
    db = tmp_path / "data" / "w.duckdb"
    seed = int(os.environ.get("WARDWATCH_KILL_SEED") or time.time())
    rng = random.Random(seed)
    kills = []
    for round_ in range(6):
        build_site(slow_site.root, revision=round_, changed=range(round_ * 7, round_ * 7 + 7))
        proc = subprocess.Popen(crawl_cmd(slow_site.registry, db), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, **FAST, **KILL_ENV})
        at = rng.uniform(0.3, 5.0)
        try:
            proc.wait(timeout=at)
            kills.append((round_, at, "finished first"))
        except subprocess.TimeoutExpired:
            proc.kill()  # SIGKILL: no cleanup, no atexit, mid-transaction or mid-write
            proc.wait()
            kills.append((round_, round(at, 2), "killed"))
        if not db.exists():
            continue  # killed before the warehouse was created
        report = doctor(db)
        assert report.returncode == 0, (f"seed {seed}, kills {kills}", report.stdout, report.stderr)
        with connect(db, read_only=True) as con:  # an analyst can open it right away
            con.execute("SELECT count(*) FROM versions").fetchone()
    staged = {p.stem for p in staging_dir(db).glob("*.json")} if staging_dir(db).is_dir() else set()
    # a kill between a batch's commit and the removal of its files leaves captures that are already loaded
    loaded_before = {r[0] for r in q(db, "SELECT fetch_id FROM fetches")} if db.exists() else set()
    final = crawl(slow_site.registry, db)
    result = json.loads(final.stdout)
    assert result["status"] == "ok", (seed, kills, final.stderr[-2000:])
    # every capture a killed crawl staged was loaded, once: the new ones now, the committed ones not again
    assert staged <= {r[0] for r in q(db, "SELECT fetch_id FROM fetches")}, (seed, kills)
    assert result["resumed"] == len(staged - loaded_before), (seed, kills, len(staged), len(staged & loaded_before))
    report = doctor(db)
    assert report.returncode == 0 and json.loads(report.stdout)["healthy"], (seed, kills, report.stdout)
    assert not list(staging_dir(db).glob("*.json"))
    expected = {slow_site.url(p): sha for p, sha in build_site(slow_site.root, revision=5, changed=range(35, 42)).items()}
    current = dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL"))
    lost = {u for u, sha in expected.items() if current.get(u) != sha}
    record_property("data_lost", len(lost))
    record_property("kills", json.dumps(kills))
    assert not lost, (seed, kills, sorted(lost)[:5])
    # no duplicates: one row per fetch, one version per distinct consecutive content (doctor checked the latter)
    assert q(db, "SELECT count(*) = count(DISTINCT fetch_id) FROM fetches")[0][0]
    assert q(db, "SELECT count(*) FROM (SELECT url, valid_from FROM versions GROUP BY ALL HAVING count(*) > 1)")[0][0] == 0
    statuses = dict(q(db, "SELECT status, count(*) FROM runs GROUP BY ALL"))
    assert "running" not in statuses, statuses  # killed runs were marked interrupted by the next one


# ---------------------------------------------------------------- disk full / read-only


def test_disk_full_gives_a_clear_error_and_no_partial_version(slow_site, tmp_path, record_property):
    db = tmp_path / "data" / "w.duckdb"
    first = crawl(slow_site.registry, db)
    assert json.loads(first.stdout)["status"] == "ok"
    before = dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL"))
    # new content larger than the file-size limit: the WAL write at commit fails (EFBIG, like ENOSPC)
    rnd = random.Random(3)
    for i in range(PAGES):
        blob = rnd.randbytes(120_000).hex()
        (slow_site.root / f"s/p{i:03d}.html").write_bytes(page(f"大きな改訂{i}", blob))
    limit = db.stat().st_size + (db.with_name(db.name + ".wal").stat().st_size if db.with_name(db.name + ".wal").exists() else 0)

    def cap_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = crawl(slow_site.registry, db, "table", preexec_fn=cap_file_size)
    assert full.returncode == 1, (full.stdout, full.stderr)
    message = full.stderr.strip().splitlines()[-1]
    assert message.startswith("wardwatch crawl: ") and "internal error" not in message, message
    assert "File too large" in message or "No space" in message, message
    assert "stay staged" in message, message
    report = doctor(db)
    assert report.returncode == 0, report.stdout
    assert dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL")) == before  # nothing half-stored
    # space is back: the next run stores what the failed one fetched, nothing lost
    again = crawl(slow_site.registry, db)
    assert json.loads(again.stdout)["status"] == "ok", again.stderr[-1000:]
    current = dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL"))
    lost = [p for p in range(PAGES)
            if current.get(slow_site.url(f"/s/p{p:03d}.html"))
            != hashlib.sha256((slow_site.root / f"s/p{p:03d}.html").read_bytes()).hexdigest()]
    record_property("data_lost", len(lost))
    assert not lost
    assert doctor(db).returncode == 0


def test_read_only_warehouse_gives_a_clear_error(slow_site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    first = crawl(slow_site.registry, db)
    assert json.loads(first.stdout)["status"] == "ok"
    before = q(db, "SELECT count(*), max(valid_from) FROM versions")
    build_site(slow_site.root, revision=1, changed=range(0, 10))
    db.chmod(0o444)
    db.parent.chmod(0o555)
    # as root, permissions only bind without CAP_DAC_OVERRIDE (setpriv, util-linux, drops it)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"] if os.geteuid() == 0 else []
    assert not drop or shutil.which("setpriv"), "running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE"
    try:
        proc = subprocess.run([*drop, *crawl_cmd(slow_site.registry, db, "table")], cwd=ROOT, capture_output=True, text=True,
                              timeout=180, env={**os.environ, **FAST})
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    message = proc.stderr.strip().splitlines()[-1]
    assert message.startswith("wardwatch crawl: ") and "internal error" not in message, message
    assert "Permission denied" in message or "read-only" in message.lower(), message
    assert q(db, "SELECT count(*), max(valid_from) FROM versions") == before
    assert doctor(db).returncode == 0


# ---------------------------------------------------------------- concurrency


def test_two_runs_started_together_wait_or_exit_clearly_and_stay_consistent(slow_site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    cmd = [sys.executable, "-m", "wardwatch", "run", "--no-prefect", "--sources", str(slow_site.registry), "--db", str(db),
           "--format", "json"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **FAST}) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    # the second run waits for the first one's source lock, then runs (nothing new to store)
    assert codes == [0, 0], outs
    assert any("waiting for another run of" in err for _, err in outs), outs
    report = doctor(db)
    assert report.returncode == 0, report.stdout
    expected = {slow_site.url(p): sha for p, sha in build_site(slow_site.root).items()}
    assert dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL")) == expected


def test_two_crawls_at_once_keep_the_warehouse_consistent(slow_site, tmp_path):
    """The crawl stage alone: both processes load into one warehouse (short transactions, shared staging).

    The warehouse exists already, so this isolates the loads from the migrations."""
    from warehouse.schema import migrate

    db = tmp_path / "data" / "w.duckdb"
    migrate(db)
    procs = [subprocess.Popen(crawl_cmd(slow_site.registry, db), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, **FAST, **KILL_ENV}) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and json.loads(out)["status"] == "ok", err[-2000:]
    report = doctor(db)
    assert report.returncode == 0, report.stdout
    expected = {slow_site.url(p): sha for p, sha in build_site(slow_site.root).items()}
    assert dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL")) == expected
    assert not list(staging_dir(db).glob("*.json"))


def test_analyst_query_during_a_crawl_succeeds(slow_site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    proc = subprocess.Popen(crawl_cmd(slow_site.registry, db), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **FAST, **KILL_ENV})
    ok, failed, counts = 0, [], []
    try:
        while proc.poll() is None:
            if db.exists():
                try:
                    with connect(db, read_only=True, timeout=30) as con:
                        counts.append(con.execute("SELECT count(*) FROM fetches").fetchone()[0])
                    ok += 1
                except WarehouseError as exc:
                    failed.append(str(exc))
                except duckdb.CatalogException:
                    pass  # the very first instants: tables not created yet
            time.sleep(0.05)
    finally:
        out, err = proc.communicate(timeout=120)
    assert json.loads(out)["status"] == "ok", err[-2000:]
    assert not failed, failed[:3]
    # several queries answered while the crawl ran (each may wait for a batch load to commit: on a loaded CI
    # machine that leaves fewer rounds of polling, so no high count is asked), and what they saw only grew
    assert ok >= 3 and counts == sorted(counts) and counts[-1] > 0, (ok, counts[-5:])
