"""`wardwatch migrate-warehouse SRC DST`: move an embedded warehouse to DuckLake and back, nothing lost."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Failed, Usage, check_db_path, lake_warehouse, print_json, safe_print


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "migrate-warehouse", help="copy a warehouse file into a DuckLake warehouse, or back",
        description="Copy every table and every raw blob of SRC into the empty DST, then compare the two: "
                    "the row count of every table and every blob hash, printed side by side (exit 1 on any "
                    "difference). SRC and DST are each a warehouse file (PATH) or a DuckLake warehouse "
                    "('ducklake:postgres:dbname=… host=… user=…', or its warehouse.lake.json pointer); "
                    "one of them must be a file.")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--data-path", dest="data_path", default=None, metavar="DIR",
                   help="the DuckLake side's data path (directory or s3://…; default $WARDWATCH_DATA_PATH; "
                        "needed when DST is a new lake)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_migrate_warehouse)


def _side(text: str, data_path: str | None) -> Any:
    from warehouse.db import Warehouse

    if text.startswith("ducklake:") or text.endswith(".lake.json"):
        return lake_warehouse(text, data_path)
    if text == ":memory:":
        raise Usage("an in-memory warehouse cannot be migrated")
    return Warehouse(check_db_path(Path(text)))


def cmd_migrate_warehouse(args: argparse.Namespace) -> int:
    from warehouse.transfer import TransferRefused, transfer

    src, dst = _side(args.src, args.data_path), _side(args.dst, args.data_path)
    if src.kind == "file" and not src.exists():
        raise Failed(f"{src}: no warehouse here")
    try:
        result = transfer(src, dst)
    except TransferRefused as exc:
        raise Usage(str(exc)) from None
    if args.format == "json":
        print_json(result.to_json())
    else:
        safe_print(render(result))
    if not result.identical:
        raise Failed(f"{dst}: differs from {src} after the copy (see above)")
    return 0


def render(result: Any) -> str:
    width = max([len("table")] + [len(t) for t, _, _ in result.counts] + [len("blob hashes")])
    lines = [f"SRC: {result.src}", f"DST: {result.dst}", f"{'table':{width}}  {'SRC':>10}  {'DST':>10}"]
    for table, a, b in result.counts:
        lines.append(f"{table:{width}}  {_n(a)}  {_n(b)}" + ("" if a == b else "  DIFFERENT"))
    same_blobs = not (result.missing or result.extra or result.bad) and result.src_blobs == result.dst_blobs
    lines.append(f"{'blob hashes':{width}}  {_n(result.src_blobs)}  {_n(result.dst_blobs)}"
                 + ("  (every hash in both; bytes match)" if same_blobs else
                    f"  DIFFERENT: {len(result.missing)} missing in DST, {len(result.extra)} only in DST, "
                    f"{len(result.bad)} with absent or wrong bytes"))
    for label, hashes in (("missing in DST", result.missing), ("only in DST", result.extra),
                          ("bad bytes in DST", result.bad)):
        lines += [f"  {label}: {h}" for h in hashes[:5]]
    lines.append("identical: every table's row count and every blob hash agree" if result.identical
                 else "NOT identical")
    return "\n".join(lines)


def _n(value: int | None) -> str:
    return f"{value if value is not None else '-':>10}"
