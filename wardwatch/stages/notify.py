"""Send a run's notice: Apprise URLs (email, Slack, Teams, LINE, Discord, ntfy, … — ``--notify URL``,
repeatable, or ``$WARDWATCH_NOTIFY``) and/or a JSON webhook (``--webhook URL`` / ``$WARDWATCH_WEBHOOK_URL``:
a Slack-compatible ``text`` plus structured fields).

The notice itself (Japanese title and body) is built by ``wardwatch.report.notice`` from the report
model; this stage only delivers it. Delivery never raises and never fails the run: every URL that
could not be reached comes back as a one-line reason (the caller logs a warning).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass, field
from typing import Any

WEBHOOK_ENV = "WARDWATCH_WEBHOOK_URL"
NOTIFY_ENV = "WARDWATCH_NOTIFY"
TIMEOUT_S = 10.0


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)  # redacted targets that accepted the notice
    errors: list[str] = field(default_factory=list)  # "target: why"

    @property
    def delivered(self) -> bool:
        return bool(self.sent)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "errors": self.errors}


def notify_urls(given: list[str] | None = None) -> list[str]:
    """``--notify`` URLs, else ``$WARDWATCH_NOTIFY`` (separated by spaces or commas)."""
    urls = list(given or [])
    if not urls:
        urls = [u for u in re.split(r"[\s,]+", os.environ.get(NOTIFY_ENV, "")) if u]
    return list(dict.fromkeys(urls))


def redact(url: str) -> str:
    """A URL fit for logs: scheme and host only (tokens and passwords live in the rest)."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(?:[^@/]*@)?([^/?#:]*)", url)
    return f"{m.group(1)}://{m.group(2) or '…'}" if m else "(not a URL)"


def post_json(url: str, body: dict[str, Any], timeout: float = TIMEOUT_S) -> str | None:
    """POST ``body``; None when it was accepted, else why not (never raises)."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "wardwatch/0.1 (webhook)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return None
    except Exception as exc:  # URLError, HTTPError, TimeoutError, ValueError (bad URL), ...
        return f"{type(exc).__name__}: {exc}"


def send_apprise(url: str, title: str, body: str) -> str | None:
    """One Apprise URL; None when delivered, else why not (never raises)."""
    import apprise

    target = apprise.Apprise()
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        if not target.add(url):
            return "not a notification URL Apprise knows (see https://github.com/caronc/apprise/wiki)"
        try:
            ok = target.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        except Exception as exc:  # a plugin bug must not fail the run
            return f"{type(exc).__name__}: {exc}"
        log = captured.getvalue().strip().splitlines()
    if ok:
        return None
    return (log[-1] if log else "the service did not accept the notification")[:300]


def deliver(title: str, body: str, payload: dict[str, Any], *, urls: list[str], webhook: str | None) -> Delivery:
    """Send the notice to every Apprise URL and the webhook (``payload`` + Slack ``text``)."""
    out = Delivery()
    for url in urls:
        error = send_apprise(url, title, body)
        (out.errors.append(f"{redact(url)}: {error}") if error else out.sent.append(redact(url)))
    if webhook:
        error = post_json(webhook, {"text": f"{title}\n{body}", "title": title, "body": body,
                                    "event": "wardwatch.run", **payload})
        (out.errors.append(f"{redact(webhook)}: {error}") if error else out.sent.append(redact(webhook)))
    return out
