"""`wardwatch demo`."""

from __future__ import annotations

import argparse
from pathlib import Path

from wardwatch.cli.common import Failed, Usage, add_format, check_db_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="offline demo: crawl a bundled site twice and show what changed",
                       description="Serve a bundled ward site on 127.0.0.1, crawl it, revise it, crawl again, "
                                   "print the changes. Uses its own warehouse, recreated each time.")
    p.add_argument("--db", type=Path, default=Path("data/demo.duckdb"), metavar="PATH",
                   help="demo warehouse (default: data/demo.duckdb; replaced on each demo)")
    add_format(p)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from wardwatch.demo.script import DemoError, ForeignWarehouse, run_demo

    check_db_path(args.db)  # a FIFO, a device or a directory is refused like any --db
    try:
        return run_demo(args.db, fmt=args.format)
    except ForeignWarehouse as exc:
        raise Usage(str(exc)) from None
    except DemoError as exc:
        raise Failed(str(exc)) from None
