"""`wardwatch doctor`: check a warehouse's integrity (exit 0 healthy, 1 with problems).

Wired in ``wardwatch/cli_more.py``::

    cli_doctor.register(sub, cli._add_db, cli._add_format)

Also runnable on its own: ``python -m wardwatch.cli_doctor [--db PATH] [--format json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: argparse._SubParsersAction, add_db: Any, add_format: Any) -> None:
    p = sub.add_parser("doctor", help="check the warehouse's integrity",
                       description="Check that every version has its blob (with an honest hash), validity intervals "
                                   "do not overlap, every fact points to a version, and nothing a crash could break "
                                   "is broken. Exit 0 when healthy, 1 when a problem was found.")
    add_db(p)
    add_format(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from wardwatch.cli import Failed, resolve_db
    from warehouse.doctor import check

    report = check(resolve_db(args))
    if args.format == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render(report))
    if not report.healthy:
        raise Failed(f"{report.db}: {len(report.problems)} integrity problem(s): "
                     + "; ".join(f"{p.check} ({p.count})" for p in report.problems))
    return 0


def render(report: Any) -> str:
    totals = ", ".join(f"{n} {name}" for name, n in report.totals.items())
    lines = [f"{report.db}: {'healthy' if report.healthy else 'PROBLEMS FOUND'}" + (f" ({totals})" if totals else "")]
    for p in report.problems:
        lines.append(f"  problem  {p.check:<22} {p.count:>6}  {p.message}")
        lines += [f"           e.g. {e}" for e in p.examples]
    lines += [f"  note     {n}" for n in report.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point with the same exit codes as the `wardwatch` CLI."""
    from wardwatch import cli
    from warehouse.db import WarehouseError

    parser = argparse.ArgumentParser(prog="wardwatch")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub, cli._add_db, cli._add_format)
    args = parser.parse_args(["doctor", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except (cli.Failed, WarehouseError) as exc:
        print(f"wardwatch doctor: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
