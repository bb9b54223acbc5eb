"""Hostile and minimal PDFs built by the tests (never shipped): exact xref offsets, Helvetica text."""

from __future__ import annotations

import zlib

MiB = 1024 * 1024

# held-out newsletters (they measure generalisation): no test reads them
HELD_OUT_PDFS = frozenset({"kouhou_otoineppu_2023-08.pdf", "kouhou_otoineppu_2025-12.pdf"})

# a ToUnicode CMap whose glyphs map to what broken text layers hand out: A -> a lone high
# surrogate, B -> a surrogate pair low half first (seen in a real newsletter), C -> private use,
# D -> a well-formed pair (𠮷)
SURROGATE_CMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Hostile def
1 begincodespacerange <00> <FF> endcodespacerange
4 beginbfchar <41> <D842> <42> <DFB7D842> <43> <E000> <44> <D842DFB7> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def pdf_with_pages(contents: list[bytes], *, compress: bool = True, to_unicode: bytes | None = None) -> bytes:
    """A minimal valid PDF, one page per content stream (font /F1 = Helvetica, optionally with a
    ToUnicode CMap)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica" + (b" /ToUnicode 4 0 R" if to_unicode else b"") + b" >>"
    cmap = b"<< /Length %d >>\nstream\n" % len(to_unicode) + to_unicode + b"\nendstream" if to_unicode else b"null"
    objs: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", font, cmap]
    kids = []
    for content in contents:
        stream = zlib.compress(content) if compress else content
        filt = b"/Filter /FlateDecode " if compress else b""
        objs.append(b"<< /Length %d " % len(stream) + filt + b">>\nstream\n" + stream + b"\nendstream")
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                    b"/Contents %d 0 R >>" % len(objs))
        kids.append(b"%d 0 R" % len(objs))
    objs[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(contents)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def text_page(*lines: str, x: int = 72, top: int = 760, step: int = 20, size: int = 12) -> bytes:
    """A content stream drawing each line (ASCII) one below the other."""
    return b"".join(b"BT /F1 %d Tf %d %d Td (%s) Tj ET\n" % (size, x, top - step * i, s.encode())
                    for i, s in enumerate(lines))


def zero_bomb(size: int, layers: int = 1, level: int = 1) -> bytes:
    """A PDF whose only content stream inflates to ``size`` zero bytes (through ``layers`` zlib layers)."""
    c = zlib.compressobj(level)
    stream = b"".join(c.compress(bytes(MiB)) for _ in range(size // MiB)) + c.flush()
    for _ in range(layers - 1):
        stream = zlib.compress(stream, 9)
    pdf = pdf_with_pages([b""], compress=False)
    filters = b"[" + b" ".join([b"/FlateDecode"] * layers) + b"]"
    return pdf.replace(b"/Length 0 >>\nstream\n\nendstream",
                       b"/Length %d /Filter %s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream", 1)
