"""`wardwatch migrate-warehouse SRC DST`: an embedded warehouse file to DuckLake (a real throwaway Postgres
catalog) and back, with nothing lost; differences and bad usage named."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.support.helpers import demo_site, fill_demo, main, q
from tests.support.postgres import Cluster, postgres_cluster  # noqa: F401 (fixture)
from warehouse import ducklake
from warehouse.blobs import BlobStore
from warehouse.db import Warehouse


def _lake(cluster: Cluster, root: Path) -> Warehouse:
    return Warehouse("ducklake:postgres:" + cluster.dsn(cluster.create_database()), data_path=root / "lake",
                     home=root / "home")


def _drop(cluster: Cluster, wh: Warehouse) -> None:
    ducklake.close_instances(wh.lake)
    cluster.drop_database(wh.lake.dsn.split()[0].split("=", 1)[1])


def _tables(path: Path) -> list[str]:
    return [r[0] for r in q(path, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                                  "AND table_type = 'BASE TABLE' ORDER BY 1")]


def _difference(a: Path, b: Path, table: str) -> int:
    """Rows of ``table`` in one file and not the other (both ways, duplicates counted)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        cols = ", ".join(f'"{r[0]}"' for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall())
        return con.execute(f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM a.main.{table} EXCEPT ALL "
                           f"SELECT {cols} FROM b.main.{table})) + (SELECT count(*) FROM (SELECT {cols} FROM "
                           f"b.main.{table} EXCEPT ALL SELECT {cols} FROM a.main.{table}))").fetchone()[0]
    finally:
        con.close()


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "wardwatch.duckdb"
    wh = Warehouse(path)
    fill_demo(wh)
    wh.close()
    return path


@pytest.mark.slow
def test_file_to_lake_and_back_loses_nothing(demo_file: Path, postgres_cluster: Cluster, tmp_path: Path,  # noqa: F811
                                             capsys):
    lake = _lake(postgres_cluster, tmp_path)
    try:
        assert main(["migrate-warehouse", str(demo_file), lake.lake.url, "--data-path", lake.lake.data_path]) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[-1] == "identical: every table's row count and every blob hash agree"
        n_blobs = q(demo_file, "SELECT count(*) FROM blobs")[0][0]
        assert "blob hashes" in out and f"{n_blobs:>10}  {n_blobs:>10}  (every hash in both; bytes match)" in out
        versions = q(demo_file, "SELECT count(*) FROM versions")[0][0]
        assert any(line.split() == ["versions", str(versions), str(versions)] for line in out.splitlines())
        # the bytes went to the blob store, not the table
        assert set(BlobStore(lake.blob_root).hashes()) == {r[0] for r in q(demo_file, "SELECT sha256 FROM blobs")}
        back = tmp_path / "back" / "wardwatch.duckdb"
        assert main(["migrate-warehouse", lake.lake.url, str(back), "--format", "json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["identical"] is True and all(t["same"] for t in result["tables"])
        assert result["blobs"] == {"src": n_blobs, "dst": n_blobs, "missing": [], "extra": [], "bad": []}
        # file -> lake -> file: every row of every table is the same, the bytes included
        assert _tables(back) == _tables(demo_file)
        for table in _tables(demo_file):
            if table != "schema_migrations":
                assert _difference(demo_file, back, table) == 0, table
        assert q(back, "SELECT count(*) FROM blobs WHERE sha256(data) <> sha256") == [(0,)]
        assert main(["doctor", "--db", str(back)]) == 0
        assert main(["doctor", "--warehouse", lake.lake.url]) == 0
        # into a warehouse that already holds rows: refused, nothing touched
        capsys.readouterr()
        assert main(["migrate-warehouse", str(demo_file), str(back)]) == 2
        assert "already holds rows" in capsys.readouterr().err
        assert q(back, "SELECT count(*) FROM versions")[0][0] == versions
    finally:
        _drop(postgres_cluster, lake)


@pytest.mark.slow
def test_a_blob_missing_from_the_lake_is_a_difference(postgres_cluster: Cluster, tmp_path: Path, capsys):  # noqa: F811
    lake = _lake(postgres_cluster, tmp_path)
    try:
        fill_demo(lake, [demo_site("v1")], sources=["demo-nerima"])
        store = BlobStore(lake.blob_root)
        lost = sorted(store.hashes())[0]
        Path(store.path(lost)).unlink()
        assert main(["migrate-warehouse", lake.lake.url, str(tmp_path / "back.duckdb")]) == 1
        captured = capsys.readouterr()
        assert f"missing in DST: {lost}" in captured.out and "NOT identical" in captured.out
        assert "differs from" in captured.err and len(captured.err.strip().splitlines()) == 1
    finally:
        _drop(postgres_cluster, lake)


def test_bad_pairs_are_refused(tmp_path: Path, capsys):
    url = "ducklake:postgres:dbname=ww host=127.0.0.1 user=postgres"
    assert main(["migrate-warehouse", url, url + " port=1"]) == 2
    assert "one side must be a warehouse file" in capsys.readouterr().err
    assert main(["migrate-warehouse", ":memory:", str(tmp_path / "x.duckdb")]) == 2
    assert "in-memory" in capsys.readouterr().err
    assert main(["migrate-warehouse", str(tmp_path / "absent.duckdb"), url]) == 1
    assert "no warehouse here" in capsys.readouterr().err
