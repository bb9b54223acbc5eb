"""Distributed runs on a Prefect work pool, with every component real: a throwaway PostgreSQL cluster, a Prefect
server on it, a DuckLake warehouse with its catalog in the same cluster, two `wardwatch worker` processes
(Prefect's process worker) and loopback ward sites on 127.0.0.2, 127.0.0.3, … (a host each, politeness
delay on). `wardwatch run --work-pool` submits one flow run per source; the workers crawl into the one
lake at the same time. Then: every page stored exactly once, no version lost or duplicated, `doctor`
clean — also after one worker is killed (kill -9, its whole process tree) in the middle of a crawl: the
flow run is marked Crashed by the heartbeat automation, the source is submitted again and the other
worker finishes it, loading what the dead crawl had staged.

Skips with the reason when PostgreSQL's binaries or the DuckLake extension wheels are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from spiders.registry import to_toml
from tests.support.helpers import ROOT, q
from tests.support.pdfs import pdf_with_pages, text_page
from tests.support.postgres import Cluster, postgres_cluster  # noqa: F401 (fixture)
from tests.support.prefect_server import PrefectServer, running_prefect_server, without_prefect_env
from tests.support.registry import local_source
from tests.support.waiting import wait_until
from warehouse import ducklake
from warehouse.db import Warehouse, WarehouseError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

WARDS = (("nerima", "練馬区", "131202"), ("kita", "北区", "131172"), ("shibuya", "渋谷区", "131130"),
         ("adachi", "足立区", "131211"), ("minato", "港区", "131032"), ("sumida", "墨田区", "131075"))
PROGRAMS = ("ひとり親家庭ホームヘルプサービス", "児童扶養手当", "ひとり親家庭住宅支援資金貸付", "母子・父子自立支援プログラム",
            "高等職業訓練促進給付金", "自立支援教育訓練給付金", "ひとり親家庭等医療費助成", "養育費確保支援事業")
ZOMBIE_AFTER_S = 45  # the heartbeat automation's window in these tests (heartbeats: every 30 s, Prefect's minimum)


# --- loopback ward sites ---------------------------------------------------------------------------------


@dataclass
class WardSite:
    """One municipality's section on its own loopback address: an index, ``pages`` program pages, a PDF."""

    slug: str
    municipality: str
    code: str
    host: str
    pages: int
    hits: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, path) of every GET
    httpd: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}"  # type: ignore[union-attr]

    @property
    def paths(self) -> list[str]:
        """Every document the crawl should store (robots.txt aside)."""
        return ["/index.html", *(f"/program-{i:02d}.html" for i in range(1, self.pages + 1)), "/guide.pdf"]

    def body(self, path: str) -> tuple[bytes, str] | None:
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain"
        if path == "/index.html":
            links = "".join(f'<li><a href="/program-{i:02d}.html">{PROGRAMS[(i - 1) % len(PROGRAMS)]}（{i}）</a></li>'
                            for i in range(1, self.pages + 1))
            return self._html(f"{self.municipality} ひとり親家庭への支援",
                              f"<ul>{links}</ul><p><a href=\"/guide.pdf\">支援のしおり（PDF）</a></p>"), "text/html; charset=utf-8"
        if path == "/guide.pdf":
            return pdf_with_pages([text_page(f"{self.slug} guide", "Monthly allowance 45,500 yen", "Apply by 2027-03-31")]), \
                "application/pdf"
        if path.startswith("/program-") and path.endswith(".html"):
            n = int(path[len("/program-"):-len(".html")])
            if not 1 <= n <= self.pages:
                return None
            program = PROGRAMS[(n - 1) % len(PROGRAMS)]
            text = (f"<h2>{program}</h2><p>{self.municipality}にお住まいのひとり親家庭の方に、月額{10000 + 500 * n:,}円を"
                    f"支給します。対象は18歳未満の児童を養育している方です。申請期限は令和9年3月31日です。</p>"
                    f"<p>問い合わせ先：{self.municipality}子ども家庭支援課　電話03-3993-{1100 + n}</p>")
            return self._html(f"{program}｜{self.municipality}", text), "text/html; charset=utf-8"
        return None

    def _html(self, title: str, body: str) -> bytes:
        return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{title}</title></head><body>'
                f"<h1>{title}</h1>{body}</body></html>").encode()

    def served(self, path: str | None = None) -> int:
        return sum(1 for _, p in list(self.hits) if path is None or p == path)

    def start(self) -> WardSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site.hits.append((time.monotonic(), self.path))
                found = site.body(self.path)
                body, ctype = found if found else (b"not found", "text/plain")
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((self.host, 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, name=f"ward-{self.slug}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


@contextlib.contextmanager
def ward_sites(count: int, pages: int) -> Iterator[list[WardSite]]:
    sites = [WardSite(slug, name, code, f"127.0.0.{i + 2}", pages).start()
             for i, (slug, name, code) in enumerate(WARDS[:count])]
    try:
        yield sites
    finally:
        for site in sites:
            site.stop()


def registry(path: Path, sites: list[WardSite], delay: float) -> Path:
    """One source per site, its host in ``allowed_domains``, the politeness delay ``delay``."""
    entries = [local_source(f"{s.slug}-hitorioya", s.base, "/index.html", municipality=s.municipality, code=s.code,
                            follow=["^/program-"], max_depth=1, allowed_domains=[s.host], delay_seconds=delay)
               for s in sites]
    path.write_text(to_toml(entries), encoding="utf-8")
    return path


# --- Prefect, workers, the lake ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prefect_pg(postgres_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:  # noqa: F811
    """One Prefect server on a PostgreSQL database of the session's cluster, for this module."""
    try:
        ducklake.extension_paths()
    except WarehouseError as exc:
        pytest.skip(str(exc))
    with running_prefect_server(postgres_cluster, tmp_path_factory.mktemp("prefect-server")) as server:
        yield server


@dataclass
class Lake:
    url: str
    data_path: Path

    def warehouse(self) -> Warehouse:
        return Warehouse(self.url, data_path=self.data_path)

    def args(self) -> list[str]:
        return ["--warehouse", self.url, "--data-path", str(self.data_path)]


@pytest.fixture
def lake(postgres_cluster: Cluster, tmp_path: Path) -> Iterator[Lake]:  # noqa: F811
    """A new DuckLake catalog database in the cluster, data under the test's folder."""
    name = postgres_cluster.create_database()
    found = Lake("ducklake:postgres:" + postgres_cluster.dsn(name), tmp_path / "lake")
    yield found
    ducklake.close_instances(found.warehouse().lake)
    with contextlib.suppress(RuntimeError):
        postgres_cluster.drop_database(name)


def pool_env(server: PrefectServer, home: Path) -> dict[str, str]:
    """What every process of these tests gets: the Prefect server, fast worker polling, the test's crash window."""
    return without_prefect_env({**server.client_env(home), "PREFECT_WORKER_QUERY_SECONDS": "1",
                                "PREFECT_LOGGING_LEVEL": "WARNING", "WARDWATCH_HEARTBEAT_SECONDS": "30",
                                "WARDWATCH_ZOMBIE_AFTER_SECONDS": str(ZOMBIE_AFTER_S)})


class Worker:
    """`wardwatch worker --pool POOL` in its own session; its output in ``log``."""

    def __init__(self, server: PrefectServer, pool: str, name: str, folder: Path, limit: int = 2):
        self.name, self.log = name, folder / f"{name}.log"
        folder.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "wardwatch", "worker", "--pool", pool, "--limit", str(limit), "--name", name],
                cwd=ROOT, env=pool_env(server, folder / f"{name}-home"), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True)

    def descendants(self) -> list[int]:
        """Every live process below the worker (its flow-run processes, their crawl children — also those in
        sessions of their own), from /proc."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            for child in children.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def runs(self, text: str) -> bool:
        """A process below the worker has ``text`` in its command line (e.g. a crawl of one source)."""
        for pid in self.descendants():
            with contextlib.suppress(OSError):
                if text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
                    return True
        return False

    def kill_tree(self) -> None:
        """kill -9 the worker and everything below it at once (frozen first, so nothing gets to clean up):
        what a machine that dies does to its processes."""
        pids = [self.proc.pid, *self.descendants()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        for pid in [self.proc.pid, *self.descendants(), *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        """SIGTERM, as a user's Ctrl-C / service manager would; its exit code (killed if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)  # Prefect's worker shutdown takes a while on a loaded 2-core CI machine
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for pid in self.descendants():  # flow runs it left behind, if any
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@contextlib.contextmanager
def workers(server: PrefectServer, pool: str, folder: Path, count: int = 2) -> Iterator[list[Worker]]:
    started = [Worker(server, pool, f"w{i + 1}", folder) for i in range(count)]
    try:
        for w in started:  # polling the pool (Prefect's worker says so once it is registered)
            wait_until(lambda w=w: f"Worker '{w.name}' started" in w.output(), 120, f"worker {w.name} to start",
                       proc=w.proc, interval=0.25)
        yield started
    finally:
        for w in started:
            w.stop()


def submit(server: PrefectServer, lake: Lake, sources: Path, pool: str, home: Path, **kw) -> subprocess.Popen:
    """`wardwatch run --work-pool POOL --format json` in a child process (started, not waited for)."""
    cmd = [sys.executable, "-m", "wardwatch", "run", "--work-pool", pool, "--sources", str(sources), *lake.args(),
           "--format", "json", "--timeout", "300"]
    return subprocess.Popen(cmd, cwd=ROOT, env=pool_env(server, home), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def finished(proc: subprocess.Popen, timeout: float) -> tuple[int, dict, str]:
    out, err = proc.communicate(timeout=timeout)
    try:
        data = json.loads(out)
    except ValueError:
        raise AssertionError(f"exit {proc.returncode}, no JSON on stdout: {out[:2000]!r}\n{err[-3000:]}") from None
    return proc.returncode, data, err


def doctor(lake: Lake, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wardwatch", "doctor", *lake.args(), "--format", "json"], cwd=ROOT,
                          env=without_prefect_env({"PREFECT_HOME": str(home)}), capture_output=True, text=True,
                          timeout=120)


def assert_every_page_once(lake: Lake, sites: list[WardSite]) -> None:
    """One version per document of every site, its bytes in the blob store; one fetch per document and crawl."""
    wh = lake.warehouse()
    expected = sorted(s.base + p for s in sites for p in s.paths)
    versions = q(wh, "SELECT url, count(*) FROM versions GROUP BY url ORDER BY url")
    assert [u for u, _ in versions] == expected  # nothing lost, nothing extra
    assert {n for _, n in versions} == {1}  # nothing stored twice
    assert q(wh, "SELECT count(*) FROM versions WHERE valid_to IS NOT NULL") == [(0,)]
    ((blobs, hashes),) = q(wh, "SELECT count(*), count(DISTINCT sha256) FROM blobs")
    assert blobs == hashes == q(wh, "SELECT count(DISTINCT sha256) FROM versions")[0][0]  # each content once
    dup = q(wh, "SELECT run_id, url, count(*) FROM fetches WHERE url NOT LIKE '%/robots.txt' "
                "GROUP BY run_id, url HAVING count(*) > 1")
    assert dup == []


# --- the tests ---------------------------------------------------------------------------------------------


def test_two_workers_crawl_the_sources_of_one_run_into_one_lake(prefect_pg, lake, tmp_path):
    """3 ward hosts, 2 workers (2 flow runs each at most): every source ok, each page stored once, doctor clean."""
    with ward_sites(3, pages=6) as sites, workers(prefect_pg, "wards", tmp_path / "workers") as (w1, w2):
        sources = registry(tmp_path / "sources.toml", sites, delay=0.2)
        started = time.monotonic()
        proc = submit(prefect_pg, lake, sources, "wards", tmp_path / "submitter")
        code, out, err = finished(proc, timeout=300)
        elapsed = time.monotonic() - started
        assert code == 0, f"{err[-3000:]}\n--- w1:\n{w1.output()}\n--- w2:\n{w2.output()}\n--- server:\n{prefect_pg.log_tail()}"
        assert w1.proc.poll() is None and w2.proc.poll() is None  # both still serving the pool
        codes = (w1.stop(), w2.stop())
    print(f"\n{len(sites)} hosts x {len(sites[0].paths)} documents, 2 workers: {elapsed:.1f}s wall (submit to summary)")
    rows = {r["source_id"]: r for r in out["crawl"]["sources"]}
    assert sorted(rows) == sorted(f"{s.slug}-hitorioya" for s in sites)
    for site in sites:
        row = rows[f"{site.slug}-hitorioya"]
        assert row["status"] == "ok", row
        assert row["new_versions"] == len(site.paths) and row["errors"] == 0, row
        assert len(row["flow_runs"]) == 1
        assert site.served("/index.html") == 1  # crawled once: no source ran twice
    assert {r["flow_runs"][0]["state"] for r in rows.values()} == {"Completed"}
    assert out["extract"]["extracted"] == sum(len(s.paths) for s in sites) and out["extract"]["errors"] == 0
    # the two workers shared the work (the name of the worker whose process ran each source's flow run)
    assert sorted({r["worker"] for r in rows.values()}) == ["w1", "w2"], rows
    # the crawls overlapped in time: hosts were served concurrently
    spans = sorted((min(t for t, _ in s.hits), max(t for t, _ in s.hits)) for s in sites)
    assert any(b_start < a_end for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert_every_page_once(lake, sites)
    checked = doctor(lake, tmp_path / "doctor")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["healthy"] is True
    assert codes == (0, 0)  # SIGTERM: a clean stop


def test_no_worker_on_the_pool_the_timeout_cancels_the_flow_runs_and_names_why(prefect_pg, lake, tmp_path):
    """Nobody serves the pool: after --timeout the submitter cancels its flow runs and the source fails (exit 1)."""
    with ward_sites(1, pages=2) as sites:
        sources = registry(tmp_path / "sources.toml", sites, delay=0)
        cmd = [sys.executable, "-m", "wardwatch", "run", "--work-pool", "nobody-home", "--sources", str(sources),
               *lake.args(), "--timeout", "4"]
        done = subprocess.run(cmd, cwd=ROOT, env=pool_env(prefect_pg, tmp_path / "submitter"), capture_output=True,
                              text=True, timeout=180)
    assert done.returncode == 1, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("wardwatch run: 1 of 1 sources failed (first: nerima-hitorioya: flow run ")
    assert last.endswith("did not finish in time (cancelled; are workers running on the pool?))")
    flow_run_id = last.split("flow run ", 1)[1].split()[0]
    with urllib.request.urlopen(f"{prefect_pg.api_url}/flow_runs/{flow_run_id}", timeout=10) as response:
        assert json.loads(response.read())["state"]["type"] == "CANCELLED"
    assert sites[0].served() == 0  # nothing was crawled
    assert "nerima-hitorioya: failed" in done.stdout  # the usual summary, per source


def test_the_crash_automation_is_prefects_zombie_detection_for_this_deployment_only(monkeypatch):
    """After each heartbeat of one of *this deployment's* flow runs, another heartbeat or a final state is due
    within the window; silence marks the run Crashed. Other flow runs on the same server are never touched."""
    from prefect.client.schemas.objects import StateType

    from flows import workpool

    monkeypatch.setenv("WARDWATCH_HEARTBEAT_SECONDS", "45")
    monkeypatch.delenv("WARDWATCH_ZOMBIE_AFTER_SECONDS", raising=False)
    assert (workpool.heartbeat_seconds(), workpool.zombie_after_seconds()) == (45, 135)
    monkeypatch.setenv("WARDWATCH_ZOMBIE_AFTER_SECONDS", "20")  # shorter than a heartbeat: would crash live runs
    assert workpool.zombie_after_seconds() == 55
    monkeypatch.setenv("WARDWATCH_HEARTBEAT_SECONDS", "5")  # Prefect sends no faster than every 30 s
    assert workpool.heartbeat_seconds() == 30
    spec = workpool.automation_spec("0f8fad5b-d9cb-469f-a165-70867728950e")
    trigger = spec.trigger
    assert trigger.posture == "Proactive" and trigger.threshold == 1 and trigger.within.total_seconds() == 40
    assert trigger.after == {"prefect.flow-run.heartbeat"}
    assert {"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Crashed"} <= trigger.expect
    assert trigger.match_related.model_dump() == {
        "prefect.resource.id": ["prefect.deployment.0f8fad5b-d9cb-469f-a165-70867728950e"],
        "prefect.resource.role": "deployment"}
    assert trigger.for_each == {"prefect.resource.id"}
    assert [a.state for a in spec.actions] == [StateType.CRASHED]
    monkeypatch.setenv("WARDWATCH_HEARTBEAT_SECONDS", "soon")
    with pytest.raises(workpool.PoolError, match=r"WARDWATCH_HEARTBEAT_SECONDS='soon': not a number of seconds"):
        workpool.heartbeat_seconds()


def test_each_flow_run_carries_its_sources_registry_entry(tmp_path):
    """Workers need no copy of the registry: each flow run gets its source's entry as TOML of its own, which
    reads back as the same source (literal and multi-line strings, quotes, a backslash and Japanese included)."""
    from flows.workpool import registry_entries
    from spiders.registry import load_sources

    path = tmp_path / "sources.toml"
    path.write_text(to_toml([local_source("kita-hitorioya", "http://127.0.0.1:8080", "/index.html", municipality="北区",
                                          code="131172")]) + """
[[source]]
id = "nerima-hitorioya"
municipality = "練馬区"
code = "131202"
kind = "official"
name = '練馬区 "ひとり親" 支援'
start_urls = ["http://127.0.0.2:8080/index.html"]
allowed_domains = ["127.0.0.2"]
follow = ['^/kurashi/\\d+/']   # a literal string: the backslash is the regex's
max_depth = 2
schedule = "0 6 * * *"
delay_seconds = 0.5
notes = \"\"\"窓口は2階
（土日・祝日は休み）\"\"\"
""", encoding="utf-8")
    texts = registry_entries(path, ["nerima-hitorioya"])
    assert list(texts) == ["nerima-hitorioya"]
    one = tmp_path / "one.toml"
    one.write_text(texts["nerima-hitorioya"], encoding="utf-8")
    (original,) = [s for s in load_sources(path) if s.id == "nerima-hitorioya"]
    assert load_sources(one) == [original]
    assert original.follow == ("^/kurashi/\\d+/",) and original.notes == "窓口は2階\n（土日・祝日は休み）"
    assert original.name == '練馬区 "ひとり親" 支援'


def test_a_worker_killed_mid_crawl_loses_nothing_and_its_source_is_picked_up_again(prefect_pg, lake, tmp_path):
    """kill -9 of one worker's whole process tree while it crawls a source: the heartbeat automation marks the
    flow run Crashed, the submitter submits the source again, the other worker finishes it — loading the
    dead crawl's staged captures first. Every page once, no version lost or doubled, doctor clean."""
    with ward_sites(3, pages=12) as sites, workers(prefect_pg, "wards-kill", tmp_path / "workers") as pool_workers:
        sources = registry(tmp_path / "sources.toml", sites, delay=0.25)
        proc = submit(prefect_pg, lake, sources, "wards-kill", tmp_path / "submitter")
        victim_site = sites[0]
        sid = f"{victim_site.slug}-hitorioya"
        # mid-crawl: the site has served a few pages, and we know which worker's tree runs that crawl
        victim = wait_until(lambda: victim_site.served() >= 5 and next(
            (w for w in pool_workers if w.runs(f"--source {sid}")), None), 180, f"the crawl of {sid}", proc=proc)
        served_before = victim_site.served()
        victim.kill_tree()
        killed_at = time.monotonic()
        survivor = next(w for w in pool_workers if w is not victim)
        code, out, err = finished(proc, timeout=300)
        assert code == 0, f"{err[-3000:]}\n--- survivor:\n{survivor.output()}\n--- server:\n{prefect_pg.log_tail()}"
        assert survivor.proc.poll() is None
    again_at = [t for t, p in victim_site.hits if p == "/index.html"][-1]
    print(f"\nkilled after {served_before} requests; crawled again {again_at - killed_at:.1f}s after the kill "
          f"(crash window {ZOMBIE_AFTER_S}s)")
    assert served_before < len(victim_site.paths) + 1  # it really was cut short
    assert victim_site.served("/index.html") == 2  # crawled again from the start by the second flow run
    assert f"{sid}: flow run" in err and "submitted again" in err
    rows = {r["source_id"]: r for r in out["crawl"]["sources"]}
    assert [r["state"] for r in rows[sid]["flow_runs"]] == ["Crashed", "Completed"]  # submitted again once
    assert rows[sid]["worker"] == survivor.name
    assert all(r["status"] == "ok" for r in rows.values()), rows
    assert_every_page_once(lake, sites)
    wh = lake.warehouse()
    # the dead crawl's run: closed as interrupted by the next crawl; what it had staged was loaded, not lost
    dead = q(wh, "SELECT run_id, status FROM runs WHERE list_contains(source_ids, ?) ORDER BY started_at", [sid])
    assert [s for _, s in dead] == ["interrupted", "ok"], dead
    staged_by_dead = q(wh, "SELECT count(*) FROM fetches WHERE run_id = ?", [dead[0][0]])[0][0]
    assert staged_by_dead >= 1  # fetches of the killed crawl made it into the warehouse
    assert not any(wh.staging_dir.glob("*.json"))  # nothing left waiting in the staging folder
    checked = doctor(lake, tmp_path / "doctor")
    assert checked.returncode == 0, checked.stdout + checked.stderr

