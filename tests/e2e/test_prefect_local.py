"""Prefect through the real entry point, no test harness: `wardwatch run` in Prefect's local mode, and
`wardwatch schedule` serving the registry's deployments with a local server it starts and stops."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.support.helpers import child_env, free_port, wardwatch
from tests.support.registry import NERIMA, registry_text
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow  # a Prefect server in a child process and real crawls (~25 s each)


def test_run_in_prefect_local_mode(site, tmp_path):
    """No PREFECT_API_URL: Prefect's temporary local server, PREFECT_HOME under the data directory,
    JSON alone on stdout, the one-line reason last on stderr, no traceback."""
    reg = tmp_path / "s.toml"
    reg.write_text(registry_text(site.base) + registry_text(site.base, sid="private", start="/nerima/private/staff.html"),
                   encoding="utf-8")
    db = tmp_path / "data" / "w.duckdb"
    out = wardwatch("run", "--sources", str(reg), "--db", str(db), "--format", "json", without="PREFECT_", timeout=240)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("wardwatch run: 1 of 2 sources failed (first: private: ")
    result = json.loads(out.stdout)
    assert result["prefect"]["flow_run_id"] and result["prefect"]["url"] is None  # no UI in local mode
    assert {r["source_id"]: r["status"] for r in result["crawl"]["sources"]} == {"fixture-nerima": "ok", "private": "failed"}
    assert (tmp_path / "data" / "prefect" / "prefect.db").is_file()


def api(base: str, path: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")




def test_schedule_serves_the_sources_and_stops_its_server(site, tmp_path):
    """No PREFECT_API_URL: a local `prefect server` is started, deployments served, a run executes, SIGTERM stops all."""
    reg = tmp_path / "s.toml"
    reg.write_text(registry_text(site.base), encoding="utf-8")
    db = tmp_path / "data" / "w.duckdb"
    port = free_port()
    env = child_env({"PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_HOME": str(tmp_path / "prefect-home")},
                    without="PREFECT_")
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

            (dep,) = wait_until(deployment, 120, "the served deployment")
            assert dep["name"] == "fixture-nerima" and dep["schedules"][0]["schedule"]["cron"] == "0 6 * * *", dep
            assert dep["parameters"]["source_ids"] == ["fixture-nerima"]
            run = api(base, f"/deployments/{dep['id']}/create_flow_run", {})
            state = wait_until(lambda: (s := api(base, f"/flow_runs/{run['id']}")["state"]["type"]) in
                             ("COMPLETED", "FAILED", "CRASHED") and s, 120, "the flow run to finish")
            assert state == "COMPLETED", (tmp_path / "schedule.err").read_text()
            assert f"{NERIMA}/index.html" in site.paths()
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
