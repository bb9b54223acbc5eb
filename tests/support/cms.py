"""Render a real 音威子府村 page (../shared/corpus/real_pages/otoineppu/*.md) as a village CMS would.

The corpus holds the village's pages as Markdown (headings, lists, tables, links, bold). A real
fetch is HTML with site furniture around the article: a header with the village name and a
search box, a global navigation, a breadcrumb, a side menu of related pages, a "page top" link
and a footer carrying the village office's address, main phone/FAX and opening hours. The
furniture has facts of its own (a phone, an address, a time window) that are NOT facts of the
page: the extractor must keep them out. ``render_page`` builds that HTML around the converted
Markdown (markdown-it-py, CommonMark + tables) and ``load_page`` extracts it with
``extractors.html.extract_html`` as wardwatch would.

Pure functions (no I/O besides reading the Markdown file).
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from extractors.html import extract_html
from extractors.model import Document

SITE = "音威子府村"
SITE_URL = "https://www.vill.otoineppu.hokkaido.jp"
SWITCHBOARD = "01656-5-3311"  # village office main number, as the pages print it
OFFICE_FAX = "01656-5-3837"
OFFICE_ADDRESS = "〒098-2501 北海道中川郡音威子府村字音威子府411番地1"

_GNAV = (
    ("/kurashi/", "くらし・手続き"), ("/kosodate/", "子育て・教育"), ("/iryou/", "健康・福祉"),
    ("/sangyou/", "産業・しごと"), ("/kankou/", "観光・イベント"), ("/gyousei/", "村政情報"),
)
_SIDE = (
    ("/kurashi/zeikin/", "税金"), ("/kurashi/hoken_nenkin/", "保険・年金"),
    ("/kurashi/gomi_kankyou/", "ごみ・環境"), ("/kurashi/tetsuduki/", "届出・証明"),
)


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_to_html(markdown: str) -> str:
    """The article body: CommonMark + GFM tables, raw HTML in the Markdown escaped."""
    return _md().render(markdown)


def _title(markdown: str, fallback: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def _crumbs(stem: str) -> list[str]:
    # file names are the page paths with "/" written "__"
    return stem.split("__")[:-1]


def render_page(markdown: str, stem: str = "page") -> str:
    """A full CMS page (str) with the Markdown converted into its <main><article>."""
    title = html.escape(_title(markdown, stem))
    gnav = "".join(f'<li><a href="{SITE_URL}{href}">{label}</a></li>' for href, label in _GNAV)
    side = "".join(f'<li><a href="{SITE_URL}{href}">{label}</a></li>' for href, label in _SIDE)
    path, crumbs = "", [f'<li><a href="{SITE_URL}/">ホーム</a></li>']
    for part in _crumbs(stem):
        path += f"/{part}"
        crumbs.append(f'<li><a href="{SITE_URL}{path}/">{html.escape(part)}</a></li>')
    crumbs.append(f"<li>{title}</li>")
    return f"""<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>{title} | {SITE}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{SITE_URL}/common/css/style.css?v=20260105">
<script src="{SITE_URL}/common/js/jquery.min.js"></script>
</head>
<body>
<div id="wrapper">
<header id="header">
  <p class="skip"><a href="#main">本文へスキップ</a></p>
  <div class="site-title"><a href="{SITE_URL}/"><img src="{SITE_URL}/common/img/logo.png" alt="{SITE}">{SITE}</a></div>
  <ul class="header-links"><li><a href="{SITE_URL}/sitemap/">サイトマップ</a></li>
  <li><a href="{SITE_URL}/foreign/">Foreign Language</a></li><li><a href="#">文字サイズ 拡大</a></li></ul>
  <form class="search" action="{SITE_URL}/search/"><input type="text" name="q"><button>検索</button></form>
</header>
<nav id="gnav" class="gnav"><ul>{gnav}</ul></nav>
<div id="pankuzu" class="breadcrumbs"><ol>{''.join(crumbs)}</ol></div>
<div id="container">
<main id="main">
<!-- 本文ここから -->
<article class="entry">
{markdown_to_html(markdown)}
</article>
<!-- 本文ここまで -->
<div class="sns share"><a href="https://twitter.com/share">ポスト</a><a href="https://www.facebook.com/share">シェア</a></div>
</main>
<aside id="sidebar" class="side">
  <h2>くらしのメニュー</h2><ul>{side}</ul>
  <div class="banner"><a href="{SITE_URL}/furusato/">ふるさと納税</a></div>
</aside>
</div>
<p class="pagetop"><a href="#wrapper">ページの先頭へ</a></p>
<footer id="footer">
  <div class="footer-info">
    <p class="office">{SITE}役場</p>
    <address>{OFFICE_ADDRESS}<br>電話：{SWITCHBOARD}（代表）　FAX：{OFFICE_FAX}</address>
    <p>開庁時間：午前8時30分から午後5時15分まで（土日祝日、年末年始を除く）</p>
  </div>
  <ul class="footer-links"><li><a href="{SITE_URL}/privacy/">個人情報の取扱い</a></li>
  <li><a href="{SITE_URL}/accessibility/">ウェブアクセシビリティ</a></li><li><a href="{SITE_URL}/link/">リンク集</a></li></ul>
  <p class="copyright"><small>Copyright © {SITE} All Rights Reserved.</small></p>
</footer>
</div>
</body>
</html>
"""


def page_document(markdown: str, stem: str = "page") -> Document:
    """Render Markdown as a CMS page and extract it with extract_html, as a fetched page would be."""
    body = render_page(markdown, stem).encode("utf-8")
    return extract_html(body, url=f"{SITE_URL}/{stem.replace('__', '/')}/")


def load_page(path: Path) -> Document:
    """Render ``path`` (a corpus Markdown page) as CMS HTML and extract it like a fetched page."""
    return page_document(path.read_text(encoding="utf-8"), path.stem)
