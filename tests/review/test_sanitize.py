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


@pytest.mark.parametrize("tag", ["<iframe src=x></iframe>", "<object data=x></object>", "<embed src=x>",
                                 "<svg><title>t</title></svg>", "<noscript><p>x</p></noscript>"])
def test_content_after_a_dropped_element_is_kept(tag):
    html = sanitize_html(f"<p>前</p>{tag}<p>後の段落</p>", "https://city.example.jp/")
    assert "前" in html and "後の段落" in html and tag.split()[0].split(">")[0] not in html


# What the hand-written sanitizer let through (issue 15): only the CSP stopped these.
EVASIONS = {
    "svg_animate": '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text y="20">x</text></a></svg>',
    "svg_set": '<svg><a><set attributeName="href" to="javascript:alert(1)"/><text>y</text></a></svg>',
    "form_action": '<form action="/decide" method="post"><input name="status" value="noise"><button>送信</button></form>',
    "relative_src": '<img src="/decide?status=noise" alt="図"><img srcset="/decide 1x" alt="図2">'
                    '<video src="/archive/x/raw" poster="/decide"></video><input type=image src="/decide">',
    "css_escape": '<style>@\\69mport url(//evil.example/x.css);</style>'
                  '<p style="background:u\\72l(//evil.example/p.png)">css</p>',
    "meta_refresh_in_body": '<p>a</p><meta http-equiv="refresh" content="0;url=/decide">',
    "base_in_body": '<base href="https://evil.example/"><a href="x">link</a>',
    "entity_scheme": '<a href="jav&#x61;script&colon;alert(1)">e</a><a href="&#106;avascript:alert(1)">f</a>',
    "data_and_vbscript": '<a href="data:text/html,<script>alert(1)</script>">d</a><a href="vbscript:msgbox">v</a>',
    "protocol_relative": '<a href="//evil.example/steal">p</a>',
    "mathml": '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">m</maction></math>',
    "target_and_ping": '<a href="/a" target="_top" ping="/decide">t</a>',
    "templates": '<template><img src=x onerror=alert(1)></template><xmp><img src=x></xmp>',
}


@pytest.mark.parametrize("case", sorted(EVASIONS))
def test_evasions_are_removed(case):
    html = sanitize_html(f"<p>前</p>{EVASIONS[case]}<p>後</p>", "https://city.example.jp/a/b.html")
    tags = start_tags(html)
    names = {t for t, _ in tags}
    assert names <= {"html", "head", "meta", "body", "p", "a", "img", "strong"}, names
    for name, attrs in tags:
        assert set(attrs) <= {"href", "rel", "alt", "charset", "role"}, (name, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("https://city.example.jp/") or href == "https://evil.example/steal"
    assert "前" in html and "後" in html  # the text around survives
    low = html.lower()
    assert "javascript" not in low and "script:" not in low and "import" not in low and "src=" not in low
    assert "/decide" not in low.replace("https://city.example.jp/decide", "")


def test_links_are_absolute_and_images_load_nothing():
    html = sanitize_html('<a href="../x.pdf">PDF</a><a href="#top">上へ</a><a href="mailto:k@city.example.jp">m</a>'
                         '<a href="tel:03-1234-5678">t</a><img src="https://city.example.jp/i.png" alt="案内図">',
                         "https://city.example.jp/a/b.html")
    tags = start_tags(html)
    assert [a.get("href") for t, a in tags if t == "a"] == [
        "https://city.example.jp/x.pdf", "https://city.example.jp/a/b.html#top", "mailto:k@city.example.jp",
        "tel:03-1234-5678"]
    assert [a for t, a in tags if t == "img"] == [{"alt": "案内図"}]
    # without the page's URL a relative link cannot be resolved: it is dropped, the text stays
    assert start_tags(sanitize_html('<a href="/decide">x</a>'))[-1] == ("a", {"rel": "noopener noreferrer"})


def test_tables_and_lists_keep_their_structure():
    html = sanitize_html('<table class="t" style="x"><caption>所得制限</caption><tr><th scope="col">人数</th>'
                         '<td colspan="2" onclick="x">2,360,000円</td></tr></table><ol start="3"><li>申請</li></ol>'
                         '<dl><dt>対象</dt><dd>ひとり親</dd></dl>', "https://city.example.jp/")
    tags = start_tags(html)
    assert ("th", {"scope": "col"}) in tags and ("td", {"colspan": "2"}) in tags and ("ol", {"start": "3"}) in tags
    assert {"table", "caption", "tr", "li", "dt", "dd"} <= {t for t, _ in tags}
    assert "2,360,000円" in html and "所得制限" in html


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_very_deep_page_is_flattened_with_a_notice():
    """html5ever's tree building costs depth x elements: 100,000 nested <div>s took a minute; past MAX_DEPTH the
    tags are removed before parsing, the text stays, and the page says so."""
    from wardwatch.review.sanitize import FLATTENED, MAX_DEPTH

    deep = "<div>" * 100_000 + "<p>深い段落の上限4万円</p>" + "</div>" * 100_000 + "<p>後</p>"
    html = sanitize_html(deep, "https://city.example.jp/")
    assert "深い段落の上限4万円" in html and "後" in html and FLATTENED in html
    assert html.count("<div>") == MAX_DEPTH
    ordinary = "<div>" * 50 + "<p>x</p>" + "</div>" * 50
    assert FLATTENED not in sanitize_html(ordinary) and sanitize_html(ordinary).count("<div>") == 50
