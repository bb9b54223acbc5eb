"""Fault behaviours for the loopback site server (``SiteConfig.faults``): hostile and broken sites.

Each factory returns a callable ``fault(site, handler)`` that writes a whole response (or
misbehaves at the socket level) for one path. Loopback only: the server binds 127.0.0.1.

    config.faults["/slow.html"] = faultsrv.slow(5)
    config.faults["/busy.html"] = faultsrv.flaky(faultsrv.too_many_requests(1), times=1)
    config.faults["/robots.txt"] = faultsrv.status(503)

:class:`Clock` records when each path was requested (for backoff / Retry-After checks). ``FAST`` is the
environment the fault tests' child crawls run with (short timeouts and backoff), :func:`page` a small
ward page, :func:`assert_inert` the check that output carries no terminal control sequences.
"""

from __future__ import annotations

import gzip
import io
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

Fault = Callable[[Any, BaseHTTPRequestHandler], None]
CHUNK = 64 * 1024

MAXSIZE = 16 << 20
BACKOFF = 0.4
TIMEOUT = 1.0
FAST = {  # WARDWATCH_* settings of the fault tests' child crawls (spiders.settings.ENV_SETTINGS)
    "WARDWATCH_DOWNLOAD_TIMEOUT": str(TIMEOUT), "WARDWATCH_RETRY_TIMES": "2", "WARDWATCH_RETRY_BACKOFF": str(BACKOFF),
    "WARDWATCH_RETRY_AFTER_MAX": "10", "WARDWATCH_SLOWDOWN_MIN": "0.5", "WARDWATCH_AUTOTHROTTLE_MAX_DELAY": "2",
    "WARDWATCH_DOWNLOAD_MAXSIZE": str(MAXSIZE), "WARDWATCH_DOWNLOAD_WARNSIZE": str(12 << 20),
}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def page(title: str, body: str = "") -> bytes:
    """A small UTF-8 ward page stating one monthly amount."""
    return (f"<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{body or title}の支給額は月額10,000円です。</p></body></html>").encode()


def assert_inert(text: str) -> None:
    """No ESC (ANSI / OSC sequences), no other C0 or C1 control character, no bidi override in ``text``."""
    bad = CONTROL.findall(text)
    assert not bad, bad[:5]
    assert "\u202e" not in text


# ---------------------------------------------------------------- plain responses


def respond(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str | None = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None, length: int | None = None) -> None:
    """Write a complete response (``length`` overrides Content-Length, e.g. to lie about it)."""
    handler.send_response(status)
    if ctype:
        handler.send_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        handler.send_header(k, v.encode("utf-8").decode("latin-1"))  # raw UTF-8 bytes, as careless servers send
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    if handler.command != "HEAD" and body:
        handler.wfile.write(body)
    handler.wfile.flush()


def serve(body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> Fault:
    """An ordinary 200 response with fixed bytes."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        respond(handler, 200, body, ctype, headers)
    return fault


def serve_file(path: str) -> Fault:
    """200 with the bytes of ``path`` under the site's current root (as the normal server would)."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        file = site.root / path.lstrip("/")
        data = file.read_bytes()
        ctype = "application/pdf" if file.suffix == ".pdf" else "text/html; charset=utf-8"
        respond(handler, 200, data, ctype)
    return fault


def status(code: int, body: bytes = b"<html><body>error</body></html>", headers: dict[str, str] | None = None) -> Fault:
    """Any status with a small body, e.g. ``status(500)``; ``service_unavailable`` adds Retry-After."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        respond(handler, code, body, "text/html; charset=utf-8", headers)
    return fault


def service_unavailable(retry_after: float | str | Callable[[], str] = 2) -> Fault:
    """503 with ``Retry-After``: seconds, an HTTP date, or a callable giving one per request."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        value = retry_after() if callable(retry_after) else retry_after
        value = value if isinstance(value, str) else str(int(value))
        respond(handler, 503, b"<html><body>maintenance</body></html>", "text/html; charset=utf-8", {"Retry-After": value})
    return fault


def too_many_requests(retry_after: float | None = 1) -> Fault:
    """429, optionally with Retry-After."""
    headers = {} if retry_after is None else {"Retry-After": str(int(retry_after))}
    return status(429, b"<html><body>slow down</body></html>", headers)


def http_date_in(seconds: float) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


def flaky(fault: Fault, times: int, then: Fault) -> Fault:
    """``fault`` for the first ``times`` requests, ``then`` afterwards."""
    lock = threading.Lock()
    seen = [0]

    def wrapper(site: Any, handler: BaseHTTPRequestHandler) -> None:
        with lock:
            seen[0] += 1
            n = seen[0]
        (fault if n <= times else then)(site, handler)
    return wrapper


# ---------------------------------------------------------------- socket-level faults


def _stopping(site: Any) -> threading.Event:
    ev = getattr(site, "_fault_stop", None)
    if ev is None:
        ev = site._fault_stop = threading.Event()
    return ev


def slow(seconds: float, then: Fault | None = None) -> Fault:
    """Say nothing for ``seconds`` (a read timeout for any shorter DOWNLOAD_TIMEOUT), then ``then`` or close."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        _stopping(site).wait(seconds)
        if then is not None:
            try:
                then(site, handler)
            except OSError:
                pass
        handler.close_connection = True
    return fault


def reset() -> Fault:
    """Read the request, then reset the connection (RST, no response)."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()
    return fault


def truncated(body: bytes, ctype: str = "text/html; charset=utf-8", sent: float = 0.5) -> Fault:
    """Announce the full Content-Length, send only a part of the body, close."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: int(len(body) * sent)])
        handler.wfile.flush()
        handler.close_connection = True
    return fault


def endless(ctype: str = "text/html; charset=utf-8", chunk: bytes = b"<p>" + b"x" * 4090 + b"</p>\n",
            max_seconds: float = 60.0, content_length: int | None = None, head: bytes = b"") -> Fault:
    """Stream ``chunk`` forever (until the client hangs up or ``max_seconds``); no or a huge Content-Length."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        if content_length is not None:
            handler.send_header("Content-Length", str(content_length))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        deadline = time.monotonic() + max_seconds
        sent = 0
        try:
            if head:
                handler.wfile.write(head)
                sent += len(head)
            while time.monotonic() < deadline and not _stopping(site).is_set():
                if content_length is not None and sent >= content_length:
                    break
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client stopped reading: what we want
            pass
        site.record(handler.command, urlsplit(handler.path).path + "#sent", sent, {})
    return fault


def huge_pdf(size: int = 200 * 1024 * 1024) -> Fault:
    """A PDF that declares (and would stream) ``size`` bytes."""
    return endless("application/pdf", chunk=b"\0" * CHUNK, content_length=size, head=b"%PDF-1.4\n")


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(size: int = 1024 * 1024 * 1024, ctype: str = "text/html; charset=utf-8") -> Fault:
    """A small gzip body (``Content-Encoding: gzip``) that inflates to ``size`` bytes."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        if size not in _BOMBS:
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as gz:
                zeros = b"\0" * (1024 * 1024)
                for _ in range(size // len(zeros)):
                    gz.write(zeros)
            _BOMBS[size] = buf.getvalue()
        respond(handler, 200, _BOMBS[size], ctype, {"Content-Encoding": "gzip"})
    return fault


# ---------------------------------------------------------------- redirects


def redirect(location: str, code: int = 302) -> Fault:
    """A redirect to ``location`` (absolute, relative, another host or scheme)."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        respond(handler, code, b"", "text/html", {"Location": location})
    return fault


def redirect_chain(path: str, code: int = 302) -> Fault:
    """``path?n=1`` -> ``path?n=2`` -> ... forever (an endless chain of distinct URLs)."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        n = int((parse_qs(urlsplit(handler.path).query).get("n") or ["0"])[0])
        respond(handler, code, b"", "text/html", {"Location": f"{path}?n={n + 1}"})
    return fault


# ---------------------------------------------------------------- hostile content


def charset_page(text: str, encoding: str, declared: str | None, meta: str | None = None) -> bytes:
    """An HTML page encoded in ``encoding``, optionally declaring ``meta`` in a meta tag."""
    meta_tag = f'<meta charset="{meta}">' if meta else ""
    html = (f"<!DOCTYPE html><html lang=\"ja\"><head>{meta_tag}<title>{text[:20]}</title></head>"
            f"<body><h1>{text[:20]}</h1><p>{text}</p></body></html>")
    return html.encode(encoding)


def lying_charset(body: bytes, declared: str | None) -> Fault:
    """Serve ``body`` with ``Content-Type: text/html; charset=<declared>`` (or no charset)."""
    return serve(body, "text/html" + (f"; charset={declared}" if declared else ""))


def hostile_page(beacon: str = "/beacon") -> bytes:
    """Scripts, event handlers, injection strings and terminal escapes around real facts.

    Every sub-resource points at ``beacon`` paths: a crawler that executes or renders
    anything would request them; wardwatch must only follow <a>/<area>/<iframe> links.
    """
    return (
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">"
        "<title>児童扶養手当\x1b]0;pwned\x07のご案内</title>"
        f"<script src=\"{beacon}/script.js\"></script>"
        f"<script>fetch('{beacon}/fetch'); document.location = '{beacon}/location';</script>"
        f"<link rel=\"stylesheet\" href=\"{beacon}/style.css\"><link rel=\"prefetch\" href=\"{beacon}/prefetch\">"
        "<meta http-equiv=\"refresh\" content=\"0; url=http://169.254.169.254/latest/meta-data/\">"
        "</head><body>"
        f"<h1 onmouseover=\"alert(1)\">児童扶養手当 \x1b[2J\x1b[31mRED</h1>"
        f"<img src=\"{beacon}/img.png\" onerror=\"alert('xss')\">"
        "<p>支給額は月額 45,500円です。<script>alert('xss')</script>申請は窓口へ\x1b[31m\u009b2J。</p>"
        "<p>'; DROP TABLE versions; -- {{7*7}} ${jndi:ldap://127.0.0.1/x} \u202egnp.exe</p>"
        "<p>お問い合わせ 電話 03-3993-1111</p>"
        "<a href=\"javascript:alert(document.cookie)\">js</a>"
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">data</a>"
        "<a href=\"file:///etc/passwd\">file</a>"
        "<a href=\"http://10.0.0.1/admin\">intranet</a><a href=\"http://169.254.169.254/latest/meta-data/\">metadata</a>"
        "<a href=\"http://[::1]/\">v6 loopback</a><a href=\"http://192.168.1.1/\">router</a>"
        "<a href=\"http://172.16.0.1/\">private</a><a href=\"http://2130706433/\">decimal loopback</a>"
        f"<iframe srcdoc=\"<img src={beacon}/srcdoc>\"></iframe>"
        f"<object data=\"{beacon}/object\"></object><embed src=\"{beacon}/embed\">"
        f"<form action=\"{beacon}/form\" method=\"post\"><input name=q></form>"
        "</body></html>"
    ).encode()


def calendar(path: str = "/calendar.html") -> Fault:
    """An endless event calendar: every month links the next/previous month and each day,
    with tracking parameters and session ids sprinkled in (a classic crawler trap)."""
    def fault(site: Any, handler: BaseHTTPRequestHandler) -> None:
        q = parse_qs(urlsplit(handler.path).query)
        ym = (q.get("ym") or ["2026-01"])[0]
        try:
            y, m = (int(x) for x in ym.split("-")[:2])
        except ValueError:
            y, m = 2026, 1
        prev_ym = f"{y - (m == 1)}-{12 if m == 1 else m - 1:02d}"
        next_ym = f"{y + (m == 12)}-{1 if m == 12 else m + 1:02d}"
        links = [f'<a href="{path}?ym={prev_ym}">前月</a>', f'<a href="{path}?ym={next_ym}&utm_source=cal">翌月</a>',
                 f'<a href="{path};jsessionid=S{y}{m}?ym={next_ym}">翌月 (session)</a>']
        links += [f'<a href="{path}?date={y}-{m:02d}-{d:02d}&ym={ym}">{d}日</a>' for d in range(1, 32)]
        body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{y}年{m}月の行事</title></head>"
                f"<body><h1>{y}年{m}月</h1>{''.join(links)}</body></html>").encode()
        respond(handler, 200, body)
    return fault


# ---------------------------------------------------------------- PDFs


def build_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF file of ``objects`` (numbered from 1; object 1 must be the catalog) with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + extra + b">>\nstream\n" + data + b"\nendstream"


_CATALOG = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]


def image_only_pdf() -> bytes:
    """One page with a grey image and no text layer (a scan)."""
    w = h = 64
    pixels = zlib.compress(bytes((x * 4) % 256 for _ in range(h) for x in range(w)))
    return build_pdf(_CATALOG + [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        _stream(b"q 400 0 0 400 100 300 cm /Im1 Do Q"),
        _stream(pixels, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                        b"/BitsPerComponent 8 /Filter /FlateDecode " % (w, h)),
    ])


def encrypted_pdf() -> bytes:
    """Standard-security-handler encryption whose user password is not empty."""
    return build_pdf(_CATALOG + [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"\x8a\x01\x33" * 20),
        b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <" + b"ab" * 32 + b"> /U <" + b"cd" * 32 + b"> >>",
    ], trailer_extra=b"/Encrypt 5 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] ")


def malformed_pdf() -> bytes:
    """Starts like a PDF, is not one."""
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> garbage \x00\xff\xfe trailer <<>>\n" * 8


# ---------------------------------------------------------------- timing


class Clock:
    """Wraps ``site.record`` to keep ``(monotonic time, path, status)`` of every request."""

    def __init__(self, site: Any):
        self.events: list[tuple[float, str, int]] = []
        self._lock = threading.Lock()
        inner = site.record

        def record(method: str, path: str, status: int, headers: dict[str, str]) -> None:
            with self._lock:
                self.events.append((time.monotonic(), path, status))
            inner(method, path, status, headers)

        site.record = record

    def times(self, path: str) -> list[float]:
        with self._lock:
            return [t for t, p, _ in self.events if p == path]

    def after(self, t: float) -> list[tuple[float, str, int]]:
        with self._lock:
            return [e for e in self.events if e[0] > t]


def stop_faults(site: Any) -> None:
    """Release every sleeping/streaming fault handler (call before stopping the server)."""
    _stopping(site).set()
