"""`wardwatch import-dataset FILE`: load a structured program dataset as a secondary source."""

from __future__ import annotations

import argparse
from typing import Any

from wardwatch.cli.common import Failed, Usage, add_db, add_format, print_json, resolve_db, safe_print


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-dataset", help="load a structured program dataset (Civichat JSON or CSV) as a secondary source",
        description="Validate every row of a program dataset (Civichat / CPSV-J style JSON, or the simple CSV "
                    "municipality,program,kind,qualifier,value,text,url) and load it as the newest version of a "
                    "secondary source. A file with any malformed row is reported row by row and nothing is "
                    "imported; re-importing a file already loaded for the source does nothing. See docs/datasets.md.")
    p.add_argument("file", metavar="FILE")
    add_db(p)
    p.add_argument("--source", dest="source_id", metavar="ID",
                   help="source id (default: from the file name, e.g. civichat-shibuya)")
    p.add_argument("--municipality", metavar="NAME",
                   help="municipality of the data when the records do not name one (default: from the data, else 全国)")
    p.add_argument("--format-in", dest="format_in", choices=("civichat", "csv"),
                   help="input format (default: detected from the content)")
    add_format(p)
    p.set_defaults(func=cmd_import_dataset)


def cmd_import_dataset(args: argparse.Namespace) -> int:
    from wardwatch.stages.datasets import SOURCE_ID_RE, DatasetError, import_dataset
    from warehouse.schema import migrate

    if args.source_id is not None and not SOURCE_ID_RE.fullmatch(args.source_id):
        raise Usage(f"--source {args.source_id!r}: use lower-case letters, digits, - and _")
    if args.municipality is not None and not args.municipality.strip():
        raise Usage("--municipality: empty name")
    db = resolve_db(args)
    migrate(db)
    try:
        result = import_dataset(db, args.file, source_id=args.source_id, municipality=args.municipality,
                                fmt=args.format_in)
    except DatasetError as exc:
        if args.format == "json":
            print_json(exc.to_json())
        else:
            safe_print(problems_table(exc))
        from extractors.termsafe import terminal_safe

        raise Failed(terminal_safe(exc.summary(), keep_newlines=False)) from None
    if args.format == "json":
        print_json(result)
    else:
        safe_print(import_summary(result))
    return 0


def problems_table(exc: Any) -> str:
    lines = [str(p) for p in exc.problems]
    n = exc.malformed_rows
    tail = f"{n} malformed row(s) of {exc.records}" if n else "the file was rejected"
    lines.append(f"({len(exc.problems)} problem(s); {tail}; nothing imported)")
    return "\n".join(lines)


def import_summary(r: dict[str, Any]) -> str:
    if r["status"] == "unchanged":
        state = "the current version" if r["current"] else "an older version"
        return f"{r['path']}: unchanged (already imported as {r['dataset_id']}, {state} of source {r['source_id']})"
    out = (f"{r['path']}: imported as {r['dataset_id']} ({r['format']}, {r['records']} records, {r['facts']} facts, "
           f"{r['municipality']} {r['code']}, valid from {r['valid_from']})")
    if r["closed"]:
        out += f"\n  previous version {r['closed']} closed"
    for w in r["warnings"]:
        out += f"\n  warning: {w}"
    return out
