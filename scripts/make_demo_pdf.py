"""Dev script: write the demo site's 2-page Japanese PDF (our own content).

Usage: python scripts/make_demo_pdf.py [OUT]
Needs reportlab (dev only). Output is byte-stable (reportlab invariant mode).
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "HeiseiKakuGo-W5"
DEFAULT_OUT = (
    Path(__file__).resolve().parents[1]
    / "wardwatch/demo/site/v1/nerima/kurashi/jinken/hitorioya/documents/hitorioya_guide.pdf"
)

PAGE1 = [
    ("h", "ひとり親家庭のしおり(令和7年度版)"),
    ("p", "練馬区 生活福祉課ひとり親家庭支援係"),
    ("h", "児童扶養手当"),
    ("p", "父母の離婚などにより、ひとり親家庭となった児童を養育している方に支給します。"),
    ("p", "手当額(全部支給)は、児童1人目が月額46,690円です。"),
    ("p", "2人目以降は1人につき月額11,030円を加算します(一部支給は所得に応じて減額)。"),
    ("p", "支給月は1月・3月・5月・7月・9月・11月で、前月までの2か月分を振り込みます。"),
    ("h", "申請先"),
    ("p", "練馬区役所本庁舎10階 生活福祉課ひとり親家庭支援係の窓口で申請してください。"),
    ("p", "電話 03-5984-1319(月曜から金曜:午前8時30分から午後5時15分まで)"),
]

PAGE2 = [
    ("h", "主な手当と支給額"),
    ("p", "下の表は令和7年4月分からの月額です。"),
]
TABLE = [
    ("手当", "区分", "月額"),
    ("児童扶養手当", "全部支給(1人目)", "46,690円"),
    ("児童扶養手当", "2人目以降加算", "11,030円"),
    ("児童育成手当", "育成手当", "13,500円"),
]
PAGE2_AFTER = [
    ("p", "所得制限があります。詳しくは窓口にお問い合わせください。"),
]


def _lines(c: canvas.Canvas, items: list[tuple[str, str]], y: float) -> float:
    for kind, text in items:
        c.setFont(FONT, 16 if kind == "h" else 10.5)
        c.drawString(60, y, text)
        y -= 28 if kind == "h" else 18
    return y


def _table(c: canvas.Canvas, rows: list[tuple[str, ...]], y: float) -> float:
    widths = (140, 140, 100)
    row_h = 22
    x0 = 60
    c.setStrokeColor(colors.black)
    c.setLineWidth(0.8)
    for r, row in enumerate(rows):
        top = y - r * row_h
        x = x0
        c.setFont(FONT, 10.5)
        for w, cell in zip(widths, row):
            c.rect(x, top - row_h, w, row_h, stroke=1, fill=0)
            c.drawString(x + 6, top - row_h + 7, cell)
            x += w
    return y - len(rows) * row_h - 24


def build(out: Path) -> None:
    """Write the two-page guide PDF to ``out``."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(out), pagesize=A4, invariant=1)
    c.setTitle("ひとり親家庭のしおり")
    c.setAuthor("wardwatch demo")
    top = A4[1] - 70
    _lines(c, PAGE1, top)
    c.showPage()
    y = _lines(c, PAGE2, top)
    y = _table(c, TABLE, y)
    _lines(c, PAGE2_AFTER, y)
    c.showPage()
    c.save()


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
