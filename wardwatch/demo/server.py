"""A small static site server on 127.0.0.1 for the demo and the crawl tests.

Serves a folder with ETag / Last-Modified and honest 304s, a robots.txt, redirects,
404 pages, per-path headers, and fault hooks. The folder can be swapped while it runs
(v1 -> v2) to simulate a site revision. Loopback only.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>ページが見つかりません</title></head>"
    "<body><h1>ページが見つかりません</h1><p>お探しのページは見つかりませんでした。</p></body></html>"
).encode()

# A handler gets (server, request handler) and writes a whole response itself.
Fault = Callable[["SiteServer", BaseHTTPRequestHandler], None]


@dataclass
class SiteConfig:
    robots: str = "User-agent: *\nDisallow: /nerima/private/\n"
    redirects: dict[str, str] = field(default_factory=dict)  # path -> location (301)
    no_charset: set[str] = field(default_factory=set)  # HTML paths served as bare "text/html"
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # extra headers per path
    faults: dict[str, Fault] = field(default_factory=dict)  # path -> custom behaviour
    validators: bool = True  # send ETag / Last-Modified and answer 304


DEMO_CONFIG = SiteConfig(
    redirects={"/nerima/kurashi/jinken/hitorioya/old.html": "/nerima/kurashi/jinken/hitorioya/syuurou.html"},
    no_charset={"/nerima/kurashi/jinken/hitorioya/jiritsushien.html"},
)


class SiteServer:
    """``with SiteServer(root) as site: site.url("/path")``."""

    def __init__(self, root: Path, config: SiteConfig | None = None, port: int = 0):
        self.root = Path(root)
        self.config = config or SiteConfig()
        self.log: list[tuple[str, str, int, dict[str, str]]] = []  # (method, path, status, request headers)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def record(self, method: str, path: str, status: int, headers: dict[str, str]) -> None:
        with self._lock:
            self.log.append((method, path, status, headers))

    def paths(self, status: int | None = None) -> list[str]:
        with self._lock:
            return [p for _, p, s, _ in self.log if status is None or s == status]

    def start(self) -> SiteServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sitesrv", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def last_modified_of(data: bytes) -> str:
    """A stable Last-Modified derived from the content (changes when the bytes change)."""
    seconds = 1_700_000_000 + int(hashlib.sha256(data).hexdigest()[:6], 16)
    return formatdate(seconds, usegmt=True)


def _make_handler(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "wardwatch-sitesrv/1"
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body
        wbufsize = 1 << 16  # headers and body leave in one write (flushed per request)

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

        def do_GET(self, head: bool = False) -> None:
            path = unquote(urlsplit(self.path).path)
            cfg = site.config
            if path in cfg.faults:
                site.record(self.command, path, 0, dict(self.headers))
                cfg.faults[path](site, self)
                return
            if path == "/robots.txt":
                return self._send(200, cfg.robots.encode("utf-8"), "text/plain; charset=utf-8", path, head)
            if path in cfg.redirects:
                return self._send(301, b"", "text/html", path, head, {"Location": cfg.redirects[path]})
            file = _resolve(site.root, path)
            if file is None:
                return self._send(404, NOT_FOUND_PAGE, "text/html; charset=utf-8", path, head)
            data = file.read_bytes()
            ctype = _content_type(file, path, cfg)
            extra = dict(cfg.headers.get(path, {}))
            ctype = extra.pop("Content-Type", ctype)
            if cfg.validators:
                etag, lm = etag_of(data), last_modified_of(data)
                extra.update({"ETag": etag, "Last-Modified": lm})
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (inm is not None and inm == etag) or (inm is None and ims is not None and ims == lm):
                    return self._send(304, b"", None, path, head, extra)
            self._send(200, data, ctype, path, head, extra)

        def _send(self, status: int, body: bytes, ctype: str | None, path: str, head: bool,
                  headers: dict[str, str] | None = None) -> None:
            site.record(self.command, path, status, dict(self.headers))
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
            self.end_headers()
            if not head and status != 304:
                self.wfile.write(body)

    return Handler


def _resolve(root: Path, path: str) -> Path | None:
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    candidate = (root / rel).resolve()
    if root.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def _content_type(file: Path, path: str, cfg: SiteConfig) -> str:
    if file.suffix in (".html", ".htm"):
        return "text/html" if path in cfg.no_charset else "text/html; charset=utf-8"
    return mimetypes.guess_type(file.name)[0] or "application/octet-stream"
