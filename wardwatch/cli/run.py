"""`wardwatch run`: the main job — the runner (``wardwatch/runner.py``) as a Prefect flow run, or
with `--no-prefect` in this process. Both print the same summary (per-source crawl table, extract
and diff lines, the report file, open flags, webhook); a Prefect run adds its flow run and artifacts.
Prefect is imported only in Prefect mode, after PREFECT_HOME is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, add_db, add_format, add_sources, file_db, load_registry


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the main job: crawl, then the later stages",
                       description="One full pipeline run as a Prefect flow run: per source crawl, extract, diff and flag; "
                                   "then the change report (a file, and artifacts) and the webhook note.")
    add_sources(p)
    add_db(p)
    add_format(p)
    p.add_argument("--no-prefect", action="store_true", help="run the same stages in this process, without Prefect")
    p.add_argument("--webhook", metavar="URL", default=None,
                   help="POST a JSON note when the run finds fact changes or new flags (default: $WARDWATCH_WEBHOOK_URL)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    db_path, sources = file_db(args), load_registry(args)
    if args.webhook:
        os.environ["WARDWATCH_WEBHOOK_URL"] = args.webhook  # inherited by Prefect's runs; never a flow parameter
    if args.no_prefect:
        summary = run_direct(args.sources, db_path, sources)
    else:
        summary = run_with_prefect(db_path, args.sources, sources)
    out = to_json(summary, db_path)
    if args.format == "json":
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        print(human(out))
    if summary["status"] != "ok":
        raise Failed(summary["message"])
    return 0


def run_direct(sources_file: Path, db_path: Path, sources: list[Any]) -> dict[str, Any]:
    from wardwatch.runner import RunOptions, run

    def waiting(source_id: str, path: Path) -> None:
        print(f"waiting for another run of {source_id} to finish ({path})", file=sys.stderr)

    return run(RunOptions(Path(sources_file).resolve(), Path(db_path).resolve(), [s.id for s in sources], on_wait=waiting))


def run_with_prefect(db_path: Path, sources_file: Path, sources: list[Any]) -> dict[str, Any]:
    """The pipeline flow's summary (also when some sources failed)."""
    from wardwatch.cli.prefect_server import configure_env, running_server

    home = configure_env(db_path)
    if not os.environ.get("PREFECT_API_URL"):
        api_url = running_server(home)  # a `wardwatch schedule` server for this data dir: use it
        if api_url:
            os.environ["PREFECT_API_URL"] = api_url

    from flows.pipeline import PipelineFailed, pipeline

    if not os.environ.get("WARDWATCH_DEBUG"):
        _one_line_console_errors()
    source_ids = list(dict.fromkeys(s.id for s in sources))
    try:
        return asyncio.run(pipeline(sources_file=str(Path(sources_file).resolve()),
                                    db_path=str(Path(db_path).resolve()), source_ids=source_ids))
    except PipelineFailed as exc:  # some sources failed: print the summary all the same
        return exc.summary
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # Prefect could not run the flow, or a whole-run stage (report) broke
        raise Failed(f"pipeline: {type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        _stop_temporary_server()


def crawl_result(summary: dict[str, Any], db_path: Path) -> Any:
    """The per-source crawl outcomes as one CrawlResult (what `wardwatch crawl` prints)."""
    from wardwatch.stages.crawl import CrawlResult

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
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(out[key], (int, float)) or isinstance(value, list) and isinstance(out[key], list):
                out[key] += value
    return out


def to_json(summary: dict[str, Any], db_path: Path) -> dict[str, Any]:
    ok = [s for s in summary["sources"].values() if s["status"] == "ok"]
    crawl = crawl_result(summary, db_path).to_json()
    crawl["run_ids"] = summary["run_ids"]
    artifacts = summary["report"].get("artifacts", {})
    flow_run = summary["flow_run"]
    return {
        "crawl": crawl,
        "extract": merged([s["extract"] for s in ok]),
        "diff": merged([s["diff"] for s in ok]),
        "report": {"open_flags": summary["report"].get("open_flags"), "path": summary["report"].get("path")},
        "notified": summary["notified"],
        "prefect": None if not flow_run.get("id") else {
            "flow_run_id": flow_run["id"], "flow_run_name": flow_run["name"], "url": _ui_url("flow-run", flow_run["id"]),
            "home": os.environ.get("PREFECT_HOME"),
            "artifacts": {key: {"id": aid, "url": _ui_url("artifact", aid)} for key, aid in artifacts.items()}},
    }


def _ui_url(kind: str, object_id: str | None) -> str | None:
    from flows.links import ui_url

    return ui_url(kind, object_id)


def human(out: dict[str, Any]) -> str:
    """`wardwatch run --no-prefect`'s summary, then the report and the Prefect run with its artifacts."""
    from wardwatch.cli.summaries import crawl_summary, diff_summary, extraction_summary
    from wardwatch.stages.crawl import CrawlResult

    crawl = {k: v for k, v in out["crawl"].items() if k != "run_ids"}
    lines = [crawl_summary(CrawlResult(**crawl))]
    for stage, formatter in (("extract", extraction_summary), ("diff", diff_summary)):
        if out[stage]:
            lines.append(_stage_line(stage, out[stage], formatter))
    lines.append(f"report: {out['report']['path']}")
    lines.append(f"open flags: {out['report']['open_flags']}" + ("; webhook notified" if out["notified"] else ""))
    p = out["prefect"]
    if p is None:
        return "\n".join(lines)
    lines.append(f"prefect flow run {p['flow_run_name']} ({p['flow_run_id']})" + (f": {p['url']}" if p["url"] else ""))
    arts = [f"{key} {a['url']}" if a["url"] else key for key, a in p["artifacts"].items()]
    if arts:
        hint = "" if p["url"] else f"  (PREFECT_HOME={p['home']} prefect artifact inspect KEY)"
        lines.append("artifacts: " + ", ".join(arts) + hint)
    return "\n".join(lines)


def _stage_line(stage: str, summary: dict[str, Any], formatter: Any) -> str:
    """The stage's own one-line summary, or a plain fallback."""
    if summary.get("skipped"):
        return f"{stage}: skipped ({summary['skipped']})"
    try:
        return formatter(summary)
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
