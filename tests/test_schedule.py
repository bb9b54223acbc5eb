"""`wardwatch schedule`: deployments from the registry's crons, `--list`, and serving with a local server.

Runs `python -m wardwatch schedule ...`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from tests.conftest import registry_text

pytest_plugins = ["tests.conftest_prefect"]


def two_sources(base: str) -> str:
    return registry_text(base, sid="nerima-a") + registry_text(base, sid="kita-b").replace('"0 6 * * *"', '"15 7 * * 1"')


def test_deployments_carry_the_registry_crons(prefect_home, tmp_path):
    from flows.deployments import build_deployments
    from spiders.registry import load_sources

    reg = tmp_path / "s.toml"
    reg.write_text(two_sources("http://127.0.0.1:9"), encoding="utf-8")
    sources = load_sources(reg)
    deployments = build_deployments(reg, tmp_path / "data" / "w.duckdb", sources, "Asia/Tokyo")
    assert [d.name for d in deployments] == ["nerima-a", "kita-b"]
    for d, source in zip(deployments, sources):
        (schedule,) = d.schedules
        assert schedule.schedule.cron == source.schedule and schedule.schedule.timezone == "Asia/Tokyo"
        assert schedule.active
        assert d.parameters == {"sources_file": str(reg.resolve()), "db_path": str((tmp_path / "data" / "w.duckdb").resolve()),
                                "source_ids": [source.id]}
        assert d.entrypoint == "flows.pipeline.pipeline" and f"source:{source.id}" in d.tags
    assert [d.schedules[0].schedule.cron for d in deployments] == ["0 6 * * *", "15 7 * * 1"]


def schedule_cmd(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wardwatch", "schedule", *args], capture_output=True,
                          text=True, timeout=60, env=env, **kw)


def test_schedule_list_needs_no_prefect(tmp_path):
    reg = tmp_path / "s.toml"
    reg.write_text(two_sources("http://127.0.0.1:9"), encoding="utf-8")
    before = datetime.now(ZoneInfo("UTC"))
    out = schedule_cmd("--sources", str(reg), "--list", "--format", "json", "--timezone", "UTC")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["source_id"], r["schedule"], r["timezone"]) for r in rows] == [
        ("nerima-a", "0 6 * * *", "UTC"), ("kita-b", "15 7 * * 1", "UTC")]
    for r in rows:
        assert datetime.fromisoformat(r["next_run"]) == next(CronSim(r["schedule"], before))

    table = schedule_cmd("--sources", str(reg), "--list", "--source", "kita-b")
    assert table.returncode == 0 and "kita-b" in table.stdout and "nerima-a" not in table.stdout
    assert "next run (Asia/Tokyo)" in table.stdout

    # --list never imports prefect (fast, no server)
    probe = subprocess.run([sys.executable, "-c", "import sys; from wardwatch.cli import main; "
                            f"main(['schedule', '--sources', {str(reg)!r}, '--list']); "
                            "sys.exit(1 if 'prefect' in sys.modules else 0)"], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr

    bad = schedule_cmd("--sources", str(reg), "--list", "--timezone", "Mars/Olympus")
    assert bad.returncode == 2 and "unknown time zone 'Mars/Olympus'" in bad.stderr and "Traceback" not in bad.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_schedule_serves_the_sources_and_stops_its_server(site, tmp_path):
    """No PREFECT_API_URL: a local `prefect server` is started, deployments served, a run executes, SIGTERM stops all."""
    reg = tmp_path / "s.toml"
    reg.write_text(registry_text(site.base), encoding="utf-8")
    db = tmp_path / "data" / "w.duckdb"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_RUNNER_POLL_FREQUENCY="1", PREFECT_HOME=str(tmp_path / "prefect-home"))
    base = f"http://127.0.0.1:{port}/api"
    with open(tmp_path / "schedule.err", "w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "wardwatch", "schedule", "--sources", str(reg),
                                 "--db", str(db), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            def deployment():
                if proc.poll() is not None:
                    raise AssertionError(f"schedule exited early: {(tmp_path / 'schedule.err').read_text()}")
                try:
                    return api(base, "/deployments/filter", {})
                except OSError:
                    return None

            (dep,) = wait_for(deployment, 120, "the served deployment")
            assert dep["name"] == "fixture-nerima" and dep["schedules"][0]["schedule"]["cron"] == "0 6 * * *", dep
            assert dep["parameters"]["source_ids"] == ["fixture-nerima"]
            run = api(base, f"/deployments/{dep['id']}/create_flow_run", {})
            state = wait_for(lambda: (s := api(base, f"/flow_runs/{run['id']}")["state"]["type"]) in
                             ("COMPLETED", "FAILED", "CRASHED") and s, 120, "the flow run to finish")
            assert state == "COMPLETED", (tmp_path / "schedule.err").read_text()
            assert "/nerima/kurashi/jinken/hitorioya/index.html" in site.paths()
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(60)
        err.seek(0)
        log = err.read()
    assert code == 0, log
    assert "stopping the local Prefect server" in log and log.rstrip().endswith("schedule stopped"), log
    with pytest.raises(OSError):  # the server is gone with it
        api(base, "/health")
    assert not (tmp_path / "prefect-home" / "wardwatch-server.json").exists()
