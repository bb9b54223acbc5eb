"""Every table and column in the warehouse is documented in the README (and vice versa)."""

from __future__ import annotations

import re

import pytest

from tests.support.helpers import ROOT, q
from warehouse.db import Warehouse
from warehouse.schema import migrate, migration_files

README = ROOT / "README.md"


def documented() -> dict[str, set[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Warehouse schema", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"^### (table|view) `(\w+)`\n(.*?)(?=^### |\Z)", section, re.S | re.M):
        cols = re.findall(r"^\| (\w+) \|", m.group(3), re.M)
        out[m.group(2)] = {c for c in cols if c != "column"}
    return out


def actual(db: Warehouse) -> dict[str, set[str]]:
    rows = q(db, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'")
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def test_every_table_and_column_is_documented(memory_warehouse):
    migrate(memory_warehouse)
    docs, real = documented(), actual(memory_warehouse)
    assert set(real) - set(docs) == set(), "undocumented tables/views"
    assert set(docs) - set(real) == set(), "documented tables/views that do not exist"
    for table, columns in real.items():
        assert columns == docs[table], f"{table}: undocumented {columns - docs[table]}, stale {docs[table] - columns}"


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_migrations_are_idempotent(tmp_path):
    db = tmp_path / "w.duckdb"
    names = [name for name, _ in migration_files()]
    assert names[0] == "0001_initial" and names == sorted(names)
    assert migrate(db) == names  # a new file gets every migration, in order
    assert migrate(db) == []
    assert q(db, "SELECT name FROM schema_migrations ORDER BY name") == [(n,) for n in names]
