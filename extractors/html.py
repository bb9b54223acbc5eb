"""HTML bytes -> Document: the main text of a municipal page, as heading-aware blocks.

Main content is found by the CMS comment markers (本文ここから/本文ここまで), else
``main`` / #contents / #main / ``article`` / role=main, else ``body`` minus page chrome.
Site menus, breadcrumbs, SNS buttons, read-aloud widgets and "related pages" boxes are
dropped. Pure function, no I/O.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from extractors.encoding import decode_html
from extractors.model import Document
from extractors.textutil import clean_text, names_program

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_START = re.compile(r"<!--[^>]{0,40}?本文(?:ここから|開始)[^>]{0,40}?-->")
_END = re.compile(r"<!--[^>]{0,40}?本文(?:ここまで|終了)[^>]{0,40}?-->")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>")
_ROOT_XPATHS = (
    "//main", "//*[@role='main']", "//*[@id='contents']", "//*[@id='main']",
    "//*[@id='tmp_contents']", "//*[@id='content']", "//article",
)
_DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "svg", "form", "button", "select",
    "input", "textarea", "nav", "aside", "img", "object", "embed", "canvas", "map", "hr", "link", "meta",
}
_CHROME_TAGS = {"header", "footer"}  # dropped only when falling back to <body>
_NOISE_TOKEN = re.compile(
    r"^(?:tmp_)?(?:pankuzu|breadcrumbs?|topicpath|topic_path|bread|crumbs?|sns|sns_btn|share|"
    r"share-buttons|social|readspeaker|rs_skip|rs_area|pagetop|page-top|page_top|gototop|osusume|"
    r"recommend|lnavi|localnavi|losubnavi|subnavi|snavi|gnavi|gnav|hnavi|sidebar|sidenavi|side|"
    r"skip|skip-link|blockjump|feedback|questionnaire|enquete|search_help|sitemenu|txtno-display)$",
    re.I,
)
_CHROME_TOKEN = re.compile(r"^(?:tmp_)?(?:header|footer|wrap_header|wrap_footer|head|foot|menu)$", re.I)
_TRIGGERS = (
    "現在のページ", "現在位置", "パンくず", "このページを見ている人は", "情報が見つからないときは",
    "ページの先頭へ", "このページの先頭", "本文へ移動", "このページの本文へ", "本文へスキップ",
    "音声で読み上げる", "読み上げる", "サイトメニュー", "PDF形式のファイルを", "PDFファイルをご覧",
    "Adobe Acrobat Reader", "このページの情報は役に立ちましたか", "よくある質問から探す",
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "header", "footer", "li", "ul", "ol", "dd", "dl",
    "blockquote", "pre", "address", "figure", "figcaption", "table", "thead", "tbody", "tfoot",
    "center", "details", "summary", "fieldset", "legend", "body", "html",
}
_BR = "\x00"  # line-break marker inside the inline buffer


_CUT_NOTE = "HTML nested too deep even after flattening: the text below level 2048 is cut"
FLATTEN_DEPTH = 1000  # below this many open elements a too-deep page's container tags become <br>
_DEEP_NOTE = ("HTML nested deeper than the parser's limit (2048 levels with huge_tree): container tags below "
              f"level {FLATTEN_DEPTH} flattened so the rest of the page is kept")


def _parse(text: str, notes: list[str] | None = None) -> etree._Element | None:
    """lxml with ``huge_tree`` (libxml2 otherwise stops at depth 256). libxml2 still gives up past
    2048 open elements and silently drops the rest of the page; then the page is re-parsed with
    its deep container tags flattened (:func:`flatten_deep`) and ``notes`` gets a warning."""
    text = _XML_DECL.sub("", text, count=1)
    parser = lxml.html.HTMLParser(huge_tree=True)  # one per call: its error log is per document
    try:
        doc = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    if any("Excessive depth" in e.message for e in parser.error_log):
        if notes is not None and _DEEP_NOTE not in notes:
            notes.append(_DEEP_NOTE)
        again = lxml.html.HTMLParser(huge_tree=True)
        try:
            flat = lxml.html.document_fromstring(flatten_deep(text), parser=again)
        except (etree.ParserError, ValueError):
            return doc
        if notes is not None and any("Excessive depth" in e.message for e in again.error_log):
            notes.append(_CUT_NOTE)
        return flat
    return doc


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
_KEEP_DEEP = {"table", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "dl", "dt", "dd",
              "h1", "h2", "h3", "h4", "h5", "h6", "script", "style", "template", "noscript"}


def flatten_deep(text: str, limit: int = FLATTEN_DEPTH) -> str:
    """``text`` re-serialised with every container tag opened below ``limit`` open elements
    replaced by ``<br>`` (its text kept, in order); tables, headings and scripts are kept."""
    import html.parser
    from collections import Counter

    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # (tag, flattened)
    open_tags: Counter[str] = Counter()

    class Flattener(html.parser.HTMLParser):
        def handle_starttag(self, tag: str, attrs: list) -> None:
            raw = self.get_starttag_text() or f"<{tag}>"
            if tag in _VOID:
                out.append(raw)
                return
            flat = len(stack) >= limit and tag not in _KEEP_DEEP
            stack.append((tag, flat))
            open_tags[tag] += 1
            out.append("<br>" if flat else raw)

        def handle_startendtag(self, tag: str, attrs: list) -> None:
            out.append(self.get_starttag_text() or f"<{tag}/>")

        def handle_endtag(self, tag: str) -> None:
            if not open_tags[tag]:
                return
            while stack:
                t, flat = stack.pop()
                open_tags[t] -= 1
                if t == tag:
                    out.append("<br>" if flat else f"</{tag}>")
                    return
                if not flat:
                    out.append(f"</{t}>")

        def handle_data(self, data: str) -> None:
            inside = stack[-1][0] if stack else ""
            out.append(data if inside in ("script", "style") else htmllib.escape(data, quote=False))

        def handle_comment(self, data: str) -> None:
            out.append(f"<!--{data}-->")

        def handle_decl(self, decl: str) -> None:
            out.append(f"<!{decl}>")

    f = Flattener(convert_charrefs=True)
    f.feed(text)
    f.close()
    return "".join(out)


def _tokens(el: etree._Element) -> list[str]:
    return (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else [])


def _hidden(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or el.get("hidden") is not None


def _trigger_container(el: etree._Element, root: etree._Element) -> etree._Element:
    """The smallest ancestor that holds just the noise widget ``el`` starts."""
    own = len(el.text_content())
    box = el
    parent = box.getparent()
    while parent is not None and parent is not root and len(parent.text_content()) <= own + 400:
        box, parent = parent, parent.getparent()
    return box


def _drop_noise(root: etree._Element, chrome: bool) -> None:
    """Remove scripts, menus, breadcrumbs, SNS and other page furniture below ``root``."""
    doomed: list[etree._Element] = []
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else "#comment"
        if el is root:
            continue
        if tag == "#comment" or tag in _DROP_TAGS or (chrome and tag in _CHROME_TAGS) or _hidden(el):
            doomed.append(el)
            continue
        toks = _tokens(el)
        if any(_NOISE_TOKEN.match(t) or t.lower().startswith(("rs_", "rsbtn")) for t in toks) or (
            chrome and any(_CHROME_TOKEN.match(t) for t in toks)
        ):
            doomed.append(el)
            continue
        head = (el.text or "").strip()
        if head and head.startswith(_TRIGGERS):
            box = _trigger_container(el, root)
            doomed.append(box)
            if box is el and tag in _HEADINGS and el.getnext() is not None:
                doomed.append(el.getnext())  # heading + its link list directly under root
    for el in doomed:
        parent = el.getparent()
        if parent is None:
            continue  # already removed with an ancestor
        if el.tail:  # keep text that follows the removed element
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)


def _marked_root(text: str, notes: list[str] | None = None) -> etree._Element | None:
    """The region between the CMS comments 本文ここから / 本文ここまで, if it holds text."""
    start = _START.search(text)
    end = _END.search(text, start.end()) if start else None
    if not end:
        return None
    frag = _parse(f"<html><body><div>{text[start.end():end.start()]}</div></body></html>", notes)
    body = frag.find("body") if frag is not None else None
    return body if body is not None and clean_text(body.text_content()) else None


def _content_root(doc: etree._Element) -> tuple[etree._Element, bool]:
    """Pick the main-content element; the flag says "fell back to body" (drop chrome too)."""
    for xp in _ROOT_XPATHS:
        found = doc.xpath(xp)
        if found and clean_text(found[0].text_content()):
            return found[0], False
    body = doc.find("body")
    return (body if body is not None else doc), True


@dataclass
class _Walker:
    """Turns a cleaned element tree into (text, attrs) block pairs in document order."""

    title: str | None
    blocks: list[tuple[str, dict]] = field(default_factory=list)
    heads: dict[int, str] = field(default_factory=dict)
    scopes: list[list[str | None]] = field(default_factory=list)  # dl/table: current dt/caption
    buf: list[str] = field(default_factory=list)

    def program(self) -> str | None:
        for scope in reversed(self.scopes):
            if scope[0] and names_program(scope[0]):
                return scope[0]
        for level in sorted((lv for lv in self.heads if lv <= 4), reverse=True):
            if level == 1 or names_program(self.heads[level]):
                return self.heads[level]
        return self.title

    def headings(self) -> tuple[str, ...]:
        """The full heading path, outermost first: the page title, h1…h6, then dt/caption scopes."""
        path = [self.title] if self.title else []
        path += [self.heads[lv] for lv in sorted(self.heads)]
        path += [scope[0] for scope in self.scopes if scope[0]]
        return tuple(dict.fromkeys(path))  # a title repeated as the h1 appears once

    def emit(self, text: str, kind: str = "para", level: int | None = None) -> None:
        text = clean_text(text)
        if not text:
            return
        attrs: dict = {"kind": kind, "program": self.program(), "headings": self.headings()}
        if level is not None:
            attrs["level"] = level
        self.blocks.append((text, attrs))

    def flush(self, join_lines: bool = False) -> None:
        raw = "".join(self.buf)
        self.buf.clear()
        if join_lines:
            self.emit(raw.replace(_BR, " "))
            return
        for line in raw.split(_BR):
            self.emit(line)

    def _leaf(self, el: etree._Element, tag: str) -> bool:
        """Emit headings, terms, captions, rows and <br>; True if ``el`` is fully handled."""
        if tag in _HEADINGS:
            self.flush()
            level = _HEADINGS[tag]
            text = clean_text(el.text_content())
            if text:
                self.heads = {lv: t for lv, t in self.heads.items() if lv < level}
                self.heads[level] = text
                self.emit(text, "heading", level)
        elif tag in ("dt", "caption"):
            self.flush()
            text = clean_text(el.text_content())
            if self.scopes:
                self.scopes[-1][0] = text
            self.emit(text, "term" if tag == "dt" else "caption")
        elif tag == "tr":
            self.flush()
            cells = [clean_text(_inline_text(c)) for c in el if c.tag in ("td", "th")]
            if any(cells):
                self.emit(" | ".join(cells), "row")
        elif tag == "br":
            self.buf.append(_BR)
        else:
            return False
        return True

    def walk(self, root: etree._Element) -> None:
        """Depth-first walk without recursion (real pages nest 500+ levels deep)."""
        stack: list[tuple[str, object]] = [("enter", root)]
        while stack:
            op, item = stack.pop()
            if op == "text":
                self.buf.append(item)  # type: ignore[arg-type]
                continue
            el: etree._Element = item  # type: ignore[assignment]
            tag = el.tag if isinstance(el.tag, str) else ""
            if op == "exit":
                if tag in ("dl", "table"):
                    self.flush()
                    self.scopes.pop()
                if tag in _BLOCK_TAGS:
                    self.flush(join_lines=tag == "li")
                continue
            if self._leaf(el, tag):
                continue
            if tag in _BLOCK_TAGS:
                self.flush()
            if tag in ("dl", "table"):
                self.scopes.append([None])
            if el.text and tag:
                self.buf.append(el.text)
            stack.append(("exit", el))
            for child in reversed(el):
                if child.tail:
                    stack.append(("text", child.tail))
                stack.append(("enter", child))


def _inline_text(el: etree._Element) -> str:
    """Text of a table cell, with <br> as a space."""
    for br in el.iter("br"):
        br.tail = " " + (br.tail or "")
    return el.text_content()


def extract_html(body: bytes, charset: str | None = None, url: str | None = None) -> Document:
    """Extract the main text of an HTML page as a Document (``url`` is informational)."""
    text, _enc = decode_html(body, charset)
    text = _CONTROLS.sub("", text)  # lxml rejects C0 controls; crawled pages sometimes carry them
    m = _TITLE.search(text)
    title = clean_text(htmllib.unescape(m.group(1))) if m else None
    notes: list[str] = []
    root, fallback = _marked_root(text, notes), False
    if root is None:
        doc = _parse(text, notes)
        if doc is None:
            return Document(text="", blocks=(), media_type="text/html", title=title or None,
                            warnings=("empty document",))
        root, fallback = _content_root(doc)
    _drop_noise(root, chrome=fallback)
    walker = _Walker(title=title or None)
    walker.walk(root)
    walker.flush()
    partial = _CUT_NOTE if _CUT_NOTE in notes else None
    warnings = tuple(n for n in notes if n != _CUT_NOTE) + (() if walker.blocks else ("no main text",))
    return Document.from_blocks(walker.blocks, "text/html", title=title or None, warnings=warnings, partial=partial)
