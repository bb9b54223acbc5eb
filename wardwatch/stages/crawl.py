"""The crawl stage: one crawl of some registry sources into the warehouse.

Scrapy's Twisted reactor cannot be restarted, so :func:`crawl` runs at most once per process
(``wardwatch crawl``); the runner and every long-lived caller crawl in a child process through
:func:`crawl_subprocess` / :func:`crawl_stage` (``wardwatch crawl --format json``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spiders.registry import RegistryError, Source, load_sources, select
from wardwatch.stages import interrupt
from wardwatch.stages.errors import (
    TRANSIENT_KINDS,
    CrawlInterrupted,
    Interrupted,
    TerminalStageError,
    TransientStageError,
)
from warehouse import read, runs, schema
from warehouse.db import staging_dir
from warehouse.load import LoadCounts, load_pending
from warehouse.locks import hold, lock_path

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class CrawlResult:
    run_id: str
    status: str  # "ok" | "partial" | "failed" | "interrupted"
    sources: list[dict[str, Any]] = field(default_factory=list)
    resumed: int = 0  # captures left by an interrupted crawl, loaded first
    log_file: str | None = None
    interrupted_by: str | None = None  # "SIGINT" / "SIGTERM" / "shutdown" when the crawl stopped early

    @property
    def failed_sources(self) -> list[dict[str, Any]]:
        return [s for s in self.sources if s["status"] == "failed"]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def prepare(db_path: Path) -> int:
    """Migrate, mark interrupted runs, load captures a killed crawl left behind; returns how many of
    those there were. Parallel crawls share the staging folder: captures of runs still going (held by
    their live process) are loaded too, as every batch load does, but are not "left behind"."""
    schema.migrate(db_path)
    runs.close_abandoned_runs(db_path)
    folder = staging_dir(db_path)
    resumed = runs.left_by_dead_runs(db_path, folder)
    load_pending(db_path, folder)
    return len(resumed)


def crawl(sources: list[Source], db_path: Path, *, run_id: str | None = None, progress: Any = None,
          extra_settings: dict[str, Any] | None = None) -> CrawlResult:
    """One crawl of ``sources``. A stop signal while Scrapy runs ends the crawl gracefully (what was
    fetched is stored) with status ``interrupted``; one at any other point raises Interrupted after
    the run's row (if it was started) is marked ``interrupted`` — staged captures wait for the next run."""
    db_path = Path(db_path)
    run_id = run_id or runs.new_run_id()
    try:
        with hold(db_path, runs.run_lock_name(run_id), timeout=0):  # marks the run alive while this process lives
            try:
                return _crawl(sources, db_path, run_id, progress, extra_settings or {})
            except KeyboardInterrupt as exc:  # Interrupted included
                name = exc.signame if isinstance(exc, Interrupted) else "SIGINT"
                interrupt.bounded(lambda: runs.mark_interrupted(db_path, [run_id], f"interrupted by {name}",
                                                                only_running=True))
                raise
    finally:
        lock_path(db_path, runs.run_lock_name(run_id)).unlink(missing_ok=True)  # run ids are never reused


def _crawl(sources: list[Source], db_path: Path, run_id: str, progress: Any, extra_settings: dict[str, Any]) -> CrawlResult:
    from scrapy import signals as scrapy_signals
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.settings import Settings

    from spiders.municipal import MunicipalSpider
    from spiders.settings import for_source

    resumed = prepare(db_path)
    runs.upsert_sources(db_path, [s.to_row() for s in sources])
    runs.start_run(db_path, run_id, [s.id for s in sources])
    log_dir = db_path.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{run_id}.log"
    # Scrapy's own root handler would be a plain FileHandler: on a full disk every record would print
    # a "--- Logging error ---" traceback. The crawl log gets a handler that gives up after one line.
    common = {"LOG_FILE": str(log_file), "LOG_FILE_APPEND": True, "LOG_INSTALL_ROOT_HANDLER": False,
              "WARDWATCH_PROGRESS": progress, **extra_settings}
    per_source = [for_source(source, db_path=db_path, staging=staging_dir(db_path), run_id=run_id, extra=common)
                  for source in sources]
    log_handler = _install_log_handler(log_file, Settings(per_source[0] if per_source else common))
    process = CrawlerProcess(settings=common)
    closed: dict[str, str] = {}  # source id -> the spider's close reason
    for i, (source, settings) in enumerate(zip(sources, per_source)):
        crawler = Crawler(MunicipalSpider, settings, init_reactor=(i == 0))
        crawler.signals.connect(_recorder(closed, source.id), signal=scrapy_signals.spider_closed)
        process.crawl(crawler, source=source)
    stop = _GracefulStop(process)
    try:
        with stop.installed():  # Scrapy's handlers would stay installed after the reactor stops
            process.start(install_signal_handlers=False)
        counts = load_pending(db_path, staging_dir(db_path))
    finally:
        if progress is not None:
            progress.finish()
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
    early = sorted({r for r in closed.values() if r in EARLY_REASONS})
    interrupted_by = signal.Signals(stop.signals[0]).name if stop.signals else (early[0] if early else None)
    return _finish(db_path, run_id, sources, counts, resumed, str(log_file), interrupted_by)


GRACEFUL_STOP_S = 6.0  # after a stop signal, in-flight requests get this long before the reactor stops
EARLY_REASONS = {"shutdown", "cancelled"}  # Scrapy's close reasons of a spider stopped before it was done


def _recorder(closed: dict[str, str], source_id: str) -> Any:
    def spider_closed(spider: Any, reason: str) -> None:
        closed[source_id] = reason

    return spider_closed


class _GracefulStop:
    """SIGINT/SIGTERM while the reactor runs: the first stops the spiders gracefully (close reason
    ``shutdown``; what was fetched gets stored), a second stops the reactor at once. The handlers that
    were in place before are put back as soon as the reactor has stopped."""

    def __init__(self, process: Any):
        self.process = process
        self.signals: list[int] = []

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {s: signal.getsignal(s) for s in interrupt.SIGNALS}
        for s in interrupt.SIGNALS:
            signal.signal(s, self._handle)
        try:
            yield
        finally:
            for s, h in previous.items():
                signal.signal(s, h if h is not None else signal.SIG_DFL)

    def _handle(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        self.signals.append(signum)
        if len(self.signals) == 1:
            reactor.callFromThread(self._graceful)
        else:
            reactor.callFromThread(self._force)

    def _graceful(self) -> None:
        from twisted.internet import reactor

        logging.getLogger("wardwatch.crawl").info("received %s: stopping the crawl gracefully (again to force)",
                                                  signal.Signals(self.signals[0]).name)
        d = self.process.stop()
        d.addBoth(lambda _: self._force())
        reactor.callLater(GRACEFUL_STOP_S, self._force)  # requests still in flight do not hold it up longer

    @staticmethod
    def _force() -> None:
        from twisted.internet import reactor

        with contextlib.suppress(RuntimeError):  # already stopping
            reactor.stop()


class _CrawlLogHandler(logging.FileHandler):
    """The crawl log file. A write that fails (disk full, file too large) prints one line on stderr
    and turns the handler off: never a traceback per record."""

    def __init__(self, path: Path, encoding: str | None):
        super().__init__(path, mode="a", encoding=encoding or "utf-8", delay=True)
        self.failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def flush(self) -> None:
        if self.failed:
            return
        try:
            super().flush()
        except OSError as exc:
            self._give_up(exc)

    def handleError(self, record: logging.LogRecord) -> None:
        self._give_up(sys.exc_info()[1])

    def _give_up(self, exc: BaseException | None) -> None:
        if self.failed:
            return
        self.failed = True
        why = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) if exc else "write failed"
        with contextlib.suppress(Exception):
            sys.stderr.write(f"wardwatch crawl: cannot write the crawl log {self.baseFilename}: {why} "
                             f"(logging to it stopped; the crawl goes on)\n")
        with contextlib.suppress(Exception):
            if self.stream is not None:
                self.stream.close()
        self.stream = None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            super().close()


def _install_log_handler(path: Path, settings: Any) -> logging.Handler:
    """The crawl log on the root logger, formatted as Scrapy's own handler would format it."""
    handler = _CrawlLogHandler(path, settings.get("LOG_ENCODING"))
    handler.setFormatter(logging.Formatter(fmt=settings.get("LOG_FORMAT"), datefmt=settings.get("LOG_DATEFORMAT")))
    handler.setLevel(settings.get("LOG_LEVEL") or "INFO")
    root = logging.getLogger()
    root.setLevel(logging.NOTSET)
    root.addHandler(handler)
    return handler


def _finish(db_path: Path, run_id: str, sources: list[Source], counts: LoadCounts, resumed: int, log_file: str,
            interrupted_by: str | None = None) -> CrawlResult:
    by_id = {s.source_id: s for s in read.run_summary(db_path, run_id)}
    rows = []
    for source in sources:
        s = by_id.get(source.id)
        if s is None:
            rows.append({"source_id": source.id, "status": "failed", "reason": "nothing was fetched", "fetched": 0,
                         "new_versions": 0, "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}})
            continue
        status = "ok" if s.reachable else "failed"
        reason = None
        if not s.reachable:
            kind = max(s.error_kinds, key=s.error_kinds.get) if s.error_kinds else "unknown"
            reason = f"unreachable ({kind}): {s.first_error or kind}"
        rows.append({"source_id": s.source_id, "status": status, "reason": reason, "fetched": s.fetched,
                     "new_versions": s.new_versions, "unchanged": s.unchanged, "not_modified": s.not_modified,
                     "errors": s.errors, "error_kinds": s.error_kinds})
    failed = sum(r["status"] == "failed" for r in rows)
    status = "ok" if failed == 0 else ("failed" if failed == len(rows) else "partial")
    message = None if failed == 0 else f"{failed} of {len(rows)} sources failed"
    if interrupted_by:  # stopped before it was done: never "ok", whatever was fetched
        status = "interrupted"
        fetched = sum(r["fetched"] for r in rows)
        how = f"by {interrupted_by}" if interrupted_by.startswith("SIG") else f"(spider closed: {interrupted_by})"
        message = f"interrupted {how} after {fetched} fetch(es); the next run crawls again"
        for r in rows:
            if r["status"] == "ok":
                r["status"], r["reason"] = "interrupted", message
    runs.finish_run(db_path, run_id, counts, status, message)
    return CrawlResult(run_id=run_id, status=status, sources=rows, resumed=resumed, log_file=log_file,
                       interrupted_by=interrupted_by)


class CrawlProcessError(RuntimeError):
    pass


def crawl_subprocess(sources_file: Path, db_path: Path, source_ids: list[str] | None = None,
                     timeout: float | None = None, env: dict[str, str] | None = None,
                     run_id: str | None = None) -> dict[str, Any]:
    """`wardwatch crawl --format json` in a child; returns its JSON result.

    A run where some sources failed still returns its result (status "partial"/"failed"/"interrupted");
    a child that died or printed no result raises CrawlProcessError with its last stderr line.
    The child runs in its own session (a terminal's Ctrl-C reaches it once, forwarded by this process:
    see ``wardwatch.stages.interrupt``) and gets SIGTERM if this process dies (Linux).
    """
    cmd = [sys.executable, "-m", "wardwatch", "crawl", "--sources", str(sources_file), "--db", str(db_path), "--format", "json"]
    for sid in source_ids or []:
        cmd += ["--source", sid]
    if run_id:
        cmd += ["--run-id", run_id]
    child_env = {**os.environ, **(env or {}), interrupt.PARENT_ENV: str(os.getpid())}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env, start_new_session=True)
    with interrupt.track(proc):
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()  # a graceful stop: what it fetched is stored
            try:
                stdout, stderr = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = proc.communicate()
            raise CrawlProcessError(f"crawl process did not finish within {timeout:.0f}s (stopped)") from None
        except KeyboardInterrupt:  # a stop signal in this thread: the child was told too; let it store its work
            try:
                proc.wait(timeout=min(interrupt.grace() * 0.6, 10.0))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        if proc.returncode in (130, 143) or interrupt.requested():
            raise Interrupted(interrupt.requested() or proc.returncode - 128) from None
        last = (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise CrawlProcessError(f"crawl process failed: {last}") from None


def crawl_stage(sources_file: Path, db_path: Path, source_id: str, timeout: float | None = 3600,
                run_id: str | None = None) -> dict[str, Any]:
    """Crawl one source in a child process.

    Raises TransientStageError when the source was unreachable for a transient reason,
    TerminalStageError for anything else that made the source fail (e.g. robots.txt
    disallows every start URL), so a flow can retry only what is worth retrying;
    Interrupted when this process was asked to stop, CrawlInterrupted when the crawl alone was.
    """
    try:
        select(load_sources(sources_file), [source_id])
    except RegistryError as exc:
        raise TerminalStageError(str(exc)) from None
    result = crawl_subprocess(Path(sources_file), Path(db_path), [source_id], timeout=timeout, run_id=run_id)
    if result.get("status") == "interrupted":
        if interrupt.requested():
            raise Interrupted(interrupt.requested())
        by = result.get("interrupted_by") or "shutdown"
        signum = getattr(signal, by, None) if by.startswith("SIG") else None
        raise CrawlInterrupted(f"{source_id}: crawl {result['run_id']} was interrupted "
                               + (f"by {by}" if signum else f"(spider closed: {by})"), int(signum) if signum else None,
                               result=result)
    (summary,) = [s for s in result["sources"] if s["source_id"] == source_id] or [None]
    if summary is None or summary["status"] == "ok":
        return result
    kinds = set(summary.get("error_kinds") or {})
    reason = f"{source_id}: {summary['reason']}"
    if kinds and kinds <= TRANSIENT_KINDS:
        raise TransientStageError(reason, result=result)
    raise TerminalStageError(reason, result=result)
