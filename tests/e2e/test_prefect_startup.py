"""`wardwatch run` in Prefect mode starts its own temporary, API-only Prefect server (not Prefect's
ephemeral one, whose 20 s start-up limit a fresh PREFECT_HOME on a 2-core machine overruns): a slow
start within the budget succeeds, one past it is a one-line error, and the server never outlives
wardwatch — not even a SIGKILL of it. SIGTERM of a Prefect-mode run: exit 143, run interrupted.

The slow start is made by the test: a ``sitecustomize`` on PYTHONPATH that sleeps in the server's
process only (``prefect server start``), before Prefect is even imported.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.helpers import ROOT, child_env, q
from tests.support.registry import registry_text
from tests.support.waiting import has_open, wait_until
from warehouse.locks import hold, lock_path

pytestmark = pytest.mark.slow  # Prefect servers in child processes (10-40 s each)

SLOW_START = 25  # seconds: more than Prefect's default ephemeral start-up timeout (20 s)

SITECUSTOMIZE = """
import os, sys, time
if sys.orig_argv[1:5] == ["-m", "prefect", "server", "start"]:
    time.sleep(float(os.environ.get("TEST_SLOW_PREFECT_START", "0")))
"""


def slow_env(tmp_path: Path, seconds: float, **extra: str) -> dict[str, str]:
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    path = os.pathsep.join([str(shim), str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return child_env({"PYTHONPATH": path, "TEST_SLOW_PREFECT_START": str(seconds), **extra}, without="PREFECT_")


def run_cmd(reg: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "wardwatch", "run", "--sources", str(reg), "--db", str(db), "--format", "json"]


def server_pids(home: Path) -> list[int]:
    """Live `prefect server start` processes whose PREFECT_HOME is ``home``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"server" in cmd and b"start" in cmd and f"PREFECT_HOME={home}".encode() in env:
            out.append(int(entry.name))
    return out


def port_of(pid: int) -> int:
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return int(cmd[cmd.index(b"--port") + 1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False




@pytest.fixture
def reg(site, tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(registry_text(site.base), encoding="utf-8")
    return path


def test_slow_server_start_within_the_budget_succeeds_and_leaves_no_server(reg, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    home = tmp_path / "data" / "prefect"
    proc = subprocess.run(run_cmd(reg, db), cwd=ROOT, capture_output=True, text=True, timeout=400,
                          env=slow_env(tmp_path, SLOW_START))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["prefect"]["flow_run_id"] and result["prefect"]["url"] is None
    assert result["crawl"]["status"] == "ok"
    assert (home / "prefect.db").is_file()
    assert "Timed out while attempting to connect" not in proc.stderr
    assert server_pids(home) == []  # stopped before wardwatch exited


def test_a_server_that_does_not_start_within_the_budget_is_one_line_and_stopped(reg, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    home = tmp_path / "data" / "prefect"
    proc = subprocess.run(run_cmd(reg, db), cwd=ROOT, capture_output=True, text=True, timeout=200,
                          env=slow_env(tmp_path, SLOW_START, WARDWATCH_PREFECT_START_TIMEOUT="3"))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("wardwatch run: the temporary Prefect server did not start: prefect server did not answer on "
                           "http://127.0.0.1:"), last
    assert "within 3s" in last and str(home / "server.log") in last and "WARDWATCH_PREFECT_START_TIMEOUT" in last, last
    assert proc.stdout == ""
    assert server_pids(home) == []
    assert not db.exists() or q(db, "SELECT count(*) FROM runs")[0][0] == 0  # nothing crawled


def test_a_bad_start_budget_is_a_one_line_error(reg, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    proc = subprocess.run(run_cmd(reg, db), cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=child_env({"WARDWATCH_PREFECT_START_TIMEOUT": "soon"}, without="PREFECT_"))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "wardwatch run: the temporary Prefect server did not start: $WARDWATCH_PREFECT_START_TIMEOUT='soon': "
        "not a number of seconds between 0 and 86400")


@pytest.mark.parametrize("when", ["starting", "serving"])
def test_no_server_survives_a_sigkill_of_wardwatch(reg, tmp_path, when):
    db = tmp_path / "data" / "w.duckdb"
    home = tmp_path / "data" / "prefect"
    env = slow_env(tmp_path, SLOW_START if when == "starting" else 0)
    proc = subprocess.Popen(run_cmd(reg, db), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        (pid,) = wait_until(lambda: server_pids(home), 120, "the server process", proc=proc)
        if when == "serving":
            wait_until(lambda: healthy(port_of(pid)), 120, "the server's health check", proc=proc)
        proc.kill()  # SIGKILL: no cleanup in wardwatch at all
        proc.wait(30)
        wait_until(lambda: not server_pids(home), 60, "the orphaned server to stop")
    finally:
        if proc.poll() is None:
            proc.kill()
        for left in server_pids(home):  # never leave one behind, even when the test fails
            os.kill(left, signal.SIGKILL)


def test_sigterm_of_a_prefect_run_after_the_crawl_exits_143_and_stops_the_server(reg, tmp_path):
    db = tmp_path / "data" / "w.duckdb"
    home = tmp_path / "data" / "prefect"
    (tmp_path / "data").mkdir()
    with hold(db, "diff", timeout=0):  # the diff stage waits for this lock: a slow later stage
        proc = subprocess.Popen(run_cmd(reg, db), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=child_env(without="PREFECT_"))

        def crawled() -> bool:
            try:
                return [r[0] for r in q(db, "SELECT status FROM runs")] == ["ok"]
            except Exception:
                return False

        try:
            wait_until(crawled, 240, "the end of the crawl stage", proc=proc)
            wait_until(lambda: has_open(proc.pid, lock_path(db, "diff")), 240, "the diff stage to wait for its lock",
                       proc=proc, interval=0.2)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 143, err[-3000:]
    assert err.strip().splitlines()[-1] == "wardwatch run: interrupted by SIGTERM", err[-3000:]
    ((status, message),) = q(db, "SELECT status, message FROM runs")
    assert status == "interrupted" and "by SIGTERM during " in message, message
    assert server_pids(home) == []
