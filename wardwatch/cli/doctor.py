"""`wardwatch doctor`: check a warehouse's integrity (exit 0 healthy, 1 with problems)."""

from __future__ import annotations

import argparse
from typing import Any

from extractors.termsafe import safe_print
from wardwatch.cli.common import Failed, add_db, add_format, print_json, resolve_db


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the warehouse's integrity",
                       description="Check that every version has its blob (with an honest hash) and agrees with its "
                                   "first fetch, validity intervals do not overlap, every fetch has its run, every "
                                   "fact points to a version and still matches its extraction's main text and value, "
                                   "and nothing a crash could break is broken. Exit 0 when healthy, 1 when a problem "
                                   "was found.")
    add_db(p)
    add_format(p)
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from warehouse.doctor import check

    report = check(resolve_db(args))
    if args.format == "json":
        print_json(report.to_json(), indent=2)
    else:
        safe_print(render(report))
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
