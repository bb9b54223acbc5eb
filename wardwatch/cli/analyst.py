"""Analyst commands: `changes`, `flags`, `query`, `export`, `diff`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, Usage, add_db, add_format, existing_db, print_json, safe_print
from wardwatch.cli.filters import add_filters, filter_kwargs, require_known_sources, split
from wardwatch.cli.since import add_since, add_timezone, resolve_since, zone
from wardwatch.cli.summaries import diff_summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("changes", help="fact-level changes between versions",
                       description="Facts added, removed or changed between consecutive good versions of each URL, "
                                   "newest first. Filters combine (AND); a repeated filter means any of its values. "
                                   "Times are shown in --timezone (default Asia/Tokyo, as the report).")
    add_db(p)
    add_since(p)
    add_filters(p)
    add_format(p, ("table", "json", "csv"))
    p.set_defaults(func=cmd_changes)

    p = sub.add_parser("flags", help="flags on outdated program data",
                       description="Flags raised by the rules (fact_changed, secondary_outdated, stale_reference, ...), "
                                   "newest first. Filters combine (AND); a repeated filter means any of its values.")
    add_db(p)
    p.add_argument("--open", action="store_true", help="only flags that are still open")
    add_since(p, "flags first seen")
    add_filters(p, flags=True)
    add_format(p, ("table", "json", "csv"))
    p.set_defaults(func=cmd_flags)

    p = sub.add_parser("query", help="run read-only SQL on the warehouse",
                       description="Run one SELECT (WITH … SELECT, EXPLAIN) on a snapshot of the warehouse: a "
                                   "private read-only copy taken under a short lock, so a long query never makes a "
                                   "crawl wait. Settings, PRAGMA, CALL, logging, profiling, extensions, file access "
                                   "and writes are refused. Tables show every cell in full (NULL as NULL) aligned by "
                                   "display width; --format json gives JSON columns as JSON.")
    p.add_argument("sql")
    add_db(p)
    p.add_argument("--format", choices=("table", "csv", "json"), default=None,
                   help="output format on stdout (default: table)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write the result to FILE instead: .csv, .json, .parquet or .xlsx (by its extension)")
    p.add_argument("--max-width", type=_positive, metavar="N",
                   help="table: cut cells wider than N display columns, ending them in …")
    add_timezone(p, "the session's time zone (ts::DATE, strftime) and that of the times shown")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("export", help="write every table and view as Parquet files",
                       description="Write the warehouse's tables and views as DIR/<name>.parquet "
                                   "(all of them, or those of --tables, less those of --exclude).")
    p.add_argument("folder", type=Path, metavar="DIR")
    add_db(p)
    p.add_argument("--tables", action="append", metavar="A,B", help="only these tables/views (repeatable)")
    p.add_argument("--exclude", action="append", metavar="C", help="not these tables/views (repeatable)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("diff", help="detect changes and evaluate flags now (normally part of `run`)",
                       description="Diff every new version against its baseline and open/close flags.")
    add_db(p)
    p.add_argument("--source", dest="source_id", metavar="ID", help="only this source's new versions")
    add_format(p)
    p.set_defaults(func=cmd_diff)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


def _ensure_schema(db: Path) -> None:
    from warehouse.schema import migrate

    migrate(db)


CHANGE_COLUMNS = ("detected_at", "municipality", "source_id", "program", "kind", "qualifier", "change", "before",
                  "after", "before_text", "after_text", "url", "program_id")
FLAG_COLUMNS = ("first_seen", "closed_at", "severity", "rule", "municipality", "source_id", "program", "kind", "url",
                "evidence", "program_id")


def cmd_changes(args: argparse.Namespace) -> int:
    from warehouse.analyst import changes

    tz = zone(args.timezone)
    db = existing_db(args)
    _ensure_schema(db)
    rows = changes(db, resolve_since(db, args.since, tz), tz=tz, **filter_kwargs(db, args))
    if args.format == "json":
        print_json(rows)
    elif args.format == "csv":
        _csv(CHANGE_COLUMNS, rows)
    else:
        for r in rows:
            safe_print(f"{r['detected_at'][:10]}  {_line(r['program']) or '-'} / {r['kind']} / {r['qualifier'] or '-'}: "
                       f"{_line(r['before_text']) or '∅'} → {_line(r['after_text']) or '∅'}  ({r['change']})  {r['url']}")
        print(f"({len(rows)} changes)")
    return 0


def cmd_flags(args: argparse.Namespace) -> int:
    from warehouse.analyst import flags

    tz = zone(args.timezone)
    db = existing_db(args)
    _ensure_schema(db)
    rows = flags(db, args.open, since=resolve_since(db, args.since, tz), tz=tz, **filter_kwargs(db, args))
    if args.format == "json":
        print_json(rows)
    elif args.format == "csv":
        _csv(FLAG_COLUMNS, rows)
    else:
        for r in rows:
            state = "open" if r["closed_at"] is None else f"closed {r['closed_at'][:10]}"
            safe_print(f"{r['severity']:<6} {r['rule']:<31} {state:<17} {_line(r['program']) or '-'}  {r['url'] or ''}")
        print(f"({len(rows)} flags)")
    return 0


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Rows of `changes`/`flags` as CSV on stdout: values as in JSON (structured ones as JSON text), NULL empty."""
    from extractors.termsafe import safe_csv
    from wardwatch.cli.tables import text

    safe_csv([columns, *([text(r[c], null="") for c in columns] for r in rows)])


def _line(value: object) -> str:
    """One table cell: terminal-safe, on one line."""
    from extractors.termsafe import terminal_safe

    return "" if value is None else terminal_safe(str(value), keep_newlines=False)


def cmd_query(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.analyst import QueryRefused, check_query

    tz = zone(args.timezone)
    fmt = args.format or "table"
    if args.output is not None:
        from wardwatch.cli.resultfiles import file_format

        fmt = file_format(args.output)
        if args.format is not None and args.format != fmt:
            raise Usage(f"--format {args.format} and -o {args.output} ({fmt}) disagree: give one of them")
    if args.max_width is not None and (fmt != "table" or args.output is not None):
        raise Usage("--max-width shortens table cells only (not with --format csv/json or -o FILE)")
    try:
        check_query(args.sql)  # before looking for the warehouse: bad SQL is bad usage wherever it runs
    except QueryRefused as exc:
        raise Usage(f"refused: {exc}") from None
    except duckdb.Error as exc:
        raise Failed(f"query failed: {_first_line(exc)}") from None
    db = existing_db(args)
    try:
        if args.output is not None:
            return _query_to_file(db, args, fmt, tz)
        from warehouse.analyst import query_result

        result = query_result(db, args.sql, _tz_key(tz))
    except QueryRefused as exc:
        raise Usage(f"refused: {exc}") from None
    except duckdb.Error as exc:
        raise Failed(f"query failed: {_first_line(exc)}") from None
    cols, rows = result.columns, result.rows
    if fmt == "json":
        from wardwatch.cli.tables import json_rows

        print_json(json_rows(cols, result.types, rows, tz))
    elif fmt == "csv":
        from extractors.termsafe import safe_csv
        from wardwatch.cli.tables import text

        safe_csv([cols, *([text(v, tz, null="") for v in r] for r in rows)])
    elif cols == ["explain_key", "explain_value"]:  # EXPLAIN: the plan as DuckDB draws it
        for _, plan in rows:
            safe_print(plan)
    else:
        from wardwatch.cli.tables import render

        lines, cut = render(cols, rows, tz=tz, max_width=args.max_width)
        for line in lines:
            safe_print(line)
        note = f"; {cut} cell(s) cut at {args.max_width} columns (…)" if cut else ""
        print(f"({len(rows)} rows{note})")
    return 0


def _query_to_file(db: Any, args: argparse.Namespace, fmt: str, tz: Any) -> int:
    """`query -o FILE`: the result written through wardwatch.outfile (atomic, refusing a symlink)."""
    from wardwatch.cli.common import write_output_file
    from wardwatch.outfile import OutputRefused, check_target, output_path
    from warehouse.analyst import query_parquet, query_result

    path: Path = args.output
    try:
        check_target(path)  # refuse a symlink before the work, not after it
    except OutputRefused as exc:
        raise Usage(str(exc)) from None
    cut = 0
    try:
        if fmt == "parquet":
            with output_path(path) as tmp:
                _, n = query_parquet(db, args.sql, tmp, _tz_key(tz))
        else:
            result = query_result(db, args.sql, _tz_key(tz))
            n = len(result.rows)
            from wardwatch.cli import resultfiles

            if fmt == "csv":
                write_output_file(path, resultfiles.csv_text(result.columns, result.rows, tz))
            elif fmt == "json":
                write_output_file(path, resultfiles.json_text(result.columns, result.types, result.rows, tz))
            else:
                resultfiles.check_xlsx_size(path, result.columns, n)
                with output_path(path) as tmp:
                    cut = resultfiles.write_xlsx(tmp, result.columns, result.rows, tz)
    except OutputRefused as exc:
        raise Usage(str(exc)) from None
    except OSError as exc:
        raise Failed(f"{path}: cannot write: {exc.strerror or exc}") from None
    note = f"; {cut} cell(s) longer than an Excel cell holds were cut (…): use .parquet or .csv" if cut else ""
    print(f"{n} rows written to {path}{note}", file=sys.stderr)
    return 0


def _tz_key(tz: Any) -> str | None:
    """The IANA name DuckDB's session takes (None for a fixed offset: the session keeps its own)."""
    return getattr(tz, "key", None)


def _first_line(exc: Exception) -> str:
    from extractors.termsafe import terminal_safe

    lines = str(exc).strip().splitlines()
    return terminal_safe(lines[0] if lines else type(exc).__name__, keep_newlines=False)


def cmd_export(args: argparse.Namespace) -> int:
    from wardwatch.outfile import OutputRefused, place
    from warehouse.analyst import UnknownNames, export

    db = existing_db(args)
    _ensure_schema(db)
    folder = args.folder
    if folder.exists() and not folder.is_dir():
        raise Usage(f"{folder}: not a directory")
    try:
        for name, n in export(db, folder, place=place, tables=split(args.tables), exclude=split(args.exclude) or ()):
            safe_print(f"{folder / (name + '.parquet')}: {n} rows")
    except (OutputRefused, UnknownNames) as exc:
        raise Usage(str(exc)) from None
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from wardwatch.stages.changes import detect_changes

    db = existing_db(args)
    _ensure_schema(db)
    require_known_sources(db, [args.source_id])
    result = detect_changes(db, source_id=args.source_id)
    if args.format == "json":
        print_json(result, default=str)
    else:
        safe_print(diff_summary(result))
    return 0
