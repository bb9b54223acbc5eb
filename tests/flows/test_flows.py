"""The Prefect flows: the pipeline over the loopback site, failures, retries, artifacts, webhook, locks.

One prefect_test_harness for the session (tests/flows/conftest.py): every test that runs a flow on it
is slow. Prefect and the flows are imported inside the tests, after the harness has set PREFECT_HOME.
(`wardwatch run` in Prefect's local mode, a child process: tests/e2e/test_prefect_local.py.)
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import pytest

from tests.support.helpers import free_port, main, q
from tests.support.receiver import Receiver
from tests.support.registry import registry_text


def count_versions(db) -> int:
    return q(db, "SELECT count(*) FROM versions")[0][0]


@pytest.mark.slow  # the Prefect test server and two real crawls
def test_pipeline_runs_twice_in_one_process(run_pipeline, site, registry, db):
    """Scrapy's reactor cannot restart: each crawl runs in a child, so a second run in this process works."""
    ok, first = run_pipeline(registry, db, ["fixture-nerima"])
    assert ok, first
    row = first["sources"]["fixture-nerima"]["crawl"]["sources"][0]
    assert row["new_versions"] >= 4 and row["not_modified"] == 0
    versions = count_versions(db)

    ok, second = run_pipeline(registry, db, ["fixture-nerima"])
    assert ok, second
    row = second["sources"]["fixture-nerima"]["crawl"]["sources"][0]
    assert row["not_modified"] >= 4 and row["new_versions"] == 0
    assert count_versions(db) == versions
    assert second["run_ids"] != first["run_ids"]
    assert second["flow_run"]["id"] != first["flow_run"]["id"]


@pytest.mark.slow  # the Prefect test server and real crawls
def test_a_failing_source_does_not_stop_the_others(prefect_harness, fast_retries, site, tmp_path, db, capsys,
                                                   monkeypatch):
    """`wardwatch run` through Prefect: the down source fails its subflow, the other completes; exit reason."""
    from flows.tasks import stage_task

    monkeypatch.delenv("WARDWATCH_WEBHOOK_URL", raising=False)
    monkeypatch.setattr(stage_task, "retries", 0)  # retries are tested with fakes; a refused crawl takes ~15 s
    reg = tmp_path / "two.toml"
    reg.write_text(registry_text(site.base) + registry_text(f"http://127.0.0.1:{free_port()}", sid="down"),
                   encoding="utf-8")
    assert main(["run", "--sources", str(reg), "--db", str(db), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1].startswith(
        "wardwatch run: 1 of 2 sources failed (first: down: unreachable (connection_refused)")
    out = json.loads(captured.out)
    rows = {r["source_id"]: r for r in out["crawl"]["sources"]}
    assert rows["fixture-nerima"]["status"] == "ok" and rows["fixture-nerima"]["new_versions"] >= 4
    assert rows["down"]["status"] == "failed" and "connection_refused" in rows["down"]["reason"]
    # the failed crawl's own numbers and run id, as `wardwatch crawl` and `run --no-prefect` show them
    assert rows["down"]["fetched"] >= 1 and rows["down"]["errors"] == rows["down"]["fetched"]
    assert rows["down"]["error_kinds"] == {"connection_refused": rows["down"]["fetched"]}
    assert out["crawl"]["run_ids"] == [out["crawl"]["run_id"]]  # `run` crawls both in one batch: one run
    assert out["crawl"]["status"] == "partial"
    progress = [line for line in captured.err.splitlines() if line.startswith(("[1/2] ", "[2/2] "))]
    assert sorted(line.split()[1] for line in progress) == ["down:", "fixture-nerima:"], captured.err[-3000:]
    assert out["prefect"]["flow_run_id"] and set(out["prefect"]["artifacts"]) == {"wardwatch-report", "wardwatch-open-flags"}
    new = rows["fixture-nerima"]["new_versions"]  # every one of them went through the later stages
    assert out["extract"]["extracted"] == new and out["extract"]["errors"] == 0
    assert out["diff"]["changes"] == 0 and out["diff"]["first"] == new




def flow_run_states(flow_run_id: str) -> dict[str, list[str]]:
    """The run and its subflow runs: name -> state types, read through the Prefect client."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    async def read():
        async with get_client() as client:
            parent = await client.read_flow_run(flow_run_id)
            children = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])))
            return [parent, *children]

    out: dict[str, list[str]] = {}
    for run in asyncio.run(read()):
        out.setdefault("wardwatch-pipeline" if str(run.id) == flow_run_id else run.name, []).append(run.state.type.value)
    return out


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_transient_failures_are_retried_terminal_ones_are_not(run_pipeline, fake_stages, tmp_path):
    fake_stages.crawl_script = {"flaky": ["transient", "transient", "ok"], "broken": ["terminal"],
                                "down": ["transient"] * 10}
    fake_stages.extract_script = {"locked": ["locked"]}
    ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["flaky", "broken", "down", "locked"])
    assert not ok
    assert len(fake_stages.attempts["crawl:flaky"]) == 3
    assert len(fake_stages.attempts["crawl:broken"]) == 1  # terminal: no retry
    assert len(fake_stages.attempts["crawl:down"]) == 4  # 1 + 3 retries, then it gives up
    assert len(fake_stages.attempts["extract:locked"]) == 2  # "warehouse is locked" is transient too
    sources = summary["sources"]
    assert sources["flaky"]["status"] == "ok" and sources["locked"]["status"] == "ok"
    assert sources["broken"] == {"status": "failed", "error": "TerminalStageError",
                                 "reason": "robots.txt disallows every start URL"}
    assert sources["down"]["error"] == "TransientStageError"
    assert summary["status"] == "partial" and summary["message"].startswith("2 of 4 sources failed (first: broken: ")
    assert fake_stages.attempts["report"] == ["run-flaky-3,run-locked-1"]  # the report still ran
    assert flow_run_states(summary["flow_run"]["id"]) == {  # as the Prefect UI shows them
        "wardwatch-pipeline": ["FAILED"], "source-flaky": ["COMPLETED"], "source-broken": ["FAILED"],
        "source-down": ["FAILED"], "source-locked": ["COMPLETED"]}


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_artifacts_are_created(run_pipeline, fake_stages, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    fake_stages.report = {"markdown": "# wardwatch\n\n## 練馬区\n\n- 児童扶養手当: 45,500円 → 46,690円\n",
                          "flags": [{"flag": "amount_changed", "source_id": "a", "url": "http://x/p.html",
                                     "opened_at": "2026-11-22"}]}
    ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a"])
    assert ok
    flow_run_id = summary["flow_run"]["id"]

    async def artifacts():
        async with get_client() as client:
            return await client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


    by_key = {a.key: a for a in asyncio.run(artifacts())}
    assert set(by_key) == {"wardwatch-report", "wardwatch-open-flags"}
    assert by_key["wardwatch-report"].type == "markdown" and "46,690円" in by_key["wardwatch-report"].data
    assert by_key["wardwatch-open-flags"].type == "table"
    assert json.loads(by_key["wardwatch-open-flags"].data)[0]["flag"] == "amount_changed"
    assert summary["report"]["artifacts"]["wardwatch-report"] == str(by_key["wardwatch-report"].id)


CHANGE = {"after_version_id": "v2", "seq": 1, "url": "https://www.city.nerima.tokyo.jp/a.html", "source_id": "a",
          "municipality": "練馬区", "source_kind": "official", "program": "住宅支援資金貸付", "kind": "amount",
          "qualifier": "上限", "change": "changed", "before": 40000, "after": 50000, "before_text": "上限4万円",
          "after_text": "上限5万円", "run_id": "run-a-1", "page": None, "before_version_id": "v1"}


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_webhook_gets_the_changes(run_pipeline, fake_stages, tmp_path, monkeypatch):
    receiver = Receiver()
    monkeypatch.setenv("WARDWATCH_WEBHOOK_URL", receiver.url)
    fake_stages.diffs = {"a": {"changes": 1, "flags_opened": 0, "flags_closed": 0}}
    fake_stages.changes = [CHANGE]
    try:
        ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a", "b"])
    finally:
        receiver.close()
    assert ok and summary["notified"] is True
    (body,) = receiver.bodies
    assert body["title"] == "wardwatch: 変更1件"
    assert "練馬区 › 住宅支援資金貸付: 金額(上限) 上限4万円 → 上限5万円 https://www.city.nerima.tokyo.jp/a.html" in body["text"]
    assert body["changes"] == 1 and body["failed_sources"] == []
    assert body["sources"] == [{"source_id": "a", "status": "ok", "changes": 1, "flags_opened": 0},
                               {"source_id": "b", "status": "ok", "changes": 0, "flags_opened": 0}]
    assert body["flow_run_id"] == summary["flow_run"]["id"]  # identical notice in both modes: built by the runner


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_no_webhook_without_changes(run_pipeline, fake_stages, tmp_path, monkeypatch):
    receiver = Receiver()
    monkeypatch.setenv("WARDWATCH_WEBHOOK_URL", receiver.url)
    try:
        ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a"])
    finally:
        receiver.close()
    assert ok and summary["notified"] is False and receiver.bodies == []


@pytest.mark.slow  # runs the flow on the Prefect test server
@pytest.mark.parametrize("failure", ["refused", "http_500"])
def test_a_failing_webhook_never_fails_the_run(run_pipeline, fake_stages, tmp_path, monkeypatch, failure):
    receiver = Receiver(status=500) if failure == "http_500" else None
    monkeypatch.setenv("WARDWATCH_WEBHOOK_URL", receiver.url if receiver else f"http://127.0.0.1:{free_port()}/hook")
    fake_stages.diffs = {"a": {"changes": 1, "flags_opened": 0, "flags_closed": 0}}
    fake_stages.changes = [CHANGE]
    try:
        ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a"])
    finally:
        if receiver:
            receiver.close()
    assert ok and summary["notified"] is False
    assert receiver is None or len(receiver.bodies) == 1


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_webhook_timeout_is_reported_not_raised():
    from wardwatch.stages.notify import post_json

    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        started = time.monotonic()
        error = post_json(f"http://127.0.0.1:{listener.getsockname()[1]}/hook", {"text": "x"}, timeout=0.2)
    assert error and "timed out" in error.lower() and time.monotonic() - started < 5


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_one_run_per_source_at_a_time(run_pipeline, fake_stages, tmp_path):
    """Two pipeline runs that both include source "a", started together: a's crawls never overlap."""
    fake_stages.crawl_script = {"a": [1.0, 1.0], "b": [1.0]}
    results = {}

    def run(name, ids):
        results[name] = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ids)

    threads = [threading.Thread(target=run, args=("one", ["a"])), threading.Thread(target=run, args=("two", ["a", "b"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(ok for ok, _ in results.values()), results
    (s1, e1), (s2, e2) = sorted(fake_stages.intervals["a"])
    assert e1 <= s2, "two runs of source a overlapped"


@pytest.mark.slow  # runs the flow on the Prefect test server
def test_the_flow_waits_for_a_no_prefect_run_of_the_same_source(run_pipeline, fake_stages, tmp_path, monkeypatch):
    """`wardwatch run --no-prefect` holds the same per-source lock (warehouse.locks) as the flows."""
    from wardwatch import runner
    from warehouse.locks import hold

    held, asked = threading.Event(), threading.Event()
    released_at = []

    def asking(*args, **kw):  # the flow's source asks for the lock (and will have to wait for it)
        asked.set()
        return hold(*args, **kw)

    monkeypatch.setattr(runner, "hold", asking)

    def other_run():
        with hold(tmp_path / "w.duckdb", "a"):
            held.set()
            assert asked.wait(120), "the flow never asked for the source's lock"
            released_at.append(time.monotonic())

    other = threading.Thread(target=other_run)
    other.start()
    held.wait(10)
    ok, summary = run_pipeline(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a"])
    other.join()
    assert ok and fake_stages.intervals["a"][0][0] >= released_at[0]


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_source_lock_times_out_with_a_clear_reason(tmp_path):
    from wardwatch.runner import RunOptions, run_source
    from wardwatch.stages.errors import SourceBusy
    from warehouse.locks import hold

    opts = RunOptions(tmp_path / "s.toml", tmp_path / "w.duckdb", ["a"], lock_timeout=0.1)
    calls = []
    with hold(tmp_path / "w.duckdb", "a"), pytest.raises(SourceBusy, match="a: another run of this source is still going"):
        run_source(opts, "a", step=lambda stage, sid, fn: calls.append(stage))
    assert calls == []
    run_source(opts, "a", step=lambda stage, sid, fn: calls.append(stage) or {})  # released: the next holder gets it
    assert calls == ["crawl", "extract", "diff"]


def test_which_errors_are_transient():
    from flows.retry import is_transient
    from wardwatch.stages.errors import TerminalStageError, TransientStageError
    from warehouse.db import WarehouseError

    assert is_transient(TransientStageError("x: unreachable (timeout)"))
    assert is_transient(WarehouseError("w.duckdb: warehouse is locked by another process (waited 120s)"))
    assert not is_transient(WarehouseError("w.duckdb: cannot open warehouse: not a DuckDB file"))
    assert not is_transient(TerminalStageError("x: robots.txt disallows every start URL"))
    assert not is_transient(ValueError("parse error"))
    assert not is_transient(None)
