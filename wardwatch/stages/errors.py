"""Stage errors: which failures are worth retrying. Raised by the stages, read by the runner and
by Prefect's retry condition (``flows/retry.py``)."""

from __future__ import annotations

from typing import Any


class StageError(RuntimeError):
    """A stage failed. ``result`` is what the stage did all the same, when it has something to show (a
    failed crawl's result: its run id and each source's fetched / errors / error kinds), so that every
    mode prints the same numbers for a failed source as for one that worked."""

    def __init__(self, message: str = "", result: dict[str, Any] | None = None):
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple:  # picklable with its result, should Prefect persist the exception
        return (type(self), (str(self), self.result))


class TerminalStageError(StageError):
    """A failure that retrying will not fix (bad registry entry, unparseable input, robots.txt, a host
    name that does not resolve)."""


class TransientStageError(StageError):
    """A failure worth retrying (timeouts, 5xx, connection resets, a warehouse lock)."""


class SourceBusy(TerminalStageError):
    """Another run of the same source held its lock for longer than we were willing to wait."""


TRANSIENT_KINDS = {"timeout", "connection", "connection_refused", "truncated", "robots_unavailable", "http_500", "http_502",
                   "http_503", "http_504", "http_429"}
# "dns" is not here: a host that does not resolve (a typo, or no network at all) is reported at once —
# neither the crawler's retry middleware (spiders/retry.py NOT_RETRIED) nor the flows retry it.


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the work stops, the run is recorded as ``interrupted`` and the
    process exits with 128 + the signal number (130, 143). A KeyboardInterrupt, so that every
    ``except Exception`` lets it through and code that stops on Ctrl-C stops on it too."""

    def __init__(self, signum: int = 2, message: str | None = None):
        import signal

        self.signum = int(signum)
        self.signame = signal.Signals(self.signum).name if self.signum in signal.Signals._value2member_map_ else str(signum)
        super().__init__(message or f"interrupted by {self.signame}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __reduce__(self) -> tuple:
        return (type(self), (self.signum, str(self)))


class CrawlInterrupted(TerminalStageError):
    """A crawl child stopped early (its spider closed with reason shutdown/cancelled) though this
    process got no signal: that source's outcome is ``interrupted``, never ok."""

    def __init__(self, message: str, signum: int | None = None, result: dict[str, Any] | None = None):
        super().__init__(message, result)
        self.signum = signum

    def __reduce__(self) -> tuple:
        return (type(self), (str(self), self.signum, self.result))
