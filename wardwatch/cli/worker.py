"""`wardwatch worker --pool NAME`: this machine takes wardwatch flow runs from a Prefect work pool, and
`wardwatch run --work-pool NAME` (its dispatch lives here too): one flow run per source on that pool.

The worker is Prefect's own (`prefect worker start --pool NAME --type process`, which this process becomes)
with PREFECT_API_URL from ``--api`` or the environment; this command checks the options and the API first
(one line when it does not answer). Prefect's worker stops cleanly (exit 0) on SIGINT / SIGTERM. Submitting
(``flows.workpool.submit``) needs a shared DuckLake warehouse: an embedded file cannot be shared by machines.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, Usage

API_TIMEOUT_S = 5.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker", help="take wardwatch flow runs from a Prefect work pool (prefect worker start, type process)",
        description="Run Prefect's process worker on this machine for the work pool NAME: it runs the flow runs "
                    "`wardwatch run --work-pool NAME` submits (one per source) until Ctrl-C or SIGTERM. Needs a "
                    "Prefect server every machine reaches (PREFECT_API_URL or --api) and the shared DuckLake "
                    "warehouse (docs/scale.md).")
    p.add_argument("--pool", required=True, metavar="NAME", help="the work pool to take flow runs from")
    p.add_argument("--limit", type=int, default=None, metavar="K",
                   help="at most K flow runs (sources) at once on this machine (default: Prefect's, no limit)")
    p.add_argument("--name", default=None, metavar="NAME", help="the worker's name in Prefect (default: Prefect's)")
    p.add_argument("--api", default=None, metavar="URL",
                   help="the Prefect API, e.g. http://prefect.internal:4200/api (default: $PREFECT_API_URL)")
    p.set_defaults(func=cmd_worker)


def api_url(given: str | None, *, option: bool = True) -> str:
    """``--api`` (when the command has ``option``) or $PREFECT_API_URL; Usage when neither names one."""
    url = (given or os.environ.get("PREFECT_API_URL") or "").strip()
    if not url:
        raise Usage("no Prefect API: " + ("give --api URL or set" if option else "set") + " PREFECT_API_URL (a work "
                    "pool needs a Prefect server every machine reaches; see docs/scale.md)")
    if not url.startswith(("http://", "https://")):
        raise Usage(f"--api {url!r}: not an http(s) URL (e.g. http://127.0.0.1:4200/api)")
    return url.rstrip("/")


def check_api(url: str, timeout: float = API_TIMEOUT_S) -> None:
    """Failed with one line unless ``<url>/health`` answers 200."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as response:
            if response.status == 200:
                return
            why = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        why = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = str(getattr(exc, "reason", None) or exc)
    raise Failed(f"the Prefect API at {url} is not reachable ({why}); start `prefect server start` on a machine "
                 "every worker reaches, or fix --api / PREFECT_API_URL")


def worker_command(pool: str, limit: int | None, name: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    if name:
        cmd += ["--name", name]
    return cmd


def cmd_worker(args: argparse.Namespace) -> int:
    """Check the options and the API, then become Prefect's worker (exec): Ctrl-C / SIGTERM reach Prefect's
    own handlers once, and it stops cleanly (exit 0). A wrapper process in between would pass a terminal's
    Ctrl-C on a second time, which Prefect's worker answers with SIGKILL."""
    if args.limit is not None and args.limit < 1:
        raise Usage(f"--limit {args.limit}: give 1 or more flow runs at once")
    if not args.pool.strip():
        raise Usage("--pool: give the work pool's name")
    url = api_url(args.api)
    check_api(url)
    cmd = worker_command(args.pool, args.limit, args.name)
    print(f"wardwatch worker: taking flow runs from work pool {args.pool!r} at {url} (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    try:
        os.execve(cmd[0], cmd, {**os.environ, "PREFECT_API_URL": url})
    except OSError as exc:
        raise Failed(f"cannot start prefect worker: {exc.strerror or exc}") from None
    return 0  # not reached


# --- `wardwatch run --work-pool NAME` -----------------------------------------------------------------------


def check_pool_run(args: argparse.Namespace, db_path: Path) -> None:
    """Before `run --work-pool` starts: Usage (exit 2) unless the warehouse is a DuckLake warehouse (an
    embedded file cannot be shared by machines) without a password in its URL and a Prefect API is named;
    Failed (exit 1) when that API does not answer."""
    if getattr(args, "no_prefect", False):
        raise Usage("--work-pool runs on Prefect workers: leave out --no-prefect")
    lake_of(db_path)
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not (0 < timeout < 7 * 86400):
        raise Usage(f"--timeout {timeout:g}: give a number of seconds between 0 and a week")
    check_api(api_url(None, option=False))


def lake_of(db_path: Path) -> Any:
    """The DuckLake warehouse behind ``run``'s warehouse path, or Usage for an embedded file."""
    from warehouse.db import Warehouse

    wh = Warehouse(db_path) if str(db_path).endswith(".lake.json") else None
    if wh is None or wh.lake is None:
        raise Usage("--work-pool needs a shared DuckLake warehouse (--warehouse 'ducklake:postgres:…' or "
                    "$WARDWATCH_WAREHOUSE): workers on other machines cannot write an embedded DuckDB file")
    if "password" in wh.lake.dsn.lower() or re.search(r"://[^/@\s]*:[^/@\s]*@", wh.lake.dsn):
        raise Usage("--warehouse: with --work-pool keep the password out of the URL (flow parameters are shown in "
                    "the Prefect UI): put it in ~/.pgpass or $PGPASSWORD on every machine")
    return wh


def run_on_pool(args: argparse.Namespace, db_path: Path, sources: list[Any]) -> dict[str, Any]:
    """`wardwatch run --work-pool NAME`: one flow run per source on the pool (``flows.workpool.submit``),
    then the report, the flags and the notice here (``runner.finish``); returns the run's summary, shaped as
    a local run's. Each source's crawl row names its flow run(s)."""
    from flows.workpool import DEFAULT_TIMEOUT_S, PoolError, submit
    from wardwatch import runner
    from wardwatch.runner import RunOptions

    lake = lake_of(db_path)
    ids = list(dict.fromkeys(s.id for s in sources))
    opts = RunOptions(Path(args.sources).resolve(), db_path, ids)
    runner.prepare(opts)  # create or upgrade the lake once: flow runs creating a new catalog at once collide

    def resubmitted(source_id: str, flow_run_id: str, message: str) -> None:
        _say(f"{source_id}: flow run {flow_run_id} did not finish ({message}); submitted again")

    try:
        done = submit(args.work_pool, ids, args.sources, lake.lake.url, lake.lake.data_path,
                      timeout=getattr(args, "timeout", None) or DEFAULT_TIMEOUT_S, on_resubmit=resubmitted,
                      shards=getattr(args, "pool_shards", None), concurrency=getattr(args, "concurrency", None))
    except PoolError as exc:
        raise Failed(f"work pool {args.work_pool!r}: {exc}") from None
    for sid, sub in done.submissions.items():  # the flow runs (and the worker) travel in the summary's crawl rows
        for row in ((done.sources[sid].get("crawl") or {}).get("sources") or []):
            if row.get("source_id") == sid:
                row["flow_runs"] = sub.to_json()["flow_runs"]  # [{"id", "state"}], in order
                row["worker"] = (done.sources[sid].get("worker") or {}).get("name")
    runs = sum(len(s.flow_runs) for s in done.units)
    again = runs - len(done.units)
    _say(f"work pool {args.work_pool}: {runs} flow run(s) in {done.elapsed_s:.0f}s"
         + (f", {again} submitted again after a crash" if again else ""))
    summary = runner.finish(opts, done.sources)
    summary["work_pool"] = done.to_json()
    return summary


def _say(text: str) -> None:
    from extractors.termsafe import terminal_safe

    try:
        print(terminal_safe(text, keep_newlines=False), file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
