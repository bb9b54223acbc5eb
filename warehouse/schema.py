"""Named, ordered schema migrations (``warehouse/migrations/NNNN_name.sql``).

On a DuckLake warehouse each migration is rewritten by :func:`warehouse.ducklake.lake_sql` first
(no PRIMARY KEY/UNIQUE constraints or indexes there; the raw bytes column of ``blobs`` is left out).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from warehouse.db import Warehouse, transaction
from warehouse.ducklake import lake_sql as _lake_sql

MIGRATIONS_TABLE_SQL = ("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) for every migration, in order."""
    folder = resources.files("warehouse") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def migrate(db_path: Warehouse | str | Path) -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the names applied."""
    db = Warehouse.of(db_path)
    lake = db.lake is not None

    def lake_sql(sql: str) -> str:
        return _lake_sql(sql) if lake else sql
    applied: list[str] = []
    with transaction(db) as con:
        con.execute(lake_sql(MIGRATIONS_TABLE_SQL))
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    for name, sql in migration_files():
        if name in done:
            continue
        with transaction(db) as con:
            if con.execute("SELECT 1 FROM schema_migrations WHERE name = ?", [name]).fetchone():
                continue  # another process applied it meanwhile (transactions are serialised by the writer lock)
            con.execute(lake_sql(sql))
            con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
        applied.append(name)
    return applied


def declared_keys() -> dict[str, list[tuple[str, ...]]]:
    """table -> the PRIMARY KEY / UNIQUE column tuples the migrations declare: what a DuckLake
    warehouse cannot enforce (the loaders check before they insert; ``doctor`` checks the result)."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    _lake_sql(MIGRATIONS_TABLE_SQL, keys)
    for _, sql in migration_files():
        _lake_sql(sql, keys)
    return keys
