"""`query -o FILE`: a query's result as a CSV, JSON, Parquet or Excel file, chosen by the file's
extension, written through the one output-file helper (``wardwatch.outfile``: atomic, never through a
symlink).

- ``.csv``: UTF-8, a header row, NULL as an empty cell, lists/structs as JSON, times in --timezone.
  Cells are written as stored (a file is not a terminal).
- ``.json``: an array of objects, as ``--format json`` prints (JSON columns as JSON).
- ``.parquet``: DuckDB writes the result with its column types (``warehouse.analyst.query_parquet``).
- ``.xlsx``: one sheet ``query``, the header row frozen; every text is a text cell (a value starting
  with ``=`` never becomes a formula); times in --timezone without an offset (Excel has none); numbers
  Excel cannot hold exactly (integers beyond 15 digits) and lists/structs as text; control characters
  Excel cannot store as ``\\xHH``. A value longer than a cell holds (32,767 characters) is cut with ``…``
  and the command says how many were; more rows than a sheet holds is refused (use .parquet or .csv).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from wardwatch.cli.common import Usage
from wardwatch.cli.tables import json_rows, plain, text

FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_048_576  # the header row included
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_CELL = 32_767
EXACT_DIGITS = 15  # an Excel number keeps 15 significant digits


def file_format(path: Path) -> str:
    """The output format named by ``path``'s extension; Usage for any other."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        got = f"extension {path.suffix!r}" if path.suffix else "no extension"
        raise Usage(f"-o {path}: {got}; give a file ending in {', '.join(FORMATS)}")
    return fmt


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]], tz: tzinfo | None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([text(v, tz, null="") for v in r])
    return buf.getvalue()


def json_text(columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]], tz: tzinfo | None) -> str:
    return json.dumps(json_rows(columns, types, rows, tz), ensure_ascii=False, indent=2) + "\n"


def check_xlsx_size(path: Path, columns: Sequence[str], n_rows: int) -> None:
    if n_rows + 1 > XLSX_MAX_ROWS:
        raise Usage(f"-o {path}: {n_rows:,} rows do not fit in an Excel sheet ({XLSX_MAX_ROWS - 1:,} at most); "
                    "write .parquet or .csv instead")
    if len(columns) > XLSX_MAX_COLUMNS:
        raise Usage(f"-o {path}: {len(columns):,} columns do not fit in an Excel sheet ({XLSX_MAX_COLUMNS:,} at most)")


def write_xlsx(tmp: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]], tz: tzinfo | None) -> int:
    """Write the workbook to ``tmp`` (an output file's temporary path); returns how many cells were cut."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("query")
    ws.freeze_panes = "A2"
    cut = 0

    def make(value: Any) -> WriteOnlyCell:
        nonlocal cut
        value, fmt = _excel_value(value, tz)
        if isinstance(value, str):
            value = _excel_text(value)
            if len(value) > XLSX_MAX_CELL:
                value, cut = value[:XLSX_MAX_CELL - 1] + "…", cut + 1
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text stays text: "=…" is never a formula
        if fmt:
            c.number_format = fmt
        return c

    ws.append([make(c) for c in columns])
    for r in rows:
        ws.append([make(v) for v in r])
    wb.save(tmp)
    return cut


def _excel_value(value: Any, tz: tzinfo | None) -> tuple[Any, str | None]:
    """A value openpyxl stores faithfully, and its number format."""
    if value is None or isinstance(value, bool | str):
        return value, None
    if isinstance(value, int):
        return (value if len(str(abs(value))) <= EXACT_DIGITS else str(value)), None
    if isinstance(value, float):
        return (value if value == value and value not in (float("inf"), float("-inf")) else str(value)), None
    if isinstance(value, Decimal):
        exact = value.is_finite() and len(value.as_tuple().digits) <= EXACT_DIGITS
        return (float(value) if exact else str(value)), None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = (value.astimezone(tz) if tz is not None else value).replace(tzinfo=None)
        return value, "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    if isinstance(value, time):
        return (value.replace(tzinfo=None) if value.tzinfo else value), "hh:mm:ss"
    if isinstance(value, timedelta):
        return str(value), None
    if isinstance(value, dict | list | tuple):
        return json.dumps(plain(value, tz), ensure_ascii=False), None
    return text(value, tz), None


def _excel_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02X}", value)
