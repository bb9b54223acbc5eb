"""`wardwatch crawl` through the real entry point: unreachable sources, the summary formats, the
warehouse named by $WARDWATCH_DB."""

from __future__ import annotations

import json

import pytest

from tests.support.helpers import free_port, wardwatch
from tests.support.registry import registry_text

pytestmark = pytest.mark.slow  # every test crawls in a child process (the unreachable one retries for ~15 s)


def test_unreachable_sources_are_reported_and_exit_1(tmp_path):
    reg = tmp_path / "s.toml"
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    reg.write_text(registry_text(base, sid="down-a") + registry_text(base, sid="down-b"), encoding="utf-8")
    out = wardwatch("crawl", "--sources", str(reg), "--db", str(tmp_path / "w.duckdb"), "--format", "json")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "failed"
    assert [s["status"] for s in result["sources"]] == ["failed", "failed"]
    assert all("unreachable (connection_refused)" in s["reason"] for s in result["sources"])
    assert out.stderr.strip().splitlines()[-1].startswith("wardwatch crawl: 2 of 2 sources failed")


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_crawl_summary_formats(site, registry, tmp_path, fmt):
    out = wardwatch("crawl", "--sources", str(registry), "--db", str(tmp_path / "w.duckdb"), "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        data = json.loads(out.stdout)
        assert data["status"] == "ok" and data["sources"][0]["new_versions"] == 4
    else:
        assert "fixture-nerima" in out.stdout and "errors by kind: http_404" in out.stdout


def test_db_defaults_to_env_var(site, registry, tmp_path):
    out = wardwatch("crawl", "--sources", str(registry), env={"WARDWATCH_DB": str(tmp_path / "env.duckdb")})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "env.duckdb").exists()
