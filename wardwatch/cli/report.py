"""`wardwatch report` (HTML / Markdown / JSON change report) and `wardwatch review` (the review app)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from wardwatch.cli.common import Failed, Usage, add_db, add_format, resolve_db, write_output_file
from wardwatch.cli.since import add_since, resolve_since, zone


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the change report: fact changes, outdated data flags, crawl health",
                       description="What needs an editor's attention: fact changes (before → after, with the "
                                   "sentence around each value), flags on outdated published data, text diffs and "
                                   "crawl health. Items marked reviewed or noise (`wardwatch review`) and changes "
                                   "matched by a noise rule are left out unless --all is given.")
    add_db(p)
    add_since(p, tz_help="time zone for --since dates without an offset")
    add_format(p, ("html", "md", "json"))
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--all", action="store_true", help="include items already reviewed or dismissed as noise")
    p.add_argument("--app-url", metavar="URL", default=None,
                   help="HTML: link archived versions (保存版) to the review app at URL (default: "
                        "$WARDWATCH_REVIEW_URL); without it their extracted text is embedded in the file")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("review", help="the review app: a local web page to mark changes and flags",
                       description="Serve the review queue on 127.0.0.1: filter by ward, source, program, flag rule "
                                   "and status; mark items 確認済み / 要確認 / ノイズ with a note, one by one or in bulk, "
                                   "and undo; list, disable and re-enable noise rules (/rules); archived versions with "
                                   "previous/next and a diff (/archive/<id>); an Atom feed of changes and flags "
                                   "(/feed.atom?ward=…). Decisions are stored in the warehouse. Stop with Ctrl+C.")
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


def cmd_report(args: argparse.Namespace) -> int:
    from wardwatch.report import render

    db = resolve_db(args)
    if not db.exists():
        raise Failed(f"{db}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)")
    args.since = resolve_since(db, args.since, zone(args.timezone))  # a run id or an ISO time with its offset
    from wardwatch.outfile import check_target

    if args.output is not None:
        try:
            check_target(args.output)  # refuse a symlink before the work, not after it
        except ValueError as exc:
            raise Usage(str(exc)) from None
    out = _html_report(db, args) if args.format == "html" else render(db, args.format, since=args.since,
                                                                       include_all=args.all)
    if args.output is None and args.format == "html" and sys.stdout.isatty():
        # 33 KB of HTML is no use on a terminal: write the file where the runs write theirs, say where it is
        from datetime import UTC, datetime

        folder = Path(str(db)).parent / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        args.output = folder / f"report-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.html"
        write_output_file(args.output, out)
        print(f"report written to {args.output.resolve()} (open it in a browser; -o FILE to choose, "
              "or pipe the command to get the HTML on stdout)")
        return 0
    if args.output is None:
        # on the terminal: escapes and controls removed (JSON: escaped, still valid); -o FILE keeps the render as is
        from extractors.termsafe import safe_json_text, terminal_safe

        sys.stdout.write(safe_json_text(out) if args.format == "json" else terminal_safe(out))
        return 0
    write_output_file(args.output, out)
    print(f"report written to {args.output}", file=sys.stderr)
    return 0


def _html_report(db: Path, args: argparse.Namespace) -> str:
    """The HTML report: archived versions linked to the review app (--app-url / $WARDWATCH_REVIEW_URL) or
    embedded in the file."""
    from wardwatch.report import model_of
    from wardwatch.report.archive import embed_archive
    from wardwatch.report.html import REVIEW_URL_ENV, report_page, review_url

    app_url = args.app_url if args.app_url is not None else os.environ.get(REVIEW_URL_ENV)
    if app_url and not review_url(app_url):
        where = "--app-url" if args.app_url is not None else f"${REVIEW_URL_ENV}"
        raise Usage(f"{where}: expected the review app's http(s) address (http://127.0.0.1:8000), got {app_url!r}")
    model = embed_archive(db, model_of(db, since=args.since, include_all=args.all), app_url=app_url or "")
    return report_page(model, app_url=app_url or "")


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
    print(f"wardwatch review: http://{shown}:{args.port}/ ({db}; Atom feed: /feed.atom; Ctrl+C to stop)",
          file=sys.stderr)
    serve(db, host=args.host, port=args.port, reviewer=reviewer)
    return 0
