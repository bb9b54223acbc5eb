"""`wardwatch run --work-pool NAME --pool-shards N`: N flow runs instead of one per source, each one batch crawl
(one crawl process, many hosts at once) + extract + diff of registry shard K/N — with every component real, as
in tests/flows/test_workpool.py (whose loopback ward sites, workers, Prefect-on-PostgreSQL server and DuckLake
fixtures this module reuses): two workers, 4 ward hosts, 2 shards → every page stored once, `doctor` clean.

Skips with the reason when PostgreSQL's binaries or the DuckLake extension wheels are missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from flows.workpool import shard_units
from spiders.registry import Shard
from tests.flows.test_workpool import (  # noqa: F401 (fixtures)
    Worker,
    assert_every_page_once,
    doctor,
    finished,
    lake,
    pool_env,
    postgres_cluster,
    prefect_pg,
    registry,
    ward_sites,
)
from tests.support.helpers import ROOT, q
from tests.support.waiting import wait_until


def test_shard_units_are_the_registry_shards_each_source_in_exactly_one():
    """Shard K/N of a pool run holds exactly what `wardwatch run --shard K/N` would crawl; empty shards are left
    out (a small registry split many ways), and the order of the registry is kept inside each shard."""
    ids = [f"{slug}-hitorioya" for slug in ("nerima", "kita", "shibuya", "adachi", "minato", "sumida", "arakawa")]
    for count in (1, 2, 3, 5):
        units = shard_units(ids, count)
        assert sorted(sid for members in units.values() for sid in members) == sorted(ids)  # each once
        for name, members in units.items():
            k, n = map(int, name.split("/"))
            assert n == count and members == [sid for sid in ids if Shard(k, n).contains(sid)]
    assert shard_units(ids, 1) == {"1/1": ids}
    assert len(shard_units(ids[:2], 8)) <= 2  # 8 shards of 2 sources: at most 2 flow runs


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_two_shards_on_two_workers_store_every_page_once(prefect_pg, lake, tmp_path):  # noqa: F811
    """4 ward hosts, `--pool-shards 2`, two workers taking one flow run each: 2 flow runs in all (not 4), each
    shard crawled by one crawl run of its own sources, every source ok, each page stored once, doctor clean."""
    with ward_sites(4, pages=4) as sites:
        sources = registry(tmp_path / "sources.toml", sites, delay=0.2)
        pool = "wards-shards"
        started = [Worker(prefect_pg, pool, f"w{i}", tmp_path / "workers", limit=1) for i in (1, 2)]
        try:
            for w in started:
                wait_until(lambda w=w: f"Worker '{w.name}' started" in w.output(), 120, f"worker {w.name} to start",
                           proc=w.proc, interval=0.25)
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "wardwatch", "run", "--work-pool", pool, "--pool-shards", "2", "--concurrency",
                 "4", "--sources", str(sources), *lake.args(), "--format", "json", "--timeout", "300"],
                cwd=ROOT, env=pool_env(prefect_pg, tmp_path / "submitter"), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            code, out, err = finished(proc, timeout=320)
            elapsed = time.monotonic() - t0
            logs = "\n".join(f"--- {w.name}:\n{w.output()}" for w in started)
            assert code == 0, f"{err[-3000:]}\n{logs}\n--- server:\n{prefect_pg.log_tail()}"
        finally:
            codes = [w.stop() for w in started]
    print(f"\n{len(sites)} hosts in 2 shards, 2 workers: {elapsed:.1f}s wall (submit to summary)")
    ids = [f"{s.slug}-hitorioya" for s in sites]
    shards = shard_units(ids, 2)
    assert sorted(len(m) for m in shards.values()) == [2, 2]  # both shards have work (CRC-32 of these ids)
    assert "work pool wards-shards: 2 flow run(s)" in err  # one per shard, none submitted again
    rows = {r["source_id"]: r for r in out["crawl"]["sources"]}
    assert sorted(rows) == sorted(ids)
    for site in sites:
        row = rows[f"{site.slug}-hitorioya"]
        assert row["status"] == "ok" and row["errors"] == 0, row
        assert row["new_versions"] == len(site.paths), row
        assert [r["state"] for r in row["flow_runs"]] == ["Completed"]
        assert site.served("/index.html") == 1  # crawled once
    # the sources of one shard share its flow run and its worker; the two shards went to the two workers
    for members in shards.values():
        assert len({rows[sid]["flow_runs"][0]["id"] for sid in members}) == 1
        assert len({rows[sid]["worker"] for sid in members}) == 1
    assert sorted({r["worker"] for r in rows.values()}) == ["w1", "w2"], rows
    shard_of = {json.dumps(sorted(m)): name for name, m in shards.items()}
    assert out["extract"]["extracted"] == sum(len(s.paths) for s in sites) and out["extract"]["errors"] == 0
    assert_every_page_once(lake, sites)
    # one batch crawl per shard: each crawl run's sources are exactly one shard's
    crawls = q(lake.warehouse(), "SELECT source_ids, status FROM runs ORDER BY started_at")
    assert sorted(shard_of.get(json.dumps(sorted(s))) for s, _ in crawls) == ["1/2", "2/2"], crawls
    assert {status for _, status in crawls} == {"ok"}
    checked = doctor(lake, tmp_path / "doctor")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["healthy"] is True
    assert codes == [0, 0]
