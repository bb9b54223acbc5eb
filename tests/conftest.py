"""Shared fixtures: the loopback fixture site, registries pointing at it, crawl helpers (tests/e2e,
the slow flow tests), and in-memory warehouses filled from the demo site's files (no server)."""

from __future__ import annotations

import ipaddress
import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.helpers import SHARED, fill_demo
from tests.support.registry import registry_text
from wardwatch.demo.script import demo_site_root
from wardwatch.demo.server import DEMO_CONFIG, SiteServer
from wardwatch.stages.crawl import crawl_subprocess
from warehouse.db import Warehouse


def _loopback(host: object) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def offline() -> Iterator[None]:
    """Tests run offline: in the test process, name lookups and connections leave loopback never
    (registries and saved responses name real municipal hosts; nothing may fetch them)."""
    real_getaddrinfo, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kw):
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"tests run offline: lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kw)

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):  # type: ignore[index]
            raise OSError(f"tests run offline: connection to {address!r} refused")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = getaddrinfo, connect, connect_ex
    try:
        yield
    finally:
        socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = real_getaddrinfo, real_connect, real_connect_ex


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (seeds and corpus) beside the project; the tests needing it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared (seeds and corpus) is not present beside the project")
    return SHARED


@pytest.fixture(scope="session")
def kouhou_2025_04(shared_dir: Path):
    """The corpus newsletter kouhou_otoineppu_2025-04.pdf (12 pages, two columns), extracted once for the session."""
    from extractors.pdf import extract_pdf

    return extract_pdf((shared_dir / "corpus" / "pdf" / "kouhou_otoineppu_2025-04.pdf").read_bytes())


@pytest.fixture
def site_versions(tmp_path: Path) -> dict[str, Path]:
    """A private copy of the demo site's v1 and v2 trees (tests may edit them)."""
    out = {}
    for version in ("v1", "v2"):
        out[version] = tmp_path / "site" / version
        shutil.copytree(demo_site_root() / version, out[version])
    return out


@pytest.fixture
def site(site_versions: dict[str, Path]):
    """The fixture ward site on 127.0.0.1, serving v1 (set ``site.root`` to switch)."""
    config = replace(DEMO_CONFIG, redirects=dict(DEMO_CONFIG.redirects), no_charset=set(DEMO_CONFIG.no_charset),
                     headers={}, faults={})
    with SiteServer(site_versions["v1"], config) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path, site: SiteServer) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(registry_text(site.base), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "wardwatch.duckdb"


@pytest.fixture
def crawl(registry: Path, db: Path):
    """Run `wardwatch crawl --format json` in a child process; returns its JSON result."""

    def run(**kw):
        return crawl_subprocess(kw.pop("sources", registry), kw.pop("db", db), timeout=180, **kw)

    return run


@pytest.fixture
def memory_warehouse() -> Iterator[Warehouse]:
    """An empty in-memory warehouse (no schema yet)."""
    wh = Warehouse(":memory:")
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def demo_runs() -> Iterator[tuple[Warehouse, list[dict]]]:
    """The demo sources crawled from the demo site's files (v1, then v2), extracted and diffed, in one in-memory
    warehouse shared by the session, with the two runs' results (``fill_demo``): read it, never write to it
    (tests that write build their own with ``tests.support.helpers.fill_demo``)."""
    wh = Warehouse(":memory:")
    runs = fill_demo(wh)
    yield wh, runs
    wh.close()


@pytest.fixture(scope="session")
def demo_warehouse(demo_runs: tuple[Warehouse, list[dict]]) -> Warehouse:
    """The warehouse of ``demo_runs`` (read only)."""
    return demo_runs[0]
