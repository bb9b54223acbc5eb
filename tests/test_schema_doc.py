"""Every table and column in the warehouse is documented in the README (and vice versa)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from warehouse.schema import migrate

README = Path(__file__).resolve().parents[1] / "README.md"


def documented() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Warehouse schema", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"^### (table|view) `(\w+)`\n(.*?)(?=^### |\Z)", section, re.S | re.M):
        cols = re.findall(r"^\| (\w+) \|", m.group(3), re.M)
        out[m.group(2)] = {c for c in cols if c != "column"}
    return out


def actual(db: Path) -> dict[str, set[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def test_every_table_and_column_is_documented(tmp_path):
    db = tmp_path / "w.duckdb"
    migrate(db)
    docs, real = documented(), actual(db)
    assert set(real) - set(docs) == set(), "undocumented tables/views"
    assert set(docs) - set(real) == set(), "documented tables/views that do not exist"
    for table, columns in real.items():
        assert columns == docs[table], f"{table}: undocumented {columns - docs[table]}, stale {docs[table] - columns}"


def test_migrations_are_idempotent(tmp_path):
    db = tmp_path / "w.duckdb"
    assert migrate(db)[0] == "0001_initial"
    assert migrate(db) == []
