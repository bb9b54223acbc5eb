"""Readers never block writers: an analyst's long query runs on a snapshot (a private copy of the file
taken under a short lock), so a write from another process succeeds while it runs, and the reader keeps
the consistent state it started from. Processes are real (DuckDB's lock is per process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.helpers import ROOT, healthy_history, q
from warehouse.db import Warehouse, WarehouseError, connect, snapshot, transaction

# A reader in another process: takes a snapshot, says "ready", then holds it (as a long query would) until
# told to go on, and prints what it sees.
READER = textwrap.dedent("""
    import sys
    from warehouse.db import snapshot
    with snapshot(sys.argv[1]) as con:
        print("ready", flush=True)
        sys.stdin.readline()
        print(con.execute("SELECT count(*) FROM versions").fetchone()[0], flush=True)
""")

# The same reader holding a plain read-only connection (what `query` did before snapshots).
PLAIN_READER = READER.replace("from warehouse.db import snapshot", "from warehouse.db import connect").replace(
    "snapshot(sys.argv[1])", "connect(sys.argv[1], read_only=True)")


def start_reader(code: str, db: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0, err
    return out.strip()


def add_version(db: Path, timeout: float) -> None:
    with transaction(db, timeout=timeout) as con:
        con.execute("INSERT INTO versions (version_id, url, source_id, sha256, media_type, valid_from, first_fetch_id) "
                    "VALUES ('v9', 'http://x/new', 's', 'f', 'text/html', now(), 'v9')")


@pytest.mark.slow
def test_a_write_succeeds_while_another_process_holds_a_snapshot(tmp_path):
    db = tmp_path / "w.duckdb"
    healthy_history(Warehouse(db))
    reader = start_reader(READER, db)
    try:
        add_version(db, timeout=10)  # would wait for the reader (and fail after 10 s) without snapshots
    finally:
        seen = finish(reader)
    assert seen == "2"  # the reader's snapshot: the state when it started
    assert q(db, "SELECT count(*) FROM versions") == [(3,)]
    assert list((tmp_path / "w.duckdb.snapshots").iterdir()) == []


@pytest.mark.slow
def test_without_a_snapshot_the_same_reader_blocks_the_writer(tmp_path):
    """The control: the failure the snapshot prevents (a plain read-only connection holds the file)."""
    db = tmp_path / "w.duckdb"
    healthy_history(Warehouse(db))
    reader = start_reader(PLAIN_READER, db)
    try:
        with pytest.raises(WarehouseError, match="warehouse is locked by another process"):
            add_version(db, timeout=0.5)
    finally:
        assert finish(reader) == "2"


@pytest.mark.slow
def test_snapshot_sees_committed_data_still_in_the_wal(tmp_path):
    """A writer killed before its checkpoint leaves its commits in the WAL: the snapshot copies the WAL
    with the file and sees them, and leaves the original (WAL included) as it was."""
    db = tmp_path / "w.duckdb"
    healthy_history(Warehouse(db))
    writer = textwrap.dedent("""
        import os, sys, duckdb
        con = duckdb.connect(sys.argv[1], config={"checkpoint_threshold": "1GB"})
        con.execute("INSERT INTO versions (version_id, url, source_id, sha256, media_type, valid_from, first_fetch_id) "
                    "VALUES ('v9', 'http://x/new', 's', 'f', 'text/html', now(), 'v9')")
        os._exit(0)  # no checkpoint on close: the commit stays in the WAL
    """)
    subprocess.run([sys.executable, "-c", writer, str(db)], cwd=ROOT, check=True, timeout=60)
    wal = db.with_name(db.name + ".wal")
    assert wal.stat().st_size > 0
    size = wal.stat().st_size
    with snapshot(db) as snap:
        assert snap.execute("SELECT count(*) FROM versions").fetchone()[0] == 3
    assert wal.stat().st_size == size


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_snapshot_folders_of_dead_readers_are_swept(tmp_path):
    db = tmp_path / "w.duckdb"
    healthy_history(Warehouse(db))
    stale = tmp_path / "w.duckdb.snapshots" / "999999999-abc"
    stale.mkdir(parents=True)
    (stale / "w.duckdb").write_bytes(b"old copy")
    with snapshot(db) as con:
        assert con.execute("SELECT count(*) FROM blobs").fetchone()[0] == 2
        assert not stale.exists()
    assert list(stale.parent.iterdir()) == []


def test_snapshot_of_a_missing_warehouse_is_one_line(tmp_path):
    with pytest.raises(WarehouseError) as err, snapshot(tmp_path / "none.duckdb"):
        pass
    assert str(err.value) == f"{tmp_path / 'none.duckdb'}: no warehouse here (run `wardwatch crawl` or `wardwatch demo` first)"
    assert not (tmp_path / "none.duckdb").exists()


def test_memory_snapshot_rolls_back_what_it_wrote():
    wh = healthy_history(Warehouse(":memory:"))
    with wh.snapshot() as con:
        con.execute("DELETE FROM versions")
    with connect(wh, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == 2
    wh.close()
