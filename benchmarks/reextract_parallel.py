"""Re-extraction benchmark: `wardwatch reextract` serial vs `--workers 2` on the same warehouse.

The warehouse holds the real corpus as stored versions of one source (音威子府村): the development
newsletters of ../shared/corpus/pdf (12 pages each; the held-out issues are not read) and the village's
development pages of ../shared/corpus/real_pages rendered as its CMS would serve them, each re-fetched
``--copies`` times with a byte that differs (so every copy is a version of its own, to extract again).
The filled warehouse is copied, and each command runs in a child process on its own copy from the same
state (nothing extracted yet), so both do exactly the same work. Prints in one run: wall time and
versions/s of each, the speed-up, peak RSS (the command's own process, the largest worker process, the
whole process tree), the CPU seconds of each kind of process, what N CPU-bound processes achieve on the
machine at that moment (the ceiling of any speed-up: other work on a shared machine lowers it), and whether
the copies ended with the same extractions and facts rows.

    python -m benchmarks.reextract_parallel [--copies 10] [--workers 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
HELD_OUT_PDFS = frozenset({"kouhou_otoineppu_2023-08.pdf", "kouhou_otoineppu_2025-12.pdf"})  # never read here
SITE = "https://www.vill.otoineppu.hokkaido.jp"
SOURCE_ID = "otoineppu"


def corpus_documents(max_pdfs: int | None = None) -> list[tuple[str, str, bytes]]:
    """(url, media type, bytes) of the corpus documents used here: the development PDFs (the first ``max_pdfs``
    of them when given) and the development real pages as CMS HTML. Empty when ../shared is absent."""
    from tests.support.cms import render_page

    pdf_dir, page_dir = CORPUS / "pdf", CORPUS / "real_pages" / "otoineppu"
    docs: list[tuple[str, str, bytes]] = []
    if pdf_dir.is_dir():
        pdfs = sorted(p for p in pdf_dir.glob("*.pdf") if p.name not in HELD_OUT_PDFS)
        for path in pdfs[:max_pdfs] if max_pdfs is not None else pdfs:
            docs.append((f"{SITE}/kouhou/{path.name}", "application/pdf", path.read_bytes()))
    if page_dir.is_dir():
        for path in sorted(page_dir.glob("*.md")):
            if int(hashlib.sha1(path.name.encode()).hexdigest(), 16) % 3 == 0:  # the held-out pages
                continue
            html = render_page(path.read_text(encoding="utf-8"), path.stem)
            docs.append((f"{SITE}/{path.stem.replace('__', '/')}/", "text/html", html.encode("utf-8")))
    return docs


def _copy(body: bytes, media_type: str, n: int) -> bytes:
    """The ``n``-th re-fetch of a document: the same content, one comment different (a new content hash)."""
    if n == 0:
        return body
    if media_type == "application/pdf":
        return body + b"\n%% wardwatch copy %d\n" % n  # after %%EOF: readers ignore it
    return body.replace(b"</body>", f"<!-- 再取得 {n} -->\n</body>".encode(), 1)


def fill_corpus(wh: Any, documents: list[tuple[str, str, bytes]], copies: int = 1) -> int:
    """Store ``documents`` as versions of the 音威子府村 source, ``copies`` runs of them a day apart (each run
    re-fetches every URL with a byte changed); returns how many versions the warehouse holds."""
    from spiders.registry import Source
    from warehouse import runs, staging
    from warehouse.load import load_pending
    from warehouse.schema import migrate

    migrate(wh)
    source = Source(id=SOURCE_ID, municipality="音威子府村", code="014729", kind="official", start_urls=(f"{SITE}/",),
                    allowed_domains=("www.vill.otoineppu.hokkaido.jp",), follow=("^/",), max_depth=2,
                    schedule="0 6 * * *", switchboard="01656-5-3311")
    runs.upsert_sources(wh, [source.to_row()])
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n in range(copies):
        run_id = runs.new_run_id()
        runs.start_run(wh, run_id, [SOURCE_ID])
        for i, (url, media_type, body) in enumerate(documents):
            ctype = "application/pdf" if media_type == "application/pdf" else "text/html; charset=utf-8"
            staging.write(wh.staging_dir, staging.Capture(
                run_id=run_id, source_id=SOURCE_ID, url=url, requested_url=url, status=200, content_type=ctype,
                media_type=media_type, charset=None if media_type == "application/pdf" else "utf-8",
                body=_copy(body, media_type, n), depth=1, elapsed_ms=10,
                fetched_at=(start + timedelta(days=n, milliseconds=i)).isoformat()))
        runs.finish_run(wh, run_id, load_pending(wh, wh.staging_dir), "ok")
    with wh.connect(read_only=True) as con:
        return con.execute("SELECT count(*) FROM versions").fetchone()[0]


EXTRACTION_ROWS = "SELECT * EXCLUDE (extracted_at) FROM extractions ORDER BY sha256, extractor_version"
FACT_ROWS = "SELECT * FROM facts ORDER BY sha256, extractor_version, seq"


def tables(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    """The extractions rows (without ``extracted_at``) and the facts rows, in a fixed order."""
    return con.execute(EXTRACTION_ROWS).fetchall(), con.execute(FACT_ROWS).fetchall()


# ---------------------------------------------------------------- one timed command


class TreeRSS:
    """Polls a process and its descendants (psutil): peak RSS of the process itself, of its largest descendant,
    and of the whole tree at one moment; and the CPU seconds (user + system, as last seen) of the process, of its
    Dask worker processes and of the other descendants (the PDF parser children)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.main = self.child = self.tree = 0
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU seconds)
        self.load = (0.0, 0.0)  # the 1-minute load average before and after (set by timed_reextract)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                main = root.memory_info().rss
                self._cpu(root, "process")
                kids = []
                for p in root.children(recursive=True):
                    try:
                        kids.append(p.memory_info().rss)
                        self._cpu(p, "workers" if "spawn_main" in " ".join(p.cmdline()) else "children")
                    except psutil.Error:
                        continue
            except psutil.Error:
                return
            self.main = max(self.main, main)
            self.child = max(self.child, *kids, 0)
            self.tree = max(self.tree, main + sum(kids))
            self._stop.wait(self.interval)

    def _cpu(self, proc: Any, role: str) -> None:
        times = proc.cpu_times()
        self.cpu[proc.pid] = (role, times.user + times.system)

    def cpu_by_role(self) -> dict[str, float]:
        out = {"process": 0.0, "workers": 0.0, "children": 0.0}
        for role, seconds in self.cpu.values():
            out[role] += seconds
        return out

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def timed_reextract(db: Path, *extra: str) -> tuple[float, dict[str, Any], TreeRSS]:
    """`wardwatch reextract --db DB --format json EXTRA…` in a child process: (seconds, its JSON, peak RSS)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "wardwatch", "reextract", "--db", str(db), "--format", "json", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = TreeRSS(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    rss.stop()
    rss.load = (load, os.getloadavg()[0])
    if proc.returncode:
        raise SystemExit(f"reextract {' '.join(extra)} failed ({proc.returncode}): {err.strip()[-500:]}")
    return seconds, json.loads(out), rss


def _spin(seconds: float) -> int:
    """Pure-Python work (regex and string scanning, as the fact rules do) for ``seconds``: how many rounds."""
    import re

    text = "上限4万円を支給します。電話03-3993-1111、受付は午前8時30分から。" * 40
    rounds, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        re.findall(r"\d+", text)
        sum(ord(c) for c in text[:300])
        rounds += 1
    return rounds


def machine_ceiling(processes: int, seconds: float = 2.0) -> float:
    """What ``processes`` CPU-bound processes achieve together on this machine right now, against one alone
    (2.0 on two idle cores; less when other work shares them)."""
    import multiprocessing

    one = _spin(seconds)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        many = sum(pool.map(_spin, [seconds] * processes))
    return many / one if one else 0.0


def _cpu(rss: TreeRSS) -> str:
    cpu = rss.cpu_by_role()
    return (f"process {cpu['process']:.1f}, Dask workers {cpu['workers']:.1f}, PDF parser children "
            f"{cpu['children']:.1f}, total {sum(cpu.values()):.1f}")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10, help="runs of the whole corpus stored (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel run (default 2)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="serial and parallel runs alternated N times, the speed-up of the best of each (a machine "
                             "shared with other work makes single runs noisy)")
    args = parser.parse_args(argv)
    from warehouse.db import Warehouse

    documents = corpus_documents()
    if not documents:
        print(f"{CORPUS}: not found (the benchmark reads the shared corpus)", file=sys.stderr)
        return 2
    pdfs = sum(1 for _, media, _ in documents if media == "application/pdf")
    with tempfile.TemporaryDirectory(prefix="ww-reextract-") as tmp:
        filled = Path(tmp) / "filled.duckdb"
        wh = Warehouse(filled)
        versions = fill_corpus(wh, documents, args.copies)
        wh.close()
        print(f"reextract benchmark: {versions} versions ({pdfs} PDFs of 12 pages + {len(documents) - pdfs} pages, "
              f"× {args.copies} copies), {os.cpu_count()} CPU(s)")
        ceiling = machine_ceiling(args.workers)
        best: dict[str, float] = {}
        results: dict[str, tuple[list[tuple], list[tuple]]] = {}
        for n in range(max(1, args.repeat)):
            for label, extra in (("serial", ()), ("parallel", ("--workers", str(args.workers)))):
                db = Path(tmp) / f"{label}-{n}" / "w.duckdb"
                db.parent.mkdir()
                shutil.copyfile(filled, db)  # the same state each time: nothing extracted yet
                seconds, result, rss = timed_reextract(db, *extra)
                name = "serial" if label == "serial" else f"--workers {result['workers']}"
                print(f"  {name:<14}{seconds:6.1f} s  {versions / seconds:5.1f} versions/s  {result['facts']} facts   "
                      f"peak RSS: process {_mib(rss.main)}, largest child {_mib(rss.child)}, tree {_mib(rss.tree)}")
                print(f"    CPU s: {_cpu(rss)}; load average before / after: {rss.load[0]:.2f} / {rss.load[1]:.2f}")
                best[label] = min(best.get(label, seconds), seconds)
                con = duckdb.connect(str(db), read_only=True)
                try:
                    results.setdefault(label, tables(con))
                finally:
                    con.close()
                db.unlink()
        print(f"  this machine: {args.workers} CPU-bound processes did ×{ceiling:.2f} before the runs and "
              f"×{machine_ceiling(args.workers):.2f} after them the work of one (the ceiling; 2.00 on two idle cores)")
        print(f"  speed-up        {best['serial'] / best['parallel']:.2f}× with {args.workers} workers "
              f"(best of {max(1, args.repeat)}: {best['serial']:.1f} s → {best['parallel']:.1f} s; "
              "target ≥ 1.7× with 2 on 2 cores)")
        same = results["serial"] == results["parallel"]
        rows = len(results["serial"][0]) + len(results["serial"][1])
        print(f"  identical extractions and facts rows (extracted_at aside): {'yes' if same else 'NO'} ({rows} rows)")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
