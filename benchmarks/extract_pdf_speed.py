"""Pages per second of extractors.pdf.extract_pdf vs poppler's pdftotext.

Usage: python benchmarks/extract_pdf_speed.py [PDF_DIR] [--repeat N]
Default PDF_DIR is ../shared/corpus/pdf (the real two-column newsletters), without the held-out
issues (HELD_OUT: they measure generalisation and are not read by benchmarks).
Also times one large document (all PDFs concatenated) serially and with several worker processes,
and the cost of the memory-capped parser child: the same PDFs parsed in-process (``memory_bytes=0``).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.model import Budget  # noqa: E402
from extractors.pdf import extract_pdf  # noqa: E402

HELD_OUT = {"kouhou_otoineppu_2023-08.pdf", "kouhou_otoineppu_2025-12.pdf"}


def _ours(bodies: list[bytes], workers: int, budget: Budget | None = None) -> tuple[int, float]:
    pages, start = 0, time.perf_counter()
    for body in bodies:
        pages += extract_pdf(body, workers=workers, budget=budget).pages or 0
    return pages, time.perf_counter() - start


def _pdftotext(paths: list[Path], exe: str) -> float:
    start = time.perf_counter()
    for path in paths:
        subprocess.run([exe, "-q", "-enc", "UTF-8", str(path), "-"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _concatenate(bodies: list[bytes]) -> bytes:
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    for body in bodies:
        src = pdfium.PdfDocument(body)
        out.import_pages(src)
        src.close()
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pdf_dir", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "pdf"))
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = parser.parse_args(argv)
    paths = sorted(p for p in Path(args.pdf_dir).glob("*.pdf") if p.name not in HELD_OUT)
    if not paths:
        print(f"no PDFs in {args.pdf_dir}")
        return 1
    bodies = [p.read_bytes() for p in paths]
    print(f"{len(paths)} PDFs from {args.pdf_dir}, {os.cpu_count()} CPUs, best of {args.repeat}")

    extract_pdf(bodies[0], workers=1)  # warm imports
    runs = [_ours(bodies, workers=1) for _ in range(args.repeat)]
    pages, ours = runs[0][0], min(t for _, t in runs)
    ours_rate = pages / ours
    print(f"extract_pdf (serial):   {pages} pages in {ours:.2f}s = {ours_rate:6.1f} pages/s")
    inproc = min(_ours(bodies, workers=1, budget=Budget(memory_bytes=0))[1] for _ in range(args.repeat))
    print(f"  in-process, no cap:   {pages} pages in {inproc:.2f}s = {pages / inproc:6.1f} pages/s "
          f"(the capped child costs {(ours - inproc) / len(bodies):.2f}s per PDF)")

    exe = shutil.which("pdftotext")
    if exe is None:
        print("pdftotext not found (apt-get install -y poppler-utils); reporting ours only")
    else:
        theirs = min(_pdftotext(paths, exe) for _ in range(args.repeat))
        rate = pages / theirs
        print(f"pdftotext (subprocess): {pages} pages in {theirs:.2f}s = {rate:6.1f} pages/s")
        print(f"ratio ours/pdftotext:   {ours_rate / rate:.2f}x")

    big = _concatenate(bodies)
    pages = extract_pdf(big, budget=Budget(memory_bytes=0)).pages or 0
    serial = min(_ours([big], workers=1)[1] for _ in range(args.repeat))
    workers = min(os.cpu_count() or 1, 4)
    pooled = min(_ours([big], workers=workers)[1] for _ in range(args.repeat))
    print(f"one {pages}-page PDF:     serial {pages / serial:6.1f} pages/s, "
          f"pool of {workers} {pages / pooled:6.1f} pages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
