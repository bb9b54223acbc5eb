"""Make a stored (untrusted) HTML page safe to show in the review app.

Removes scripts and everything that can run or load code (<script>, <iframe>, <object>, <embed>,
<frame>, <applet>, <base>, <meta>, <link>, <noscript>, <template>), every ``on*`` event attribute,
``javascript:`` / ``vbscript:`` / ``data:`` URLs and script-bearing inline styles. The review app also
serves the result with ``Content-Security-Policy: sandbox`` inside a sandboxed iframe, so a miss here
still cannot run.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment

DROP_TAGS = ("script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "meta", "link",
             "noscript", "template", "portal", "param")
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset", "data", "cite",
             "lowsrc", "dynsrc", "ping", "longdesc", "usemap", "manifest", "codebase", "archive", "profile"}
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|file|blob):", re.I)
_BAD_STYLE = re.compile(r"expression|javascript:|vbscript:|behavior|-moz-binding|@import|url\s*\(", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u180e\u2000-\u200f\u2028\u2029\u205f\u3000\ufeff]+")


def unsafe_url(value: str) -> bool:
    return bool(_BAD_SCHEME.match(_INVISIBLE.sub("", value or "")))


def sanitize_html(text: str, base_url: str | None = None) -> str:
    """The page without active content; relative links point at the live page's site."""
    soup = BeautifulSoup(text, "lxml")
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        for name in list(tag.attrs):
            value = tag.attrs[name]
            value = " ".join(value) if isinstance(value, list) else str(value)
            lname = name.lower()
            if lname.startswith("on") or lname in ("formaction", "srcdoc", "http-equiv") or lname in URL_ATTRS and unsafe_url(value) or lname == "style" and _BAD_STYLE.search(value):
                del tag.attrs[name]
            elif lname == "href" and base_url:
                tag.attrs[name] = urljoin(base_url, value)
    for style in soup.find_all("style"):
        if _BAD_STYLE.search(style.get_text()):
            style.decompose()
    head = soup.head or soup.new_tag("head")
    if soup.head is None and soup.html is not None:
        soup.html.insert(0, head)
    head.insert(0, soup.new_tag("meta", charset="utf-8"))
    return "<!DOCTYPE html>\n" + str(soup.html or soup)
