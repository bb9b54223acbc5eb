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

from wardwatch.cli.common import Failed, Usage, add_db, add_format, add_sources, file_db, load_registry, print_json
from wardwatch.cli.crawl import add_concurrency, add_shard, check_concurrency, say_empty_shard, sharded


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the main job: crawl, then the later stages",
                       description="One full pipeline run as a Prefect flow run: per source crawl, extract, diff and flag; "
                                   "then the change report (a file, and artifacts) and the webhook note.")
    add_sources(p)
    add_db(p)
    add_format(p)
    add_concurrency(p, extra="; with --per-source-process: N sources at a time, each crawled in its own process "
                             "(default 4)")
    p.add_argument("--per-source-process", action="store_true",
                   help="crawl each source in its own crawl process, --concurrency of them at a time (default 4: the "
                        "behaviour before one process served many hosts)")
    add_shard(p)
    p.add_argument("--no-prefect", action="store_true", help="run the same stages in this process, without Prefect")
    p.add_argument("--webhook", metavar="URL", default=None,
                   help="POST the run's notice as JSON when it has fact changes, new flags or failed sources "
                        "(default: $WARDWATCH_WEBHOOK_URL)")
    p.add_argument("--notify", metavar="URL", action="append", default=None,
                   help="send the run's notice (Japanese, one line per change) to this Apprise URL: mailtos://…, "
                        "slack://…, msteams://…, line://…, discord://…, ntfy://…, json://… (repeatable; "
                        "default: $WARDWATCH_NOTIFY, separated by spaces or commas)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also show Prefect's own log lines on stderr (default: only wardwatch's progress and summary; "
                        "$PREFECT_LOGGING_LEVEL or $PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL, when set, decide)")
    p.add_argument("--work-pool", metavar="NAME", default=None,
                   help="one flow run per source on this Prefect work pool, run by `wardwatch worker --pool NAME` on "
                        "any machine; needs a DuckLake --warehouse and PREFECT_API_URL (docs/scale.md)")
    p.add_argument("--pool-shards", type=int, default=None, metavar="N",
                   help="with --work-pool: N flow runs instead of one per source, each one batch crawl (--concurrency "
                        "hosts at once) + extract + diff of registry shard K/N (give N = the number of workers)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="with --work-pool: stop waiting after this long and cancel what has not finished (default 6 h)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    db_path, sources = file_db(args), load_registry(args)
    from wardwatch.runner import MAX_PARALLEL

    concurrency = check_concurrency(args, MAX_PARALLEL if args.per_source_process else None)
    sources = sharded(args, sources)
    if not sources:
        say_empty_shard(args)
        return 0
    mode = ({"max_parallel": concurrency, "crawl_concurrency": None} if args.per_source_process
            else {"crawl_concurrency": concurrency})
    if args.pool_shards is not None and (not args.work_pool or args.pool_shards < 1):
        raise Usage(f"--pool-shards {args.pool_shards}: give 1 or more shards, with --work-pool NAME")
    if args.work_pool:  # distributed: checked before anything starts (wardwatch/cli/worker.py)
        from wardwatch.cli.worker import check_pool_run, run_on_pool

        check_pool_run(args, db_path)
    if args.webhook:
        os.environ["WARDWATCH_WEBHOOK_URL"] = args.webhook  # inherited by Prefect's runs; never a flow parameter
    if args.notify:  # likewise: secrets in notification URLs never become flow parameters
        os.environ["WARDWATCH_NOTIFY"] = " ".join(args.notify)
    from wardwatch import runner
    from wardwatch.stages.errors import Interrupted

    say = sys.stderr if args.format == "json" else sys.stdout  # stdout of --format json is the JSON alone
    if not args.no_prefect:
        quiet_prefect_console(args.verbose)
    ids = list(dict.fromkeys(s.id for s in sources))
    _say(say, f"starting {len(ids)} source(s): " + ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
         + " … (crawl, extract, diff; "
         + (f"{concurrency} source(s) at a time, each crawled in its own process; " if args.per_source_process
            else f"one crawl process, up to {concurrency} host(s) at once; ")
         + "a line per source as it finishes"
         + ("" if args.no_prefect or os.environ.get("PREFECT_API_URL") else "; a local Prefect server starts first")
         + ")")
    try:
        with runner.progress(progress_printer(say, len(ids))):
            if args.no_prefect:
                summary = run_direct(args.sources, db_path, sources, **mode)
            elif args.work_pool:
                summary = run_on_pool(args, db_path, sources)
            else:
                summary = run_with_prefect(db_path, args.sources, sources, **mode)
    except Interrupted as exc:  # the run stopped part way: say so on stdout too (the reason goes to stderr)
        if args.format == "json":
            print(json.dumps({"status": "interrupted", "signal": exc.signame,
                              "run_ids": getattr(exc, "run_ids", [])}, indent=2))
        raise
    out = to_json(summary, db_path)
    if args.format == "json":
        print_json(out, default=str)
    else:
        print(human(out))
    if summary["status"] == "interrupted":  # a crawl stopped early: never ok
        signum = next((s.get("signal") for s in summary["sources"].values() if s.get("signal")), None)
        if signum:
            from wardwatch.stages.errors import Interrupted

            raise Interrupted(signum, summary["message"])
        raise Failed(summary["message"])
    if summary["status"] != "ok":
        raise Failed(summary["message"])
    return 0


PREFECT_CONSOLE_ENV = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"  # Prefect's logging.yml handlers.console.level


def quiet_prefect_console(verbose: bool) -> None:
    """Prefect's log lines stay out of the terminal (its API log — and so its UI — keeps them all) unless
    ``--verbose`` or the user's own PREFECT_LOGGING_LEVEL / console level asks for them. Before prefect
    is imported: its logging is configured from the environment then."""
    if verbose or os.environ.get("PREFECT_LOGGING_LEVEL") or os.environ.get(PREFECT_CONSOLE_ENV):
        return
    os.environ[PREFECT_CONSOLE_ENV] = "CRITICAL"


def _say(stream: Any, text: str) -> None:
    from extractors.termsafe import terminal_safe

    try:
        print(terminal_safe(text, keep_newlines=False), file=stream, flush=True)
    except (OSError, ValueError):
        pass


def progress_printer(stream: Any, total: int) -> Any:
    """The runner's listener: one line per source as its pipeline ends (both modes)."""
    import threading
    import time

    from spiders.progress import source_line

    started, lock, done = time.monotonic(), threading.Lock(), [0]

    def printed(source_id: str, outcome: dict[str, Any]) -> None:
        crawl = outcome.get("crawl") or {}
        row = next((r for r in crawl.get("sources", []) if r.get("source_id") == source_id), {})
        status = outcome.get("status", "?")
        if status == "ok":
            diff = outcome.get("diff") or {}
            detail = f"{diff.get('changes', 0)} change(s), {diff.get('flags_opened', 0)} flag(s) opened" if diff else None
        else:
            detail = outcome.get("reason")
        with lock:
            done[0] += 1
            line = source_line(done[0], max(total, done[0]), source_id, row.get("fetched", 0), row.get("errors", 0),
                               row.get("error_kinds") or {}, time.monotonic() - started, status=status, detail=detail)
            _say(stream, line)

    return printed


def run_direct(sources_file: Path, db_path: Path, sources: list[Any], *, max_parallel: int | None = None,
               crawl_concurrency: int | None = None) -> dict[str, Any]:
    """The runner in this process. ``crawl_concurrency`` N: one crawl process for every source, N hosts at
    once; None: each source's crawl its own process, ``max_parallel`` (default 4) at a time."""
    from wardwatch.runner import MAX_PARALLEL, RunOptions, run

    def waiting(source_id: str, path: Path) -> None:
        print(f"waiting for another run of {source_id} to finish ({path})", file=sys.stderr)

    return run(RunOptions(Path(sources_file).resolve(), Path(db_path).resolve(), [s.id for s in sources], on_wait=waiting,
                          max_parallel=max_parallel or MAX_PARALLEL, crawl_concurrency=crawl_concurrency))


def run_with_prefect(db_path: Path, sources_file: Path, sources: list[Any], *, max_parallel: int | None = None,
                     crawl_concurrency: int | None = None) -> dict[str, Any]:
    """The pipeline flow's summary (also when some sources failed); ``max_parallel`` and ``crawl_concurrency``
    as for :func:`run_direct` (the batch crawl is one task of the flow).

    Without PREFECT_API_URL (and no `wardwatch schedule` server for this data directory) the flow runs
    against a temporary API-only server this process starts (``prefect_server.LocalServer``: a start-up
    budget for small machines, stopped on every way out and when this process dies)."""
    from wardwatch.cli.prefect_server import LocalServer, ServerError, configure_env, drain_prefect, running_server
    from wardwatch.stages import interrupt

    home = configure_env(db_path)
    server, set_env = None, []
    if not os.environ.get("PREFECT_API_URL"):
        api_url = running_server(home)  # a `wardwatch schedule` server for this data dir: use it
        if not api_url:
            try:
                server = LocalServer(home, port=0, api_only=True, advertise=False).start()
            except ServerError as exc:
                raise Failed(f"the temporary Prefect server did not start: {exc}") from None
            api_url = server.api_url
            os.environ[TEMPORARY_SERVER_ENV] = "1"
            set_env.append(TEMPORARY_SERVER_ENV)
            if "PREFECT_UI_URL" not in os.environ:  # it has no UI: no "View at <url>" lines in the log
                os.environ["PREFECT_UI_URL"] = ""
                set_env.append("PREFECT_UI_URL")
        os.environ["PREFECT_API_URL"] = api_url
        set_env.append("PREFECT_API_URL")
    forget = interrupt.on_exit(server.stop) if server is not None else (lambda: None)
    try:
        summary = _run_pipeline(db_path, sources_file, sources, max_parallel=max_parallel,
                                crawl_concurrency=crawl_concurrency)
        if server is not None:  # no UI, and stopped when this returns: no links to it
            summary.setdefault("flow_run", {})["temporary_server"] = True
        return summary
    finally:
        try:
            if server is not None:
                interrupt.bounded(drain_prefect, timeout=10.0)  # logs and events reach the server first
                server.stop()
        finally:
            forget()
            for name in set_env:
                os.environ.pop(name, None)


TEMPORARY_SERVER_ENV = "WARDWATCH_PREFECT_TEMPORARY"  # = flows.links.TEMPORARY_SERVER_ENV (no UI links)


def _run_pipeline(db_path: Path, sources_file: Path, sources: list[Any], *, max_parallel: int | None = None,
                  crawl_concurrency: int | None = None) -> dict[str, Any]:
    from flows.pipeline import PipelineFailed, pipeline
    from wardwatch import runner
    from wardwatch.stages import interrupt
    from wardwatch.stages.errors import Interrupted

    if not os.environ.get("WARDWATCH_DEBUG"):
        _one_line_console_errors()
    source_ids = list(dict.fromkeys(s.id for s in sources))
    try:
        extra: dict[str, Any] = {"max_parallel": max_parallel} if max_parallel else {}
        return _run_async(pipeline(sources_file=str(Path(sources_file).resolve()),
                                   db_path=str(Path(db_path).resolve()), source_ids=source_ids,
                                   crawl_concurrency=crawl_concurrency, **extra))
    except BaseException as exc:
        signum = interrupt.requested()
        if signum is not None:  # SIGINT/SIGTERM, whatever Prefect made of it
            stop = exc if isinstance(exc, Interrupted) else Interrupted(signum)
            runner.stopped(stop)
            raise stop from None
        if isinstance(exc, PipelineFailed):  # some sources failed: print the summary all the same
            return exc.summary
        if isinstance(exc, Exception):  # Prefect could not run the flow, or a whole-run stage (report) broke
            raise Failed(f"pipeline: {type(exc).__name__}: {_first_line(exc)}") from None
        raise
    finally:
        _stop_temporary_server()


def _run_async(coro: Any) -> Any:
    """``asyncio.run``, except that after an interrupt it does not wait for worker threads (a stage
    that cannot be stopped midway): the flow's tasks get 5 s to wind down, then the loop is closed."""
    from wardwatch.stages import interrupt

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    interrupted = False
    try:
        return loop.run_until_complete(coro)
    except BaseException as exc:
        signum = interrupt.requested() or interrupt.signal_of(exc)
        if signum is not None and interrupt.requested() is None:  # Prefect caught the signal before us
            interrupt.trigger(signum)
        interrupted = signum is not None
        raise
    finally:
        try:
            _cancel_all(loop, timeout=5.0 if interrupted else None)
            loop.run_until_complete(loop.shutdown_asyncgens())
            if not interrupted:
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for t in tasks:
        t.cancel()
    try:
        loop.run_until_complete(asyncio.wait(tasks, timeout=timeout))
    except BaseException:  # a second interrupt: give up waiting
        pass
    for t in tasks:
        if t.done() and not t.cancelled():
            t.exception()  # retrieved: no "exception was never retrieved" noise


def crawl_result(summary: dict[str, Any], db_path: Path) -> Any:
    """The per-source crawl outcomes as one CrawlResult (what `wardwatch crawl` prints): a source whose
    crawl failed keeps its own numbers (fetched, errors by kind) and run id, in every mode."""
    from wardwatch.stages.crawl import CrawlResult

    rows, logs, resumed, run_ids = [], [], 0, []
    for sid, s in summary["sources"].items():
        crawl = s.get("crawl") or {}
        own = [dict(r) for r in crawl.get("sources", []) if r["source_id"] == sid]
        if crawl.get("run_id"):
            run_ids.append(crawl["run_id"])
        resumed += crawl.get("resumed") or 0
        logs += [crawl["log_file"]] if crawl.get("log_file") else []
        if own and s["status"] != "ok":  # the crawl worked, a later stage failed — or the crawl's own failure
            for r in own:
                if r["status"] == "ok":
                    r["status"], r["reason"] = s["status"], s["reason"]
        rows += own or [{"source_id": sid, "status": "failed" if s["status"] == "ok" else s["status"],
                         "reason": s.get("reason") or "nothing was fetched", "fetched": 0, "new_versions": 0,
                         "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}}]
    run_ids = list(dict.fromkeys(run_ids)) or list(summary.get("run_ids") or [])  # a batch: one run, many sources
    logs = list(dict.fromkeys(logs))
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
    crawl["run_ids"] = summary.get("crawl_run_ids") or summary["run_ids"]
    artifacts = summary["report"].get("artifacts", {})
    flow_run = summary["flow_run"]
    link = (lambda kind, oid: None) if flow_run.get("temporary_server") else _ui_url
    return {
        "crawl": crawl,
        "extract": merged([s["extract"] for s in ok]),
        "diff": merged([s["diff"] for s in ok]),
        "report": {"open_flags": summary["report"].get("open_flags"), "path": summary["report"].get("path")},
        "notified": summary["notified"],
        "prefect": None if not flow_run.get("id") else {
            "flow_run_id": flow_run["id"], "flow_run_name": flow_run["name"], "url": link("flow-run", flow_run["id"]),
            "home": os.environ.get("PREFECT_HOME"),
            "artifacts": {key: {"id": aid, "url": link("artifact", aid)} for key, aid in artifacts.items()}},
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
    lines.append(f"open flags: {out['report']['open_flags']}" + ("; notice sent" if out["notified"] else ""))
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
    """In Prefect's own local mode (PREFECT_API_URL unset — wardwatch normally starts its own server),
    stop its temporary server now rather than at exit, so that the one-line reason stays the last line
    on stderr. Logs and events are sent first. Never raises."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():  # a configured server, ours, or a test harness: not stopped here
        return
    try:
        from prefect.server.api.server import SubprocessASGIServer

        from wardwatch.cli.prefect_server import drain_prefect

        drain_prefect()
        SubprocessASGIServer().stop()
    except Exception:  # at worst Prefect stops it at exit, as it always does
        pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
