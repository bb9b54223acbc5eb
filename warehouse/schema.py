"""Named, ordered schema migrations (``warehouse/migrations/NNNN_name.sql``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from warehouse.db import transaction


def migration_files() -> list[tuple[str, str]]:
    """(name, sql) for every migration, in order."""
    folder = resources.files("warehouse") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def migrate(db_path: str | Path) -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the names applied."""
    applied: list[str] = []
    with transaction(db_path) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    for name, sql in migration_files():
        if name in done:
            continue
        with transaction(db_path) as con:
            if con.execute("SELECT 1 FROM schema_migrations WHERE name = ?", [name]).fetchone():
                continue  # another process applied it meanwhile (transactions are serialised by the file lock)
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
        applied.append(name)
    return applied
