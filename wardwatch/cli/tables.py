"""Query results as text: terminal tables aligned by display width, CSV cells and JSON values.

A table cell shows the whole value on one line (terminal-safe: escapes and controls removed) unless
``max_width`` is given, and then a longer cell ends in an explicit ``…``; NULL is ``NULL``; lists,
structs and maps are JSON; timestamps with a time zone are shown in the chosen one. Widths are
display columns (wcwidth: a CJK character takes two), so 練馬区 columns line up in a terminal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from uuid import UUID

from wcwidth import clip, width

from extractors.termsafe import terminal_safe

NULL = "NULL"
ELLIPSIS = "…"
GAP = "  "


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (CJK wide characters count two, combining marks none)."""
    return max(0, width(text, control_codes="ignore"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def plain(value: Any, tz: tzinfo | None = None) -> Any:
    """A JSON-ready value: datetimes as ISO text (aware ones in ``tz``), Decimal as a number when exact,
    bytes as DuckDB writes them (``\\x00ab``), UUID/timedelta as text, NaN/±Infinity as text; lists, tuples and dicts recursively."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value).replace("inf", "Infinity").replace("nan", "NaN")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return text(value)
    if isinstance(value, dict):
        return {str(k): plain(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, tz) for v in value]
    return str(value)


def json_value(value: Any, duck_type: str, tz: tzinfo | None = None) -> Any:
    """``value`` for ``--format json``: a JSON column (DuckDB hands it over as text) as the JSON it holds."""
    if isinstance(value, str) and duck_type == "JSON":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list) and duck_type == "JSON[]":
        return [json_value(v, "JSON", tz) for v in value]
    return plain(value, tz)


def json_rows(columns: Sequence[str], types: Sequence[str], rows: Iterable[Sequence[Any]],
              tz: tzinfo | None = None) -> list[dict[str, Any]]:
    return [dict(zip(_unique(columns), (json_value(v, t, tz) for v, t in zip(r, types)))) for r in rows]


def text(value: Any, tz: tzinfo | None = None, null: str = NULL) -> str:
    """A value as text: ``null`` for NULL, JSON for lists/structs/maps, ISO dates, ``\\x..`` for bytes."""
    if value is None:
        return null
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            value = value.astimezone(tz)
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in bytes(value))
    if isinstance(value, dict | list | tuple):
        return json.dumps(plain(value, tz), ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def cell(value: Any, tz: tzinfo | None = None) -> str:
    """One table cell: :func:`text`, terminal-safe, on one line."""
    return terminal_safe(text(value, tz), keep_newlines=False)


def shorten(cell_text: str, max_width: int) -> tuple[str, bool]:
    """``cell_text`` cut to ``max_width`` display columns ending in ``…`` (and whether it was cut)."""
    if display_width(cell_text) <= max_width:
        return cell_text, False
    head = clip(cell_text, 0, max(0, max_width - 1), control_codes="ignore", propagate_sgr=False)
    while head and display_width(head) > max_width - 1:  # a wide character split at the edge
        head = head[:-1]
    return head.rstrip() + ELLIPSIS, True


def _pad(cell_text: str, target: int, right: bool) -> str:
    fill = " " * max(0, target - display_width(cell_text))
    return fill + cell_text if right else cell_text + fill


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, tz: tzinfo | None = None,
           max_width: int | None = None) -> tuple[list[str], int]:
    """The table's lines (header, rule, rows; numeric columns right-aligned; no trailing spaces) and how
    many cells were shortened to ``max_width``."""
    header = [cell(c) for c in columns]
    body = [[cell(v, tz) for v in r] for r in rows]
    cut = 0
    if max_width is not None:
        header = [shorten(c, max_width)[0] for c in header]
        for r in body:
            for i, c in enumerate(r):
                r[i], was_cut = shorten(c, max_width)
                cut += was_cut
    numeric = [bool(rows) and all(r[i] is None or _is_number(r[i]) for r in rows)
               and any(r[i] is not None for r in rows) for i in range(len(columns))]
    widths = [max([display_width(header[i])] + [display_width(r[i]) for r in body]) for i in range(len(columns))]
    lines = [GAP.join(_pad(h, w, n) for h, w, n in zip(header, widths, numeric)).rstrip(),
             GAP.join("-" * w for w in widths)]
    lines += [GAP.join(_pad(c, w, n) for c, w, n in zip(r, widths, numeric)).rstrip() for r in body]
    return lines, cut


def _unique(columns: Sequence[str]) -> list[str]:
    """Column names made unique for JSON objects (``n``, ``n_1``, … as DuckDB names them in files): a
    duplicate key would silently drop a value."""
    used: set[str] = set()
    out = []
    for c in columns:
        name, n = c, 0
        while name in used:
            n += 1
            name = f"{c}_{n}"
        used.add(name)
        out.append(name)
    return out
