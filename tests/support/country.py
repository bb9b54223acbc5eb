"""A loopback "country": H municipal hosts on 127.0.0.2, 127.0.0.3, … each serving P pages and Q PDFs,
every request timed on the server side. For the concurrency tests and the crawl benchmarks
(``benchmarks/crawl_concurrency.py``; a scale benchmark can reuse it).

    with Country(hosts=20, pages=10, pdfs=2) as country:
        registry = country.write_registry(tmp / "sources.toml", delay=0.2)
        ... crawl ...
        country.hits_by_host()   # {"127.0.0.2": [Hit(path, start, end), ...], ...}

Each host is its own registry source (``allowed_domains`` = its address, listed verbatim, so the crawler's
private-address guard lets it through) with one start page linking every other page and PDF (depth 1).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from spiders.registry import to_toml
from tests.support.faultsrv import build_pdf
from wardwatch.demo.script import loopback_entry

FIRST_ADDRESS = ipaddress.IPv4Address("127.0.0.2")
WARDS = [("練馬区", "131202"), ("北区", "131172"), ("渋谷区", "131130"), ("足立区", "131211"), ("荒川区", "131181")]
ROBOTS = b"User-agent: *\nDisallow:\n"


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: arrival and end of the response (time.monotonic)."""

    host: str
    path: str
    start: float
    end: float


def page_html(host_no: int, page_no: int, links: list[str]) -> bytes:
    """A support-program page of host ``host_no`` (unique text per host and page)."""
    ward = WARDS[host_no % len(WARDS)][0]
    items = "".join(f'<li><a href="/{href}">{href}</a></li>' for href in links)
    body = (f"<p>{ward}ひとり親家庭自立支援給付金（第{host_no}号 {page_no}）: 月額{40000 + page_no * 100 + host_no}円を"
            f"支給します。申請期限は令和8年3月{page_no % 28 + 1}日です。</p>"
            f"<p>問い合わせ: 子育て支援課 電話 03-3993-{1000 + host_no:04d}</p>")
    return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{ward} 支援制度 {page_no}</title>'
            f"</head><body><!-- 本文ここから --><h1>{ward} 支援制度 {page_no}</h1>{body}<ul>{items}</ul>"
            "<!-- 本文ここまで --></body></html>").encode()


def pdf_bytes(host_no: int, doc_no: int) -> bytes:
    """A small valid one-page PDF with text unique to the host and document."""
    text = f"BT /F1 12 Tf 72 720 Td (wardwatch country host {host_no} document {doc_no}) Tj ET".encode()
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


class Country:
    """``hosts`` loopback web servers (127.0.0.2 onwards), each with ``pages`` HTML pages (``index.html``
    linking the others and the PDFs) and ``pdfs`` PDFs; ``latency`` seconds before each answer."""

    def __init__(self, hosts: int, pages: int, pdfs: int = 0, *, latency: float = 0.0):
        if not 1 <= hosts <= 60000 or pages < 1 or pdfs < 0:
            raise ValueError("a country needs 1-60000 hosts, at least one page per host, no negative PDF count")
        self.n_hosts, self.pages, self.pdfs, self.latency = hosts, pages, pdfs, latency
        self.addresses = [str(FIRST_ADDRESS + i) for i in range(hosts)]
        self.servers: list[ThreadingHTTPServer] = []
        self.threads: list[threading.Thread] = []
        self._hits: list[Hit] = []
        self._lock = threading.Lock()
        self._docs = [self._documents(i) for i in range(hosts)]

    # --------------------------------------------------------------- content
    def paths(self) -> list[str]:
        """Every page and PDF path of one host (robots.txt aside)."""
        return ["/index.html"] + [f"/p{j}.html" for j in range(1, self.pages)] + [f"/doc{j}.pdf" for j in range(self.pdfs)]

    def _documents(self, host_no: int) -> dict[str, tuple[bytes, str]]:
        links = [p.lstrip("/") for p in self.paths()[1:]]
        docs = {"/index.html": (page_html(host_no, 0, links), "text/html; charset=utf-8"),
                "/robots.txt": (ROBOTS, "text/plain")}
        for j in range(1, self.pages):
            docs[f"/p{j}.html"] = (page_html(host_no, j, []), "text/html; charset=utf-8")
        for j in range(self.pdfs):
            docs[f"/doc{j}.pdf"] = (pdf_bytes(host_no, j), "application/pdf")
        return docs

    @property
    def urls_per_host(self) -> int:
        return self.pages + self.pdfs

    # --------------------------------------------------------------- servers
    def base(self, i: int) -> str:
        host, port = self.servers[i].server_address[:2]
        return f"http://{host}:{port}"

    def source_id(self, i: int) -> str:
        return f"host-{i + 2:03d}"

    def start(self) -> Country:
        for i, address in enumerate(self.addresses):
            server = ThreadingHTTPServer((address, 0), self._handler(i))
            server.daemon_threads = True
            self.servers.append(server)
            t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                                 name=f"country-{address}")
            t.start()
            self.threads.append(t)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> Country:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self, host_no: int) -> type[BaseHTTPRequestHandler]:
        country, docs, address = self, self._docs[host_no], self.addresses[host_no]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                start = time.monotonic()
                if country.latency:
                    time.sleep(country.latency)
                path = self.path.split("?", 1)[0]
                body, ctype = docs.get(path, (b"not found", "text/plain"))
                self.send_response(200 if path in docs else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                country._record(Hit(address, path, start, time.monotonic()))

        return Handler

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    # --------------------------------------------------------------- what happened
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def hits_by_host(self) -> dict[str, list[Hit]]:
        out: dict[str, list[Hit]] = {a: [] for a in self.addresses}
        for hit in sorted(self.hits(), key=lambda h: h.start):
            out[hit.host].append(hit)
        return out

    def spans(self) -> dict[str, tuple[float, float]]:
        """Per host that was contacted: (first request's arrival, last response's end)."""
        return {host: (hits[0].start, max(h.end for h in hits)) for host, hits in self.hits_by_host().items() if hits}

    def max_hosts_busy(self) -> int:
        """The most hosts whose crawl spans (first request to last response) overlap at one instant: how many
        hosts a crawl had in flight at once."""
        return _max_overlap(list(self.spans().values()))

    def max_requests_in_flight(self) -> int:
        """The most requests being served at one instant, over all hosts."""
        return _max_overlap([(h.start, h.end) for h in self.hits()])

    # --------------------------------------------------------------- registry
    def entries(self, delay: float = 0.2, **extra: Any) -> list[dict[str, Any]]:
        """One registry entry per host: its index page, every page and PDF one link away."""
        out = []
        for i, address in enumerate(self.addresses):
            municipality, code = WARDS[(i + 2) % len(WARDS)]
            entry = loopback_entry(self.source_id(i), self.base(i), "/index.html", municipality=municipality,
                                   code=code, follow=["^/"], max_depth=1, delay_seconds=delay,
                                   max_pages=self.urls_per_host + 10, **extra)
            entry["allowed_domains"] = [address]
            out.append(entry)
        return out

    def write_registry(self, path: Path, delay: float = 0.2, **extra: Any) -> Path:
        path = Path(path)
        path.write_text(to_toml(self.entries(delay, **extra)), encoding="utf-8")
        return path


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    busy = peak = 0
    for _, step in edges:  # at equal times an end (-1) sorts first: touching is not overlapping
        busy += step
        peak = max(peak, busy)
    return peak
