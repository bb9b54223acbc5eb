"""The DuckLake warehouse: a real throwaway PostgreSQL catalog (tests/support/postgres.py), Parquet data
files and the blob store in a temporary data path. The embedded default is tested everywhere else."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.helpers import ROOT, demo_site, fill_demo, q, wardwatch
from tests.support.postgres import Cluster, pg_database, postgres_cluster  # noqa: F401 (fixtures)
from tests.support.registry import registry_text
from tests.support.waiting import read_line
from warehouse import ducklake
from warehouse.blobs import BlobStore
from warehouse.db import Warehouse, WarehouseConflict, WarehouseError
from warehouse.schema import declared_keys, migrate, migration_files

TABLES = ("blobs", "dataset_facts", "datasets", "extractions", "fact_changes", "facts", "fetches", "flag_evaluations",
          "flag_records", "noise_rules", "program_aliases", "program_catalog", "reviews", "runs", "schema_migrations", "sources", "version_diffs", "versions")
VIEWS = ("changes", "current_facts", "documents", "fact_history", "flags", "latest_extractions", "latest_reviews",
         "program_amounts_seen", "program_facts", "program_history", "program_summary", "programs", "secondary_facts")


def _lake(cluster: Cluster, root: Path, dbname: str | None = None) -> Warehouse:
    try:
        ducklake.extension_paths()
    except WarehouseError as exc:
        pytest.skip(str(exc))
    name = dbname or cluster.create_database()
    return Warehouse("ducklake:postgres:" + cluster.dsn(name), data_path=root / "lake", home=root / "home")


def _drop(cluster: Cluster, wh: Warehouse) -> None:
    ducklake.close_instances(wh.lake)
    cluster.drop_database(wh.lake.dsn.split()[0].split("=", 1)[1])


@pytest.fixture
def lake(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[Warehouse]:  # noqa: F811
    """An empty DuckLake warehouse (no schema yet) in a fresh catalog database."""
    wh = _lake(postgres_cluster, tmp_path)
    yield wh
    _drop(postgres_cluster, wh)


@pytest.fixture(scope="module")
def demo_lake(postgres_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Warehouse, list]]:  # noqa: F811
    """The demo sources crawled from the demo site's files (v1, then v2), extracted and diffed, into one
    lake shared by this module's readers (``fill_demo``, as the in-memory ``demo_runs`` is)."""
    wh = _lake(postgres_cluster, tmp_path_factory.mktemp("demo-lake"))
    runs = fill_demo(wh)
    yield wh, runs
    _drop(postgres_cluster, wh)


# --- pure: the schema rewrite and the blob store -------------------------------------------------------


def test_migrations_are_rewritten_without_keys_indexes_or_blob_bytes():
    keys: dict = {}
    sql = "\n".join(ducklake.lake_sql(text, keys) for _, text in migration_files())
    assert "PRIMARY KEY" not in sql.upper() and "CREATE INDEX" not in sql.upper()
    blobs = next(s for s in sql.split(";") if "CREATE TABLE blobs" in s)
    assert [line.split()[0] for line in blobs.strip().splitlines()[1:-1]] == [
        "sha256", "media_type", "size", "first_seen"]
    assert "sha256      VARCHAR NOT NULL" in blobs  # a column key keeps its NOT NULL
    # every dropped key is recorded (doctor checks them), composite keys in order
    assert keys["versions"] == [("version_id",)]
    assert keys["facts"] == [("sha256", "extractor_version", "seq")]
    assert keys == {t: k for t, k in declared_keys().items() if t != "schema_migrations"}
    assert set(declared_keys()) == set(TABLES) - {"flag_evaluations"}  # the one table without a key


def test_lake_statement_keeps_what_ducklake_supports():
    stmt = ("CREATE TABLE t (\n  a VARCHAR PRIMARY KEY,\n  b INTEGER DEFAULT 0 NOT NULL,\n  c VARCHAR UNIQUE,\n"
            "  d DECIMAL(10, 2),\n  e JSON\n)")
    keys: dict = {}
    out = ducklake.lake_statement(stmt, keys)
    assert out.split("\n")[1:6] == ["  a VARCHAR NOT NULL,", "  b INTEGER DEFAULT 0 NOT NULL,", "  c VARCHAR,",
                                    "  d DECIMAL(10, 2),", "  e JSON"]
    assert keys == {"t": [("a",), ("c",)]}
    assert ducklake.lake_statement("CREATE UNIQUE INDEX ux ON t (b, e)", keys) is None
    assert keys["t"][-1] == ("b", "e")
    view = "CREATE VIEW v AS SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY a) = 1"
    assert ducklake.lake_statement(view) == view


def test_lake_location_refuses_other_catalogs_and_quotes(tmp_path: Path):
    with pytest.raises(WarehouseError, match="only a Postgres catalog"):
        Warehouse("ducklake:metadata.ducklake", data_path=tmp_path)
    with pytest.raises(WarehouseError, match="no Postgres connection string"):
        Warehouse("ducklake:postgres:  ", data_path=tmp_path)
    with pytest.raises(WarehouseError, match="quote"):
        Warehouse("ducklake:postgres:dbname=ww password='x'", data_path=tmp_path)


def test_blob_store_is_content_addressed_and_atomic(tmp_path: Path):
    store = BlobStore(tmp_path / "blobs")
    data = "練馬区 ひとり親家庭 上限5万円".encode()
    sha = hashlib.sha256(data).hexdigest()
    assert store.put(sha, data) is True
    assert store.put(sha, data) is False  # stored once per hash
    path = tmp_path / "blobs" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data and store.get(sha) == data
    assert sorted(p.name for p in path.parent.iterdir()) == [sha]  # no temporary file left behind
    assert list(store.hashes()) == [sha]
    with pytest.raises(WarehouseError, match="do not match their hash"):
        store.put(hashlib.sha256(b"other").hexdigest(), data)
    with pytest.raises(WarehouseError, match="not a SHA-256"):
        store.get("../../etc/passwd")
    assert store.get(hashlib.sha256(b"never stored").hexdigest()) is None


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3-compatible server (moto) on loopback, with its endpoint and test credentials in the environment;
    yields the endpoint."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install 'moto[server]' s3fs)")
    pytest.importorskip("s3fs", reason="s3fs is not installed (pip install s3fs)")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                 "WARDWATCH_S3_ENDPOINT": endpoint}.items():
        monkeypatch.setenv(k, v)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.mark.slow
def test_s3_blob_store_on_a_loopback_moto_server(s3: str):
    store = BlobStore("s3://ww-blobs/lake/blobs")
    store.fs.mkdir("ww-blobs")
    data = b"%PDF-1.4 a PDF's bytes"
    sha = hashlib.sha256(data).hexdigest()
    assert store.put(sha, data) is True and store.put(sha, data) is False
    assert store.get(sha) == data
    assert store.fs.exists(f"ww-blobs/lake/blobs/{sha[:2]}/{sha[2:4]}/{sha}")
    assert list(store.hashes()) == [sha]


@pytest.mark.slow
def test_a_lake_on_s3_compatible_storage(s3: str, postgres_cluster: Cluster, tmp_path: Path):  # noqa: F811
    from warehouse.doctor import check

    try:
        ducklake.extension_paths(remote=True)
    except WarehouseError as exc:
        pytest.skip(str(exc))
    BlobStore("s3://ww-lake/x").fs.mkdir("ww-lake")
    wh = Warehouse("ducklake:postgres:" + postgres_cluster.dsn(postgres_cluster.create_database()),
                   data_path="s3://ww-lake/lake/", home=tmp_path / "home")
    try:
        fill_demo(wh, [demo_site("v1")], sources=["demo-nerima"])
        assert wh.blob_root == "s3://ww-lake/lake/blobs/"
        hashes = {r[0] for r in q(wh, "SELECT sha256 FROM blobs")}
        assert set(BlobStore(wh.blob_root).hashes()) == hashes and len(hashes) > 5
        report = check(wh)
        assert report.healthy, report.to_json()
    finally:
        _drop(postgres_cluster, wh)


# --- a real Postgres catalog ---------------------------------------------------------------------------


@pytest.mark.slow
def test_schema_migrates_on_ducklake(lake: Warehouse, postgres_cluster: Cluster):  # noqa: F811
    assert migrate(lake) == [name for name, _ in migration_files()]
    assert migrate(lake) == []  # idempotent
    rows = q(lake, "SELECT table_name, table_type FROM information_schema.tables "
                   "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1")
    assert [r[0] for r in rows if r[1] == "BASE TABLE"] == list(TABLES)
    assert [r[0] for r in rows if r[1] == "VIEW"] == list(VIEWS)
    assert [r[0] for r in q(lake, "SELECT column_name FROM information_schema.columns WHERE table_name = 'blobs' "
                                  "AND table_catalog = current_database() ORDER BY ordinal_position")] == [
        "sha256", "media_type", "size", "first_seen"]
    # the catalog is in Postgres: DuckLake's own tables in the catalog database
    dbname = lake.lake.dsn.split()[0].split("=", 1)[1]
    assert "ducklake_snapshot" in postgres_cluster.psql(
        "SELECT table_name FROM information_schema.tables WHERE table_name = 'ducklake_snapshot'", dbname)
    # a second process opening the same lake sees the schema (its data path comes from the catalog)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from warehouse.db import Warehouse
        from warehouse.schema import migrate
        wh = Warehouse({lake.lake.url!r}, home={str(lake.home)!r})
        print(migrate(wh), wh.blob_root)""")], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "WARDWATCH_DATA_PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"[] {lake.lake.data_path}blobs/"


@pytest.mark.slow
def test_demo_runs_into_ducklake_match_the_embedded_warehouse_and_pass_doctor(demo_lake, demo_runs):
    from warehouse.doctor import check

    wh, runs = demo_lake
    mem, mem_runs = demo_runs
    assert [(r["fetched"], r["new_versions"], r["unchanged"], r["errors"]) for r in runs] == [
        (r["fetched"], r["new_versions"], r["unchanged"], r["errors"]) for r in mem_runs]
    for table in ("blobs", "fetches", "versions", "extractions", "facts", "version_diffs", "fact_changes",
                  "flag_records"):
        assert q(wh, f"SELECT count(*) FROM {table}") == q(mem, f"SELECT count(*) FROM {table}"), table
    changes = "SELECT url, program, kind, qualifier, before_text, after_text FROM changes ORDER BY ALL"
    assert q(wh, changes) == q(mem, changes) and len(q(wh, changes)) > 0
    flags = "SELECT rule, severity, url, program, kind, open FROM flags ORDER BY ALL"
    assert q(wh, flags) == q(mem, flags) and len(q(wh, flags)) > 0
    # the bytes are in the blob store, once per hash, and only there
    store = BlobStore(wh.blob_root)
    hashes = {r[0] for r in q(wh, "SELECT sha256 FROM blobs")}
    assert set(store.hashes()) == hashes
    for sha in sorted(hashes)[:3]:
        assert wh.blob(sha) == q(mem, "SELECT data FROM blobs WHERE sha256 = ?", [sha])[0][0]
    report = check(wh)
    assert report.healthy, report.to_json()
    assert report.totals["stored_blobs"] == len(hashes) == report.totals["blobs"]


@pytest.mark.slow
def test_readers_get_bytes_from_the_store(demo_lake):
    from warehouse.facts import blobs
    from warehouse.read import blob, stored_html
    from warehouse.review import archived_version

    wh, _ = demo_lake
    vid, sha, source = q(wh, "SELECT version_id, sha256, source_id FROM versions WHERE media_type = 'text/html' "
                             "ORDER BY url LIMIT 1")[0]
    data = BlobStore(wh.blob_root).get(sha)
    assert data and blob(wh, sha) == data and blobs(wh, [sha]) == {sha: data}
    assert archived_version(wh, vid)["data"] == data
    html = stored_html(wh, source)
    assert html and all(hashlib.sha256(b).hexdigest() in {r[0] for r in q(wh, "SELECT sha256 FROM blobs")}
                        for b in html.values())


@pytest.mark.slow
def test_doctor_finds_a_missing_or_corrupt_blob_and_a_duplicate_key(lake: Warehouse):
    from warehouse.doctor import check

    fill_demo(lake, [demo_site("v1")], sources=["demo-nerima"])
    assert check(lake).healthy
    store = BlobStore(lake.blob_root)
    first, second = sorted(store.hashes())[:2]
    Path(store.path(first)).write_bytes(b"tampered")
    Path(store.path(second)).unlink()
    with lake.transaction() as con:  # a second row with an existing key (DuckLake does not refuse it)
        con.execute("INSERT INTO versions SELECT * FROM versions WHERE version_id = "
                    "(SELECT min(version_id) FROM versions)")
    report = check(lake)
    by = {p.check: p for p in report.problems}
    assert by["blob_store"].count == 2
    assert any(first in e and "do not match" in e for e in by["blob_store"].examples)
    assert any(second in e and "missing" in e for e in by["blob_store"].examples)
    assert by["duplicate_key_versions"].count == 1
    assert "current_versions" in by  # the duplicate is also a second current version of its URL


@pytest.mark.slow
def test_crawl_of_the_loopback_site_into_ducklake_passes_doctor(lake: Warehouse, site, tmp_path: Path):
    sources = tmp_path / "sources.toml"
    sources.write_text(registry_text(site.base), encoding="utf-8")
    opts = ["--warehouse", lake.lake.url, "--data-path", lake.lake.data_path]
    env = {"WARDWATCH_LAKE_HOME": str(lake.home)}
    done = wardwatch("crawl", "--sources", str(sources), *opts, "--format", "json", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    (first,) = result["sources"]
    assert result["status"] == "ok" and first["new_versions"] > 5
    pages = q(lake, "SELECT count(DISTINCT url), count(*) FROM versions")[0]
    assert pages == (first["new_versions"], first["new_versions"])
    again = json.loads(wardwatch("crawl", "--sources", str(sources), *opts, "--format", "json", env=env,
                                 cwd=tmp_path).stdout)["sources"][0]
    assert again["new_versions"] == 0 and again["fetched"] >= first["new_versions"]
    assert q(lake, "SELECT count(*) FROM versions")[0][0] == first["new_versions"]  # nothing stored twice
    doctor = wardwatch("doctor", *opts, "--format", "json", env=env, cwd=tmp_path)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert json.loads(doctor.stdout)["healthy"] is True
    assert not (tmp_path / "logs").exists() and (lake.home / "logs").is_dir()  # logs beside the lake's home


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from warehouse.db import Warehouse
    from warehouse import runs
    from warehouse.load import load_pending
    url, data_path, home, folder, run_id = sys.argv[1:6]
    wh = Warehouse(url, data_path=data_path, home=home)
    runs.start_run(wh, run_id, ["fixture-nerima"])
    print("ready", flush=True)
    sys.stdin.readline()  # the test's "go", to both writers at once
    t = time.monotonic()
    counts = load_pending(wh, Path(folder), batch=2)
    runs.finish_run(wh, run_id, counts, "ok")
    print(counts.fetched, counts.new_versions, counts.unchanged, round(time.monotonic() - t, 2))
""")


@pytest.mark.slow
def test_two_writer_processes_load_into_one_lake_at_once(lake: Warehouse, tmp_path: Path):
    """Two "machines" (own homes and staging) load captures of the same 30 pages (same bytes) plus 10 of
    their own each, in batches of 2, at the same moment: every page is stored once, no version is lost
    or duplicated, every blob once."""
    from warehouse import runs, staging
    from warehouse.doctor import check

    migrate(lake)
    runs.upsert_sources(lake, [{"source_id": "fixture-nerima", "municipality": "練馬区", "code": "131202",
                                "kind": "official", "name": "fixture", "start_urls": [], "allowed_domains": [],
                                "schedule": None}])
    base = "http://127.0.0.1:9/nerima/"
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    shared = [f"{base}page-{i:02d}.html" for i in range(30)]
    folders, run_ids = [], []
    for w in range(2):
        folder, run_id = tmp_path / f"staging-{w}", f"20261120T000000Z-00000{w}"
        own = [f"{base}own-{w}-{i:02d}.html" for i in range(10)]
        for i, url in enumerate(shared + own):
            body = f"<html><body><h1>{url}</h1><p>上限{i}万円</p></body></html>".encode()
            staging.write(folder, staging.Capture(run_id=run_id, source_id="fixture-nerima", url=url,
                                                  requested_url=url, status=200, content_type="text/html",
                                                  media_type="text/html", charset="utf-8", body=body, depth=1,
                                                  fetched_at=(t0 + timedelta(seconds=i, milliseconds=w)).isoformat()))
        folders.append(folder)
        run_ids.append(run_id)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, lake.lake.url, lake.lake.data_path,
                               str(tmp_path / f"home-{w}"), str(folders[w]), run_ids[w]],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for w in range(2)]
    for p in procs:  # both have opened the lake and started their runs
        assert read_line(p, 120, "a writer to open the lake") == "ready\n"
    outs = [p.communicate(input="go\n", timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    figures = [o[0].split() for o in outs]
    print("writers (fetched, new, unchanged, seconds):", figures)
    assert sum(int(f[0]) for f in figures) == 80
    assert sum(int(f[1]) for f in figures) == 50 and sum(int(f[2]) for f in figures) == 30
    assert q(lake, "SELECT count(*), count(DISTINCT url) FROM versions") == [(50, 50)]
    assert q(lake, "SELECT count(*), count(DISTINCT fetch_id) FROM fetches") == [(80, 80)]
    assert q(lake, "SELECT count(*), count(DISTINCT sha256) FROM blobs") == [(50, 50)]
    assert sorted(r[0] for r in q(lake, "SELECT url FROM versions WHERE url LIKE '%page-%'")) == shared
    report = check(lake)
    assert report.healthy, report.to_json()


@pytest.mark.slow
def test_query_and_export_on_ducklake(demo_lake, tmp_path: Path):
    from tests.support.helpers import main

    wh, _ = demo_lake
    opts = ["--warehouse", wh.lake.url, "--data-path", wh.lake.data_path]
    os.environ["WARDWATCH_LAKE_HOME"] = str(wh.home)
    try:
        assert main(["query", "SELECT count(*) AS n FROM versions", *opts, "--format", "json"]) == 0
        assert main(["query", "INSERT INTO runs (run_id, started_at, status) VALUES ('x', now(), 'ok')", *opts]) == 2
        assert main(["query", "SELECT * FROM read_csv('/etc/passwd')", *opts]) == 1  # external access is off
        assert main(["export", str(tmp_path / "out"), *opts]) == 0
    finally:
        os.environ.pop("WARDWATCH_LAKE_HOME", None)
    import duckdb

    con = duckdb.connect()
    for name in ("versions", "fetches", "changes", "flags", "documents"):
        got = con.execute(f"SELECT count(*) FROM '{tmp_path / 'out' / (name + '.parquet')}'").fetchone()[0]
        assert got == q(wh, f"SELECT count(*) FROM {name}")[0][0] and got > 0, name
    assert not (tmp_path / "out" / "ducklake_snapshot.parquet").exists()  # only the warehouse's own tables


@pytest.mark.slow
def test_query_cli_output_on_ducklake(demo_lake, capsys):
    from tests.support.helpers import main

    wh, _ = demo_lake
    n = q(wh, "SELECT count(*) FROM versions")[0][0]
    assert main(["query", "SELECT count(*) AS n FROM versions", "--warehouse", wh.lake.url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": n}]


def test_cli_refuses_db_and_warehouse_together_and_a_bad_url(tmp_path: Path, capsys):
    from tests.support.helpers import main

    assert main(["doctor", "--db", str(tmp_path / "x.duckdb"), "--warehouse", "ducklake:postgres:dbname=x"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["doctor", "--warehouse", "postgres://localhost/ww"]) == 2
    assert "not a DuckLake connection string" in capsys.readouterr().err
    assert main(["doctor", "--warehouse", "ducklake:sqlite:x.db"]) == 2
    assert "only a Postgres catalog" in capsys.readouterr().err
    assert main(["doctor", "--db", str(tmp_path / "x.duckdb"), "--data-path", str(tmp_path)]) == 2
    assert "goes with a DuckLake warehouse" in capsys.readouterr().err


@pytest.mark.slow
def test_an_unreachable_catalog_is_one_line(tmp_path: Path, capsys):
    from tests.support.helpers import free_port, main

    url = f"ducklake:postgres:dbname=ww host=127.0.0.1 port={free_port()} user=postgres connect_timeout=2"
    assert main(["doctor", "--warehouse", url, "--data-path", str(tmp_path / "lake")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot open the DuckLake warehouse" in err and "Traceback" not in err


def test_pointer_file_names_the_same_lake(tmp_path: Path):
    wh = Warehouse("ducklake:postgres:dbname=ww host=127.0.0.1 user=postgres", data_path=tmp_path / "lake",
                   home=tmp_path / "home")
    pointer = Path(os.fspath(wh))
    assert pointer == tmp_path / "home" / "warehouse.lake.json"
    assert oct(pointer.stat().st_mode & 0o777) == "0o600"  # the URL may hold a password
    again = Warehouse(pointer)
    assert (again.lake, again.home, str(again)) == (wh.lake, wh.home, str(wh))
    assert Warehouse.of(Path(os.fspath(wh))).staging_dir == wh.staging_dir == tmp_path / "home" / "lake.staging"
    assert replace(wh.lake, data_path=None).remote is False


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_retry_reruns_work_that_lost_a_commit_conflict(memory_warehouse: Warehouse):
    calls = []

    def work(con):
        calls.append(con.execute("SELECT 42").fetchone()[0])
        if len(calls) < 3:
            raise WarehouseConflict("commit conflict with another writer (transient, retry)")
        return calls[-1]

    assert memory_warehouse.retry(work) == 42 and calls == [42, 42, 42]
    calls.clear()
    with pytest.raises(WarehouseConflict):
        memory_warehouse.retry(work, attempts=2)
    assert len(calls) == 2


@pytest.mark.slow
def test_a_writer_waits_for_the_lock_and_gives_up_with_a_transient_error(lake: Warehouse):
    """The writer lock is taken in the catalog database: a second writer (another process or thread) waits
    for it, and one that waits longer than its timeout gets a "locked" WarehouseError (retried by flows)."""
    import threading

    migrate(lake)
    entered, release = threading.Event(), threading.Event()

    def holder():
        with lake.transaction() as con:
            con.execute("INSERT INTO flag_evaluations VALUES (now(), current_date, 'a', 0, 0, 0)")
            entered.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert entered.wait(30)
        with pytest.raises(WarehouseError, match="locked by another writer"), lake.transaction(timeout=0.5) as con:
            con.execute("INSERT INTO flag_evaluations VALUES (now(), current_date, 'b', 0, 0, 0)")
        with lake.connect(read_only=True) as con:  # readers take no lock
            assert con.execute("SELECT count(*) FROM flag_evaluations").fetchone()[0] == 0
    finally:
        release.set()
        t.join()
    assert q(lake, "SELECT scope FROM flag_evaluations") == [("a",)]
