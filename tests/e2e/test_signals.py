"""SIGINT / SIGTERM with real processes: `crawl`, `run --no-prefect` and `reextract` stop within seconds
at any point — mid-crawl, or after the crawl during a slow later stage — exit 130 / 143, record the run
as `interrupted` (never `ok`), leave no crawl child behind, and the next run resumes.
Also: the crawl log on a full disk (one line, no "--- Logging error ---" tracebacks).

Every process runs against a loopback site (wardwatch.demo.server.SiteServer).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.faultsrv import FAST, page
from tests.support.helpers import ROOT, q, wardwatch
from tests.support.registry import registry_text
from tests.support.waiting import has_open, read_line, wait_until
from wardwatch.demo.server import SiteConfig, SiteServer
from warehouse.db import staging_dir
from warehouse.locks import hold, lock_path

pytestmark = pytest.mark.slow  # real crawls, signalled and restarted

PAGES = 60
STOP_WITHIN = 30  # seconds: a bound on a hang, not a timing assertion (the grace period is 15 s)
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def build_site(root: Path) -> list[str]:
    (root / "s").mkdir(parents=True, exist_ok=True)
    paths = [f"/s/p{i:03d}.html" for i in range(PAGES)]
    (root / "s" / "index.html").write_bytes(
        ("<html><body>" + "".join(f'<a href="{p}">{p}</a>' for p in paths) + "</body></html>").encode())
    for i, p in enumerate(paths):
        (root / p[1:]).write_bytes(page(f"支援{i}", f"ページ{i}。上限{i + 1}万円。"))
    return ["/s/index.html", *paths]


@pytest.fixture
def site(tmp_path: Path):
    """PAGES pages, fetched one at a time with 0.15 s between them (~10 s for the whole crawl)."""
    root = tmp_path / "site"
    paths = build_site(root)
    with SiteServer(root, SiteConfig(robots="User-agent: *\nAllow: /\n")) as s:
        reg = tmp_path / "sources.toml"
        reg.write_text(registry_text(s.base, sid="sig", start="/s/index.html", follow=("^/s/",), delay_seconds=0.15),
                       encoding="utf-8")
        s.registry, s.all_paths = reg, paths
        yield s


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wardwatch", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **FAST, **(env or {})})


def staged_or_loaded(db: Path, at_least: int) -> bool:
    """At least ``at_least`` captures written by the crawl (still staged, or loaded already)."""
    staged = len(list(staging_dir(db).glob("*.json"))) if staging_dir(db).is_dir() else 0
    loaded = 0
    if db.exists():
        try:
            loaded = q(db, "SELECT count(*) FROM fetches")[0][0]
        except Exception:  # the writer holds the file for a moment, or tables not created yet
            pass
    return staged + loaded >= at_least


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def runs_of(db: Path) -> list[tuple]:
    return q(db, "SELECT run_id, status, message FROM runs ORDER BY started_at")


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running {STOP_WITHIN}s after the signal: {err[-2000:]}") from None


def assert_complete(site, db: Path) -> None:
    urls = {u for (u,) in q(db, "SELECT url FROM versions WHERE valid_to IS NULL")}
    assert urls == {site.url(p) for p in site.all_paths}
    report = wardwatch("doctor", "--db", str(db), "--format", "json", timeout=120)
    assert report.returncode == 0 and json.loads(report.stdout)["healthy"], report.stdout


# ---------------------------------------------------------------- crawl


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_crawl_is_interrupted_not_ok_and_the_next_crawl_resumes(site, tmp_path, sig):
    db = tmp_path / "data" / "w.duckdb"
    proc = start("crawl", "--sources", str(site.registry), "--db", str(db), "--format", "json")
    wait_until(lambda: staged_or_loaded(db, 8), 60, "the first captures", proc=proc)
    proc.send_signal(sig)
    out, err = finish(proc)
    assert proc.returncode == CODES[sig], err[-2000:]
    assert "Traceback" not in err and "Logging error" not in err, err[-2000:]
    assert err.strip().splitlines()[-1] == f"wardwatch crawl: crawl {json.loads(out)['run_id']} interrupted by " \
                                          f"{sig.name}; what was fetched is stored, the next run crawls again"
    result = json.loads(out)
    assert result["status"] == "interrupted" and result["interrupted_by"] == sig.name
    assert result["sources"][0]["status"] == "interrupted"
    fetched = result["sources"][0]["fetched"]
    assert 8 <= fetched < len(site.all_paths), fetched
    ((run_id, status, message),) = runs_of(db)
    assert (run_id, status) == (result["run_id"], "interrupted") and sig.name in message
    assert q(db, "SELECT count(*) FROM fetches WHERE run_id = ?", [run_id])[0][0] == fetched  # all stored
    again = wardwatch("crawl", "--sources", str(site.registry), "--db", str(db), "--format", "json", env=FAST,
                      timeout=180)
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "ok", again.stderr[-2000:]
    assert_complete(site, db)


def test_table_summary_of_an_interrupted_crawl_says_interrupted(site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    proc = start("crawl", "--sources", str(site.registry), "--db", str(db))
    wait_until(lambda: staged_or_loaded(db, 5), 60, "the first captures", proc=proc)
    proc.send_signal(signal.SIGINT)
    out, err = finish(proc)
    assert proc.returncode == 130, err[-2000:]
    head = next(line for line in out.splitlines() if line.startswith("run "))  # after the progress and health lines
    assert head.endswith(": interrupted"), out
    assert "中断" in out  # the health line says the crawl was cut short, never "nothing changed"
    assert " ok" not in head


# ---------------------------------------------------------------- run --no-prefect


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_crawl_of_run_stops_the_crawl_child_too(site, tmp_path, sig):
    db = tmp_path / "data" / "w.duckdb"
    proc = start("run", "--no-prefect", "--sources", str(site.registry), "--db", str(db), "--format", "json")
    wait_until(lambda: staged_or_loaded(db, 8), 60, "the first captures", proc=proc)
    kids = children_of(proc.pid)
    assert kids, "the crawl runs in a child process"
    proc.send_signal(sig)  # the parent only (not the process group): it forwards the signal
    out, err = finish(proc)
    assert proc.returncode == CODES[sig], err[-2000:]
    assert err.strip().splitlines()[-1] == f"wardwatch run: interrupted by {sig.name}", err[-2000:]
    assert "Traceback" not in err
    wait_until(lambda: not any(alive(k) for k in kids), 10, "the crawl children to end (none may outlive the run)")
    ((_, status, message),) = runs_of(db)
    assert status == "interrupted", message
    again = wardwatch("run", "--no-prefect", "--sources", str(site.registry), "--db", str(db), "--format", "json",
                      env=FAST, timeout=240)
    assert again.returncode == 0, again.stderr[-2000:]
    assert [s for _, s, _ in runs_of(db)] == ["interrupted", "ok"]
    assert_complete(site, db)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_after_the_crawl_during_a_slow_later_stage(site, tmp_path, sig):
    """The diff stage waits for the warehouse-wide diff lock (held here, as a long evaluation of another
    run would): once the crawl stage is done, the signal still stops `run` within seconds."""
    db = tmp_path / "data" / "w.duckdb"
    (tmp_path / "data").mkdir()
    with hold(db, "diff", timeout=0):
        proc = start("run", "--no-prefect", "--sources", str(site.registry), "--db", str(db), "--format", "json")

        def crawled() -> bool:
            try:
                return [s for _, s, _ in runs_of(db)] == ["ok"]
            except Exception:
                return False

        wait_until(crawled, 120, "the end of the crawl stage", proc=proc)
        wait_until(lambda: has_open(proc.pid, lock_path(db, "diff")), 120, "the diff stage to wait for its lock",
                   proc=proc, interval=0.2)
        assert proc.poll() is None
        proc.send_signal(sig)
        out, err = finish(proc)
    assert proc.returncode == CODES[sig], err[-2000:]
    assert err.strip().splitlines()[-1] == f"wardwatch run: interrupted by {sig.name}", err[-2000:]
    assert "Traceback" not in err
    ((_, status, message),) = runs_of(db)
    assert status == "interrupted" and f"by {sig.name} during " in message, message
    assert q(db, "SELECT count(*) FROM fetches")[0][0] == len(site.all_paths)  # the crawl's work is kept
    again = wardwatch("run", "--no-prefect", "--sources", str(site.registry), "--db", str(db), "--format", "json",
                      env=FAST, timeout=240)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["crawl"]["status"] == "ok"
    assert_complete(site, db)
    # the interrupted run's versions were extracted by the next run: no version left without facts
    assert q(db, "SELECT count(*) FROM versions v WHERE NOT EXISTS "
                 "(SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256)")[0][0] == 0


# ---------------------------------------------------------------- reextract


def test_sigterm_during_reextract_exits_143_and_the_next_reextract_completes(site, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    first = wardwatch("crawl", "--sources", str(site.registry), "--db", str(db), "--format", "json", env=FAST,
                      timeout=180)
    assert first.returncode == 0, first.stderr[-2000:]
    # more work than a moment's: the same stored pages re-extracted many times over (--force, in a loop)
    proc = subprocess.Popen([sys.executable, "-c", REEXTRACT_LOOP, str(db)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert read_line(proc, 120, "the first reextract") == "start\n"
    assert read_line(proc, 120, "the first reextract's summary").startswith("extract")
    while read_line(proc, 120, "the second reextract") != "start\n":  # (the summary may list failures)
        pass  # the signal lands inside the second one
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = finish(proc)
    assert proc.returncode == 143, err[-2000:]
    assert err.strip().splitlines()[-1].startswith("wardwatch reextract: interrupted by SIGTERM"), err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    again = wardwatch("reextract", "--db", str(db), timeout=240)
    assert again.returncode == 0, again.stderr[-2000:]
    assert q(db, "SELECT count(*) FROM versions v WHERE NOT EXISTS "
                 "(SELECT 1 FROM extractions e WHERE e.sha256 = v.sha256)")[0][0] == 0
    assert wardwatch("doctor", "--db", str(db), timeout=120).returncode == 0


# `wardwatch reextract --force` in this process, again and again, as the real entry point runs it
REEXTRACT_LOOP = """
import sys
import wardwatch.stages.extract as stage
from wardwatch.cli import main

work = stage.extract_pending


def extracting(*args, **kw):  # says so from inside the command (its signal handlers are installed by then)
    print("start", flush=True)
    return work(*args, **kw)


stage.extract_pending = extracting
for _ in range(200):
    code = main(["reextract", "--db", sys.argv[1], "--force"])
    sys.stdout.flush()
    if code:
        sys.exit(code)
"""


# ---------------------------------------------------------------- full disk: the crawl log


def test_crawl_log_on_a_full_disk_prints_one_line_not_tracebacks(site, tmp_path):
    """Every write to the crawl log fails (file-size limit reached, like a full disk) while the
    warehouse still has room: the crawl completes, stderr has one line about the log."""
    db = tmp_path / "data" / "w.duckdb"
    first = wardwatch("crawl", "--sources", str(site.registry), "--db", str(db), "--format", "json", env=FAST,
                      timeout=180)
    assert first.returncode == 0, first.stderr[-2000:]
    limit = db.stat().st_size + (4 << 20)
    run_id = "20261201T000000Z-abcdef"
    log = tmp_path / "data" / "logs" / f"crawl-{run_id}.log"
    with open(log, "wb") as f:  # the log file already fills the space left
        f.truncate(limit)

    def cap_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([sys.executable, "-m", "wardwatch", "crawl", "--sources", str(site.registry), "--db", str(db),
                           "--run-id", run_id], cwd=ROOT, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **FAST}, preexec_fn=cap_file_size)
    assert "Logging error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    warnings = [ln for ln in proc.stderr.splitlines() if "cannot write the crawl log" in ln]
    assert len(warnings) == 1, proc.stderr[-3000:]
    assert str(log) in warnings[0] and "File too large" in warnings[0], warnings
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"run {run_id}: ok" in proc.stdout.splitlines()
    assert log.stat().st_size == limit  # nothing appended
