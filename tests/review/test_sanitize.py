"""wardwatch.review.sanitize: an archived page shown in the review app carries nothing that could run,
load or navigate (the app adds a sandboxed iframe and CSP on top; in Chromium: tests/e2e/test_browser.py)."""

from __future__ import annotations

import pytest

from tests.support.helpers import start_tags
from wardwatch.review.sanitize import sanitize_html

HOSTILE = ('<html><head><meta http-equiv="refresh" content="0;url=javascript:alert(1)"><base href="http://evil/">'
           '<link rel=stylesheet href="http://evil/x.css"></head><body onload="alert(1)"><script>alert(1)</script>'
           '<a href=" java\tscript:alert(1)">a</a><a href="/rel">r</a><img src=x onerror=alert(1)>'
           '<iframe src="https://evil/"></iframe><object data=x></object><embed src=x>'
           '<svg onload=alert(1)><a xlink:href="javascript:alert(1)">s</a></svg>'
           '<p style="background:url(javascript:alert(1))">p</p><form action="javascript:alert(1)"><button '
           'formaction="javascript:alert(1)">b</button></form><!--[if IE]><script>alert(1)</script><![endif]--></body></html>')


def test_archived_html_is_sanitized():
    tags = start_tags(sanitize_html(HOSTILE, "https://city.example.jp/a/b.html"))
    names = [t for t, _ in tags]
    assert not set(names) & {"script", "iframe", "object", "embed", "base", "link"}
    assert [a for t, a in tags if t == "meta"] == [{"charset": "utf-8"}]
    attrs = [(name, value) for _, a in tags for name, value in a.items()]
    assert not [n for n, _ in attrs if n.startswith("on") or n in ("style", "formaction")]
    assert not [v for _, v in attrs if v and "script:" in v.replace("\t", "").lower()]
    assert ("href", "https://city.example.jp/rel") in attrs  # relative links resolved against the page's URL
    assert names.count("a") == 2 and "img" in names  # the harmless markup stays


def test_text_survives_and_stays_text():
    html = sanitize_html("<html><body><h1>児童扶養手当</h1><p>月額46,690円 &lt;script&gt;</p></body></html>",
                         "https://city.example.jp/")
    assert "児童扶養手当" in html and "月額46,690円 &lt;script&gt;" in html
    assert "script" not in [t for t, _ in start_tags(html)]


@pytest.mark.parametrize("tag", [
    "<iframe src=x></iframe>", "<object data=x></object>",
    pytest.param("<embed src=x>", marks=pytest.mark.xfail(strict=True, reason="known bug (reported): an unclosed <embed>, "
                                                          "void in HTML, swallows the rest of the page")),
])
def test_content_after_a_dropped_element_is_kept(tag):
    html = sanitize_html(f"<p>前</p>{tag}<p>後の段落</p>", "https://city.example.jp/")
    assert "後の段落" in html and tag.split()[0] not in html
