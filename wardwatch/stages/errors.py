"""Stage errors: which failures are worth retrying. Raised by the stages, read by the runner and
by Prefect's retry condition (``flows/retry.py``)."""

from __future__ import annotations


class TerminalStageError(RuntimeError):
    """A failure that retrying will not fix (bad registry entry, unparseable input, robots.txt)."""


class TransientStageError(RuntimeError):
    """A failure worth retrying (timeouts, 5xx, connection resets, a warehouse lock)."""


class SourceBusy(TerminalStageError):
    """Another run of the same source held its lock for longer than we were willing to wait."""


TRANSIENT_KINDS = {"timeout", "connection", "connection_refused", "truncated", "robots_unavailable", "http_500", "http_502",
                   "http_503", "http_504", "http_429"}
# "dns" is not here: the crawl already retried it with backoff, and a host that does not resolve
# (or no network at all) should be reported at once, not after minutes of flow-level retries.
