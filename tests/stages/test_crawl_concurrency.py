"""One crawl process serves many hosts at once (`wardwatch crawl --concurrency N`), politely per host.

Real crawls of a loopback "country" (tests/support/country.py: hosts on 127.0.0.2, 127.0.0.3, …, each its own
source); what the servers saw, timed on their side, is the evidence: different hosts are crawled at the same
time, one host never gets two requests at once and never two closer than Scrapy's delay allows (the source's
``delay_seconds`` × a random 0.5–1.5, RANDOMIZE_DOWNLOAD_DELAY), every page is fetched and stored once, N bounds
how many hosts are in flight, and two sources on one host take turns.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from spiders.registry import load_sources, to_toml
from tests.support.country import Country
from tests.support.helpers import ROOT, q
from tests.support.waiting import wait_until
from wardwatch.stages.crawl import EVENT_PREFIX, _overlap, crawl_subprocess, source_hosts

DELAY = 0.2
SLACK = 0.03  # server-side arrival times of two requests on one connection may come this much closer than sent


def assert_polite(hits: list, delay: float = DELAY) -> None:
    """One host's requests: never two at a time, never closer than the delay's lower bound (0.5 × delay).

    Scrapy counts the delay from when it hands a request to the connection pool, so the first request after
    robots.txt may reach the server sooner: robots.txt's own connection set-up (opening the TCP connection,
    with many crawlers starting at once) is taken out of the gap the server sees. That pair is only checked
    for overlap."""
    for before, after in zip(hits, hits[1:]):
        assert after.start >= before.end, f"{after.path} overlapped {before.path} on {after.host}"
        if before.path == "/robots.txt":
            continue
        assert after.start - before.start >= 0.5 * delay - SLACK, \
            f"{after.host}: {after.path} came {after.start - before.start:.3f}s after {before.path}"


def assert_each_page_once(country: Country, db: Path) -> None:
    for host, hits in country.hits_by_host().items():
        assert sorted(h.path for h in hits) == sorted(["/robots.txt", *country.paths()]), host
    assert q(db, "SELECT url, count(*) FROM fetches GROUP BY url HAVING count(*) > 1") == []
    assert q(db, "SELECT count(*), count(DISTINCT url) FROM versions") == \
        [(country.n_hosts * country.urls_per_host,) * 2]


# ---------------------------------------------------------------- units


def test_a_source_s_hosts_are_its_start_hosts_and_allowed_domains():
    (nerima,) = [s for s in load_sources(ROOT / "sources.toml") if s.id == "nerima-hitorioya"]
    assert source_hosts(nerima) == {"www.city.nerima.tokyo.jp"}
    wider = replace(nerima, allowed_domains=("city.nerima.tokyo.jp",))
    assert _overlap(source_hosts(nerima), source_hosts(wider))  # a subdomain is the same server farm
    assert not _overlap(frozenset({"press.mamamoi.jp"}), frozenset({"www.city.kita.tokyo.jp"}))
    assert not _overlap(frozenset({"127.0.0.2"}), frozenset({"127.0.0.20"}))


# ---------------------------------------------------------------- real crawls


@pytest.mark.slow
def test_many_hosts_are_crawled_at_once_each_one_politely(tmp_path):
    events: list[tuple[str, dict]] = []
    with Country(hosts=8, pages=5, pdfs=1) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=DELAY)
        db = tmp_path / "data" / "w.duckdb"
        result = crawl_subprocess(reg, db, timeout=180, concurrency=8,
                                  on_source=lambda sid, r: events.append((sid, r)))
        by_host = country.hits_by_host()
        assert result["status"] == "ok", result
        assert {r["source_id"]: r["fetched"] for r in result["sources"]} == \
            {country.source_id(i): country.urls_per_host for i in range(8)}
        for hits in by_host.values():
            assert_polite(hits)
        assert country.max_hosts_busy() >= 4  # crawled side by side (one at a time would give 1)
        assert country.max_requests_in_flight() >= 2
        assert_each_page_once(country, db)
    assert q(db, "SELECT count(*), max(len(source_ids)) FROM runs") == [(1, 8)]  # one crawl, one run row
    # each source was reported once, as it finished, with the numbers of the final result
    assert sorted(sid for sid, _ in events) == sorted(r["source_id"] for r in result["sources"])
    final = {r["source_id"]: r for r in result["sources"]}
    for sid, early in events:
        assert early["run_id"] == result["run_id"] and early["sources"] == [final[sid]]


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1, 2])
def test_the_concurrency_bounds_the_hosts_in_flight(tmp_path, limit):
    with Country(hosts=5, pages=3) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=DELAY)
        result = crawl_subprocess(reg, tmp_path / "w.duckdb", timeout=180, concurrency=limit)
        assert result["status"] == "ok"
        assert country.max_hosts_busy() == limit
        assert len(country.spans()) == 5


@pytest.mark.slow
def test_two_sources_on_one_host_take_turns(tmp_path):
    """Each crawler has its own downloader slots: two sources on one host must never run side by side, and
    the second starts only after the host rested for the delay."""
    with Country(hosts=2, pages=4) as country:
        entries = country.entries(delay=DELAY)
        for n, page in ((2, "/p1.html"), (3, "/p2.html")):  # two more sources on 127.0.0.2 (練馬区's other sections)
            extra = dict(entries[0], id=f"host-002-{n}", start_urls=[country.base(0) + page], max_depth=0)
            entries.append(extra)
        reg = tmp_path / "sources.toml"
        reg.write_text(to_toml(entries), encoding="utf-8")
        result = crawl_subprocess(reg, tmp_path / "w.duckdb", timeout=180, concurrency=4)
        assert result["status"] == "ok"
        shared = country.hits_by_host()["127.0.0.2"]
        assert [h.path for h in shared].count("/robots.txt") == 3  # three sources took turns on it
        for before, after in zip(shared, shared[1:]):
            assert after.start >= before.end
            if after.path == "/robots.txt":  # the next source's first request: after a full rest
                assert after.start - before.end >= DELAY - SLACK
        assert_polite(shared)
        other = country.spans()["127.0.0.3"]
        assert other[0] < shared[-1].end and shared[0].start < other[1]  # the other host ran meanwhile


@pytest.mark.slow
def test_a_stop_signal_starts_no_more_sources(tmp_path):
    """SIGTERM while sources still wait: the crawl stops, those never started are `interrupted` (not failed),
    their hosts were never contacted, and the run row says interrupted."""
    with Country(hosts=4, pages=8) as country:
        reg = country.write_registry(tmp_path / "sources.toml", delay=0.3)
        db = tmp_path / "w.duckdb"
        proc = subprocess.Popen([sys.executable, "-m", "wardwatch", "crawl", "--sources", str(reg), "--db", str(db),
                                 "--format", "json", "--concurrency", "1", "--events"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: len(country.spans()) >= 2, 120, "the second source's first request", proc=proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err[-2000:]
        result = json.loads(out)
        assert result["status"] == "interrupted" and result["interrupted_by"] == "SIGTERM"
        rows = {r["source_id"]: r for r in result["sources"]}
        assert {r["status"] for r in rows.values()} == {"interrupted"}
        contacted = set(country.spans())
        assert contacted == {"127.0.0.2", "127.0.0.3"}  # one at a time: the third and fourth never began
        assert rows["host-004"]["fetched"] == rows["host-005"]["fetched"] == 0
        assert rows["host-002"]["fetched"] == country.urls_per_host
        finished = [json.loads(line[len(EVENT_PREFIX):]) for line in err.splitlines() if line.startswith(EVENT_PREFIX)]
        assert finished[0]["source_id"] == "host-002" and finished[0]["result"]["status"] == "ok"
    assert q(db, "SELECT status FROM runs") == [("interrupted",)]
