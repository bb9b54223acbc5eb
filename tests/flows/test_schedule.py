"""`wardwatch schedule`: deployments from the registry's crons and `--list` (no Prefect server).
(Serving the deployments with a local Prefect server: tests/e2e/test_prefect_local.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim

from tests.support.helpers import main
from tests.support.registry import registry_text


def two_sources(base: str) -> str:
    return registry_text(base, sid="nerima-a") + registry_text(base, sid="kita-b", schedule="15 7 * * 1")


@pytest.mark.slow  # imports Prefect: 1.5-2 s on its own (free once the harness has imported it); the fast loop runs no Prefect
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


def test_schedule_list(tmp_path, capsys):
    reg = tmp_path / "s.toml"
    reg.write_text(two_sources("http://127.0.0.1:9"), encoding="utf-8")
    before = datetime.now(ZoneInfo("UTC"))
    assert main(["schedule", "--sources", str(reg), "--list", "--format", "json", "--timezone", "UTC"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["source_id"], r["schedule"], r["timezone"]) for r in rows] == [
        ("nerima-a", "0 6 * * *", "UTC"), ("kita-b", "15 7 * * 1", "UTC")]
    for r in rows:
        assert datetime.fromisoformat(r["next_run"]) == next(CronSim(r["schedule"], before))

    assert main(["schedule", "--sources", str(reg), "--list", "--source", "kita-b"]) == 0
    table = capsys.readouterr().out
    assert "kita-b" in table and "nerima-a" not in table
    assert "next run (Asia/Tokyo)" in table.splitlines()[0]

    assert main(["schedule", "--sources", str(reg), "--list", "--timezone", "Mars/Olympus"]) == 2
    err = capsys.readouterr().err
    assert "unknown time zone 'Mars/Olympus'" in err and "Traceback" not in err


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_schedule_list_never_imports_prefect(tmp_path):
    """A fresh interpreter: `--list` is fast because prefect is never imported (this process may have it already)."""
    reg = tmp_path / "s.toml"
    reg.write_text(two_sources("http://127.0.0.1:9"), encoding="utf-8")
    probe = subprocess.run([sys.executable, "-c", "import sys; from wardwatch.cli import main; "
                            f"main(['schedule', '--sources', {str(reg)!r}, '--list']); "
                            "sys.exit(1 if 'prefect' in sys.modules else 0)"], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr


@pytest.mark.slow  # starts a real Prefect server with its UI (~20-60 s on 2 cores)
def test_the_schedule_server_ui_reaches_its_api_on_any_port(tmp_path, monkeypatch):
    """`wardwatch schedule --port N`: the UI's /ui-settings names this server's API, not port 4200."""
    import urllib.request

    from tests.support.helpers import free_port
    from wardwatch.cli.prefect_server import LocalServer

    for name in ("PREFECT_API_URL", "PREFECT_UI_API_URL", "PREFECT_UI_URL", "PREFECT_SERVER_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    assert port != 4200
    server = LocalServer(tmp_path / "prefect", port=port, advertise=False).start()
    try:
        assert server.port == port
        with urllib.request.urlopen(f"{server.ui_url}/ui-settings", timeout=30) as response:
            settings = json.loads(response.read())
    finally:
        server.stop()
    assert settings["api_url"] == f"http://127.0.0.1:{port}/api"
    assert server.proc.poll() is not None  # stopped
