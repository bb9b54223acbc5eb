"""`wardwatch run` through Prefect: the `pipeline` flow over the selected sources.

Prints the same summary as the in-process run (`--no-prefect`, wardwatch/pipeline.py) plus the
later stages' lines and the Prefect flow run (id, UI link when a server is configured, artifacts).
Prefect is imported only here, after PREFECT_HOME is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

    from flows.pipeline import pipeline

    source_ids = list(dict.fromkeys(s.id for s in sources))
    try:
        state = asyncio.run(pipeline(sources_file=str(Path(sources_file).resolve()),
                                     db_path=str(Path(db_path).resolve()), source_ids=source_ids, return_state=True))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # Prefect could not start the run (server unreachable, ...)
        raise Failed(f"prefect: {type(exc).__name__}: {_first_line(exc)}") from None
    summary = state.result(raise_on_failure=False)
    if not isinstance(summary, dict):  # the flow itself broke (e.g. the report stage raised)
        raise Failed(f"pipeline flow run {state.state_details.flow_run_id} failed: "
                     f"{_first_line(summary) if isinstance(summary, BaseException) else state.message}")
    summary["flow_run"]["id"] = str(state.state_details.flow_run_id)
    out = to_json(summary, db_path)
    if getattr(args, "format", "table") == "json":
        print(json.dumps(out, ensure_ascii=False, indent=2))
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


def to_json(summary: dict[str, Any], db_path: Path) -> dict[str, Any]:
    from flows.links import ui_url

    ok = {sid: s for sid, s in summary["sources"].items() if s["status"] == "ok"}
    crawl = crawl_result(summary, db_path).to_json()
    crawl["run_ids"] = summary["run_ids"]
    artifacts = summary["report"].get("artifacts", {})
    flow_run = summary["flow_run"]
    return {
        "crawl": crawl,
        "extract": {sid: s["extract"] for sid, s in ok.items()},
        "diff": {sid: s["diff"] for sid, s in ok.items()},
        "report": {"open_flags": summary["report"].get("open_flags")},
        "notified": summary["notified"],
        "prefect": {"flow_run_id": flow_run["id"], "flow_run_name": flow_run["name"],
                    "url": ui_url("flow-run", flow_run["id"]),
                    "artifacts": {key: {"id": aid, "url": ui_url("artifact", aid)} for key, aid in artifacts.items()}},
    }


def human(out: dict[str, Any]) -> str:
    from wardwatch.crawl import CrawlResult
    from wardwatch.report_text import crawl_summary

    crawl = {k: v for k, v in out["crawl"].items() if k != "run_ids"}
    lines = [crawl_summary(CrawlResult(**crawl))]
    for stage, label in (("extract", "extract"), ("diff", "changes")):
        for sid, s in out[stage].items():
            if s.get("skipped"):
                lines.append(f"{label} {sid}: skipped ({s['skipped']})")
            elif stage == "extract":
                lines.append(f"{label} {sid}: {s.get('extracted', 0)} version(s) extracted")
            else:
                lines.append(f"{label} {sid}: {s.get('changes', 0)} fact change(s), {s.get('flags_opened', 0)} flag(s) "
                             f"opened, {s.get('flags_closed', 0)} closed")
    p = out["prefect"]
    lines.append(f"open flags: {out['report']['open_flags']}" + ("; webhook notified" if out["notified"] else ""))
    lines.append(f"prefect flow run {p['flow_run_name']} ({p['flow_run_id']})" + (f": {p['url']}" if p["url"] else ""))
    arts = [f"{key} {a['url']}" if a["url"] else key for key, a in p["artifacts"].items()]
    if arts:
        lines.append("artifacts: " + ", ".join(arts) + ("" if p["url"] else "  (prefect artifact inspect KEY)"))
    return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
