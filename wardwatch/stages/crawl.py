"""The crawl stage: one crawl of some registry sources into the warehouse.

Scrapy's Twisted reactor cannot be restarted, so :func:`crawl` runs at most once per process
(``wardwatch crawl``); the runner and every long-lived caller crawl in a child process through
:func:`crawl_subprocess` / :func:`crawl_stage` (``wardwatch crawl --format json``).

One process crawls many sources at once: each source is its own Scrapy crawler (its own downloader
slots, delay, AutoThrottle and robots.txt: per-host politeness is the crawler's), and at most
``concurrency`` of them run in the one reactor; as one closes, the next waiting source starts
(:class:`_Scheduler`). Two sources that share a host never run at the same time, so a host still sees
one request at a time. With ``on_source`` (``wardwatch crawl --events``) each source's result is handed
over as soon as its crawler closes, so a parent can go on with that source while the others crawl.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spiders.registry import RegistryError, Source, load_sources, select
from spiders.settings import DEFAULT_CONCURRENCY
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
    from collections.abc import Callable, Iterator

log = logging.getLogger("wardwatch.crawl")
EVENT_PREFIX = "wardwatch-crawl-source: "  # `wardwatch crawl --events`: one stderr line per finished source


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
          extra_settings: dict[str, Any] | None = None, concurrency: int = DEFAULT_CONCURRENCY,
          on_source: Callable[[str, dict[str, Any]], None] | None = None) -> CrawlResult:
    """One crawl of ``sources``, up to ``concurrency`` of them at a time in this process (one run row).
    ``on_source(source_id, result)`` gets each source's result (shaped like the whole crawl's JSON, with
    that source alone) as soon as its crawler closes. A stop signal while Scrapy runs ends the crawl
    gracefully (what was fetched is stored) with status ``interrupted``; one at any other point raises
    Interrupted after the run's row (if it was started) is marked ``interrupted`` — staged captures wait
    for the next run."""
    db_path = Path(db_path)
    run_id = run_id or runs.new_run_id()
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    try:
        with hold(db_path, runs.run_lock_name(run_id), timeout=0):  # marks the run alive while this process lives
            try:
                return _crawl(sources, db_path, run_id, progress, extra_settings or {}, concurrency, on_source)
            except KeyboardInterrupt as exc:  # Interrupted included
                name = exc.signame if isinstance(exc, Interrupted) else "SIGINT"
                interrupt.bounded(lambda: runs.mark_interrupted(db_path, [run_id], f"interrupted by {name}",
                                                                only_running=True))
                raise
    finally:
        lock_path(db_path, runs.run_lock_name(run_id)).unlink(missing_ok=True)  # run ids are never reused


def _crawl(sources: list[Source], db_path: Path, run_id: str, progress: Any, extra_settings: dict[str, Any],
           concurrency: int, on_source: Callable[[str, dict[str, Any]], None] | None) -> CrawlResult:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from spiders.middlewares import KnownPrefetch
    from spiders.settings import for_source, process_settings

    resumed = prepare(db_path)
    runs.upsert_sources(db_path, [s.to_row() for s in sources])
    runs.start_run(db_path, run_id, [s.id for s in sources])
    log_dir = db_path.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"crawl-{run_id}.log"
    # Scrapy's own root handler would be a plain FileHandler: on a full disk every record would print
    # a "--- Logging error ---" traceback. The crawl log gets a handler that gives up after one line.
    common = {"LOG_FILE": str(log_file), "LOG_FILE_APPEND": True, "LOG_INSTALL_ROOT_HANDLER": False,
              "WARDWATCH_PROGRESS": progress,
              "WARDWATCH_KNOWN_PREFETCH": KnownPrefetch(db_path, [s.id for s in sources]), **extra_settings}
    per_source = [for_source(source, db_path=db_path, staging=staging_dir(db_path), run_id=run_id, extra=common)
                  for source in sources]
    log_handler = _install_log_handler(log_file, Settings(per_source[0] if per_source else common))
    closed: dict[str, str] = {}  # source id -> the spider's close reason
    scheduler = _Scheduler(list(zip(sources, per_source)), concurrency, closed)
    reporter = None
    if on_source is not None:
        reporter = _SourceReporter(db_path, run_id, resumed, str(log_file), closed, scheduler.errors, on_source)
        scheduler.on_closed = reporter.closed
    stop = None
    try:
        if sources:
            process = CrawlerProcess(settings=process_settings(concurrency, common))
            scheduler.begin(process)
            stop = _GracefulStop(process, scheduler)
            with stop.installed():  # Scrapy's handlers would stay installed after the reactor stops
                process.start(stop_after_crawl=False, install_signal_handlers=False)
        counts = load_pending(db_path, staging_dir(db_path))
        if reporter is not None:
            reporter.drain()  # sources that closed just before the reactor stopped
    finally:
        if progress is not None:
            progress.finish()
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
    early = sorted({r for r in closed.values() if r in EARLY_REASONS})
    signals_seen = stop.signals if stop is not None else []
    interrupted_by = signal.Signals(signals_seen[0]).name if signals_seen else (early[0] if early else None)
    if scheduler.waiting and interrupted_by is None:  # the reactor stopped with sources still waiting
        interrupted_by = "shutdown"
    return _finish(db_path, run_id, sources, counts, resumed, str(log_file), interrupted_by,
                   not_started={s.id for s, _ in scheduler.waiting}, start_errors=scheduler.errors)


def source_hosts(source: Source) -> frozenset[str]:
    """The hosts a source's crawl may contact: its start URLs' hosts and its allowed domains."""
    hosts = {d.lower().strip(".") for d in source.allowed_domains}
    for url in source.start_urls:
        with contextlib.suppress(ValueError):
            hosts.add((urlsplit(url).hostname or "").lower())
    return frozenset(h for h in hosts if h)


def _overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when some host of ``a`` is, or is under, a domain of ``b`` (or the other way round)."""
    return any(x == y or x.endswith("." + y) or y.endswith("." + x) for x in a for y in b)


class _Scheduler:
    """Starts the sources' crawlers in the one reactor: at most ``limit`` at a time, and never two whose
    hosts overlap (each crawler has its own downloader slots, so two sources on one host would mean two
    requests at a time to that host); a host a source has just finished with rests for that source's
    ``delay_seconds`` before the next source on it starts. When a crawler closes, the first waiting source
    that fits starts; when none is left running or waiting, the reactor stops."""

    def __init__(self, jobs: list[tuple[Source, dict[str, Any]]], limit: int, closed: dict[str, str],
                 on_closed: Callable[[Source], None] | None = None):
        self.waiting = list(jobs)
        self.limit = max(1, limit)
        self.closed = closed
        self.on_closed = on_closed
        self.running: dict[str, frozenset[str]] = {}
        self.resting: list[tuple[float, frozenset[str]]] = []  # (until, hosts) of sources that just finished
        self.errors: dict[str, str] = {}  # source id -> why its crawler could not start
        self._wake: Any = None  # the delayed call that starts a source once its host has rested
        self.cancelled = False
        self.peak = 0  # most crawlers running at once
        self.process: Any = None
        self._installed = False

    def begin(self, process: Any) -> None:
        """Start the first crawlers (before the reactor runs; the first crawler installs the reactor)."""
        self.process = process
        self._fill()

    def cancel(self) -> None:
        """A stop signal: start nothing more (those still waiting are reported as never started)."""
        self.cancelled = True

    def _fill(self) -> None:
        now = time.monotonic()
        self.resting = [(until, hosts) for until, hosts in self.resting if until > now]
        busy = list(self.running.values()) + [hosts for _, hosts in self.resting]
        while not self.cancelled and len(self.running) < self.limit:
            job = next((j for j in self.waiting if not any(_overlap(source_hosts(j[0]), h) for h in busy)), None)
            if job is None:
                break
            self.waiting.remove(job)
            try:
                self._launch(*job)
            except Exception as exc:  # its crawler could not even be made: the others go on
                self.errors[job[0].id] = f"{type(exc).__name__}: {exc}"
                log.error("%s: the crawl could not start: %s", job[0].id, self.errors[job[0].id])
                continue
            busy.append(self.running[job[0].id])
        self.peak = max(self.peak, len(self.running))
        if self.waiting and self.resting and not self.cancelled and len(self.running) < self.limit:
            self._wake_at(min(until for until, _ in self.resting) - now)
        elif not self.running and (self.cancelled or not self.waiting):
            self._stop_reactor()

    def _wake_at(self, seconds: float) -> None:
        from twisted.internet import reactor

        if self._wake is not None and self._wake.active():
            return
        self._wake = reactor.callLater(max(seconds, 0.0), self._fill)

    def _launch(self, source: Source, settings: dict[str, Any]) -> None:
        from scrapy import signals as scrapy_signals
        from scrapy.crawler import Crawler

        from spiders.municipal import MunicipalSpider

        crawler = Crawler(MunicipalSpider, settings, init_reactor=not self._installed)
        self._installed = True
        crawler.signals.connect(_recorder(self.closed, source.id), signal=scrapy_signals.spider_closed)
        self.running[source.id] = source_hosts(source)
        d = self.process.crawl(crawler, source=source)
        d.addErrback(self._failed, source)
        d.addBoth(self._done, source)

    def _failed(self, failure: Any, source: Source) -> None:
        self.errors[source.id] = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        log.error("%s: the crawl could not run: %s", source.id, self.errors[source.id])

    def _done(self, _: Any, source: Source) -> None:
        from twisted.internet import reactor

        hosts = self.running.pop(source.id, frozenset())
        if source.delay_seconds > 0:
            self.resting.append((time.monotonic() + source.delay_seconds, hosts))
        if self.on_closed is not None:
            try:
                self.on_closed(source)
            except Exception as exc:  # a report is not worth stopping the crawl for
                log.warning("%s: could not report the finished source: %s", source.id, exc)
        reactor.callLater(0, self._fill)  # not from inside the crawler's own callbacks

    def _stop_reactor(self) -> None:
        from twisted.internet import reactor

        def stop() -> None:
            with contextlib.suppress(RuntimeError):  # already stopping
                reactor.stop()

        reactor.callLater(0, stop)  # also when the reactor has not started yet: it stops right after starting


class _SourceReporter:
    """``on_source(source_id, result)`` as sources' crawlers close: their rows from the warehouse, after one
    load of what is still staged. Sources that close within ``gap_s`` of each other are reported together
    (one load and one read for all of them: with many crawlers in one process, a load and a read per
    closing crawler kept the reactor busy opening the warehouse). :meth:`drain` reports whatever is left
    once the reactor has stopped. A source whose row cannot be read now is left out: the final result
    reports it."""

    def __init__(self, db_path: Path, run_id: str, resumed: int, log_file: str, closed: dict[str, str],
                 start_errors: dict[str, str], on_source: Callable[[str, dict[str, Any]], None],
                 gap_s: float = 1.0):
        self.db_path, self.run_id, self.resumed, self.log_file = db_path, run_id, resumed, log_file
        self.reasons, self.start_errors, self.on_source = closed, start_errors, on_source
        self.gap_s = gap_s
        self.pending: list[Source] = []
        self._call: Any = None

    def results(self, sources: list[Source]) -> list[dict[str, Any]]:
        load_pending(self.db_path, staging_dir(self.db_path))
        summaries = {s.source_id: s for s in read.run_summary(self.db_path, self.run_id)}
        return [self._result(source, summaries.get(source.id)) for source in sources]

    def _result(self, source: Source, summary: Any) -> dict[str, Any]:
        row = _source_row(source, summary)
        if summary is None and source.id in self.start_errors:
            row["reason"] = f"the crawl could not run: {self.start_errors[source.id]}"
        reason = self.reasons.get(source.id)
        interrupted_by = reason if reason in EARLY_REASONS else None
        if interrupted_by and row["status"] == "ok":
            row["status"], row["reason"] = "interrupted", f"interrupted (spider closed: {reason})"
        return {"run_id": self.run_id, "status": row["status"], "sources": [row], "resumed": self.resumed,
                "log_file": self.log_file, "interrupted_by": interrupted_by}

    def closed(self, source: Source) -> None:
        from twisted.internet import reactor

        self.pending.append(source)
        if self._call is None or not self._call.active():
            self._call = reactor.callLater(self.gap_s, self.drain)

    def drain(self) -> None:
        batch, self.pending = self.pending, []
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if not batch:
            return
        try:
            results = self.results(batch)
        except Exception as exc:  # e.g. the warehouse is locked for longer than a load waits
            log.warning("%s: finished; their results follow with the whole crawl's (%s)",
                        ", ".join(s.id for s in batch), exc)
            return
        for source, result in zip(batch, results):
            try:
                self.on_source(source.id, result)
            except Exception as exc:  # a report is not worth stopping the crawl for
                log.warning("%s: could not report the finished source: %s", source.id, exc)


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

    def __init__(self, process: Any, scheduler: _Scheduler | None = None):
        self.process = process
        self.scheduler = scheduler
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

        log.info("received %s: stopping the crawl gracefully (again to force)", signal.Signals(self.signals[0]).name)
        if self.scheduler is not None:
            self.scheduler.cancel()  # sources still waiting never start
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


def _source_row(source: Source, s: Any) -> dict[str, Any]:
    """One source's line of a crawl result, from its run summary (None: nothing was fetched)."""
    if s is None:
        return {"source_id": source.id, "status": "failed", "reason": "nothing was fetched", "fetched": 0,
                "new_versions": 0, "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}}
    status = "ok" if s.reachable else "failed"
    reason = None
    if not s.reachable:
        kind = max(s.error_kinds, key=s.error_kinds.get) if s.error_kinds else "unknown"
        reason = f"unreachable ({kind}): {s.first_error or kind}"
    return {"source_id": s.source_id, "status": status, "reason": reason, "fetched": s.fetched,
            "new_versions": s.new_versions, "unchanged": s.unchanged, "not_modified": s.not_modified,
            "errors": s.errors, "error_kinds": s.error_kinds}


def _finish(db_path: Path, run_id: str, sources: list[Source], counts: LoadCounts, resumed: int, log_file: str,
            interrupted_by: str | None = None, not_started: set[str] | None = None,
            start_errors: dict[str, str] | None = None) -> CrawlResult:
    by_id = {s.source_id: s for s in read.run_summary(db_path, run_id)}
    not_started, start_errors = not_started or set(), start_errors or {}
    rows = []
    for source in sources:
        row = _source_row(source, by_id.get(source.id))
        if source.id in start_errors and source.id not in by_id:
            row["reason"] = f"the crawl could not run: {start_errors[source.id]}"
        rows.append(row)
    failed = sum(r["status"] == "failed" for r in rows)
    status = "ok" if failed == 0 else ("failed" if failed == len(rows) else "partial")
    message = None if failed == 0 else f"{failed} of {len(rows)} sources failed"
    if interrupted_by:  # stopped before it was done: never "ok", whatever was fetched
        status = "interrupted"
        fetched = sum(r["fetched"] for r in rows)
        how = f"by {interrupted_by}" if interrupted_by.startswith("SIG") else f"(spider closed: {interrupted_by})"
        message = f"interrupted {how} after {fetched} fetch(es); the next run crawls again"
        for r in rows:
            if r["status"] == "ok" or r["source_id"] in not_started:
                r["status"], r["reason"] = "interrupted", message
    runs.finish_run(db_path, run_id, counts, status, message)
    return CrawlResult(run_id=run_id, status=status, sources=rows, resumed=resumed, log_file=log_file,
                       interrupted_by=interrupted_by)


class CrawlProcessError(RuntimeError):
    pass


def crawl_subprocess(sources_file: Path, db_path: Path, source_ids: list[str] | None = None,
                     timeout: float | None = None, env: dict[str, str] | None = None,
                     run_id: str | None = None, concurrency: int | None = None,
                     on_source: Callable[[str, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """`wardwatch crawl --format json` in a child; returns its JSON result.

    ``concurrency``: how many of the sources the child crawls at once (its default when None).
    ``on_source(source_id, result)`` is called (from a reader thread) as each source finishes in the
    child (``--events``), with that source's part of the result; a source the child could not report
    early is only in the returned result.

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
    if concurrency is not None:
        cmd += ["--concurrency", str(concurrency)]
    if on_source is not None:
        cmd += ["--events"]
    child_env = {**os.environ, **(env or {}), interrupt.PARENT_ENV: str(os.getpid())}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env, start_new_session=True)
    pipes = _EventPipes(proc, on_source) if on_source is not None else None

    def communicate(t: float | None) -> tuple[str, str]:
        return pipes.communicate(t) if pipes is not None else proc.communicate(timeout=t)

    with interrupt.track(proc):
        try:
            stdout, stderr = communicate(timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()  # a graceful stop: what it fetched is stored
            try:
                stdout, stderr = communicate(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                stdout, stderr = communicate(None)
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


class _EventPipes:
    """``communicate()`` for a crawl child run with ``--events``: stdout collected whole, stderr read line
    by line, each event line handed to ``on_source`` as it arrives (the other lines kept for the error)."""

    def __init__(self, proc: subprocess.Popen, on_source: Callable[[str, dict[str, Any]], None]):
        self.proc, self.on_source = proc, on_source
        self.out: list[str] = []
        self.err: list[str] = []
        # Not daemons: threads they start (a runner's pool workers, from on_source) inherit the flag, and the
        # interrupt path ends the process at once only when it sees non-daemon threads still busy.
        self.threads = [threading.Thread(target=self._read_out, name="crawl-stdout", daemon=False),
                        threading.Thread(target=self._read_err, name="crawl-events", daemon=False)]
        for t in self.threads:
            t.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.out.append(self.proc.stdout.read())

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if not line.startswith(EVENT_PREFIX):
                self.err.append(line)
                continue
            try:
                event = json.loads(line[len(EVENT_PREFIX):])
                self.on_source(event["source_id"], event["result"])
            except Exception as exc:  # a malformed line or a listener that failed: the final result still has it
                log.warning("crawl event not handled: %s", exc)

    def communicate(self, timeout: float | None) -> tuple[str, str]:
        self.proc.wait(timeout=timeout)
        for t in self.threads:
            t.join(timeout=10)  # a grandchild could hold the pipes open; the result is what was read
        return "".join(self.out), "".join(self.err)


def event_line(source_id: str, result: dict[str, Any]) -> str:
    """The stderr line of ``wardwatch crawl --events`` for one finished source (ASCII JSON, one line)."""
    return EVENT_PREFIX + json.dumps({"source_id": source_id, "result": result}, default=str)


def part_of(result: dict[str, Any], source_id: str) -> dict[str, Any]:
    """``source_id``'s part of a crawl's result, shaped as the result of a crawl of that source alone
    (what :func:`judge` and the runner take)."""
    row = next((r for r in result.get("sources", []) if r["source_id"] == source_id), None)
    if row is None:
        row = {"source_id": source_id, "status": "failed", "reason": "not in the crawl's result", "fetched": 0,
               "new_versions": 0, "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}}
    return {**result, "status": row["status"], "sources": [row],
            "interrupted_by": result.get("interrupted_by") if row["status"] == "interrupted" else None}


def judge(result: dict[str, Any], source_id: str) -> dict[str, Any]:
    """``result`` (a crawl's JSON) when ``source_id``'s crawl worked; otherwise the stage error that says why.

    Raises TransientStageError when the source was unreachable for a transient reason, TerminalStageError
    for anything else that made it fail (e.g. robots.txt disallows every start URL), so a flow can retry
    only what is worth retrying; Interrupted when this process was asked to stop, CrawlInterrupted when
    the crawl alone was."""
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


def crawl_stage(sources_file: Path, db_path: Path, source_id: str, timeout: float | None = 3600,
                run_id: str | None = None) -> dict[str, Any]:
    """Crawl one source in a child process: its result, or the stage error :func:`judge` raises."""
    try:
        select(load_sources(sources_file), [source_id])
    except RegistryError as exc:
        raise TerminalStageError(str(exc)) from None
    return judge(crawl_subprocess(Path(sources_file), Path(db_path), [source_id], timeout=timeout, run_id=run_id),
                 source_id)
