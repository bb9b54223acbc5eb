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
    assert out.stderr.splitlines()[0].startswith("starting 2 source(s): down-a, down-b …")  # json: stderr only


def test_every_source_failed_reads_as_such_not_as_all_clear(tmp_path):
    reg = tmp_path / "s.toml"
    base = f"http://127.0.0.1:{free_port()}"
    reg.write_text(registry_text(base, sid="down-a") + registry_text(base, sid="down-b"), encoding="utf-8")
    out = wardwatch("crawl", "--sources", str(reg), "--db", str(tmp_path / "w.duckdb"), env={"WARDWATCH_RETRY_TIMES": "0"})
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[0].startswith("starting 2 source(s)")
    assert {line.split()[1] for line in lines[1:3]} == {"down-a:", "down-b:"}
    assert lines[3] == "🛑 2件中2件のソースを取得できませんでした — 変更なしではありません"
    assert lines[4].startswith("run ") and lines[4].endswith(": failed — 2 of 2 sources failed")
    assert any(line.split()[0] == "connection_refused" and line.endswith("接続を拒否されました(サーバー停止中)")
               for line in lines[lines.index("errors by kind (エラーの種類):") + 1:])


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_crawl_summary_formats(site, registry, tmp_path, fmt):
    out = wardwatch("crawl", "--sources", str(registry), "--db", str(tmp_path / "w.duckdb"), "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "json":
        data = json.loads(out.stdout)
        assert data["status"] == "ok" and data["sources"][0]["new_versions"] == 9  # 4 demo pages + 5 stand-ins
    else:
        lines = out.stdout.splitlines()
        assert lines[0] == "starting 1 source(s): fixture-nerima … (a line per source as it finishes)"
        assert lines[1].startswith("[1/1] fixture-nerima: ") and "http_404 1" in lines[1]
        assert lines[2] == "⚠️ 1件のソースを取得しました(うち1件は一部のページでエラー)"  # the report's banner
        kinds = lines[lines.index("errors by kind (エラーの種類):") + 1:]
        assert any(k.split()[:2] == ["http_404", "1"] and k.endswith("ページがありません(404)") for k in kinds)
        assert any(k.split()[:2] == ["robots", "1"] and k.endswith("robots.txt で禁止されています") for k in kinds)


def test_db_defaults_to_env_var(site, registry, tmp_path):
    out = wardwatch("crawl", "--sources", str(registry), env={"WARDWATCH_DB": str(tmp_path / "env.duckdb")})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "env.duckdb").exists()
