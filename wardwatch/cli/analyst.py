"""Analyst commands: `changes`, `flags`, `query`, `export`, `diff`."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from wardwatch.cli.common import Failed, add_db, add_format, existing_db
from wardwatch.cli.summaries import diff_summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("changes", help="fact-level changes between versions",
                       description="Facts added, removed or changed between consecutive good versions of each URL.")
    add_db(p)
    p.add_argument("--since", metavar="DATE|RUN", help="only changes detected since an ISO date/time or a run id")
    add_format(p)
    p.set_defaults(func=cmd_changes)

    p = sub.add_parser("flags", help="flags on outdated program data",
                       description="Flags raised by the rules (fact_changed, secondary_outdated, stale_reference, ...).")
    add_db(p)
    p.add_argument("--open", action="store_true", help="only flags that are still open")
    add_format(p)
    p.set_defaults(func=cmd_flags)

    p = sub.add_parser("query", help="run read-only SQL on the warehouse",
                       description="Run SQL on a read-only connection; waits while a crawl holds the write lock.")
    p.add_argument("sql")
    add_db(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="write every table and view as Parquet files")
    p.add_argument("folder", type=Path, metavar="DIR")
    add_db(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("diff", help="detect changes and evaluate flags now (normally part of `run`)",
                       description="Diff every new version against its baseline and open/close flags.")
    add_db(p)
    p.add_argument("--source", dest="source_id", metavar="ID")
    add_format(p)
    p.set_defaults(func=cmd_diff)


def _ensure_schema(db: Path) -> None:
    from warehouse.schema import migrate

    migrate(db)


def cmd_changes(args: argparse.Namespace) -> int:
    from warehouse.analyst import changes

    db = existing_db(args)
    _ensure_schema(db)
    rows = changes(db, args.since)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['detected_at'][:10]}  {r['program'] or '-'} / {r['kind']} / {r['qualifier'] or '-'}: "
                  f"{r['before_text'] or '∅'} → {r['after_text'] or '∅'}  ({r['change']})  {r['url']}")
        print(f"({len(rows)} changes)")
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
    from warehouse.analyst import flags

    db = existing_db(args)
    _ensure_schema(db)
    rows = flags(db, args.open)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            state = "open" if r["closed_at"] is None else f"closed {r['closed_at'][:10]}"
            print(f"{r['severity']:<6} {r['rule']:<31} {state:<17} {r['program'] or '-'}  {r['url'] or ''}")
        print(f"({len(rows)} flags)")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.analyst import query

    try:
        cols, rows = query(existing_db(args), args.sql)
    except duckdb.Error as exc:
        raise Failed(f"query failed: {str(exc).strip().splitlines()[0]}") from None
    if args.format == "json":
        print(json.dumps([dict(zip(cols, r)) for r in rows], ensure_ascii=False, indent=2, default=str))
    elif args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows)
    else:
        widths = [min(40, max([len(c)] + [len(str(r[i])) for r in rows])) for i, c in enumerate(cols)]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
        for r in rows:
            print("  ".join(str(v)[:40].ljust(w) for v, w in zip(r, widths)))
        print(f"({len(rows)} rows)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.analyst import export

    db = existing_db(args)
    _ensure_schema(db)
    for name, n in export(db, args.folder):
        print(f"{args.folder / (name + '.parquet')}: {n} rows")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from wardwatch.stages.changes import detect_changes

    db = existing_db(args)
    _ensure_schema(db)
    result = detect_changes(db, source_id=args.source_id)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        print(diff_summary(result))
    return 0
