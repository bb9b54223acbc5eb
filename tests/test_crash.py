"""Crash safety and concurrency with real processes: kill -9, a full disk, a read-only
warehouse, two runs at once, an analyst reading during a crawl; and `wardwatch doctor`.

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

from tests.test_faults import FAST, page, registry
from wardwatch.demo.server import SiteConfig, SiteServer
from warehouse.db import WarehouseError, connect, staging_dir

ROOT = Path(__file__).resolve().parents[1]
PAGES = 40

pytestmark = pytest.mark.slow  # real processes, killed and restarted


def q(db: Path, sql: str, params: list | tuple = ()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def wardwatch(*args: str, env: dict[str, str] | None = None, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wardwatch", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env={**os.environ, **FAST, **(env or {})}, **kw)


def doctor(db: Path, fmt: str = "json") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wardwatch", "doctor", "--db", str(db), "--format", fmt],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


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
        text = registry(site.base, start="/s/index.html", follow="^/s/").replace("delay_seconds = 0", "delay_seconds = 0.04")
        reg.write_text(text, encoding="utf-8")
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
    staged_before = len(list(staging_dir(db).glob("*.json"))) if staging_dir(db).is_dir() else 0
    final = subprocess.run(crawl_cmd(slow_site.registry, db), cwd=ROOT, capture_output=True, text=True, timeout=180,
                           env={**os.environ, **FAST})
    result = json.loads(final.stdout)
    assert result["status"] == "ok", (seed, kills, final.stderr[-2000:])
    assert result["resumed"] == staged_before  # every capture a killed crawl staged was loaded
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
    first = subprocess.run(crawl_cmd(slow_site.registry, db), cwd=ROOT, capture_output=True, text=True, timeout=180,
                           env={**os.environ, **FAST})
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

    full = subprocess.run(crawl_cmd(slow_site.registry, db, "table"), cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={**os.environ, **FAST}, preexec_fn=cap_file_size)
    assert full.returncode == 1, (full.stdout, full.stderr)
    message = full.stderr.strip().splitlines()[-1]
    assert message.startswith("wardwatch crawl: ") and "internal error" not in message, message
    assert "File too large" in message or "No space" in message, message
    assert "stay staged" in message, message
    report = doctor(db)
    assert report.returncode == 0, report.stdout
    assert dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL")) == before  # nothing half-stored
    # space is back: the next run stores what the failed one fetched, nothing lost
    again = subprocess.run(crawl_cmd(slow_site.registry, db), cwd=ROOT, capture_output=True, text=True, timeout=180,
                           env={**os.environ, **FAST})
    assert json.loads(again.stdout)["status"] == "ok", again.stderr[-1000:]
    current = dict(q(db, "SELECT url, sha256 FROM versions WHERE valid_to IS NULL"))
    lost = [p for p in range(PAGES)
            if current.get(slow_site.url(f"/s/p{p:03d}.html"))
            != hashlib.sha256((slow_site.root / f"s/p{p:03d}.html").read_bytes()).hexdigest()]
    record_property("data_lost", len(lost))
    assert not lost
    assert doctor(db).returncode == 0


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root's DAC override")
def test_read_only_warehouse_gives_a_clear_error(slow_site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    first = subprocess.run(crawl_cmd(slow_site.registry, db), cwd=ROOT, capture_output=True, text=True, timeout=180,
                           env={**os.environ, **FAST})
    assert json.loads(first.stdout)["status"] == "ok"
    before = q(db, "SELECT count(*), max(valid_from) FROM versions")
    build_site(slow_site.root, revision=1, changed=range(0, 10))
    db.chmod(0o444)
    db.parent.chmod(0o555)
    try:
        # as root, permissions only bind without CAP_DAC_OVERRIDE
        proc = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all",
                               *crawl_cmd(slow_site.registry, db, "table")],
                              cwd=ROOT, capture_output=True, text=True, timeout=180, env={**os.environ, **FAST})
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
    assert ok >= 10 and counts == sorted(counts) and counts[-1] > 0, (ok, counts[-5:])


# ---------------------------------------------------------------- doctor


def test_doctor_finds_every_kind_of_damage(tmp_path):
    from warehouse.doctor import check
    from warehouse.schema import migrate

    db = tmp_path / "w.duckdb"
    migrate(db)
    con = duckdb.connect(str(db))
    t = "TIMESTAMPTZ '2026-01-0{}T00:00:00Z'"

    def version(vid, url, sha, day_from, day_to=None):
        con.execute(f"INSERT INTO versions VALUES (?, ?, 's', ?, 'text/html', NULL, {t.format(day_from)}, "
                    + (t.format(day_to) if day_to else "NULL") + ", ?)", [vid, url, sha, vid])
        con.execute(f"INSERT INTO fetches (fetch_id, run_id, source_id, url, requested_url, fetched_at, outcome, sha256) "
                    f"VALUES (?, 'r', 's', ?, ?, {t.format(day_from)}, 'new_version', ?)", [vid, url, url, sha])

    def blob(data: bytes, sha: str | None = None):
        con.execute("INSERT INTO blobs VALUES (?, 'text/html', ?, ?, now())",
                    [sha or hashlib.sha256(data).hexdigest(), len(data), data])
        return sha or hashlib.sha256(data).hexdigest()

    a, b = blob(b"a"), blob(b"b")
    version("v1", "http://x/ok", a, 1, 2)
    version("v2", "http://x/ok", b, 2)
    con.close()
    assert check(db).healthy

    con = duckdb.connect(str(db))
    version("v3", "http://x/noblob", "f" * 64, 1)  # version without its blob
    bad = blob(b"tampered", sha="0" * 64)  # bytes do not hash to the key
    version("v4", "http://x/two", bad, 1)
    version("v5", "http://x/two", a, 2)  # two current versions of one URL, and overlapping
    version("v6", "http://x/back", a, 3, 1)  # ends before it starts
    version("v7", "http://x/dup", a, 1, 2)
    version("v8", "http://x/dup", a, 2)  # same content twice in a row
    con.execute("INSERT INTO facts (sha256, extractor_version, seq, kind, text, start_offset, end_offset) "
                "VALUES ('9999', 'facts-1', 0, 'amount', 'x', 0, 1)")  # a fact of no version, no extraction
    con.execute("DELETE FROM fetches WHERE fetch_id = 'v2'")  # a version whose first fetch is gone
    con.close()
    report = check(db)
    found = {p.check for p in report.problems}
    assert found >= {"version_blob", "blob_hash", "current_versions", "interval_order", "interval_overlap",
                     "duplicate_versions", "fact_version", "fact_extraction", "version_fetch"}, found
    cli = doctor(db)
    assert cli.returncode == 1 and not json.loads(cli.stdout)["healthy"]
    assert "integrity problem" in cli.stderr
    table = doctor(db, "table")
    assert table.returncode == 1 and "PROBLEMS FOUND" in table.stdout and "version_blob" in table.stdout


def test_doctor_on_a_missing_or_foreign_file(tmp_path):
    missing = doctor(tmp_path / "nope.duckdb")
    assert missing.returncode == 1 and "no warehouse here" in missing.stderr
    foreign = tmp_path / "other.duckdb"
    duckdb.connect(str(foreign)).close()
    out = doctor(foreign)
    assert out.returncode == 1 and json.loads(out.stdout)["problems"][0]["check"] == "schema"
