"""Move a warehouse between an embedded DuckDB file and a DuckLake warehouse (`wardwatch migrate-warehouse`).

Both sides are attached to one private DuckDB instance; every table is copied with one
``INSERT … SELECT`` in a single transaction on the destination (under the lake's writer lock when the
destination is a lake), except the raw bytes: from a file into a lake they go into the lake's blob
store (each checked against its hash), from a lake into a file back into ``blobs.data``. Then the two
warehouses are compared through fresh connections: the row count of every table and every blob hash
(and, on the destination, that each blob's bytes still match it). Nothing is copied into a
destination that already holds rows.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse import ducklake
from warehouse.blobs import BlobStore
from warehouse.db import LOCK_TIMEOUT_S, Warehouse, WarehouseError, read_blobs
from warehouse.schema import migrate

BATCH = 200
FILE_ALIAS = "wwfile"


class TransferRefused(WarehouseError):
    """The two warehouses cannot be used for a transfer (bad usage: say why)."""


@dataclass
class Comparison:
    src: str
    dst: str
    counts: list[tuple[str, int | None, int | None]]  # (table, rows in SRC, rows in DST)
    src_blobs: int = 0
    dst_blobs: int = 0
    missing: list[str] = field(default_factory=list)  # hashes in SRC, not in DST
    extra: list[str] = field(default_factory=list)  # hashes in DST, not in SRC
    bad: list[str] = field(default_factory=list)  # DST blobs whose bytes are absent or do not match

    @property
    def identical(self) -> bool:
        return (all(a == b for _, a, b in self.counts) and not self.missing and not self.extra and not self.bad
                and self.src_blobs == self.dst_blobs)

    def to_json(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "identical": self.identical,
                "tables": [{"table": t, "src": a, "dst": b, "same": a == b} for t, a, b in self.counts],
                "blobs": {"src": self.src_blobs, "dst": self.dst_blobs, "missing": self.missing[:20],
                          "extra": self.extra[:20], "bad": self.bad[:20]}}


def transfer(src: Warehouse, dst: Warehouse) -> Comparison:
    """Copy every row (and every blob) of ``src`` into the empty ``dst``; returns the comparison."""
    kinds = (src.kind, dst.kind)
    if "memory" in kinds:
        raise TransferRefused("an in-memory warehouse cannot be migrated")
    if kinds == ("ducklake", "ducklake"):
        raise TransferRefused("one side must be a warehouse file (lake to lake is DuckLake's own business)")
    if src.kind == "file" and not src.exists():
        raise TransferRefused(f"{src}: no warehouse here")
    if src.kind == "file" and dst.kind == "file" and Path(src.path).resolve() == Path(dst.path).resolve():
        raise TransferRefused("SRC and DST are the same warehouse")
    migrate(src)
    migrate(dst)
    busy = [(t, n) for t, n in _counts(dst).items() if n and t != "schema_migrations"]
    if busy:
        raise TransferRefused(f"{dst}: already holds rows ({', '.join(f'{t} {n}' for t, n in busy[:4])}); "
                              "migrate into an empty warehouse")
    with _both(src, dst) as (con, s, d, store):
        _copy(con, src, dst, s, d, store)
    return compare(src, dst)


@contextlib.contextmanager
def _both(src: Warehouse, dst: Warehouse) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, str, BlobStore | None]]:
    """One private instance with the lake (if any) as ``lake`` and the file as ``wwfile``."""
    lake = src if src.lake is not None else dst if dst.lake is not None else None
    file_side = src if lake is dst else dst
    other = dst if file_side is src else src
    con = (ducklake.open_lake(lake.lake, read_only=lake is src, catalog=lake is dst) if lake is not None
           else duckdb.connect())
    try:
        path = str(Path(file_side.path).resolve()).replace("'", "''")  # type: ignore[arg-type]
        ro = " (READ_ONLY)" if file_side is src else ""
        try:
            con.execute(f"ATTACH '{path}' AS {FILE_ALIAS}{ro}")
        except duckdb.Error as exc:
            raise WarehouseError(f"{file_side}: cannot open it: {_first_line(exc)}") from None
        if lake is None:
            # file to file: the other file too
            opath = str(Path(other.path).resolve()).replace("'", "''")  # type: ignore[arg-type]
            con.execute(f"ATTACH '{opath}' AS wwfile2{'' if other is dst else ' (READ_ONLY)'}")
            names = {id(file_side): FILE_ALIAS, id(other): "wwfile2"}
        else:
            names = {id(file_side): FILE_ALIAS, id(lake): ducklake.ALIAS}
        store = BlobStore(ducklake.blob_root(con, lake.lake)) if lake is not None else None
        yield con, names[id(src)], names[id(dst)], store
    finally:
        con.close()


def _copy(con: duckdb.DuckDBPyConnection, src: Warehouse, dst: Warehouse, s: str, d: str,
          store: BlobStore | None) -> None:
    tables = _tables(con, s)
    dst_tables = _tables(con, d)
    lock = (ducklake.writer_lock(con, dst.lake, LOCK_TIMEOUT_S) if dst.lake is not None
            else contextlib.nullcontext())
    with lock:
        con.execute("BEGIN TRANSACTION")
        try:
            for table in tables:
                if table == "schema_migrations" or table not in dst_tables:
                    continue
                cols = [c for c in _columns(con, d, table) if c in set(_columns(con, s, table))]
                if table == "blobs":
                    _copy_blobs(con, src, dst, s, d, store, cols)
                    continue
                names = ", ".join(f'"{c}"' for c in cols)
                con.execute(f'INSERT INTO {d}.main."{table}" ({names}) SELECT {names} FROM {s}.main."{table}"')
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise


def _copy_blobs(con: duckdb.DuckDBPyConnection, src: Warehouse, dst: Warehouse, s: str, d: str,
                store: BlobStore | None, cols: list[str]) -> None:
    meta = [c for c in cols if c != "data"]
    names = ", ".join(f'"{c}"' for c in meta)
    if dst.lake is not None:  # file -> lake: bytes into the store, the rest into the table
        assert store is not None
        cur = con.cursor()
        try:
            cur.execute(f"SELECT sha256, data FROM {s}.main.blobs ORDER BY sha256")
            while True:
                rows = cur.fetchmany(BATCH)
                if not rows:
                    break
                for sha, data in rows:
                    store.put(sha, bytes(data))
        finally:
            cur.close()
        con.execute(f"INSERT INTO {d}.main.blobs ({names}) SELECT {names} FROM {s}.main.blobs")
        return
    if src.lake is not None:  # lake -> file: bytes from the store into blobs.data
        assert store is not None
        rows = con.execute(f"SELECT {names} FROM {s}.main.blobs ORDER BY sha256").fetchall()
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_catalog = ? AND table_schema = 'main' AND table_name = 'blobs'",
                                 [d]).fetchall())
        all_cols = meta + ["data"]
        select = ", ".join(f"unnest(?::{types[c]}[])" for c in all_cols)
        for i in range(0, len(rows), BATCH):
            chunk = []
            for row in rows[i:i + BATCH]:
                data = store.get(row[meta.index("sha256")])
                if data is None:
                    continue  # compare() reports it missing
                chunk.append([*row, data])
            if chunk:
                con.execute(f"INSERT INTO {d}.main.blobs ({', '.join(all_cols)}) SELECT {select}",
                            [[r[j] for r in chunk] for j in range(len(all_cols))])
        return
    all_names = ", ".join(f'"{c}"' for c in cols)
    con.execute(f"INSERT INTO {d}.main.blobs ({all_names}) SELECT {all_names} FROM {s}.main.blobs")


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name", [catalog]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = 'main' "
        "AND table_name = ? ORDER BY ordinal_position", [catalog, table]).fetchall()]


def _counts(db: Warehouse) -> dict[str, int]:
    with db.connect(read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}


def _hashes(db: Warehouse) -> set[str]:
    with db.connect(read_only=True) as con:
        return {r[0] for r in con.execute("SELECT sha256 FROM blobs").fetchall()}


def _bad_blobs(db: Warehouse, hashes: set[str]) -> list[str]:
    """Blobs of ``db`` whose bytes are absent or do not match their hash."""
    bad = []
    ordered = sorted(hashes)
    with db.connect(read_only=True) as con:
        for i in range(0, len(ordered), BATCH):
            chunk = ordered[i:i + BATCH]
            found = read_blobs(con, chunk)
            bad += [h for h in chunk if h not in found or hashlib.sha256(found[h]).hexdigest() != h]
    return bad


def compare(src: Warehouse, dst: Warehouse) -> Comparison:
    """Row counts of every table side by side, and every blob hash (with the destination's bytes checked)."""
    a, b = _counts(src), _counts(dst)
    counts = [(t, a.get(t), b.get(t)) for t in sorted(set(a) | set(b))]
    ha, hb = _hashes(src), _hashes(dst)
    return Comparison(str(src), str(dst), counts, len(ha), len(hb), sorted(ha - hb), sorted(hb - ha),
                      _bad_blobs(dst, hb))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
