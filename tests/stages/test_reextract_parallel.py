"""`wardwatch reextract --workers N` / `--dask ADDRESS`: the pure extraction calls run on Dask worker processes,
the warehouse writes stay in the calling process — the extractions and facts rows are those of the serial run
(extracted_at aside): the demo site's pages and PDF, real 音威子府村 newsletters and pages (../shared/corpus,
skipped when absent), on a local cluster started by the command and on an existing cluster at its address.
A worker killed with kill -9 is replaced and its tasks run again; SIGTERM / Ctrl-C close the cluster and exit
143 / 130, and the next reextract completes the rows. Bad arguments: exit 2; an unreachable address: exit 1, one
line naming it; workers running another extractor version are refused."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.reextract_parallel import corpus_documents, fill_corpus, tables
from tests.support.helpers import ROOT, crawl_files, demo_site, free_port, main, q
from tests.support.waiting import wait_until
from wardwatch.stages import extract as stage
from warehouse.db import Warehouse

STOP_WITHIN = 60  # seconds: a bound on a hang, not a timing assertion
needs_corpus = pytest.mark.skipif(not corpus_documents(max_pdfs=1), reason="../shared/corpus is absent")


def rows(wh: Warehouse | Path) -> tuple[list[tuple], list[tuple]]:
    """The extractions rows (without extracted_at) and the facts rows of a warehouse, in a fixed order."""
    wh = Warehouse.of(wh)
    with wh.connect(read_only=True) as con:
        return tables(con)


def demo_warehouse() -> Warehouse:
    """An in-memory warehouse holding the demo site crawled twice (v1, then v2: 練馬区, 北区, their PDFs)."""
    wh = Warehouse(":memory:")
    crawl_files(wh, demo_site("v1"))
    crawl_files(wh, demo_site("v2"))
    return wh


def without_where(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("workers", "dask")}


@pytest.fixture(scope="module")
def external_cluster():
    """The address of a Dask cluster started outside wardwatch: 2 worker processes, one thread each."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    yield cluster.scheduler_address
    cluster.close()


# ---------------------------------------------------------------- identical rows


@pytest.mark.slow  # starts a local Dask cluster
def test_two_workers_store_the_rows_of_the_serial_run_for_the_demo_site(monkeypatch):
    serial_wh, parallel_wh = demo_warehouse(), demo_warehouse()
    serial = stage.extract_pending(serial_wh)
    monkeypatch.setattr(stage, "BATCH", 4)  # several batches, two in flight at a time
    parallel = stage.extract_pending(parallel_wh, workers=2)
    assert (parallel["workers"], parallel["dask"], serial["workers"], serial["dask"]) == (2, None, 1, None)
    assert parallel["retried"] == serial["retried"] == 0 and without_where(parallel) == without_where(serial)
    expected = rows(serial_wh)
    assert len(expected[0]) == serial["extracted"] > 4 and len(expected[1]) == serial["facts"] > 0
    assert rows(parallel_wh) == expected
    # the 練馬区 loan's amount went 上限4万円 → 上限5万円 between the crawls: both facts are there, in order
    assert q(parallel_wh, "SELECT f.text FROM facts f JOIN versions v USING (sha256) WHERE f.kind = 'amount' "
                          "AND v.url LIKE '%/syuurou.html' ORDER BY v.valid_from") == [("上限4万円",), ("上限5万円",)]


@pytest.mark.slow  # starts a local Dask cluster
@needs_corpus
def test_two_workers_store_the_rows_of_the_serial_run_for_real_newsletters_and_pages(monkeypatch):
    documents = corpus_documents(max_pdfs=4)
    serial_wh, parallel_wh = Warehouse(":memory:"), Warehouse(":memory:")
    assert fill_corpus(serial_wh, documents) == fill_corpus(parallel_wh, documents) == len(documents)
    serial = stage.extract_pending(serial_wh)
    monkeypatch.setattr(stage, "BATCH", 7)
    parallel = stage.extract_pending(parallel_wh, workers=2)
    assert parallel["workers"] == 2 and without_where(parallel) == without_where(serial)
    expected = rows(serial_wh)
    assert rows(parallel_wh) == expected
    statuses = q(parallel_wh, "SELECT media_type, status, count(*) FROM extractions GROUP BY ALL ORDER BY ALL")
    assert statuses == [("application/pdf", "ok", 4), ("text/html", "ok", len(documents) - 4)]
    assert q(parallel_wh, "SELECT min(pages), max(pages) FROM extractions WHERE media_type = 'application/pdf'") == [(12, 12)]


@pytest.mark.slow  # a Dask cluster
def test_reextract_on_an_existing_dask_cluster_reports_its_workers(external_cluster, capsys):
    serial_wh, parallel_wh = demo_warehouse(), demo_warehouse()
    assert main(["reextract", "--format", "json"], warehouse=serial_wh) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main(["reextract", "--dask", external_cluster, "--format", "json"], warehouse=parallel_wh) == 0
    out, err = capsys.readouterr()
    parallel = json.loads(out)
    assert (parallel["workers"], parallel["dask"], serial["workers"], serial["dask"]) == (2, external_cluster, 1, None)
    assert without_where(parallel) == without_where(serial) and err == ""
    assert rows(parallel_wh) == rows(serial_wh)
    # the table output says where the work ran
    assert main(["reextract", "--dask", external_cluster.removeprefix("tcp://"), "--force"], warehouse=parallel_wh) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"extract ({serial['extractor_version']}): {serial['extracted']} version(s)")
    assert out.rstrip().endswith(f"on 2 worker(s) of the Dask cluster at {external_cluster}")
    assert rows(parallel_wh) == rows(serial_wh)


@pytest.mark.slow  # a Dask cluster
def test_workers_running_another_extractor_version_are_refused(external_cluster, monkeypatch, capsys):
    import extractors.facts

    wh = demo_warehouse()
    theirs = extractors.facts.EXTRACTOR_VERSION
    monkeypatch.setattr(extractors.facts, "EXTRACTOR_VERSION", "facts-test-next")  # this process is "upgraded"
    assert main(["reextract", "--dask", external_cluster], warehouse=wh) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"wardwatch reextract: the Dask cluster at {external_cluster}: worker tcp://127.0.0.1:")
    assert err.endswith(f"has extractors.facts.EXTRACTOR_VERSION = {theirs!r}, this process 'facts-test-next' "
                        "(run the same wardwatch on every worker)\n")
    assert q(wh, "SELECT count(*) FROM extractions") == [(0,)]  # nothing computed by other code was stored


# ---------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("args, says", [
    (["--workers", "0"], "argument --workers: '0': must be a whole number of worker processes, at least 1"),
    (["--workers", "-2"], "argument --workers: '-2': must be a whole number of worker processes, at least 1"),
    (["--workers", "two"], "argument --workers: 'two': must be a whole number of worker processes, at least 1"),
    (["--dask", "scheduler"], "argument --dask: 'scheduler': not a Dask scheduler address (expected tcp://HOST:PORT)"),
    (["--dask", "http://127.0.0.1:8786"], "argument --dask: 'http://127.0.0.1:8786': not a Dask scheduler address"),
    (["--dask", "tcp://127.0.0.1:99999"], "argument --dask: 'tcp://127.0.0.1:99999': not a Dask scheduler address"),
    (["--workers", "2", "--dask", "tcp://127.0.0.1:8786"], "argument --dask: not allowed with argument --workers"),
])
def test_bad_worker_counts_and_addresses_are_usage_errors(args, says, memory_warehouse, capsys):
    assert main(["reextract", *args], warehouse=memory_warehouse) == 2
    assert says in capsys.readouterr().err


def test_extract_pending_refuses_a_worker_count_below_one(memory_warehouse):
    with pytest.raises(ValueError, match="--workers 0: must be a whole number of worker processes, at least 1"):
        stage.extract_pending(memory_warehouse, workers=0)


def test_an_unreachable_dask_address_is_one_line_naming_it(memory_warehouse, capsys):
    from warehouse.schema import migrate

    migrate(memory_warehouse)
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["reextract", "--dask", address], warehouse=memory_warehouse) == 1
    assert capsys.readouterr().err == (f"wardwatch reextract: {address}: cannot reach the Dask scheduler: "
                                       "Connection refused\n")


def length_or_die(body: bytes) -> int:
    """Runs on the workers: the body's length, except that a body of b"%PDF" ends the worker process (every time)."""
    if body == b"%PDF":
        os._exit(1)
    return len(body)


@pytest.mark.slow  # a Dask cluster whose workers die
def test_a_call_that_kills_every_worker_running_it_fails_in_one_line_and_its_batch_is_not_handed_back(monkeypatch):
    from wardwatch.stages import parallel

    monkeypatch.setattr(parallel, "RESUBMITS", 1)  # run again once, then give up
    batches = [("first", [("a.html", (b"<p>1</p>",)), ("b.html", (b"<p>22</p>",))]),
               ("second", [("c.html", (b"<p>333</p>",)), ("https://www.city.nerima.tokyo.jp/killer.pdf", (b"%PDF",))])]
    handed: list[tuple[str, list[int]]] = []
    with parallel.Cluster(2) as cluster, pytest.raises(parallel.ClusterError) as failed:
        for tag, results in cluster.map_batches(length_or_die, iter(batches)):
            handed.append((tag, results))
    assert handed == [("first", [8, 9])]  # the batch before was handed back whole, the failing one not at all
    assert cluster.retried >= 1
    assert str(failed.value) == ("https://www.city.nerima.tokyo.jp/killer.pdf: the local Dask cluster (2 workers) lost "
                                 "the work on it 2 times (a worker died, or the scheduler went away); nothing of its "
                                 "batch was stored")


@pytest.mark.slow  # waits for the (shortened) connect timeout
def test_a_port_that_is_not_a_dask_scheduler_is_one_line(memory_warehouse, capsys):
    """Something else listens there and never answers (distributed's own Client would wait forever): one line
    after the connect timeout."""
    import socket

    from wardwatch.stages import parallel
    from warehouse.schema import migrate

    migrate(memory_warehouse)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(parallel, "CONNECT_TIMEOUT_S", 0.5)
            assert main(["reextract", "--dask", address], warehouse=memory_warehouse) == 1
    assert capsys.readouterr().err == (f"wardwatch reextract: {address}: no Dask scheduler answers there "
                                       "(nothing within 0.5 s)\n")


# ---------------------------------------------------------------- real processes: kill -9, signals


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    """(a warehouse file of real newsletters and pages, nothing extracted yet; the serial run's rows on it).
    PDFs come first in the work order, so a worker parsing one has most of the work still ahead."""
    if not corpus_documents(max_pdfs=1):
        pytest.skip("../shared/corpus is absent")
    folder = tmp_path_factory.mktemp("corpus")
    filled = folder / "filled.duckdb"
    wh = Warehouse(filled)
    fill_corpus(wh, corpus_documents(max_pdfs=6), copies=2)
    wh.close()
    reference = folder / "serial" / "w.duckdb"
    reference.parent.mkdir()
    shutil.copyfile(filled, reference)
    stage.extract_pending(reference)
    return filled, rows(reference)


def fresh_copy(corpus_db, tmp_path: Path) -> Path:
    db = tmp_path / "data" / "w.duckdb"
    db.parent.mkdir()
    shutil.copyfile(corpus_db[0], db)
    return db


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def dask_workers(pid: int) -> list[int]:
    """The Dask worker processes (multiprocessing spawn children) of process ``pid``."""
    return [c for c in children(pid) if "spawn_main" in cmdline(c)]


def busy_worker(proc: subprocess.Popen) -> tuple[int, list[int]]:
    """Waits until a Dask worker of ``proc`` is parsing a PDF (it has its PDF parser child); (that worker, all workers)."""
    def parsing() -> tuple[int, list[int]] | None:
        workers = dask_workers(proc.pid)
        busy = [w for w in workers if any("extractors.pdf_worker" in cmdline(g) for g in children(w))]
        return (busy[0], workers) if busy else None

    return wait_until(parsing, 180, "a Dask worker parsing a PDF", proc=proc)


def reextract(db: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wardwatch", "reextract", "--db", str(db), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow  # real processes
def test_a_worker_killed_with_kill_9_is_replaced_and_the_rows_are_the_serial_ones(corpus_db, tmp_path):
    db = fresh_copy(corpus_db, tmp_path)
    proc = reextract(db, "--workers", "2", "--format", "json")
    victim, _ = busy_worker(proc)
    assert proc.poll() is None  # the work is still under way
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    assert not alive(victim) and "Traceback" not in err
    result = json.loads(out)
    assert result["workers"] == 2 and result["errors"] == 0
    assert result["retried"] >= 1  # the calls whose bytes or results died with the worker ran again
    assert rows(db) == corpus_db[1]


@pytest.mark.slow  # real processes
@pytest.mark.parametrize("signum, group", [(signal.SIGTERM, False), (signal.SIGINT, True)], ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_closes_the_cluster_and_the_next_reextract_completes(corpus_db, tmp_path, signum, group):
    """SIGTERM to the command; SIGINT to its whole process group, as Ctrl-C in a terminal sends it."""
    db = fresh_copy(corpus_db, tmp_path)
    proc = reextract(db, "--workers", "2", start_new_session=True)
    _, workers = busy_worker(proc)
    assert proc.poll() is None
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=STOP_WITHIN)
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, err[-2000:]
    assert err.splitlines()[-1].startswith(f"wardwatch reextract: interrupted by {name}"), err[-2000:]
    assert "Traceback" not in err and len(err.splitlines()) == 1, err[-2000:]
    wait_until(lambda: not any(alive(w) for w in workers), STOP_WITHIN, "the Dask workers to be gone")
    # what was stored is whole: the next (serial) reextract does the rest, and the rows are the serial run's
    again = reextract(db, "--format", "json")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err[-2000:]
    assert 0 < json.loads(out)["extracted"] <= len(corpus_db[1][0])
    assert rows(db) == corpus_db[1]
