"""A throwaway PostgreSQL cluster for tests (DuckLake catalogs; Prefect-on-Postgres).

``postgres_cluster`` (session-scoped) runs ``initdb`` into a fresh temporary folder, starts the server
with ``pg_ctl`` on a free loopback port (TCP on 127.0.0.1 only, its unix socket in that folder, trust
authentication for the superuser ``postgres``), and stops and removes it at teardown. PostgreSQL
refuses to run as root, so under root the server runs as an unprivileged account (``$WARDWATCH_PG_USER``,
else ``nobody``) that owns the folder; the binaries come from ``$WARDWATCH_PG_BIN``, else the newest
``/usr/lib/postgresql/*/bin``, else ``PATH``. Tests that need it skip with the reason when there are
no binaries (``make test`` installs them from Debian when it can).

``pg_database`` (per test) is a new, empty database of that cluster.

    def test_x(pg_database):
        url = pg_database.lake_url   # ducklake:postgres:dbname=… host=127.0.0.1 port=… user=postgres
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "postgres"


def find_bin() -> Path | None:
    """The folder holding initdb/pg_ctl/postgres, or None."""
    env = os.environ.get("WARDWATCH_PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += sorted((Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(Path(which).parent)
    for folder in candidates:
        if all((folder / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bin: Path
    root: Path
    port: int
    user: str | None  # the OS account the server runs as (None: this process's)
    host: str = "127.0.0.1"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq key=value connection string."""
        return f"dbname={dbname} host={self.host} port={self.port} user={SUPERUSER}"

    def url(self, dbname: str = "postgres") -> str:
        """A libpq/SQLAlchemy-style URL (e.g. for Prefect: postgresql+asyncpg://…)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a server binary (initdb, pg_ctl) as the cluster's account."""
        return subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user, capture_output=True,
                              text=True, check=check, timeout=timeout, cwd=self.root)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql (a client: runs as this process, over TCP)."""
        done = subprocess.run([str(self.bin / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-d", self.dsn(dbname), "-c", sql], capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str | None = None) -> str:
        name = name or "t_" + uuid.uuid4().hex[:12]
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Database:
    cluster: Cluster
    name: str

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.name)

    @property
    def lake_url(self) -> str:
        """DuckLake's connection string for a catalog in this database."""
        return "ducklake:postgres:" + self.dsn


def _server_user() -> tuple[str | None, int | None, int | None]:
    if os.geteuid() != 0:
        return None, None, None
    name = os.environ.get("WARDWATCH_PG_USER", "nobody")
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        pytest.skip(f"running as root and there is no account {name!r} to run PostgreSQL as "
                    "(set $WARDWATCH_PG_USER to an unprivileged account)")
    return name, pw.pw_uid, pw.pw_gid


def start_cluster() -> Cluster:
    """initdb + pg_ctl start (see the module docstring); skips the test when there are no binaries."""
    folder = find_bin()
    if folder is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install postgresql "
                    "(Debian: apt-get install postgresql) or set $WARDWATCH_PG_BIN")
    user, uid, gid = _server_user()
    root = Path(tempfile.mkdtemp(prefix="wardwatch-pg-"))  # directly in /tmp: every account can reach it
    if uid is not None:
        os.chown(root, uid, gid)
    cluster = Cluster(folder, root, _free_port(), user)
    try:
        cluster.run("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                    "--no-locale", "--no-sync")
        options = (f"-h {cluster.host} -p {cluster.port} -k {root} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=200")
        cluster.run("pg_ctl", "-D", str(cluster.data), "-l", str(root / "server.log"), "-o", options,
                    "-w", "-t", "60", "start")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
        out = getattr(exc, "stderr", "") or ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start a throwaway PostgreSQL: {out.strip()} {log}")
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    try:
        cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "-w", "stop", check=False)
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def pg_database(postgres_cluster: Cluster) -> Iterator[Database]:
    """A fresh, empty database in the session's cluster (dropped afterwards)."""
    name = postgres_cluster.create_database()
    try:
        yield Database(postgres_cluster, name)
    finally:
        try:
            postgres_cluster.drop_database(name)
        except RuntimeError:
            pass
