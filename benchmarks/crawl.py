"""Crawl benchmark: a generated local site of 2,000 pages + 200 PDFs on loopback.

Prints, in one run: first-crawl pages/s, unchanged re-crawl pages/s and its ratio to the
first crawl, bytes the unchanged re-crawl added to the DuckDB file, peak RSS of the crawl
processes; and, as a baseline, a plain sequential urllib fetch of the same URLs.

    python -m benchmarks.crawl [--pages 2000] [--pdfs 200]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import urllib.request
from pathlib import Path

from spiders.registry import to_toml
from tests.support.faultsrv import build_pdf
from tests.support.registry import local_source
from wardwatch.demo.server import SiteConfig, SiteServer
from wardwatch.stages.crawl import crawl_subprocess

PER_SECTION = 40


def minimal_pdf(n: int) -> bytes:
    """A small valid one-page PDF with unique text."""
    text = f"BT /F1 12 Tf 72 720 Td (wardwatch benchmark document {n}) Tj ET".encode()
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def page(title: str, links: list[str], n: int) -> bytes:
    items = "\n".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    body = "".join(f"<p>支援制度の説明 {n}-{i}: 月額{13500 + i}円、上限{i % 9 + 1}万円。</p>" for i in range(30))
    return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f"<!-- 本文ここから --><h1>{title}</h1>{body}<ul>{items}</ul><!-- 本文ここまで --></body></html>").encode()


def generate(root: Path, pages: int, pdfs: int) -> int:
    """index -> sections -> pages; PDFs linked from section pages. Returns URL count."""
    sections = max(1, (pages - 1) // (PER_SECTION + 1))
    per_section_pdfs = max(1, -(-pdfs // sections))  # ceil: every PDF gets a section
    made_pages, made_pdfs = 1, 0
    section_links = []
    for s in range(sections):
        links = []
        for p in range(PER_SECTION):
            if made_pages >= pages - sections + s:
                break
            (root / f"s{s}").mkdir(parents=True, exist_ok=True)
            (root / f"s{s}/p{p}.html").write_bytes(page(f"制度 {s}-{p}", [], s * 100 + p))
            links.append(f"p{p}.html")
            made_pages += 1
        for d in range(per_section_pdfs):
            if made_pdfs >= pdfs:
                break
            (root / f"s{s}/doc{d}.pdf").write_bytes(minimal_pdf(made_pdfs))
            links.append(f"doc{d}.pdf")
            made_pdfs += 1
        (root / f"s{s}/index.html").write_bytes(page(f"分野 {s}", links, s))
        section_links.append(f"s{s}/index.html")
        made_pages += 1
    (root / "index.html").write_bytes(page("ひとり親家庭", section_links, 0))
    return made_pages + made_pdfs


def registry(base: str, pages: int) -> str:
    return to_toml([local_source("bench", base, "/index.html", follow=["^/"], max_depth=3, max_pages=pages * 2)])


def timed_crawl(reg: Path, db: Path) -> tuple[float, dict]:
    t0 = time.perf_counter()
    result = crawl_subprocess(reg, db, timeout=3600)
    return time.perf_counter() - t0, result


def db_bytes(db: Path) -> int:
    wal = db.with_name(db.name + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--pdfs", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        total = generate(tmp / "site", args.pages, args.pdfs)
        with SiteServer(tmp / "site", SiteConfig(robots="User-agent: *\nDisallow:\n")) as site:
            reg = tmp / "sources.toml"
            reg.write_text(registry(site.base, total), encoding="utf-8")
            db = tmp / "bench.duckdb"

            t_first, first = timed_crawl(reg, db)
            size_first = db_bytes(db)
            t_second, second = timed_crawl(reg, db)
            size_second = db_bytes(db)
            urls = sorted(set(site.paths(200)))

            t0 = time.perf_counter()
            for path in urls:
                with urllib.request.urlopen(site.url(path)) as r:
                    r.read()
            t_plain = time.perf_counter() - t0
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    f, s = first["sources"][0], second["sources"][0]
    print(f"site: {total} URLs (~{args.pages} pages + {args.pdfs} PDFs) on 127.0.0.1, delay 0, 1 request at a time per host")
    print(f"{'':34}{'seconds':>9}{'URLs/s':>9}{'new':>7}{'304':>7}{'errors':>8}")
    print(f"{'first crawl':34}{t_first:9.1f}{f['fetched'] / t_first:9.1f}{f['new_versions']:7}{f['not_modified']:7}{f['errors']:8}")
    print(f"{'unchanged re-crawl':34}{t_second:9.1f}{s['fetched'] / t_second:9.1f}{s['new_versions']:7}{s['not_modified']:7}{s['errors']:8}")
    print(f"{'baseline: sequential urllib GETs':34}{t_plain:9.1f}{len(urls) / t_plain:9.1f}")
    print(f"re-crawl speed / first crawl speed: {(s['fetched'] / t_second) / (f['fetched'] / t_first):.2f}x")
    print(f"DuckDB file after first crawl: {size_first / 1e6:.1f} MB; bytes added by the unchanged re-crawl: "
          f"{size_second - size_first} ({(size_second - size_first) / 1e3:.0f} kB for {s['fetched']} fetch rows)")
    print(f"peak RSS of a crawl process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
