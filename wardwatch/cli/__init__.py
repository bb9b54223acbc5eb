"""The `wardwatch` command line: a thin layer over the stages, the runner and the warehouse.

Exit codes: 0 ok, 1 the work failed (one-line reason on stderr), 2 bad usage or a bad registry,
130 / 143 stopped by SIGINT / SIGTERM (`run`, `crawl`, `reextract`: the run is recorded as interrupted).
Machine output (`--format json`) goes to stdout; progress and human output to the terminal.
One module per command group registers its commands; each imports its work lazily so `--help`
stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import version

from wardwatch.cli import (
    analyst,
    crawl,
    datasets,
    demo,
    doctor,
    extract,
    migrate_warehouse,
    programs,
    report,
    run,
    schedule,
    sources,
    worker,
)
from wardwatch.cli.common import Failed, Usage

GROUPS = (crawl, run, schedule, demo, extract, analyst, programs, datasets, report, doctor, sources, migrate_warehouse,
          worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description="Crawl municipal support-program pages and PDFs into a versioned DuckDB warehouse.",
    )
    parser.add_argument("--version", action="version", version=f"wardwatch {version('wardwatch')}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None, *, warehouse: object | None = None) -> int:
    """Run one command; returns its exit code. ``warehouse`` (a ``warehouse.db.Warehouse``, e.g. an
    in-memory one) stands in for ``--db`` — for tests and embedding."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `wardwatch`: what it can do, not an error
        parser.print_help()
        print("\nStart with `wardwatch demo` (offline, ~1 minute); `wardwatch COMMAND --help` for one command.")
        return 0
    args.warehouse = warehouse
    if args.command in INTERRUPTIBLE:
        from wardwatch.stages import interrupt

        interrupt.install(f"wardwatch {args.command}")
        try:
            return _interruptible(_main(args))
        finally:
            interrupt.uninstall()
    return _main(args)


INTERRUPTIBLE = {"run", "crawl", "reextract", "demo"}  # SIGINT/SIGTERM: stop within seconds, exit 130/143


def _interruptible(code: int) -> int:
    """After an interrupt, end the process now if worker threads are still busy (a stage that cannot
    be stopped midway): what they were doing is left as a kill -9 would leave it, which the warehouse
    survives (the next run resumes)."""
    from wardwatch.stages import interrupt

    if code in (130, 143) and interrupt.requested() is not None and interrupt.lingering_threads():
        interrupt.run_cleanups()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)
    return code


def _say(args: argparse.Namespace, message: str) -> None:
    """The one error line on stderr (its text can carry crawled strings: made terminal-safe, one line)."""
    from extractors.termsafe import terminal_safe

    print(terminal_safe(f"wardwatch {args.command}: {message}", keep_newlines=False), file=sys.stderr)


def _main(args: argparse.Namespace) -> int:
    from wardwatch.stages.errors import Interrupted
    from warehouse.db import WarehouseError

    try:
        return args.func(args)
    except Usage as exc:
        _say(args, str(exc))
        return 2
    except (Failed, WarehouseError) as exc:
        _say(args, str(exc))
        return 1
    except Interrupted as exc:  # SIGINT / SIGTERM: 128 + the signal's number
        _say(args, str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"wardwatch {args.command}: interrupted by SIGINT", file=sys.stderr)
        return 130
    except OSError as exc:
        _say(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 1
    except Exception as exc:  # never a traceback to the user; WARDWATCH_DEBUG=1 shows it
        from wardwatch.stages import interrupt

        signum = interrupt.requested()
        if signum is not None:  # our stop, turned into a library's own error (DuckDB: "Query interrupted")
            import signal

            _say(args, f"interrupted by {signal.Signals(signum).name} ({type(exc).__name__}: {exc})")
            return 128 + signum
        if os.environ.get("WARDWATCH_DEBUG"):
            raise
        _say(args, f"internal error: {type(exc).__name__}: {exc} (WARDWATCH_DEBUG=1 for details)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
