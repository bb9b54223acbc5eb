"""`wardwatch report` (HTML / Markdown / JSON change report) and `wardwatch review` (the review app)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

from wardwatch.cli.common import Failed, Usage, add_db, add_format, resolve_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the change report: fact changes, outdated data flags, crawl health",
                       description="What needs an editor's attention: fact changes (before → after, with the "
                                   "sentence around each value), flags on outdated published data, text diffs and "
                                   "crawl health. Items marked reviewed or noise (`wardwatch review`) and changes "
                                   "matched by a noise rule are left out unless --all is given.")
    add_db(p)
    p.add_argument("--since", metavar="DATE|RUN", help="only changes detected since this date/time or run id")
    add_format(p, ("html", "md", "json"))
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--all", action="store_true", help="include items already reviewed or dismissed as noise")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("review", help="the review app: a local web page to mark changes and flags",
                       description="Serve the review queue on 127.0.0.1: filter by ward, program, flag rule and "
                                   "status; mark each item 確認済み / 要確認 / ノイズ with a note. Decisions are stored "
                                   "in the warehouse. Stop with Ctrl+C.")
    add_db(p)
    p.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    p.add_argument("--reviewer", metavar="NAME", default=None,
                   help="name recorded with decisions (default: $WARDWATCH_REVIEWER)")
    p.set_defaults(func=cmd_review)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {port}")
    return port


def check_since(db: Path, since: str | None) -> None:
    from warehouse.review import RUN_ID_RE, run_exists

    if not since:
        return
    if RUN_ID_RE.fullmatch(since):
        if not run_exists(db, since):
            raise Usage(f"--since: no run {since!r} in {db}")
        return
    try:
        datetime.fromisoformat(since)
    except ValueError:
        raise Usage(f"--since: expected a date (2026-11-01), a date-time or a run id, got {since!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from wardwatch.report import render

    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    check_since(db, args.since)
    out = render(db, args.format, since=args.since, include_all=args.all)
    if args.output is None:
        sys.stdout.write(out)
        return 0
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(out, encoding="utf-8")
    except OSError as exc:
        raise Failed(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    print(f"report written to {args.output}", file=sys.stderr)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from wardwatch.review.app import LOOPBACK, serve

    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    reviewer = args.reviewer or os.environ.get("WARDWATCH_REVIEWER") or None
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host, args.port))
    except OSError as exc:
        raise Failed(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    if args.host not in LOOPBACK:
        print(f"warning: binding {args.host} makes the review app reachable from other machines", file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"wardwatch review: http://{shown}:{args.port}/ ({db}; Ctrl+C to stop)", file=sys.stderr)
    serve(db, host=args.host, port=args.port, reviewer=reviewer)
    return 0
