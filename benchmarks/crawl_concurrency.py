"""Crawl concurrency benchmark: a loopback "country" of H hosts × P pages (+ Q PDFs), each host its own source
with a politeness delay D, crawled by `wardwatch run --no-prefect` in two ways:

* the old default — 4 sources at a time, each crawled in its own process (`--concurrency 4 --per-source-process`);
* one crawl process serving N hosts at once (`--concurrency N`).

Prints, per way: wall time of the whole run (crawl, extract, diff, report), the crawl's span as the servers saw
it (first request to last response), URLs/s over that span, its fraction of the politeness limit (hosts ÷ delay:
each host may get one request per delay), and the most hosts the servers saw in flight at once.

    python -m benchmarks.crawl_concurrency [--hosts 20] [--pages 10] [--pdfs 0] [--delay 0.2] [--concurrency 20]

The country itself is ``tests.support.country.Country`` (re-exported here with :func:`country` for other
benchmarks): ``with country(200, 30, 2) as c: c.write_registry(path, delay=0.2)``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.country import Country

ROOT = Path(__file__).resolve().parents[1]
OLD_PARALLEL = 4  # sources at a time before one process served many hosts


def country(hosts: int, pages: int, pdfs: int = 0, latency: float = 0.0) -> Country:
    """A loopback country (not started: use it as a context manager): ``hosts`` hosts on 127.0.0.2 onwards,
    each with ``pages`` pages and ``pdfs`` PDFs; ``write_registry(path, delay)`` writes its sources."""
    return Country(hosts, pages, pdfs, latency=latency)


@dataclass
class Measured:
    label: str
    wall_s: float
    span_s: float
    urls: int
    hosts: int
    delay: float
    busy: int
    exit_code: int

    @property
    def urls_per_s(self) -> float:
        return self.urls / self.span_s if self.span_s else 0.0

    @property
    def of_limit(self) -> float:
        """URLs/s as a fraction of the politeness limit, hosts ÷ delay."""
        return self.urls_per_s / (self.hosts / self.delay) if self.delay else 0.0


def measure(label: str, run_args: list[str], hosts: int, pages: int, pdfs: int, delay: float, tmp: Path) -> Measured:
    """One `wardwatch run --no-prefect RUN_ARGS` of a fresh country into a fresh warehouse."""
    with country(hosts, pages, pdfs) as c:
        folder = tmp / label.replace(" ", "-")
        folder.mkdir(parents=True)
        reg = c.write_registry(folder / "sources.toml", delay=delay)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "wardwatch", "run", "--no-prefect", "--sources", str(reg),
                               "--db", str(folder / "w.duckdb"), *run_args], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"{label}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        spans = c.spans().values()
        span = max(b for _, b in spans) - min(a for a, _ in spans) if spans else 0.0
        return Measured(label, wall, span, len(c.hits()), hosts, delay, c.max_hosts_busy(), done.returncode)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--pdfs", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shape = (args.hosts, args.pages, args.pdfs, args.delay, Path(tmp))
        results = [
            measure(f"{OLD_PARALLEL} at a time, a process each",
                    ["--concurrency", str(OLD_PARALLEL), "--per-source-process"], *shape),
            measure(f"one process, --concurrency {args.concurrency}", ["--concurrency", str(args.concurrency)], *shape),
        ]
    print(f"country: {args.hosts} hosts × ({args.pages} pages + {args.pdfs} PDFs) on 127.0.0.2…, delay {args.delay}s "
          f"per host; politeness limit {args.hosts / args.delay:.0f} URLs/s (robots.txt counted)")
    print(f"{'':36}{'wall s':>8}{'crawl s':>9}{'URLs':>6}{'URLs/s':>8}{'of limit':>10}{'hosts at once':>15}")
    for r in results:
        print(f"{r.label:36}{r.wall_s:8.1f}{r.span_s:9.1f}{r.urls:6}{r.urls_per_s:8.1f}{r.of_limit:10.0%}{r.busy:15}"
              + ("" if r.exit_code == 0 else f"  (exit {r.exit_code})"))
    old, new = results
    print(f"speed-up: {old.wall_s / new.wall_s:.1f}× wall time, {old.span_s / new.span_s:.1f}× crawl time")


if __name__ == "__main__":
    main()
