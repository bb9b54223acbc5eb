"""The `wardwatch` command line: a thin layer over the stages, the runner and the warehouse.

Exit codes: 0 ok, 1 the work failed (one-line reason on stderr), 2 bad usage or a bad registry.
Machine output (`--format json`) goes to stdout; progress and human output to the terminal.
One module per command group registers its commands; each imports its work lazily so `--help`
stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import version

from wardwatch.cli import analyst, crawl, datasets, demo, doctor, extract, report, run, schedule
from wardwatch.cli.common import Failed, Usage

GROUPS = (crawl, run, schedule, demo, extract, analyst, datasets, report, doctor)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description="Crawl municipal support-program pages and PDFs into a versioned DuckDB warehouse.",
    )
    parser.add_argument("--version", action="version", version=f"wardwatch {version('wardwatch')}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None, *, warehouse: object | None = None) -> int:
    """Run one command; returns its exit code. ``warehouse`` (a ``warehouse.db.Warehouse``, e.g. an
    in-memory one) stands in for ``--db`` — for tests and embedding."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.warehouse = warehouse
    from warehouse.db import WarehouseError

    try:
        return args.func(args)
    except Usage as exc:
        print(f"wardwatch {args.command}: {exc}", file=sys.stderr)
        return 2
    except (Failed, WarehouseError) as exc:
        print(f"wardwatch {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"wardwatch {args.command}: interrupted", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"wardwatch {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback to the user; WARDWATCH_DEBUG=1 shows it
        if os.environ.get("WARDWATCH_DEBUG"):
            raise
        print(f"wardwatch {args.command}: internal error: {type(exc).__name__}: {exc} (WARDWATCH_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
