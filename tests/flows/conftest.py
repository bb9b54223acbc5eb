"""Fixtures for the Prefect tests in this folder (test_flows.py, test_schedule.py).

The one ``prefect_test_harness`` (a temporary local Prefect server over SQLite, ~10 s to start) is
shared by the whole session; every test using it (``prefect_harness``, ``run_pipeline``,
``fast_retries``, ``fake_stages``) is marked slow. Test modules import prefect and flows lazily:
PREFECT_HOME must be set before prefect is first imported.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A private PREFECT_HOME for the session (effective when prefect has not been imported yet)."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return os.environ["PREFECT_HOME"]


@pytest.fixture(scope="session")
def prefect_harness(prefect_home: str):
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch, prefect_harness: None) -> None:
    """Retries keep their count, without the real backoff delays."""
    from flows.tasks import stage_task

    monkeypatch.setattr(stage_task, "retry_delay_seconds", [0] * len(stage_task.retry_delay_seconds))
    monkeypatch.setattr(stage_task, "retry_jitter_factor", None)


def _run_pipeline(sources_file: Path | str, db_path: Path | str, source_ids: list[str]) -> tuple[bool, dict[str, Any]]:
    from flows.pipeline import PipelineFailed, pipeline

    try:
        return True, asyncio.run(pipeline(sources_file=str(sources_file), db_path=str(db_path), source_ids=source_ids))
    except PipelineFailed as exc:
        return False, exc.summary


@pytest.fixture
def run_pipeline(prefect_harness: None):
    """``run_pipeline(sources_file, db_path, source_ids)`` -> (every source ok?, summary dict) of the pipeline flow."""
    return _run_pipeline


class FakeStages:
    """Stands in for the stages the runner calls: scripted outcomes per source, every attempt recorded.

    ``crawl_script[source_id]`` is a list of outcomes for successive crawl attempts: "ok",
    "transient", "terminal", or a number of seconds to sleep before succeeding.
    """

    def __init__(self) -> None:
        self.crawl_script: dict[str, list[Any]] = {}
        self.extract_script: dict[str, list[Any]] = {}
        self.diffs: dict[str, dict[str, Any]] = {}
        self.changes: list[dict[str, Any]] = []  # fact-change rows the report model shows (warehouse.review shape)
        self.report: dict[str, Any] = {"markdown": "# wardwatch\n\nNothing changed.\n", "flags": []}
        self.attempts: dict[str, list[str]] = defaultdict(list)
        self.intervals: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def crawl_stage(self, sources_file: Path, db_path: Path, source_id: str, timeout: float | None = 3600,
                    run_id: str | None = None) -> dict:
        from wardwatch.stages.errors import TerminalStageError, TransientStageError

        self.attempts[f"crawl:{source_id}"].append("x")
        script = self.crawl_script.get(source_id, [])
        outcome = script.pop(0) if script else "ok"
        start = time.monotonic()
        if outcome == "transient":
            raise TransientStageError(f"{source_id}: unreachable (timeout): fake timeout")
        if outcome == "terminal":
            raise TerminalStageError(f"{source_id}: robots.txt disallows every start URL")
        if isinstance(outcome, (int, float)):
            time.sleep(outcome)
        self.intervals[source_id].append((start, time.monotonic()))
        row = {"source_id": source_id, "status": "ok", "reason": None, "fetched": 3, "new_versions": 1, "unchanged": 1,
               "not_modified": 1, "errors": 0, "error_kinds": {}}
        return {"run_id": f"run-{source_id}-{len(self.attempts[f'crawl:{source_id}'])}", "status": "ok",
                "sources": [row], "resumed": 0, "log_file": None}

    def extract_pending(self, db_path: Path, source_id: str | None = None) -> dict:
        from warehouse.db import WarehouseError

        self.attempts[f"extract:{source_id}"].append("x")
        script = self.extract_script.get(source_id, [])
        if script and script.pop(0) == "locked":
            raise WarehouseError(f"{db_path}: warehouse is locked by another process (waited 120s)")
        return {"extracted": 1}

    def detect_changes(self, db_path: Path, source_id: str | None = None) -> dict:
        return self.diffs.get(source_id, {"changes": 0, "flags_opened": 0, "flags_closed": 0})

    def report_stage(self, db_path: Path, run_ids: list[str] | None = None) -> dict:
        from wardwatch.report.model import build_report

        self.attempts["report"].append(",".join(run_ids or []))
        crawled = {k.split(":", 1)[1] for k in self.attempts if k.startswith("crawl:")}
        health = [{"source_id": sid, "municipality": "練馬区", "source_kind": "official", "run_id": "r", "fetched": 3,
                   "errors": 0, "ok": 3, "failed": False, "error_kinds": {}, "reason": None} for sid in sorted(crawled)]
        model = build_report({"changes": self.changes, "flags": [], "health": health})  # what the notice is built from
        return {"path": str(Path(db_path).parent / "reports" / "fake.html"), "model": model, **self.report}


@pytest.fixture
def fake_stages(monkeypatch: pytest.MonkeyPatch, fast_retries: None) -> FakeStages:
    from wardwatch import runner

    fake = FakeStages()
    for name in ("crawl_stage", "extract_pending", "detect_changes", "report_stage"):
        monkeypatch.setattr(runner, name, getattr(fake, name))
    monkeypatch.delenv("WARDWATCH_WEBHOOK_URL", raising=False)
    return fake
