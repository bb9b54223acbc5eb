"""Read-side helpers for analysts and the CLI: changes, flags, read-only SQL, Parquet export.

Every reader here works on a snapshot (:func:`warehouse.db.snapshot`): a private copy of the file
taken under a short lock, so a long analyst query never makes a crawl or a load wait.

``query`` runs one SELECT (or WITH … SELECT, EXPLAIN, DESCRIBE, SUMMARIZE) on a read-only snapshot
with external access and extension loading off, and the configuration locked
(``SET lock_configuration = true``); every other statement — SET/RESET, PRAGMA, CALL, COPY, ATTACH,
INSTALL/LOAD, writes — and the table functions that switch logging or profiling on, checkpoint, or
run SQL given as text are refused with :class:`QueryRefused` before DuckDB sees them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import Warehouse, snapshot

CHANGE_FIELDS = ("url", "source_id", "municipality", "program", "kind", "qualifier", "change", "before", "after",
                 "before_text", "after_text", "detected_at", "program_id")
FLAG_FIELDS = ("rule", "severity", "source_id", "municipality", "url", "program", "kind", "evidence", "first_seen",
               "closed_at", "program_id")
JST = timezone(timedelta(hours=9), "JST")  # the report's time zone (wardwatch/report/model.py)
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")


def _jsonish(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _stamp(value: Any, tz: tzinfo | None) -> str | None:
    """A TIMESTAMPTZ as text (``2026-11-22 18:12:34.5+09:00``), in ``tz`` when given."""
    if value is None:
        return None
    if tz is not None and isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(tz)
    return str(value)


class Filters:
    """WHERE conditions with their bound parameters (every value the user gave is a parameter)."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def any_of(self, column: str, values: Iterable[str] | None) -> None:
        """``column`` is one of ``values`` (no condition when there are none)."""
        values = [v for v in values or () if v is not None]
        if values:
            self.add(f"list_contains(?::VARCHAR[], {column})", values)

    def contains_any(self, column: str, needles: Iterable[str] | None) -> None:
        """``column`` contains one of ``needles`` (case-insensitively)."""
        needles = [n for n in needles or () if n]
        if needles:
            self.add("(" + " OR ".join(f"strpos(lower({column}), lower(?)) > 0" for _ in needles) + ")", *needles)

    def since(self, column: str, since: str | datetime | None) -> None:
        """``column`` at or after ``since``: a run id (that run's start) or a date-time (a string with its
        UTC offset, or an aware datetime — the CLI reads bare dates in Asia/Tokyo before they get here)."""
        if since is None or since == "":
            return
        if isinstance(since, str) and RUN_ID.fullmatch(since):
            self.add(f"{column} >= (SELECT started_at FROM runs WHERE run_id = ?)", since)
        else:
            self.add(f"{column} >= ?::TIMESTAMPTZ", since.isoformat() if isinstance(since, datetime) else since)

    def sql(self) -> str:
        return ("WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


def changes(db_path: Path | Warehouse, since: str | datetime | None = None, *, sources: Iterable[str] | None = None,
            municipalities: Iterable[str] | None = None, programs: Iterable[str] | None = None,
            kinds: Iterable[str] | None = None, tz: tzinfo | None = JST) -> list[dict[str, Any]]:
    """Fact changes, newest first. ``since`` is a run id or a date-time (see :meth:`Filters.since`);
    ``sources``, ``municipalities`` and ``kinds`` keep rows whose value is one of those given, ``programs``
    rows whose program contains one of them. ``detected_at`` is given in ``tz`` (default JST, as the report)."""
    where = Filters()
    where.since("detected_at", since)
    where.any_of("source_id", sources)
    where.any_of("municipality", municipalities)
    where.contains_any("program", programs)
    where.any_of("kind", kinds)
    with snapshot(db_path) as con:
        rows = con.execute(f"SELECT {', '.join(CHANGE_FIELDS)} FROM changes {where.sql()} "
                           "ORDER BY detected_at DESC, url, seq", where.params).fetchall()
    out = []
    for r in rows:
        row = dict(zip(CHANGE_FIELDS, r))
        row.update(before=_jsonish(row["before"]), after=_jsonish(row["after"]), detected_at=_stamp(row["detected_at"], tz))
        out.append(row)
    return out


def flags(db_path: Path | Warehouse, open_only: bool = False, *, sources: Iterable[str] | None = None,
          municipalities: Iterable[str] | None = None, programs: Iterable[str] | None = None,
          kinds: Iterable[str] | None = None, rules: Iterable[str] | None = None,
          severities: Iterable[str] | None = None, since: str | datetime | None = None,
          tz: tzinfo | None = JST) -> list[dict[str, Any]]:
    """Flags, newest first; the filters as in :func:`changes` (``since`` on ``first_seen``), plus
    ``rules`` and ``severities``. Times are given in ``tz`` (default JST)."""
    where = Filters()
    if open_only:
        where.add("open")
    where.since("first_seen", since)
    where.any_of("source_id", sources)
    where.any_of("municipality", municipalities)
    where.contains_any("program", programs)
    where.any_of("kind", kinds)
    where.any_of("rule", rules)
    where.any_of("severity", severities)
    with snapshot(db_path) as con:
        rows = con.execute(f"SELECT {', '.join(FLAG_FIELDS)} FROM flags {where.sql()} "
                           "ORDER BY first_seen DESC, rule, url", where.params).fetchall()
    out = []
    for r in rows:
        row = dict(zip(FLAG_FIELDS, r))
        row.update(evidence=_jsonish(row["evidence"]), first_seen=_stamp(row["first_seen"], tz),
                   closed_at=_stamp(row["closed_at"], tz))
        out.append(row)
    return out


def known_sources(db_path: Path | Warehouse) -> dict[str, str | None]:
    """The warehouse's sources (the ``sources`` table): source id → municipality."""
    with snapshot(db_path) as con:
        return dict(con.execute("SELECT source_id, municipality FROM sources ORDER BY source_id").fetchall())


def run_exists(db_path: Path | Warehouse, run_id: str) -> bool:
    with snapshot(db_path) as con:
        return con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()[0] > 0


def table_names(db_path: Path | Warehouse) -> list[str]:
    """The warehouse's tables and views (what ``export`` writes)."""
    with snapshot(db_path) as con:
        return _table_names(con)


def _table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name").fetchall()]


class QueryRefused(ValueError):
    """The SQL is not one read-only statement (bad usage: exit 2); the message says why."""


READ_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})  # DESCRIBE, SHOW, SUMMARIZE, VALUES, FROM … parse as SELECT
# table functions that change state or run SQL text (which would get past this check)
DENIED_FUNCTIONS = ("enable_logging", "disable_logging", "truncate_duckdb_logs", "enable_profiling",
                    "disable_profiling", "checkpoint", "force_checkpoint", "query", "query_table",
                    "json_execute_serialized_sql",
                    # a DuckLake warehouse attaches its Postgres catalog: no SQL through to the catalog server
                    "postgres_query", "postgres_execute", "postgres_scan", "postgres_scan_pushdown", "postgres_attach")
_DENIED_CALL = re.compile(r'(?<![\w$."])"?(' + "|".join(DENIED_FUNCTIONS) + r')"?\s*\(', re.I)
QUERY_CONFIG = {"enable_external_access": False, "autoload_known_extensions": False,
                "autoinstall_known_extensions": False, "allow_community_extensions": False,
                "python_enable_replacements": False}


def check_query(sql: str) -> None:
    """Refuse (QueryRefused) anything but one read-only statement; a parse error is DuckDB's (duckdb.Error)."""
    if not sql or not sql.strip():
        raise QueryRefused("empty SQL: give one SELECT statement")
    statements = duckdb.extract_statements(sql)
    if not statements:
        raise QueryRefused("no SQL statement (only comments or whitespace): give one SELECT statement")
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time, got {len(statements)}")
    kind = statements[0].type.name
    if kind not in READ_STATEMENTS:
        raise QueryRefused(f"{kind} statements are refused (read-only: one SELECT, WITH … SELECT or EXPLAIN)")
    m = _DENIED_CALL.search(sql)
    if m:
        raise QueryRefused(f"{m.group(1).lower()}() is refused: it changes logging, profiling or checkpoints, "
                           "or runs SQL given as text")


@dataclass
class QueryResult:
    """What one query returned: column names, their DuckDB types (``"JSON"``, ``"INTEGER[]"`` …), the rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple]


def query(db_path: Path | Warehouse, sql: str, timezone: str | None = None) -> tuple[list[str], list[tuple]]:
    """Run one read-only statement on a snapshot: external access and extensions off, configuration locked.

    Raises QueryRefused for anything but one SELECT/EXPLAIN, duckdb.Error when DuckDB rejects it."""
    result = query_result(db_path, sql, timezone)
    return result.columns, result.rows


def query_result(db_path: Path | Warehouse, sql: str, timezone: str | None = None) -> QueryResult:
    """:func:`query` with the column types. ``timezone`` (an IANA name) is the session's time zone on a
    warehouse file (``ts::DATE``, ``strftime``), set before the configuration is locked."""
    check_query(sql)
    with _locked(db_path, timezone) as con:
        cur = con.execute(sql)
        if cur is None or cur.description is None:
            return QueryResult([], [], [])
        return QueryResult([d[0] for d in cur.description], [str(d[1]) for d in cur.description], cur.fetchall())


def query_parquet(db_path: Path | Warehouse, sql: str, path: Path, timezone: str | None = None) -> tuple[list[str], int]:
    """Run one read-only statement (as :func:`query`) and write its result as Parquet to ``path`` (an
    output file's temporary path); returns (columns, rows).

    The statement runs in the locked, file-less connection of :func:`query`; its result is streamed
    (Arrow C stream, no pyarrow needed) into a separate in-memory DuckDB that writes the file with the
    relation API. Nothing of the user's SQL runs in the connection that can write; JSON and UUID
    columns keep their types."""
    check_query(sql)
    with _locked(db_path, timezone) as con:
        rel = con.sql(sql)
        if rel is None:
            raise QueryRefused("the statement returns no rows to write")
        columns, types = list(rel.columns), [str(t) for t in rel.types]
        writer = duckdb.connect(":memory:", config={"autoload_known_extensions": False,
                                                    "autoinstall_known_extensions": False})
        try:
            out = writer.from_arrow(_ArrowStream(rel))
            casts = {"JSON": "JSON", "UUID": "UUID"}
            if any(t in casts for t in types):
                out = out.project(", ".join(
                    f'CAST({_ident(c)} AS {casts[t]}) AS {_ident(c)}' if t in casts else _ident(c)
                    for c, t in zip(out.columns, types)))
            out.write_parquet(str(path))
            n = writer.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0]
        finally:
            writer.close()
    return columns, n


class _ArrowStream:
    """A relation of one connection as an Arrow PyCapsule stream another connection can read."""

    def __init__(self, rel: duckdb.DuckDBPyRelation):
        self.rel = rel

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.rel.__arrow_c_stream__(requested_schema)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def _locked(db_path: Path | Warehouse, timezone: str | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The query connection: a snapshot with :data:`QUERY_CONFIG`, its time zone set, its configuration locked
    (an in-memory warehouse's shared connection is left as it is: its cursor is rolled back after the query)."""
    with snapshot(db_path, config=QUERY_CONFIG) as con:
        if not getattr(Warehouse.of(db_path), "memory", False):
            if timezone:
                con.execute("SET TimeZone = ?", [timezone])
            con.execute("SET lock_configuration = true")
        yield con


class UnknownNames(ValueError):
    """Names that are not tables or views of the warehouse (bad usage); the message lists the known ones."""


def export(db_path: Path | Warehouse, folder: Path, place: Callable[[Path, Path], None] | None = None, *,
           tables: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> list[tuple[str, int]]:
    """Every table and view (or only ``tables``, less ``exclude``) as ``folder/<name>.parquet``; returns
    (name, rows). A name that is no table or view raises :class:`UnknownNames` before anything is written.

    Each file is written to a fresh temporary file in ``folder`` and then moved into place by
    ``place(tmp, target)`` (the CLI passes its output-file helper, which refuses a symlink at the
    target); without ``place`` the temporary file is renamed over the target (a symlink there is
    replaced, never followed)."""
    place = place or (lambda tmp, target: os.replace(tmp, target))
    wanted = list(dict.fromkeys(tables)) if tables is not None else None
    dropped = set(exclude)
    out = []
    with snapshot(db_path) as con:
        known = _table_names(con)
        unknown = [n for n in [*(wanted or ()), *sorted(dropped)] if n not in known]
        if unknown:
            raise UnknownNames(f"unknown table(s)/view(s): {', '.join(unknown)} (known: {', '.join(known)})")
        names = [n for n in (wanted if wanted is not None else known) if n not in dropped]
        if not names:
            raise UnknownNames("nothing left to export: every table and view is excluded")
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            target = folder / f"{name}.parquet"
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".parquet.tmp", dir=folder)
            os.close(fd)
            tmp = Path(tmp_name)
            try:
                con.execute(f"COPY (SELECT * FROM {_ident(name)}) TO '{_sql_path(tmp)}' (FORMAT parquet)")
                place(tmp, target)
            finally:
                if tmp.exists():
                    tmp.unlink()
            out.append((name, con.execute(f"SELECT count(*) FROM {_ident(name)}").fetchone()[0]))
    return out


def _sql_path(p: Path) -> str:
    return str(p.resolve()).replace("'", "''")
