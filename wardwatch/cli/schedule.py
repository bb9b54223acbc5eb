"""`wardwatch schedule`: keep every source's pipeline running on its cron schedule (Prefect).

Prefect's automatic local mode runs flows but not schedules, so when PREFECT_API_URL is unset
this starts `prefect server start` on loopback itself (its UI then shows the runs), serves one
deployment per source, and stops the server on Ctrl-C / SIGTERM. `--list` needs no server.
Prefect is imported lazily, after PREFECT_HOME has been set.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, Usage, add_db, add_format, add_sources, file_db, load_registry

DEFAULT_TZ = "Asia/Tokyo"  # the registry's crons are the municipalities' local time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schedule", help="run each source's pipeline on its cron schedule (Prefect); --list shows next runs",
        description="Serve one Prefect deployment per source with the source's cron from the registry. Without "
                    "PREFECT_API_URL a local Prefect server is started on 127.0.0.1 (and stopped on exit); its UI "
                    "shows the runs. Ctrl-C or SIGTERM stops cleanly.")
    add_sources(p)
    add_db(p)
    add_format(p)
    p.add_argument("--list", action="store_true", help="print each source's next run time and exit (no server)")
    p.add_argument("--timezone", default=os.environ.get("WARDWATCH_TIMEZONE") or DEFAULT_TZ, metavar="TZ",
                   help=f"time zone of the crons (default: $WARDWATCH_TIMEZONE, else {DEFAULT_TZ})")
    p.add_argument("--port", type=int, default=4200, metavar="N",
                   help="port of the local Prefect server (default 4200; a free one if taken)")
    p.add_argument("--webhook", metavar="URL", default=None,
                   help="POST a JSON note here when a run finds changes or new flags (default: $WARDWATCH_WEBHOOK_URL)")
    p.set_defaults(func=cmd_schedule)


def next_runs(sources: list[Any], tz_name: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each source's next run time from its cron (cronsim), in ``tz_name``."""
    from zoneinfo import ZoneInfo

    from cronsim import CronSim

    tz = ZoneInfo(tz_name)
    now = (now or datetime.now(tz)).astimezone(tz)
    return [{"source_id": s.id, "schedule": s.schedule, "timezone": tz_name,
             "next_run": next(CronSim(s.schedule, now)).isoformat()}
            for s in sources]


def cmd_schedule(args: argparse.Namespace) -> int:
    sources = load_registry(args)
    _check_timezone(args.timezone)
    if args.list:
        rows = next_runs(sources, args.timezone)
        if args.format == "json":
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            width = max([len(r["source_id"]) for r in rows] + [6])
            print(f"{'source':<{width}}  {'schedule':<15}  next run ({args.timezone})")
            for r in rows:
                print(f"{r['source_id']:<{width}}  {r['schedule']:<15}  {r['next_run']}")
        return 0
    return serve_schedules(args, file_db(args), sources)


def serve_schedules(args: argparse.Namespace, db_path: Path, sources: list[Any]) -> int:
    from wardwatch.cli.prefect_server import LocalServer, ServerError, configure_env, drain_prefect
    from wardwatch.stages import interrupt

    home = configure_env(db_path)
    if args.webhook:
        os.environ["WARDWATCH_WEBHOOK_URL"] = args.webhook  # inherited by the runs; not stored in Prefect
    server = None
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if not os.environ.get("PREFECT_API_URL"):
            print(f"starting a local Prefect server (PREFECT_HOME={home}) ...", file=sys.stderr)
            try:
                server = LocalServer(home, port=args.port).start()
            except ServerError as exc:
                raise Failed(str(exc)) from None
            os.environ["PREFECT_API_URL"] = server.api_url
        from prefect import serve

        from flows.deployments import build_deployments

        deployments = build_deployments(args.sources, db_path, sources, args.timezone)
        where = f"Prefect UI: {server.ui_url}" if server else f"Prefect API: {os.environ['PREFECT_API_URL']}"
        print(f"serving {len(deployments)} deployment(s) of wardwatch-pipeline ({args.timezone}); {where}; "
              f"Ctrl-C to stop", file=sys.stderr)
        for row in next_runs(sources, args.timezone):
            print(f"  {row['source_id']}: {row['schedule']} (next {row['next_run']})", file=sys.stderr)
        # Prefect's runner answers SIGTERM itself (pauses the schedules, then sys.exit(0))
        warnings.filterwarnings("ignore", message="coroutine 'Runner.astop' was never awaited")
        try:
            serve(*deployments, print_starting_message=False)  # returns on Ctrl-C
        except Exception as exc:  # e.g. PREFECT_API_URL points at a server that does not answer
            raise Failed(f"prefect: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}") from None
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # the runner's way out on SIGTERM
        if exc.code not in (0, None):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            interrupt.bounded(drain_prefect, timeout=10.0)  # logs and events reach the server before it stops
            print("stopping the local Prefect server ...", file=sys.stderr)
            server.stop()
    print("schedule stopped", file=sys.stderr)
    return 0


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Usage(f"unknown time zone {name!r} (an IANA name such as Asia/Tokyo or UTC)") from None
