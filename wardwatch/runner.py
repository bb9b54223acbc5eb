"""The main job, once: per source crawl → extract → diff and flag, then the report and the webhook.

This is the one run function. ``wardwatch run --no-prefect``, ``wardwatch demo`` and the Prefect
flows (``flows/pipeline.py``) all go through it:

* :func:`run_source` — one source under its file lock: the three stages, each through ``step``
  (directly by default; Prefect passes a ``step`` that runs each stage as a task with the retry
  policy, and wraps the whole call in one subflow per source);
* :func:`finish` — after every source: the change report (HTML file + Markdown), the open flags,
  the webhook note, the run's status;
* :func:`run` — both. With ``crawl_concurrency`` N (``wardwatch run``'s default) one crawl child process
  crawls every source, N hosts at once (:class:`Batch`), and each source goes on to extract and diff as
  soon as its own crawl is done (up to ``max_parallel`` at a time); with ``crawl_concurrency`` None each
  source's crawl is its own child process, ``max_parallel`` at a time (``--per-source-process``: the
  behaviour before batches, and what the demo uses). Scrapy's reactor cannot restart within one process,
  so crawls always run in a child.

A source that fails is reported and the others go on. Results are JSON-ready dicts.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wardwatch.outfile import write_output
from wardwatch.report import flag_rows, model_of, render_model
from wardwatch.report.archive import embed_archive
from wardwatch.report.notice import notice_from_model
from wardwatch.stages import interrupt
from wardwatch.stages.changes import detect_changes
from wardwatch.stages.crawl import CrawlProcessError, crawl_stage, crawl_subprocess, judge, part_of
from wardwatch.stages.errors import CrawlInterrupted, SourceBusy
from wardwatch.stages.extract import extract_pending
from wardwatch.stages.flags import evaluate_source_flags
from wardwatch.stages.notify import WEBHOOK_ENV, deliver, notify_urls
from warehouse import runs
from warehouse.locks import LockTimeout, hold, lock_path
from warehouse.schema import migrate

MAX_PARALLEL = 4  # sources whose pipelines run at the same time (with per-source crawl processes: crawled)
LOCK_TIMEOUT_S = 3600.0  # how long a run waits for another run of the same source
log = logging.getLogger("wardwatch.run")

Step = Callable[[str, str, Callable[[], dict[str, Any]]], dict[str, Any]]


@dataclass
class RunOptions:
    sources_file: Path
    db_path: Path
    source_ids: list[str]
    webhook: str | None = None  # default: $WARDWATCH_WEBHOOK_URL
    notify: list[str] = field(default_factory=list)  # Apprise URLs; default: $WARDWATCH_NOTIFY
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    max_parallel: int = MAX_PARALLEL
    lock_timeout: float = LOCK_TIMEOUT_S
    # None: each source's crawl is its own child process (max_parallel at a time). N: one child process
    # crawls every source whose lock is free, N at a time (Batch); the others wait for their lock as before.
    crawl_concurrency: int | None = None
    flow_run: dict[str, Any] = field(default_factory=dict)  # {"id", "name", "url"} when Prefect runs it
    on_wait: Callable[[str, Path], None] | None = None  # told when a source waits for another run's lock

    @property
    def webhook_url(self) -> str | None:
        return self.webhook or os.environ.get(WEBHOOK_ENV) or None


def direct(stage: str, source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a stage in this thread (``--no-prefect``, the demo)."""
    return fn()


def run_source(opts: RunOptions, source_id: str, step: Step = direct,
               on_wait: Callable[[Path], None] | None = None, batch: Batch | None = None) -> dict[str, Any]:
    """crawl → extract → diff and flag for one source, holding its lock; raises when a stage failed.

    With ``batch`` the source was crawled by that batch (which holds its lock until this returns): the
    crawl stage's first try is the batch's result for it; a retry (Prefect's retry policy) crawls the
    source again alone, in its own child process."""
    db = Path(opts.db_path)
    if on_wait is None and opts.on_wait is not None:
        on_wait = lambda path: opts.on_wait(source_id, path)
    # one entry per call (two runs of a source may share a process); a batch registered its own
    key = batch.key(source_id) if batch is not None else (str(db), source_id, next(_RUNS))

    def crawl_alone() -> dict[str, Any]:
        return crawl_stage(Path(opts.sources_file), db, source_id, run_id=_begin(key, db))

    crawl = (lambda: batch.result(source_id, crawl_alone)) if batch is not None else crawl_alone
    lock = batch.holding(source_id) if batch is not None else _source_lock(db, source_id, opts.lock_timeout, on_wait)
    crawled: dict[str, Any] | None = None
    try:
        with lock:
            interrupt.check()
            crawled = step("crawl", source_id, crawl)
            interrupt.check()
            _ACTIVE.setdefault(key, {"db": db, "run_ids": []})["stage"] = "extract"
            extracted = step("extract", source_id, lambda: extract_pending(db, source_id=source_id))
            interrupt.check()
            _ACTIVE.setdefault(key, {"db": db, "run_ids": []})["stage"] = "diff"
            diffed = step("diff", source_id, lambda: detect_changes(db, source_id=source_id))
    except BaseException as exc:
        if _ACTIVE.get(key, {}).get("run_ids") and interrupt.requested() is None:
            _ACTIVE.pop(key, None)  # a failure, not an interrupt: the crawl's own status stands
        if crawled is not None and isinstance(exc, Exception) and getattr(exc, "result", None) is None:
            with contextlib.suppress(Exception):  # a later stage failed: the summary still shows the crawl's numbers
                exc.crawl_result = crawled  # type: ignore[attr-defined]
        raise
    _ACTIVE.pop(key, None)
    return {"crawl": crawled, "extract": extracted, "diff": diffed}


# Runs whose pipeline has begun and not yet ended, by (warehouse, source): what a stop signal marks
# 'interrupted' (:func:`mark_interrupted`), also when the crawl itself had ended ok.
_ACTIVE: dict[tuple[str, str, int], dict[str, Any]] = {}
_RUNS = itertools.count()


def _begin(key: tuple[str, str, int], db: Path) -> str:
    """A new crawl run id for this source's pipeline (one per try of the crawl stage)."""
    run_id = runs.new_run_id()
    entry = _ACTIVE.setdefault(key, {"db": db, "run_ids": [], "stage": "crawl"})
    entry["run_ids"].append(run_id)
    entry["stage"] = "crawl"
    return run_id


def mark_interrupted(signame: str) -> list[str]:
    """Record every unfinished pipeline's crawl runs as 'interrupted' (naming the stage that was cut
    short). Never raises; returns the run ids of those pipelines."""
    ids: list[str] = []
    for key, entry in list(_ACTIVE.items()):
        message = f"interrupted by {signame} during {entry['stage']}; the next run resumes"
        ids += entry["run_ids"]
        try:
            runs.mark_interrupted(entry["db"], entry["run_ids"], message)
        except Exception as exc:  # at worst the next run closes it (if still 'running')
            log.warning("could not mark runs %s interrupted: %s", entry["run_ids"], exc)
        _ACTIVE.pop(key, None)
    return ids


@contextlib.contextmanager
def _source_lock(db: Path, source_id: str, timeout: float, on_wait: Callable[[Path], None] | None) -> Iterator[None]:
    """One run per source at a time (an OS file lock, shared by every mode; released if we die)."""
    try:
        lock = hold(db, source_id, timeout=timeout, on_wait=on_wait)
        lock.__enter__()
    except LockTimeout:
        raise SourceBusy(f"{source_id}: another run of this source is still going "
                         f"(waited {timeout:.0f}s for {lock_path(db, source_id)})") from None
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


class Batch:
    """Many sources crawled by one crawl child process, ``crawl_concurrency`` hosts at a time.

    Made with the options of a run, it takes the lock of every source that no other run holds (``busy``
    lists the others: they wait for their lock and crawl alone, as before). :meth:`crawl` starts the one
    child (one run row for the crawl) and calls ``on_crawled(source_id)`` as each source's crawl ends
    (from the child's ``--events``; at the latest when the child ends: every locked source is reported
    exactly once, also when the child failed). Each source's pipeline then runs :func:`run_source` with
    this batch, which releases that source's lock when it returns."""

    def __init__(self, opts: RunOptions, source_ids: list[str] | None = None):
        self.opts = opts
        self.db = Path(opts.db_path)
        self.ids = list(dict.fromkeys(source_ids if source_ids is not None else opts.source_ids))
        self.concurrency = max(1, opts.crawl_concurrency or 1)
        self._locks: dict[str, contextlib.AbstractContextManager[Any]] = {}
        self._keys: dict[str, tuple[str, str, int]] = {}
        self._results: dict[str, dict[str, Any] | BaseException] = {}
        self._first_try: set[str] = set()
        self._guard = threading.Lock()
        self._resumed_given = False
        self.run_id: str | None = None
        self.busy: list[str] = []
        _raise_open_files_limit(len(self.ids) + 256)
        for sid in self.ids:
            lock = hold(self.db, sid, timeout=0)
            try:
                lock.__enter__()
            except LockTimeout:
                self.busy.append(sid)
                continue
            self._locks[sid] = lock
            self._keys[sid] = (str(self.db), sid, next(_RUNS))
            _BATCHES[(str(self.db), sid)] = self

    @property
    def locked(self) -> list[str]:
        """The sources this batch crawls (their locks are held), in the run's order."""
        return [sid for sid in self.ids if sid in self._locks]

    def key(self, source_id: str) -> tuple[str, str, int]:
        return self._keys[source_id]

    def crawl(self, on_crawled: Callable[[str], None], timeout: float | None = None) -> None:
        """The one crawl child for every locked source; ``on_crawled(source_id)`` once per source."""
        ids = self.locked
        if not ids:
            return
        self.run_id = runs.new_run_id()
        for sid in ids:  # what a stop signal marks interrupted, from now on
            _ACTIVE[self._keys[sid]] = {"db": self.db, "run_ids": [self.run_id], "stage": "crawl"}

        def done(sid: str, result: dict[str, Any] | BaseException) -> None:
            with self._guard:  # held while telling: when crawl() returns, every source has been handed on
                if sid not in self._locks or sid in self._results:
                    return
                if isinstance(result, dict):
                    result = self._own(result, sid)
                self._results[sid] = result
                self._first_try.add(sid)
                on_crawled(sid)

        try:
            final = crawl_subprocess(Path(self.opts.sources_file), self.db, ids, timeout=timeout, run_id=self.run_id,
                                     concurrency=self.concurrency, on_source=done)
        except CrawlProcessError as exc:  # the child died: every source it did not report failed with it
            for sid in ids:
                done(sid, exc)
            return
        for sid in ids:  # reported early or not, each source gets its part of the whole result once
            done(sid, part_of(final, sid))

    def _own(self, result: dict[str, Any], source_id: str) -> dict[str, Any]:
        """``result`` as this source's part: the resumed captures are counted once for the batch."""
        part = part_of(result, source_id) if len(result.get("sources", [])) != 1 else dict(result)
        if self._resumed_given:
            part["resumed"] = 0
        self._resumed_given = True
        return part

    def result(self, source_id: str, crawl_alone: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The crawl stage of ``source_id``: the batch's result the first time (or the stage error it
        means), ``crawl_alone()`` on a retry."""
        with self._guard:
            first = source_id in self._first_try
            self._first_try.discard(source_id)
            result = self._results.get(source_id)
        if not first:
            return crawl_alone()
        if isinstance(result, BaseException):
            raise result
        assert result is not None
        return judge(result, source_id)

    @contextlib.contextmanager
    def holding(self, source_id: str) -> Iterator[None]:
        """The source's lock, taken when the batch was made; released when the source's pipeline ends."""
        try:
            yield
        finally:
            self.release(source_id)

    def release(self, source_id: str) -> None:
        with self._guard:
            lock = self._locks.pop(source_id, None)
        _BATCHES.pop((str(self.db), source_id), None)
        if lock is not None:
            lock.__exit__(None, None, None)

    def close(self) -> None:
        """Release every lock still held (sources whose pipeline never ran)."""
        for sid in list(self._locks):
            self.release(sid)


_BATCHES: dict[tuple[str, str], Batch] = {}  # (warehouse, source) -> the batch of this process that crawled it


def batch_of(db_path: Path | str, source_id: str) -> Batch | None:
    """The batch of this process holding ``source_id``'s lock (Prefect's per-source subflows find it here)."""
    return _BATCHES.get((str(Path(db_path)), source_id))


def _raise_open_files_limit(needed: int) -> None:
    """A batch holds one lock file per source: lift the soft limit on open files towards the hard one."""
    import resource

    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard), hard))


def outcome(source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``{"status": "ok", ...}`` from ``fn()``, or why that source failed, on one line."""
    try:
        return {"status": "ok", **fn()}
    except Exception as exc:
        return failure(source_id, exc)


def failure(source_id: str, exc: BaseException) -> dict[str, Any]:
    """Why a source failed, on one line; a crawl stopped before it was done is ``interrupted``. A failed
    or interrupted crawl's own result (run id, fetched, errors by kind) is kept as ``crawl``."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].removeprefix(f"{source_id}: ")
    crawl = getattr(exc, "result", None) or getattr(exc, "crawl_result", None)
    extra = {"crawl": crawl} if isinstance(crawl, dict) and crawl.get("run_id") else {}
    if isinstance(exc, CrawlInterrupted):
        return {"status": "interrupted", "error": type(exc).__name__, "reason": reason, "signal": exc.signum, **extra}
    return {"status": "failed", "error": type(exc).__name__, "reason": reason, **extra}


def crawl_run_ids(sources: dict[str, dict[str, Any]]) -> list[str]:
    """The crawl run of every source that got as far as crawling — ok, failed or interrupted."""
    return list(dict.fromkeys(s["crawl"]["run_id"] for s in sources.values() if (s.get("crawl") or {}).get("run_id")))


# Told of each source's outcome as soon as its pipeline ends (``wardwatch run`` prints a line per source);
# a listener that fails is ignored. Both modes call :func:`source_done` (the flows from their parent run).
_LISTENERS: list[Callable[[str, dict[str, Any]], None]] = []


@contextlib.contextmanager
def progress(listener: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """``listener(source_id, outcome)`` is called once per source, as it finishes, while this is entered."""
    _LISTENERS.append(listener)
    try:
        yield
    finally:
        _LISTENERS.remove(listener)


def source_done(source_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """Tell the listeners that ``source_id`` ended with ``result`` (an :func:`outcome`); returns it."""
    for listener in list(_LISTENERS):
        with contextlib.suppress(Exception):
            listener(source_id, result)
    return result


def report_stage(db_path: Path, run_ids: list[str] | None = None) -> dict[str, Any]:
    """The run's change report: an HTML file in ``<db dir>/reports/``, its Markdown, the open flags."""
    db_path = Path(db_path)
    folder = db_path.parent / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    name = (run_ids[0] if run_ids else datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")) + ".html"
    path = folder / name
    model = model_of(db_path, run_ids=run_ids)  # read once, rendered twice
    write_output(path, render_model(embed_archive(db_path, model), "html"))  # archived texts travel with the file
    return {"markdown": render_model(model, "md"), "flags": flag_rows(model), "path": str(path), "model": model}


def finish(opts: RunOptions, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report, the webhook note and the run's status, after every source ran."""
    run_ids = list(dict.fromkeys(s["crawl"]["run_id"] for s in sources.values()  # a batch: one run, many sources
                                 if s["status"] == "ok" and s["crawl"].get("run_id")))
    try:  # a source failing run after run is a flag of its own, also when no source reached the diff stage
        evaluate_source_flags(Path(opts.db_path))
    except Exception as exc:  # the report and the notice matter more than this flag
        log.warning("source flags not evaluated: %s", exc)
    report = report_stage(Path(opts.db_path), run_ids or None)
    notice = notice_from_model(report["model"], report=opts.flow_run.get("url") or report["path"],
                               since=_jst(opts.started_at))
    urls = notify_urls(opts.notify)
    notified = False
    if notice.worth_sending and (urls or opts.webhook_url):
        payload = {**notice.to_json(), "run_ids": run_ids, "report_path": report["path"],
                   "flow_run_id": opts.flow_run.get("id"), "flow_run_url": opts.flow_run.get("url"),
                   "sources": [{"source_id": sid, "status": s["status"], "changes": (s.get("diff") or {}).get("changes", 0),
                                "flags_opened": (s.get("diff") or {}).get("flags_opened", 0)} for sid, s in sources.items()]}
        delivery = deliver(notice.title, notice.body, payload, urls=urls, webhook=opts.webhook_url)
        for error in delivery.errors:
            log.warning("notification not delivered (the run goes on): %s", error)
        notified = delivery.delivered
    failed = [(sid, s) for sid, s in sources.items() if s["status"] == "failed"]
    status = "ok" if not failed else ("failed" if len(failed) == len(sources) else "partial")
    message = None
    if failed:
        message = f"{len(failed)} of {len(sources)} sources failed (first: {failed[0][0]}: {failed[0][1]['reason']})"
    stopped = [(sid, s) for sid, s in sources.items() if s["status"] == "interrupted"]
    if stopped:  # a crawl stopped early is never a success
        status = "interrupted"
        message = (f"{len(stopped)} of {len(sources)} sources interrupted (first: {stopped[0][0]}: {stopped[0][1]['reason']})"
                   + (f"; {message}" if message else ""))
    return {"status": status, "message": message, "sources": sources, "run_ids": run_ids,
            "crawl_run_ids": crawl_run_ids(sources),
            "report": {"open_flags": len(report["flags"]), "path": report["path"], "markdown": report["markdown"],
                       "flags": report["flags"], "artifacts": {}},
            "notified": notified, "flow_run": {"id": opts.flow_run.get("id"), "name": opts.flow_run.get("name")}}


def _jst(iso: str) -> str:
    """An ISO timestamp in Japan time, comparable as text with the report model's ``first_seen``."""
    from wardwatch.report.model import JST

    return datetime.fromisoformat(iso).astimezone(JST).isoformat(timespec="seconds")


def prepare(opts: RunOptions) -> None:
    """Create or upgrade the warehouse once, before sources run in parallel (parallel crawl processes
    creating the same new file would read each other's half-written header)."""
    migrate(Path(opts.db_path))


def run(opts: RunOptions, step: Step = direct) -> dict[str, Any]:
    """Every source of ``opts``, then :func:`finish`: in one batch crawl (``crawl_concurrency`` N), or each
    source's crawl in its own process, up to ``max_parallel`` at a time (``crawl_concurrency`` None)."""
    prepare(opts)
    ids = list(dict.fromkeys(opts.source_ids))
    if opts.crawl_concurrency is not None:
        return _run_batch(opts, ids, step)
    pool = ThreadPoolExecutor(max_workers=max(1, min(opts.max_parallel, len(ids) or 1)))
    try:
        outcomes = list(pool.map(lambda sid: source_done(sid, outcome(sid, lambda: run_source(opts, sid, step))), ids))
    except KeyboardInterrupt as exc:  # SIGINT/SIGTERM (wardwatch.stages.interrupt): stop within seconds
        stopped(exc)
        raise
    finally:
        pool.shutdown(wait=interrupt.requested() is None, cancel_futures=True)
    interrupt.check()
    return finish(opts, dict(zip(ids, outcomes)))


def _run_batch(opts: RunOptions, ids: list[str], step: Step) -> dict[str, Any]:
    """One crawl child for every source whose lock is free; each source's extract and diff start as soon
    as its own crawl has ended (``max_parallel`` at a time). A source another run holds waits for it and
    crawls alone, as before."""
    pool = ThreadPoolExecutor(max_workers=max(1, opts.max_parallel))
    futures: dict[str, Future[dict[str, Any]]] = {}
    batch = Batch(opts, ids)

    def pipeline(sid: str, of: Batch | None) -> dict[str, Any]:
        return source_done(sid, outcome(sid, lambda: run_source(opts, sid, step, batch=of)))

    try:
        for sid in batch.busy:
            futures[sid] = pool.submit(pipeline, sid, None)
        batch.crawl(lambda sid: futures.__setitem__(sid, pool.submit(pipeline, sid, batch)))
        outcomes = {sid: futures[sid].result() for sid in ids}
    except KeyboardInterrupt as exc:  # SIGINT/SIGTERM (wardwatch.stages.interrupt): stop within seconds
        stopped(exc)
        raise
    finally:
        pool.shutdown(wait=interrupt.requested() is None, cancel_futures=True)
        batch.close()
    interrupt.check()
    return finish(opts, {sid: outcomes[sid] for sid in ids})


def stopped(exc: BaseException) -> None:
    """After a stop signal: give the crawl children (told already) a few seconds to store what they
    fetched, then mark this run's unfinished pipelines 'interrupted'. Bounded; never raises."""
    signame = getattr(exc, "signame", "SIGINT")
    interrupt.wait_for_children(min(interrupt.grace() * 0.6, 10.0))
    ids = [run_id for entry in _ACTIVE.values() for run_id in entry["run_ids"]]
    interrupt.bounded(lambda: mark_interrupted(signame))
    if isinstance(exc, Exception | KeyboardInterrupt):
        exc.run_ids = ids  # type: ignore[union-attr]  # what `wardwatch run --format json` reports
