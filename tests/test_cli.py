"""The command line: help everywhere, exit codes, no tracebacks."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from wardwatch.cli import build_parser


def wardwatch(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "wardwatch", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_command_has_help():
    names = subcommands()
    assert {"crawl", "run", "demo", "migrate"} <= set(names)
    for name in names:
        out = wardwatch(name, "--help")
        assert out.returncode == 0, name
        assert "usage: wardwatch " + name in out.stdout


def test_bad_usage_exits_2():
    assert wardwatch("crawl", "--format", "xml").returncode == 2
    assert wardwatch("no-such-command").returncode == 2


def test_bad_registry_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[[source]]\nid = "x"\n', encoding="utf-8")
    out = wardwatch("crawl", "--sources", str(bad), "--db", str(tmp_path / "w.duckdb"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert str(bad) in out.stderr and "'municipality'" in out.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_sources_are_reported_and_exit_1(tmp_path):
    from tests.conftest import registry_text

    reg = tmp_path / "s.toml"
    port = free_port()  # nothing listens there: connection refused
    reg.write_text(registry_text(f"http://127.0.0.1:{port}", sid="down-a") + registry_text(f"http://127.0.0.1:{port}", sid="down-b"),
                   encoding="utf-8")
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
        assert data["sources"][0]["new_versions"] == 4
    else:
        assert "fixture-nerima" in out.stdout and "errors by kind: http_404" in out.stdout


def test_db_defaults_to_env_var(site, registry, tmp_path):
    import os

    env = {**os.environ, "WARDWATCH_DB": str(tmp_path / "env.duckdb")}
    out = wardwatch("crawl", "--sources", str(registry), env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "env.duckdb").exists()
