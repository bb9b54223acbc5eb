"""The main job, once: per source crawl → extract → diff and flag, then the report and the webhook.

This is the one run function. ``wardwatch run --no-prefect``, ``wardwatch demo`` and the Prefect
flows (``flows/pipeline.py``) all go through it:

* :func:`run_source` — one source under its file lock: the three stages, each through ``step``
  (directly by default; Prefect passes a ``step`` that runs each stage as a task with the retry
  policy, and wraps the whole call in one subflow per source);
* :func:`finish` — after every source: the change report (HTML file + Markdown), the open flags,
  the webhook note, the run's status;
* :func:`run` — both, with up to ``max_parallel`` sources at a time (each crawl is its own child
  process: Scrapy's reactor cannot restart within one process).

A source that fails is reported and the others go on. Results are JSON-ready dicts.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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
from wardwatch.stages.crawl import crawl_stage
from wardwatch.stages.errors import CrawlInterrupted, SourceBusy
from wardwatch.stages.extract import extract_pending
from wardwatch.stages.flags import evaluate_source_flags
from wardwatch.stages.notify import WEBHOOK_ENV, deliver, notify_urls
from warehouse import runs
from warehouse.locks import LockTimeout, hold, lock_path
from warehouse.schema import migrate

MAX_PARALLEL = 4  # sources crawled at the same time
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
    flow_run: dict[str, Any] = field(default_factory=dict)  # {"id", "name", "url"} when Prefect runs it
    on_wait: Callable[[str, Path], None] | None = None  # told when a source waits for another run's lock

    @property
    def webhook_url(self) -> str | None:
        return self.webhook or os.environ.get(WEBHOOK_ENV) or None


def direct(stage: str, source_id: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a stage in this thread (``--no-prefect``, the demo)."""
    return fn()


def run_source(opts: RunOptions, source_id: str, step: Step = direct,
               on_wait: Callable[[Path], None] | None = None) -> dict[str, Any]:
    """crawl → extract → diff and flag for one source, holding its lock; raises when a stage failed."""
    db = Path(opts.db_path)
    if on_wait is None and opts.on_wait is not None:
        on_wait = lambda path: opts.on_wait(source_id, path)
    key = (str(db), source_id, next(_RUNS))  # one entry per call (two runs of a source may share a process)
    crawled: dict[str, Any] | None = None
    try:
        with _source_lock(db, source_id, opts.lock_timeout, on_wait):
            interrupt.check()
            crawled = step("crawl", source_id, lambda: crawl_stage(Path(opts.sources_file), db, source_id,
                                                                    run_id=_begin(key, db)))
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
    return [s["crawl"]["run_id"] for s in sources.values() if (s.get("crawl") or {}).get("run_id")]


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
    run_ids = [s["crawl"]["run_id"] for s in sources.values() if s["status"] == "ok" and s["crawl"].get("run_id")]
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
    """Every source of ``opts`` (up to ``max_parallel`` at a time), then :func:`finish`."""
    prepare(opts)
    ids = list(dict.fromkeys(opts.source_ids))
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


def stopped(exc: BaseException) -> None:
    """After a stop signal: give the crawl children (told already) a few seconds to store what they
    fetched, then mark this run's unfinished pipelines 'interrupted'. Bounded; never raises."""
    signame = getattr(exc, "signame", "SIGINT")
    interrupt.wait_for_children(min(interrupt.grace() * 0.6, 10.0))
    ids = [run_id for entry in _ACTIVE.values() for run_id in entry["run_ids"]]
    interrupt.bounded(lambda: mark_interrupted(signame))
    if isinstance(exc, Exception | KeyboardInterrupt):
        exc.run_ids = ids  # type: ignore[union-attr]  # what `wardwatch run --format json` reports
