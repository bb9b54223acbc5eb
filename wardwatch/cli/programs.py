"""`wardwatch programs`: programs (制度) per municipality with their current facts, and the export to the
デジタル庁 GIF 「行政サービス・制度」 model (JSON or CSV).

Formats: ``table`` (one line per program × municipality), ``json`` (the records of
``warehouse.programs.program_records``: program_id, name, scope, municipality, code, urls, facts,
last_changed), ``gif`` (one GIF 制度 record per program × municipality with its evidence,
``wardwatch.report.gif``) and ``csv`` (the GIF records flattened, UTF-8 with a BOM in a file for Excel).
``-o FILE`` writes the output through ``wardwatch.outfile`` (atomic, never through a symlink). An empty answer
is an empty array or a header row, exit 0; an unknown municipality name is bad usage (exit 2).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Usage, add_db, existing_db, print_json, safe_print
from wardwatch.cli.since import add_timezone, zone

FORMATS = ("table", "json", "gif", "csv")
BY_EXTENSION = {".csv": "csv", ".json": "json"}  # -o without --format (gif is .json too: give --format gif)
_CODE = re.compile(r"\d{5,6}")  # 全国地方公共団体コード, with or without its check digit
TABLE_COLUMNS = ("program", "scope", "id", "facts", "official", "secondary", "last_changed")
JSON_KEYS = ("program_id", "name", "scope", "municipality", "code", "urls", "official_urls", "secondary_urls",
             "facts", "first_seen", "last_changed")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("programs", help="programs (制度) per municipality; export to the GIF 制度 model",
                       description="Programs (制度) per municipality with their current facts and evidence: a table, "
                                   "JSON records, GIF 「行政サービス・制度」 records (--format gif, field names of the "
                                   "デジタル庁 model, each filled field with its evidence) or the GIF records as CSV "
                                   "for spreadsheets. See docs/programs.md.")
    add_db(p)
    p.add_argument("--municipality", metavar="NAME|CODE",
                   help="only this municipality: its name (練馬区) or its 全国地方公共団体コード (131202)")
    p.add_argument("--program", metavar="ID|NAME",
                   help="only this program: its id (jido-fuyo-teate, 131202:在宅就業推進) or part of its name")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="table (default), json, gif (GIF 制度 records as JSON) or csv (GIF records flattened)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write to FILE instead of stdout (json, gif or csv; .csv/.json choose the format when "
                        "--format is not given); CSV files get a UTF-8 BOM for Excel")
    add_timezone(p, "the time zone of the times shown and of 最終更新日")
    p.set_defaults(func=cmd_programs)


def _format(args: argparse.Namespace) -> str:
    """The output format: --format, else the -o file's extension, else table; Usage when they cannot be."""
    if args.output is None:
        return args.format or "table"
    fmt = args.format or BY_EXTENSION.get(args.output.suffix.lower())
    if fmt is None:
        raise Usage(f"-o {args.output}: give --format json, gif or csv (or a file ending in .json or .csv)")
    if fmt == "table":
        raise Usage("-o FILE writes json, gif or csv: give --format json, gif or csv")
    return fmt


def _check_municipality(db: Any, value: str | None) -> None:
    """An unknown municipality name is bad usage naming the known ones (a code is looked up as given)."""
    if not value or _CODE.fullmatch(value):
        return
    from warehouse.analyst import known_sources

    places = sorted({m for m in known_sources(db).values() if m})
    if value not in places:
        known = f"known: {', '.join(places)}" if places else "the warehouse has no sources yet"
        raise Usage(f"unknown municipality: {value} ({known})")


def cmd_programs(args: argparse.Namespace) -> int:
    from wardwatch.outfile import OutputRefused, check_target
    from warehouse.programs import program_records
    from warehouse.schema import migrate

    tz = zone(args.timezone)
    fmt = _format(args)
    if args.output is not None:
        try:
            check_target(args.output)  # refuse a symlink before the work, not after it
        except OutputRefused as exc:
            raise Usage(str(exc)) from None
    db = existing_db(args)
    migrate(db)
    _check_municipality(db, args.municipality)
    records = program_records(db, municipality=args.municipality, program=args.program)

    if fmt == "table":
        _table(records, tz)
        return 0
    if fmt == "json":
        data: Any = _json_records(records, tz)
    else:
        from wardwatch.cli.tables import plain
        from wardwatch.report.gif import gif_records

        data = plain(gif_records(records, _agencies(), tz=tz), tz)
    if fmt == "csv":
        return _csv(data, args.output)
    if args.output is None:
        print_json(data)
        return 0
    from wardwatch.cli.common import write_output_file

    write_output_file(args.output, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    print(f"{len(data)} record(s) written to {args.output}", file=sys.stderr)
    return 0


def _agencies() -> dict[str, str]:
    """Catalog program id → its agency (制度所管組織 of national and prefectural programs)."""
    from extractors.programs import load_catalog

    return {p.id: p.agency for p in load_catalog().programs if p.agency}


def _json_records(records: list[dict[str, Any]], tz: Any) -> list[dict[str, Any]]:
    from wardwatch.cli.tables import plain

    return [plain({k: r.get(k) for k in JSON_KEYS}, tz) for r in records]


def _table(records: list[dict[str, Any]], tz: Any) -> None:
    from wardwatch.cli.tables import render

    rows = [(f"{r['municipality']} › {r['name']}", r["scope"], r["program_id"], len(r["facts"]),
             len(r.get("official_urls") or []), len(r.get("secondary_urls") or []), _minute(r.get("last_changed"), tz))
            for r in records]
    if rows:
        lines, _ = render(TABLE_COLUMNS, rows)
        for line in lines:
            safe_print(line)
    print(f"({len(rows)} programs)")


def _minute(value: Any, tz: Any) -> str | None:
    """A time as ``YYYY-MM-DD HH:MM`` in ``tz``."""
    if value is None or not hasattr(value, "astimezone"):
        return None if value is None else str(value)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _csv(records: list[dict[str, Any]], output: Path | None) -> int:
    from wardwatch.report.gif import csv_header, csv_row, to_csv

    if output is None:
        from extractors.termsafe import safe_csv
        from wardwatch.report.gif import csv_cell

        safe_csv([csv_header(), *([csv_cell(v) for v in csv_row(r)] for r in records)])
        return 0
    from wardwatch.cli.common import write_output_file

    write_output_file(output, to_csv(records, bom=True))
    print(f"{len(records)} record(s) written to {output}", file=sys.stderr)
    return 0
