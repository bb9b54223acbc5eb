"""`wardwatch worker` and `wardwatch run --work-pool`: what they refuse before anything starts, in one line
(exit 2 for bad usage, 1 for a Prefect API that does not answer). No Prefect server, no PostgreSQL: the runs
themselves are in tests/flows/test_workpool.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.helpers import free_port, main
from tests.support.registry import registry_text

LAKE = "ducklake:postgres:dbname=ww host=127.0.0.1 port=5432 user=postgres"


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A registry of one loopback source; the lake's per-machine folder and Prefect's settings kept in tmp_path."""
    monkeypatch.setenv("WARDWATCH_LAKE_HOME", str(tmp_path / "lake-home"))
    for name in ("PREFECT_API_URL", "WARDWATCH_WAREHOUSE", "WARDWATCH_DB", "WARDWATCH_DATA_PATH"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "sources.toml"
    path.write_text(registry_text(f"http://127.0.0.1:{free_port()}"), encoding="utf-8")
    return path


def last_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, never a traceback
    return err[0]


def test_run_on_a_work_pool_refuses_an_embedded_warehouse(sources: Path, tmp_path: Path, capsys):
    code = main(["run", "--work-pool", "wards", "--sources", str(sources), "--db", str(tmp_path / "ww.duckdb")])
    assert code == 2
    assert last_line(capsys) == ("wardwatch run: --work-pool needs a shared DuckLake warehouse (--warehouse "
                                 "'ducklake:postgres:…' or $WARDWATCH_WAREHOUSE): workers on other machines cannot "
                                 "write an embedded DuckDB file")
    assert not (tmp_path / "ww.duckdb").exists()  # refused before anything was created


def test_run_on_a_work_pool_refuses_no_prefect_and_a_password_in_the_url(sources: Path, tmp_path: Path, capsys):
    assert main(["run", "--work-pool", "wards", "--no-prefect", "--sources", str(sources), "--warehouse", LAKE]) == 2
    assert last_line(capsys) == "wardwatch run: --work-pool runs on Prefect workers: leave out --no-prefect"
    assert main(["run", "--work-pool", "wards", "--sources", str(sources),
                 "--warehouse", LAKE + " password=himitsu"]) == 2
    line = last_line(capsys)
    assert "keep the password out of the URL" in line and "~/.pgpass" in line and "himitsu" not in line
    uri = "ducklake:postgres:postgresql://wardwatch:himitsu@127.0.0.1:5432/ww"  # libpq's URI form
    assert main(["run", "--work-pool", "wards", "--sources", str(sources), "--warehouse", uri]) == 2
    assert "keep the password out of the URL" in last_line(capsys)


def test_run_on_a_work_pool_needs_a_prefect_api_that_answers(sources: Path, monkeypatch, capsys):
    assert main(["run", "--work-pool", "wards", "--sources", str(sources), "--warehouse", LAKE]) == 2
    assert last_line(capsys).startswith("wardwatch run: no Prefect API: set PREFECT_API_URL (a work pool needs")
    port = free_port()
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    assert main(["run", "--work-pool", "wards", "--sources", str(sources), "--warehouse", LAKE]) == 1
    line = last_line(capsys)
    assert line.startswith(f"wardwatch run: the Prefect API at http://127.0.0.1:{port}/api is not reachable (")
    assert "Connection refused" in line
    assert main(["run", "--work-pool", "wards", "--sources", str(sources), "--warehouse", LAKE, "--timeout", "0"]) == 2
    assert last_line(capsys) == "wardwatch run: --timeout 0: give a number of seconds between 0 and a week"


def test_worker_needs_a_pool_and_an_api(sources: Path, monkeypatch, capsys):
    assert main(["worker", "--pool", "wards"]) == 2
    assert last_line(capsys).startswith("wardwatch worker: no Prefect API: give --api URL or set PREFECT_API_URL")
    assert main(["worker", "--pool", "wards", "--api", "ftp://127.0.0.1/api"]) == 2
    assert last_line(capsys) == ("wardwatch worker: --api 'ftp://127.0.0.1/api': not an http(s) URL "
                                 "(e.g. http://127.0.0.1:4200/api)")
    assert main(["worker", "--pool", "wards", "--limit", "0", "--api", "http://127.0.0.1:1/api"]) == 2
    assert last_line(capsys) == "wardwatch worker: --limit 0: give 1 or more flow runs at once"
    port = free_port()
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api/")  # from the environment, trailing / too
    assert main(["worker", "--pool", "wards"]) == 1
    line = last_line(capsys)
    assert line.startswith(f"wardwatch worker: the Prefect API at http://127.0.0.1:{port}/api is not reachable (")
    assert line.endswith("fix --api / PREFECT_API_URL")


def test_worker_wraps_prefects_process_worker():
    from wardwatch.cli.worker import worker_command

    cmd = worker_command("区のプール", 3, "nerima-1")
    assert cmd[1:] == ["-m", "prefect", "worker", "start", "--pool", "区のプール", "--type", "process",
                       "--limit", "3", "--name", "nerima-1"]
    assert worker_command("wards", None, None)[-2:] == ["--type", "process"]
