"""Scale benchmark (issue 13): a loopback "country" of H hosts (127.0.0.2 …, each its own source with its address in
``allowed_domains``), P pages + Q PDFs each, per-host politeness delay D, crawled — crawl, extract, diff, report —
in each of these ways, one after the other, each from a fresh country into a fresh warehouse:

* **a** today's behaviour before one process served many hosts: `run --no-prefect --per-source-process
  --concurrency 4` (4 sources at a time, a crawl process each). Takes minutes at 200 hosts: measured on
  ``--baseline-hosts`` hosts and scaled to H (printed as such);
* **b**, **c** one crawl process, `run --no-prefect --concurrency 50` / `--concurrency 200`;
* **d** 1, 2, 3 workers (``--pool-workers``) on a Prefect work pool — a Prefect server on a throwaway PostgreSQL,
  `wardwatch worker --pool` processes, a DuckLake warehouse with its catalog in the same PostgreSQL —
  submitted as `run --work-pool P --pool-shards N --concurrency ⌈H/N⌉`, shards = workers;
* **s** the machine's ceiling: Scrapy alone (``benchmarks/scrapy_ceiling.py``: one crawler per host, 50 at a time, the
  same politeness, a spider that stores nothing) — what any Scrapy-based crawler can reach here;
* **r** `reextract --force` serial vs `--workers 2` on copies of case b's warehouse (c's when b did not run).

Prints per case: wall time (start of the command to its summary), crawl time (first request to last response as
the servers saw them), URLs (requests, robots.txt counted), aggregate URLs/s over the crawl time, its fraction of
the politeness limit (H ÷ D URLs/s: each host may get one request per delay), the most hosts in flight at once and
peak RSS (the run / worker process, its largest child — the crawl child or the flow-run process —, the whole tree).

    python -m benchmarks.scale [--hosts 200] [--pages 30] [--pdfs 2] [--delay 0.2] [--baseline-hosts 40]
                               [--only s,a,b,c,d,r] [--pool-workers 1,2,3] [--markdown]

Needs PostgreSQL's server binaries and the DuckLake wheels for d (skipped with the reason otherwise) and
../shared/corpus for nothing: r re-extracts the country's own pages.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.reextract_parallel import TreeRSS, timed_reextract
from tests.support.country import Country

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024


@dataclass
class Case:
    """One measured way of crawling the country (figures already scaled when ``scale`` > 1)."""

    key: str
    label: str
    hosts: int  # the country measured
    delay: float
    wall_s: float
    span_s: float
    urls: int
    busy: int
    rss_main: int
    rss_child: int
    rss_tree: int
    exit_code: int
    scale: float = 1.0  # measured on hosts / scale hosts: times and URLs × scale
    note: str = ""

    @property
    def urls_per_s(self) -> float:
        return self.urls / self.span_s if self.span_s else 0.0

    def of_limit(self, hosts: int) -> float:
        """URLs/s as a fraction of the politeness limit of ``hosts`` hosts (hosts ÷ delay)."""
        return self.urls_per_s / (hosts / self.delay) if self.delay else 0.0

    def scaled(self, factor: float) -> Case:
        return Case(self.key, self.label, self.hosts, self.delay, self.wall_s * factor, self.span_s * factor,
                    round(self.urls * factor), self.busy, self.rss_main, self.rss_child, self.rss_tree, self.exit_code,
                    factor, f"measured on {self.hosts} hosts, scaled ×{factor:g}")


@dataclass
class Reextract:
    versions: int
    serial_s: float
    parallel_s: float
    workers: int
    rss_serial: int
    rss_parallel: int
    same: bool


@dataclass
class Timed:
    """A child process, timed and polled for RSS (its own process and descendants)."""

    cmd: list[str]
    env: dict[str, str]
    log: Path
    code: int = -1
    wall_s: float = 0.0
    out: str = ""
    rss: TreeRSS | None = field(default=None, repr=False)

    def run(self, timeout: float) -> Timed:
        t0 = time.perf_counter()
        with open(self.log, "wb") as err:
            proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=err)
            self.rss = TreeRSS(proc.pid)
            try:
                out, _ = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            except BaseException:  # Ctrl-C: the command stops with us (a work-pool run cancels its flow runs)
                proc.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(20)
                proc.kill()
                raise
            self.rss.stop()
        self.wall_s, self.code, self.out = time.perf_counter() - t0, proc.returncode, out.decode(errors="replace")
        if self.code != 0:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
            print(f"    exit {self.code}: {' | '.join(tail)}", file=sys.stderr)
        return self


def _env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "WARDWATCH_"))}
    return {**base, "PYTHONPATH": str(ROOT), **extra}


def _span(country: Country) -> float:
    spans = list(country.spans().values())
    return max(b for _, b in spans) - min(a for a, _ in spans) if spans else 0.0


def measure_local(key: str, label: str, run_args: list[str], hosts: int, pages: int, pdfs: int, delay: float,
                  folder: Path, timeout: float, *, module: str | None = None) -> tuple[Case, Path]:
    """One `wardwatch run --no-prefect RUN_ARGS` of a fresh country into a fresh embedded warehouse (with
    ``module``: `python -m MODULE --sources REG RUN_ARGS` instead, e.g. the Scrapy-alone ceiling)."""
    folder.mkdir(parents=True)
    with Country(hosts, pages, pdfs) as country:
        reg = country.write_registry(folder / "sources.toml", delay=delay)
        db = folder / "w.duckdb"
        cmd = ([sys.executable, "-m", module, "--sources", str(reg), *run_args] if module else
               [sys.executable, "-m", "wardwatch", "run", "--no-prefect", "--sources", str(reg), "--db", str(db), *run_args])
        t = Timed(cmd, _env(), folder / "run.log").run(timeout)
        assert t.rss is not None
        case = Case(key, label, hosts, delay, t.wall_s, _span(country), len(country.hits()), country.max_hosts_busy(),
                    t.rss.main, t.rss.child, t.rss.tree, t.code)
    return case, db


# ---------------------------------------------------------------- the work pool


class PoolWorker:
    """`wardwatch worker --pool POOL --limit 1` in its own session (its output in a log file)."""

    def __init__(self, api_url: str, pool: str, name: str, folder: Path):
        self.name, self.log = name, folder / f"{name}.log"
        home = folder / f"{name}-home"
        home.mkdir(parents=True, exist_ok=True)
        env = _env(PREFECT_API_URL=api_url, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_LOGGING_LEVEL="WARNING")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "wardwatch", "worker", "--pool", pool, "--limit", "1",
                                          "--name", name], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait_started(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while f"Worker '{self.name}' started" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start: {self.log.read_text(errors='replace')[-800:]}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@contextlib.contextmanager
def prefect_on_postgres(folder: Path) -> Iterator[tuple[object, object]]:
    """(PostgreSQL cluster, Prefect server on it): both throwaway, stopped afterwards."""
    from tests.support.postgres import start_cluster, stop_cluster
    from tests.support.prefect_server import running_prefect_server

    cluster = start_cluster()
    try:
        with running_prefect_server(cluster, folder / "prefect-server") as server:
            yield cluster, server
    finally:
        stop_cluster(cluster)


def measure_pool(worker_counts: list[int], hosts: int, pages: int, pdfs: int, delay: float, folder: Path,
                 timeout: float) -> list[Case]:
    """Case d: 1, 2, 3 … workers (started one after the other and kept), shards = workers."""
    from warehouse import ducklake

    ducklake.extension_paths()  # WarehouseError (the wheels are missing) before anything starts
    cases: list[Case] = []
    pool = "scale"
    with prefect_on_postgres(folder) as (cluster, server):
        workers: list[PoolWorker] = []
        try:
            for n in worker_counts:
                while len(workers) < n:
                    w = PoolWorker(server.api_url, pool, f"w{len(workers) + 1}", folder / "workers")  # type: ignore[attr-defined]
                    w.wait_started()
                    workers.append(w)
                case_dir = folder / f"d{n}"
                case_dir.mkdir(parents=True)
                dbname = cluster.create_database()  # type: ignore[attr-defined]
                lake = "ducklake:postgres:" + cluster.dsn(dbname)  # type: ignore[attr-defined]
                per_shard = math.ceil(hosts / n)
                with Country(hosts, pages, pdfs) as country:
                    reg = country.write_registry(case_dir / "sources.toml", delay=delay)
                    rss = [TreeRSS(w.proc.pid) for w in workers[:n]]
                    home = case_dir / "submitter-home"
                    home.mkdir()
                    t = Timed([sys.executable, "-m", "wardwatch", "run", "--work-pool", pool, "--pool-shards", str(n),
                               "--concurrency", str(per_shard), "--sources", str(reg), "--warehouse", lake,
                               "--data-path", str(case_dir / "lake"), "--format", "json", "--timeout", str(timeout)],
                              _env(PREFECT_API_URL=server.api_url, PREFECT_HOME=str(home),  # type: ignore[attr-defined]
                                   PREFECT_LOGGING_LEVEL="WARNING"), case_dir / "run.log").run(timeout + 60)
                    for r in rss:
                        r.stop()
                    assert t.rss is not None
                    used = sorted({(row.get("worker") or "?") for row in _rows(t.out)})
                    cases.append(Case(f"d{n}", f"work pool, {n} worker(s), {n} shard(s) × --concurrency {per_shard}",
                                      hosts, delay, t.wall_s, _span(country), len(country.hits()),
                                      country.max_hosts_busy(), max(r.main for r in rss), max(r.child for r in rss),
                                      sum(r.tree for r in rss) + t.rss.tree, t.code,
                                      note=f"workers used: {', '.join(used)}"))
                print(f"  {_line(cases[-1], hosts)}", flush=True)
        finally:
            for w in workers:
                w.stop()
    return cases


def _rows(out: str) -> list[dict]:
    try:
        return json.loads(out)["crawl"]["sources"]
    except (ValueError, KeyError, TypeError):
        return []


# ---------------------------------------------------------------- re-extraction


def measure_reextract(db: Path, folder: Path, workers: int = 2) -> Reextract:
    """`reextract --force` serial, then `--workers N`, each on its own copy of ``db``; same rows at the end?"""
    import duckdb

    from benchmarks.reextract_parallel import tables

    copies = {}
    for label in ("serial", "parallel"):
        copies[label] = folder / f"reextract-{label}.duckdb"
        shutil.copyfile(db, copies[label])
    serial_s, _, rss_s = timed_reextract(copies["serial"], "--force")
    parallel_s, _, rss_p = timed_reextract(copies["parallel"], "--force", "--workers", str(workers))
    rows = {}
    for label, path in copies.items():
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows[label] = tables(con)
            versions = con.execute("SELECT count(*) FROM versions").fetchone()[0]
        finally:
            con.close()
    return Reextract(versions, serial_s, parallel_s, workers, rss_s.tree, rss_p.tree, rows["serial"] == rows["parallel"])


# ---------------------------------------------------------------- output


def _mib(n: int) -> str:
    return f"{n / MiB:.0f}"


def _line(c: Case, hosts: int) -> str:
    return (f"{c.key:<3} {c.label:<52}{c.wall_s:8.1f}{c.span_s:9.1f}{c.urls:7}{c.urls_per_s:8.1f}"
            f"{c.of_limit(hosts):9.0%}{c.busy:6}   {_mib(c.rss_main):>5} / {_mib(c.rss_child):>4} / {_mib(c.rss_tree):>5}"
            + (f"  (exit {c.exit_code})" if c.exit_code else "") + (f"  [{c.note}]" if c.note else ""))


def print_table(cases: list[Case], hosts: int, args: argparse.Namespace) -> None:
    print(f"\ncountry: {hosts} hosts × ({args.pages} pages + {args.pdfs} PDFs) on 127.0.0.2…, delay {args.delay}s per "
          f"host; politeness limit {hosts / args.delay:.0f} URLs/s (robots.txt counted); {os.cpu_count()} CPU(s), "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'':56}{'wall s':>8}{'crawl s':>9}{'URLs':>7}{'URLs/s':>8}{'of limit':>9}{'hosts':>6}   peak RSS MiB: "
          "process / largest child / tree")
    for c in cases:
        print(_line(c, hosts))
    ceiling = next((c for c in cases if c.key == "s" and c.urls_per_s), None)
    if ceiling is not None:
        rel = ", ".join(f"{c.key} {c.urls_per_s / ceiling.urls_per_s:.0%}" for c in cases if c.key != "s")
        print(f"of Scrapy alone on this machine ({ceiling.urls_per_s:.1f} URLs/s): {rel}")


def print_markdown(cases: list[Case], hosts: int, args: argparse.Namespace, rx: Reextract | None) -> None:
    print(f"\n{hosts} hosts × ({args.pages} pages + {args.pdfs} PDFs), delay {args.delay} s per host: politeness limit "
          f"{hosts / args.delay:.0f} URLs/s.\n")
    print("| case | wall s | crawl s | URLs/s | of limit | hosts at once | peak RSS MiB (process / largest child / tree) |")
    print("|---|---|---|---|---|---|---|")
    for c in cases:
        note = f" ({c.note})" if c.note else ""
        print(f"| {c.key}: {c.label}{note} | {c.wall_s:.1f} | {c.span_s:.1f} | {c.urls_per_s:.1f} | "
              f"{c.of_limit(hosts):.0%} | {c.busy} | {_mib(c.rss_main)} / {_mib(c.rss_child)} / {_mib(c.rss_tree)} |")
    if rx is not None:
        print(f"\n`reextract --force` of {rx.versions} versions: serial {rx.serial_s:.1f} s, `--workers {rx.workers}` "
              f"{rx.parallel_s:.1f} s ({rx.serial_s / rx.parallel_s:.2f}×), identical rows: {'yes' if rx.same else 'NO'}.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--pages", type=int, default=30, help="HTML pages per host, its index included (default 30)")
    ap.add_argument("--pdfs", type=int, default=2)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--baseline-hosts", type=int, default=40,
                    help="case a runs on this many hosts and is scaled to --hosts (default 40; 0: --hosts)")
    ap.add_argument("--pool-workers", default="1,2,3", help="worker counts of case d (default 1,2,3)")
    ap.add_argument("--only", default="s,a,b,c,d,r", help="the cases to run, e.g. b,c (default s,a,b,c,d,r)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per command, seconds (default 1800)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown (for docs)")
    args = ap.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    if bad := only - set("sabcdr"):
        print(f"--only: unknown case(s) {', '.join(sorted(bad))} (s, a, b, c, d, r)", file=sys.stderr)
        return 2
    hosts = args.hosts
    if not 1 <= hosts <= 60000:
        print(f"--hosts {hosts}: give 1 to 60000", file=sys.stderr)
        return 2
    shape = (args.pages, args.pdfs, args.delay)
    cases: list[Case] = []
    rx: Reextract | None = None
    print(f"scale benchmark: {hosts} hosts, cases {','.join(sorted(only))} (a line per case as it ends)", flush=True)
    with tempfile.TemporaryDirectory(prefix="ww-scale-") as tmp_name:
        tmp = Path(tmp_name)
        kept: Path | None = None
        if "a" in only:
            base = min(hosts, args.baseline_hosts or hosts)
            case, _ = measure_local("a", "4 at a time, a process each (--per-source-process)",
                                    ["--concurrency", "4", "--per-source-process"], base, *shape, tmp / "a", args.timeout)
            cases.append(case.scaled(hosts / base) if base != hosts else case)
            print(f"  {_line(cases[-1], hosts)}", flush=True)
        if "s" in only:  # the machine's ceiling: Scrapy alone, same politeness, no wardwatch (benchmarks/scrapy_ceiling.py)
            case, _ = measure_local("s", "Scrapy alone, --concurrency 50 (ceiling)", ["--concurrency", "50"], hosts,
                                    *shape, tmp / "s", args.timeout, module="benchmarks.scrapy_ceiling")
            cases.append(case)
            print(f"  {_line(case, hosts)}", flush=True)
        for key, n in (("b", 50), ("c", 200)):
            if key in only:
                case, db = measure_local(key, f"one process, --concurrency {n}", ["--concurrency", str(n)], hosts, *shape,
                                         tmp / key, args.timeout)
                cases.append(case)
                print(f"  {_line(case, hosts)}", flush=True)
                if kept is None and case.exit_code == 0:
                    kept = db
        if "d" in only:
            counts = [int(x) for x in args.pool_workers.split(",") if x.strip()]
            try:
                cases += measure_pool(counts, hosts, *shape, tmp / "d", args.timeout)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # no PostgreSQL binaries (pytest's skip), no DuckLake wheels: say so
                print(f"  d: not measured: {type(exc).__name__}: {exc}", file=sys.stderr)
        if "r" in only:
            if kept is None:
                print("  r: not measured (needs case b or c's warehouse: add b to --only)", file=sys.stderr)
            else:
                rx = measure_reextract(kept, tmp)
        print_table(cases, hosts, args)
        if rx is not None:
            print(f"reextract --force of {rx.versions} versions: serial {rx.serial_s:.1f} s ({rx.versions / rx.serial_s:.0f}"
                  f"/s, tree {_mib(rx.rss_serial)} MiB), --workers {rx.workers} {rx.parallel_s:.1f} s "
                  f"({rx.versions / rx.parallel_s:.0f}/s, tree {_mib(rx.rss_parallel)} MiB): "
                  f"{rx.serial_s / rx.parallel_s:.2f}×; identical rows: {'yes' if rx.same else 'NO'}")
        if args.markdown:
            print_markdown(cases, hosts, args, rx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
