"""Stop signals and honest status without processes: the Interrupted error and its exit codes, the
runs marked interrupted, the crawl log handler on a full disk, the Prefect start-up budget.
(The same with real processes and signals: tests/e2e/test_signals.py, tests/e2e/test_prefect_startup.py.)"""

from __future__ import annotations

import errno
import logging
import pickle
import signal

import pytest

from tests.support.helpers import q
from wardwatch.cli.prefect_server import DEFAULT_START_TIMEOUT_S, START_TIMEOUT_ENV, ServerError, start_timeout
from wardwatch.stages import interrupt
from wardwatch.stages.crawl import CrawlResult, _CrawlLogHandler
from wardwatch.stages.errors import CrawlInterrupted, Interrupted
from warehouse import runs
from warehouse.load import LoadCounts
from warehouse.schema import migrate


def test_interrupted_is_a_keyboard_interrupt_with_the_shell_exit_code():
    term, sigint = Interrupted(signal.SIGTERM), Interrupted(signal.SIGINT)
    assert (term.exit_code, sigint.exit_code) == (143, 130)
    assert (str(term), term.signame) == ("interrupted by SIGTERM", "SIGTERM")
    assert isinstance(term, KeyboardInterrupt) and not isinstance(term, Exception)  # `except Exception` lets it by
    again = pickle.loads(pickle.dumps(Interrupted(signal.SIGTERM, "crawl x interrupted by SIGTERM")))
    assert (again.signum, str(again)) == (signal.SIGTERM, "crawl x interrupted by SIGTERM")
    crawl = pickle.loads(pickle.dumps(CrawlInterrupted("a: crawl r was interrupted by SIGINT", signal.SIGINT)))
    assert (crawl.signum, str(crawl)) == (signal.SIGINT, "a: crawl r was interrupted by SIGINT")


def test_signal_of_reads_library_termination_exceptions():
    class TerminationSignal(BaseException):  # shaped like Prefect's
        def __init__(self, sig: int):
            self.signal = sig

    assert interrupt.signal_of(TerminationSignal(signal.SIGTERM)) == signal.SIGTERM
    assert interrupt.signal_of(KeyboardInterrupt()) == signal.SIGINT
    assert interrupt.signal_of(Interrupted(signal.SIGTERM)) == signal.SIGTERM
    assert interrupt.signal_of(TerminationSignal(signal.SIGHUP)) is None
    assert interrupt.signal_of(ValueError("x")) is None


def test_install_and_uninstall_put_the_previous_handlers_back():
    before = {s: signal.getsignal(s) for s in interrupt.SIGNALS}
    assert interrupt.install("wardwatch test")
    try:
        assert all(signal.getsignal(s) is interrupt._handler for s in interrupt.SIGNALS)
        assert interrupt.requested() is None
        interrupt.check()  # nothing requested: no raise
    finally:
        interrupt.uninstall()
    assert {s: signal.getsignal(s) for s in interrupt.SIGNALS} == before


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_mark_interrupted_changes_running_and_ok_runs_only(tmp_path):
    db = tmp_path / "w.duckdb"
    migrate(db)
    for run_id, status in (("r-running", None), ("r-ok", "ok"), ("r-failed", "failed"), ("r-other", "ok")):
        runs.start_run(db, run_id, ["s"])
        if status:
            runs.finish_run(db, run_id, LoadCounts(), status)
    assert runs.mark_interrupted(db, ["r-running", "r-ok", "r-failed"], "interrupted by SIGTERM during diff") == 2
    rows = dict((r, (s, m)) for r, s, m in q(db, "SELECT run_id, status, message FROM runs"))
    assert rows["r-running"] == ("interrupted", "interrupted by SIGTERM during diff")
    assert rows["r-ok"] == ("interrupted", "interrupted by SIGTERM during diff")
    assert rows["r-failed"][0] == "failed" and rows["r-other"][0] == "ok"
    assert runs.mark_interrupted(db, ["r-other"], "x", only_running=True) == 0  # a crawl's own cleanup
    assert q(db, "SELECT finished_at IS NOT NULL FROM runs WHERE run_id = 'r-running'") == [(True,)]


class _FullDisk:
    """A file object whose writes fail as on a full disk (or past RLIMIT_FSIZE)."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise OSError(errno.EFBIG, "File too large")

    def flush(self) -> None:
        raise OSError(errno.EFBIG, "File too large")

    def close(self) -> None:
        pass


def test_crawl_log_handler_gives_up_after_one_line_on_a_full_disk(tmp_path, capsys):
    handler = _CrawlLogHandler(tmp_path / "crawl.log", "utf-8")
    disk = _FullDisk()
    handler.stream = disk
    logger = logging.getLogger("wardwatch.test.fulldisk")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for i in range(47):
            logger.warning("record %d", i)
        handler.flush()
    finally:
        logger.removeHandler(handler)
        handler.close()
    err = capsys.readouterr().err
    assert err == (f"wardwatch crawl: cannot write the crawl log {tmp_path / 'crawl.log'}: File too large "
                   "(logging to it stopped; the crawl goes on)\n")
    assert disk.writes == 1 and handler.failed


def test_crawl_log_handler_writes_normally(tmp_path):
    handler = _CrawlLogHandler(tmp_path / "crawl.log", None)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None))
    handler.close()
    assert (tmp_path / "crawl.log").read_text(encoding="utf-8") == "INFO hello world\n"


def test_an_interrupted_crawl_result_says_so_in_its_summary():
    from wardwatch.cli.summaries import crawl_summary

    row = {"source_id": "a", "status": "interrupted", "reason": "interrupted by SIGINT after 16 fetch(es)",
           "fetched": 16, "new_versions": 16, "unchanged": 0, "not_modified": 0, "errors": 0, "error_kinds": {}}
    result = CrawlResult(run_id="r1", status="interrupted", sources=[row], interrupted_by="SIGINT")
    lines = crawl_summary(result).splitlines()
    assert lines[0] == "🛑 1件中1件のソースのクロールが途中で中断されました — 変更なしではありません(次の実行で取得し直します)"
    assert lines[1] == "run r1: interrupted"
    assert result.to_json()["interrupted_by"] == "SIGINT"


@pytest.mark.parametrize(("raw", "expected"), [(None, DEFAULT_START_TIMEOUT_S), ("300", 300.0), ("0.5", 0.5)])
def test_prefect_start_budget(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv(START_TIMEOUT_ENV, raising=False)
    else:
        monkeypatch.setenv(START_TIMEOUT_ENV, raw)
    assert start_timeout() == expected


@pytest.mark.parametrize("raw", ["soon", "0", "-5", "nan", "inf", "1e300"])
def test_a_bad_prefect_start_budget_is_refused(monkeypatch, raw):
    monkeypatch.setenv(START_TIMEOUT_ENV, raw)
    with pytest.raises(ServerError, match=r"^\$WARDWATCH_PREFECT_START_TIMEOUT=.*not a number of seconds"):
        start_timeout()
