"""`wardwatch run` through Prefect: the `pipeline` flow over the selected sources.

Prints the same summary as the in-process run (`--no-prefect`, wardwatch/pipeline.py) plus the
later stages' lines and the Prefect flow run (id, UI link when a server is configured, artifacts).
Prefect is imported only here, after PREFECT_HOME is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any


def run_with_prefect(args: argparse.Namespace, db_path: Path, sources_file: Path, sources: list[Any]) -> int:
    """Run the pipeline flow; 0 when every source succeeded, else raises cli.Failed (exit 1)."""
    from flows.server import configure_env, running_server
    from wardwatch.cli import Failed

    home = configure_env(db_path)
    if not os.environ.get("PREFECT_API_URL"):
        api_url = running_server(home)  # a `wardwatch schedule` server for this data dir: use it
        if api_url:
            os.environ["PREFECT_API_URL"] = api_url
    if getattr(args, "webhook", None):
        os.environ["WARDWATCH_WEBHOOK_URL"] = args.webhook

    from flows.pipeline import PipelineFailed, pipeline

    if not os.environ.get("WARDWATCH_DEBUG"):
        _one_line_console_errors()
    source_ids = list(dict.fromkeys(s.id for s in sources))
    try:
        summary = asyncio.run(pipeline(sources_file=str(Path(sources_file).resolve()),
                                       db_path=str(Path(db_path).resolve()), source_ids=source_ids))
    except PipelineFailed as exc:  # some sources failed: print the summary all the same
        summary = exc.summary
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # Prefect could not run the flow, or a whole-run stage (report) broke
        raise Failed(f"pipeline: {type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        _stop_temporary_server()
    out = to_json(summary, db_path)
    if getattr(args, "format", "table") == "json":
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        print(human(out))
    if summary["status"] != "ok":
        raise Failed(summary["message"])
    return 0


def crawl_result(summary: dict[str, Any], db_path: Path) -> Any:
    """The per-source crawl outcomes as one CrawlResult (what `wardwatch crawl` prints)."""
    from wardwatch.crawl import CrawlResult

    rows, logs, resumed = [], [], 0
    for sid, s in summary["sources"].items():
        if s["status"] == "ok":
            crawl = s["crawl"]
            rows += [r for r in crawl.get("sources", []) if r["source_id"] == sid]
            resumed += crawl.get("resumed") or 0
            logs += [crawl["log_file"]] if crawl.get("log_file") else []
        else:
            rows.append({"source_id": sid, "status": "failed", "reason": s["reason"], "fetched": 0, "new_versions": 0,
                         "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}})
    run_ids = summary["run_ids"]
    run_id = (run_ids[0] + (f" (+{len(run_ids) - 1} more)" if len(run_ids) > 1 else "")) if run_ids else "-"
    log_file = logs[0] if len(logs) == 1 else (str(Path(db_path).parent / "logs") + "/" if logs else None)
    return CrawlResult(run_id=run_id, status=summary["status"], sources=rows, resumed=resumed, log_file=log_file)


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-source stage summaries as one, shaped like the whole-warehouse summary of `--no-prefect`:
    numbers add up, lists concatenate, anything else keeps its first value."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in out:
                out[key] = list(value) if isinstance(value, list) else value
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(out[key], (int, float)):
                out[key] += value
            elif isinstance(value, list) and isinstance(out[key], list):
                out[key] += value
    return out


def to_json(summary: dict[str, Any], db_path: Path) -> dict[str, Any]:
    from flows.links import ui_url

    ok = [s for s in summary["sources"].values() if s["status"] == "ok"]
    crawl = crawl_result(summary, db_path).to_json()
    crawl["run_ids"] = summary["run_ids"]
    artifacts = summary["report"].get("artifacts", {})
    flow_run = summary["flow_run"]
    return {
        "crawl": crawl,
        "extract": merged([s["extract"] for s in ok]),
        "diff": merged([s["diff"] for s in ok]),
        "report": {"open_flags": summary["report"].get("open_flags")},
        "notified": summary["notified"],
        "prefect": {"flow_run_id": flow_run["id"], "flow_run_name": flow_run["name"],
                    "url": ui_url("flow-run", flow_run["id"]), "home": os.environ.get("PREFECT_HOME"),
                    "artifacts": {key: {"id": aid, "url": ui_url("artifact", aid)} for key, aid in artifacts.items()}},
    }


def human(out: dict[str, Any]) -> str:
    """`wardwatch run --no-prefect`'s summary, then the report and the Prefect run with its artifacts."""
    from wardwatch.crawl import CrawlResult
    from wardwatch.report_text import crawl_summary

    crawl = {k: v for k, v in out["crawl"].items() if k != "run_ids"}
    lines = [crawl_summary(CrawlResult(**crawl))]
    for stage, module, formatter in (("extract", "wardwatch.cli_extract", "extraction_summary"),
                                     ("diff", "wardwatch.cli_analyst", "diff_summary")):
        if out[stage]:
            lines.append(_stage_line(stage, out[stage], module, formatter))
    p = out["prefect"]
    lines.append(f"open flags: {out['report']['open_flags']}" + ("; webhook notified" if out["notified"] else ""))
    lines.append(f"prefect flow run {p['flow_run_name']} ({p['flow_run_id']})" + (f": {p['url']}" if p["url"] else ""))
    arts = [f"{key} {a['url']}" if a["url"] else key for key, a in p["artifacts"].items()]
    if arts:
        hint = "" if p["url"] else f"  (PREFECT_HOME={p['home']} prefect artifact inspect KEY)"
        lines.append("artifacts: " + ", ".join(arts) + hint)
    return "\n".join(lines)


def _stage_line(stage: str, summary: dict[str, Any], module: str, formatter: str) -> str:
    """The stage's own one-line summary (as `--no-prefect` prints it), or a plain fallback."""
    import importlib

    if summary.get("skipped"):
        return f"{stage}: skipped ({summary['skipped']})"
    try:
        return getattr(importlib.import_module(module), formatter)(summary)
    except (ImportError, AttributeError, KeyError, TypeError):
        return f"{stage}: " + ", ".join(f"{k} {v}" for k, v in summary.items() if isinstance(v, (int, float)))


class _OneLine(logging.Formatter):
    """Formats a record as its inner formatter would, leaving out any traceback."""

    def __init__(self, inner: logging.Formatter | None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _one_line_console_errors() -> None:
    """Prefect's terminal log shows errors without tracebacks (its API log, and so the UI, keeps them)."""
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ == "PrefectConsoleHandler" and not isinstance(handler.formatter, _OneLine):
            handler.setFormatter(_OneLine(handler.formatter))


def _stop_temporary_server() -> None:
    """In Prefect's local mode, stop its temporary server now rather than at exit, so that the
    one-line reason stays the last line on stderr. Logs and events are sent first. Never raises."""
    import inspect

    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():  # a configured server (or a test harness): not ours to stop
        return
    try:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker
        from prefect.server.api.server import SubprocessASGIServer
        from prefect.utilities.asyncutils import run_coro_as_sync

        async def drain() -> None:
            for result in (APILogWorker.instance().drain(), EventsWorker.drain_all()):
                if inspect.isawaitable(result):
                    await result

        run_coro_as_sync(drain())
        SubprocessASGIServer().stop()
    except Exception:  # at worst Prefect stops it at exit, as it always does
        pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
