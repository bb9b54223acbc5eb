"""A real Prefect server on a throwaway PostgreSQL database, for the work-pool tests.

``start_prefect_server(cluster, home)`` creates a database in the test cluster (tests/support/postgres.py),
starts ``prefect server start`` on a free loopback port with its own PREFECT_HOME and
``PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://…`` (Prefect migrates the empty database at start),
and waits for ``/api/health``. The server is wardwatch's own supervised one
(``wardwatch.cli.prefect_server.LocalServer``: its own session, SIGTERM when the test process dies, stopped
by process group) with its background services on — the triggers and actions services run the automation
that marks silent flow runs Crashed — and without the UI and the scheduler (nothing here has a schedule).

    with running_prefect_server(postgres_cluster, tmp_path / "prefect") as server:
        env = server.client_env(tmp_path / "client-home")   # PREFECT_API_URL and a private PREFECT_HOME
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.postgres import Cluster
from wardwatch.cli.prefect_server import LocalServer, ServerError

START_TIMEOUT_S = 180.0  # a fresh database is migrated first (~5 s on 2 idle cores; far more under load)

# what the server process gets besides the database URL: no UI, no scheduler, no late-run marking, no telemetry
SERVER_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
}


def database_url(cluster: Cluster, dbname: str) -> str:
    """Prefect's SQLAlchemy URL for a database of the test cluster (asyncpg driver, trust authentication)."""
    return "postgresql+asyncpg://" + cluster.url(dbname).removeprefix("postgresql://")


@dataclass
class PrefectServer:
    server: LocalServer
    cluster: Cluster
    dbname: str

    @property
    def api_url(self) -> str:
        return self.server.api_url

    @property
    def log_path(self) -> Path:
        return self.server.log_path

    def client_env(self, home: Path) -> dict[str, str]:
        """Environment for a client or worker process of this server (its own PREFECT_HOME)."""
        home.mkdir(parents=True, exist_ok=True)
        return {"PREFECT_API_URL": self.api_url, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        self.server.stop()


def start_prefect_server(cluster: Cluster, home: Path, *, timeout: float = START_TIMEOUT_S) -> PrefectServer:
    """A Prefect server on a new database of ``cluster``, answering on its API (fails the test otherwise)."""
    dbname = "prefect_" + uuid.uuid4().hex[:10]
    cluster.create_database(dbname)
    env = {**SERVER_ENV, "PREFECT_API_DATABASE_CONNECTION_URL": database_url(cluster, dbname)}
    server = LocalServer(Path(home), port=0, api_only=False, advertise=False)
    with pytest.MonkeyPatch.context() as mp:  # LocalServer hands this process's environment to the server
        for name, value in env.items():
            mp.setenv(name, value)
        try:
            server.start(timeout=timeout)
        except ServerError as exc:
            cluster.drop_database(dbname)
            pytest.fail(f"Prefect server on PostgreSQL did not start: {exc}")
    return PrefectServer(server, cluster, dbname)


@contextlib.contextmanager
def running_prefect_server(cluster: Cluster, home: Path, *, timeout: float = START_TIMEOUT_S) -> Iterator[PrefectServer]:
    """:func:`start_prefect_server`, stopped (and its database dropped) afterwards."""
    server = start_prefect_server(cluster, home, timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
        with contextlib.suppress(RuntimeError):
            cluster.drop_database(server.dbname)


def without_prefect_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its PREFECT_* settings (a test harness's), plus ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}, **(env or {})}
