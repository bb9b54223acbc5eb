"""Make a stored (untrusted) HTML page safe to show in the review app.

An allow-list, not a block-list: the page is re-parsed and re-serialised by ammonia (the ``nh3``
bindings, an HTML5 parser), and only what an editor needs to read an archived municipal page survives:

* text and its structure — headings, paragraphs, lists, definition lists, tables (with
  ``colspan``/``rowspan``/``scope``), quotes, ruby, inline emphasis, sections;
* links, made absolute against the live page's URL (so no relative URL can point at the review app)
  and limited to ``http``/``https``/``mailto``/``tel``; ``rel="noopener noreferrer"`` is added;
* images as their ``alt`` text only: no ``src``/``srcset`` is kept, so showing an archived page never
  loads anything, from the site or from the review app.

Everything else goes: scripts, styles (``<style>`` and ``style=``, so no CSS escapes such as
``@\\69mport``), SVG and MathML (``<animate>``/``<set>`` included), forms and their controls, frames,
``<object>``/``<embed>``, ``<base>``/``<meta>``/``<link>``, comments (IE conditional comments), every
``on*``/``class``/``id``/``target``/``action`` attribute. The contents of script-like elements are
dropped; the text of any other unknown element is kept as text. The review app also serves the
result with ``Content-Security-Policy: sandbox; default-src 'none'`` inside a sandboxed iframe.
"""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import urlsplit

import nh3

TEXT_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "span", "br", "hr", "pre", "blockquote", "address",
    "article", "section", "header", "footer", "main", "nav", "aside", "figure", "figcaption", "details", "summary",
    "hgroup", "center",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col", "colgroup",
    "a", "abbr", "acronym", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "small", "big", "sub", "sup",
    "mark", "code", "kbd", "samp", "var", "tt", "q", "cite", "dfn", "time", "data", "bdi", "bdo", "wbr",
    "ruby", "rb", "rt", "rp", "rtc", "img",
}
# Removed together with their content (everything else not allowed is unwrapped: its text stays).
DROP_WITH_CONTENT = {
    "script", "style", "template", "noscript", "noembed", "noframes", "title", "textarea", "select", "option",
    "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet", "audio", "video", "canvas", "xmp",
    "plaintext",
}
ATTRIBUTES = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"alt", "width", "height"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "headers", "align", "valign"},
    "th": {"colspan", "rowspan", "headers", "scope", "abbr", "align", "valign"},
    "col": {"span"}, "colgroup": {"span"},
    "time": {"datetime"}, "data": {"value"}, "del": {"datetime"}, "ins": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# html5ever's tree building costs depth x elements: a 100,000-deep page would take a minute. Tags nested deeper
# than this are removed before parsing (their text stays) and the page says so.
MAX_DEPTH = 512
FLATTENED = f"注意: この保存版は要素の入れ子が深すぎるため、{MAX_DEPTH} 段より深い部分の構造を外して文字だけを表示しています。"
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
# Elements without an end tag, or whose end tag is usually implied: they do not deepen the tree for long.
_FLAT = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
         "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup", "rb", "rt", "rp",
         "rtc", "colgroup", "caption", "html", "head", "body"}


def _cleaner(base_url: str | None) -> nh3.Cleaner:
    web = base_url if base_url and urlsplit(base_url).scheme in ("http", "https") else None
    return nh3.Cleaner(tags=TEXT_TAGS, clean_content_tags=DROP_WITH_CONTENT, attributes=ATTRIBUTES,
                       url_schemes=URL_SCHEMES, strip_comments=True, link_rel="noopener noreferrer",
                       url_relative=("rewrite_with_base", web) if web else "deny")


def sanitize_html(text: str, base_url: str | None = None, *, notice: str | None = None) -> str:
    """A complete, inert HTML document showing ``text``'s readable content; relative links point at the
    live page's site (``base_url``; dropped without one). ``notice`` is shown first, as text."""
    text, flattened = flatten_deep(text)
    if flattened:
        notice = f"{notice}\n{FLATTENED}" if notice else FLATTENED
    body = _cleaner(base_url).clean(text)
    banner = f'<p role="note"><strong>{htmllib.escape(notice)}</strong></p>\n' if notice else ""
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{banner}{body}\n</body></html>\n'


def flatten_deep(text: str, limit: int = MAX_DEPTH) -> tuple[str, bool]:
    """``text`` without the start/end tags nested deeper than ``limit`` (counted roughly, from the tags
    alone), and whether any was removed. Pages of ordinary depth come back unchanged."""
    depth, cut, out, last = 0, False, [], 0
    for m in _TAG.finditer(text):
        name = m.group(2).lower()
        if name in _FLAT or m.group(3):
            continue
        if m.group(1):
            deep, depth = depth > limit, max(depth - 1, 0)
        else:
            depth += 1
            deep = depth > limit
        if deep:
            out.append(text[last:m.start()])
            last, cut = m.end(), True
    if not cut:
        return text, False
    out.append(text[last:])
    return "".join(out), True
