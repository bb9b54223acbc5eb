"""Shared fixtures: the loopback fixture site, registries pointing at it, crawl helpers."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from spiders.registry import to_toml
from tests.support.registry import local_source
from wardwatch.demo.script import demo_site_root
from wardwatch.demo.server import DEMO_CONFIG, SiteServer
from wardwatch.stages.crawl import crawl_subprocess

SHARED = Path(__file__).resolve().parents[2] / "shared"
NERIMA = "/nerima/kurashi/jinken/hitorioya"


def q(db: Path, sql: str, params=()) -> list[tuple]:
    """Rows of a read-only query on a test warehouse."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared (seeds and corpus) is not present beside the project")
    return SHARED


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


def registry_text(base: str, *, sid: str = "fixture-nerima", follow: tuple[str, ...] = (f"^{NERIMA}/", "^/nerima/private/"),
                  start: str = f"{NERIMA}/index.html", max_depth: int = 2, **extra) -> str:
    return to_toml([local_source(sid, base, start, follow=list(follow), max_depth=max_depth, **extra)])


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
