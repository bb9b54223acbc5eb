"""diffs.classify: change classes between versions, response kinds, and the real noise corpus."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diffs.classify import classify_change, classify_response, is_baseline
from extractors.html import extract_html
from tests.support.helpers import SHARED

NOISE = SHARED / "corpus" / "html_noise"
SOFT_404 = "chiba__chiba-city-cats__20251112_172251_tail.html"  # served with 200, says 見つかりませんでした
PAGE_404 = "hokkaido__hokkaido-pref__20251112_172941_tail.html"  # 北海道's "404 Not Found" page

BASE = """児童育成手当
更新日：2025年4月1日
ページ番号：123-456
手当額
月額13,500円
お問い合わせ
子ども未来課 電話03-3908-9111"""


def test_unchanged():
    c = classify_change(BASE, BASE)
    assert c.kind == "unchanged" and c.diff == () and c.after_update_date == "2025-04-01"


def test_whitespace_and_markup_only_is_noise():
    # what a markup-only change looks like once extracted: spaces, full-width forms, split lines
    after = BASE.replace("月額13,500円", "月額　１３，５００円").replace("子ども未来課 電話", "子ども未来課\n電話 ")
    after = after.replace("ページ番号：123-456", "ページ番号： 123-456\n")
    assert classify_change(BASE, after).kind == "noise"


def test_tokens_only_is_noise():
    before = BASE + "\nGTM-ABCD12 rs_245251"
    after = BASE + "\nGTM-ZXCV98 rs_639707"
    assert classify_change(before, after).kind == "noise"


def test_only_update_date_differs():
    c = classify_change(BASE, BASE.replace("2025年4月1日", "2025年10月1日"))
    assert c.kind == "update_date_only"
    assert (c.before_update_date, c.after_update_date) == ("2025-04-01", "2025-10-01")
    assert c.diff == ()


def test_content_change_carries_diff():
    c = classify_change(BASE, BASE.replace("13,500", "14,500").replace("2025年4月1日", "2026年4月1日"))
    assert c.kind == "content" and c.is_content
    assert c.changes() == [("delete", "3"), ("insert", "4")]
    assert c.to_json()["kind"] == "content"


_WORDS = st.text(alphabet="ひとり親家庭手当額月円上限abcXY、。()（）", min_size=1, max_size=60)


@given(_WORDS, st.lists(st.tuples(st.integers(0, 60), st.sampled_from([" ", "\u3000", "\n", "\n\n", "\t"]))))
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_inserted_whitespace_is_never_content(text, inserts):
    after = text
    for pos, ws in sorted(inserts, reverse=True):
        after = after[:pos] + ws + after[pos:]
    assert classify_change(text, after).kind in ("unchanged", "noise")
    assert classify_change(text, text).kind == "unchanged"


def test_response_kinds():
    ok = BASE * 3
    assert classify_response(200, ok) == "ok"
    assert classify_response(None, None) == "error"
    assert classify_response(404, "ページが見つかりません") == "error"
    assert classify_response(500, ok) == "error"
    assert classify_response(403, ok) == "blocked"
    assert classify_response(503, "ただいまアクセスが集中しています。しばらく時間をおいてお試しください。") == "blocked"
    assert classify_response(200, "アクセスが集中しています\nしばらくお待ちください") == "blocked"
    assert classify_response(200, "ご指定のページは見つかりませんでした\nトップページへ") == "soft_404"
    assert classify_response(200, "本文", title="404 Not Found") == "soft_404"
    assert classify_response(200, "お探しのページは見つかりません。") == "soft_404"
    assert classify_response(200, "") == "empty"
    assert classify_response(200, "更新日：2025年4月1日\nページ番号：1") == "empty"
    assert classify_response(200, None, media_type="application/pdf") == "empty"
    deep = "https://ward.example.jp/kurashi/jinken/hitorioya/syuurou.html"
    top = "https://ward.example.jp/"
    assert classify_response(200, ok, start_url=deep, final_url=top) == "redirect_to_top"
    assert classify_response(200, ok, start_url=deep, final_url=top + "index.html") == "redirect_to_top"
    assert classify_response(200, ok, start_url=deep, final_url=deep.replace("syuurou", "syuurou2")) == "ok"
    assert classify_response(200, ok, start_url="https://ward.example.jp/",
                             final_url="https://ward.example.jp/index.html") == "ok"


def test_mentions_in_long_pages_are_not_soft_404_or_blocked():
    long_page = BASE + "\n" + "この手当は所得に応じて支給されます。窓口が混み合っています。" * 80
    text = long_page + "\nページが見つからない場合はサイトマップをご覧ください。ページが見つかりません"
    assert classify_response(200, text) == "ok"


def test_only_ok_is_a_baseline():
    assert is_baseline("ok")
    for kind in ("error", "soft_404", "empty", "blocked", "redirect_to_top"):
        assert not is_baseline(kind)


# --- real pages --------------------------------------------------------------------------------
needs_corpus = pytest.mark.skipif(not NOISE.is_dir(), reason="../shared/corpus/html_noise not present")


def _bs4_text(path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "lxml")
    title = soup.title.get_text() if soup.title else ""
    for tag in soup(["script", "style", "noscript", "header", "footer", "nav"]):
        tag.decompose()
    return title, "\n".join(s.strip() for s in soup.get_text("\n").split("\n") if s.strip())


@needs_corpus
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_real_soft_404_and_404_pages_bs4():
    for name in (SOFT_404, PAGE_404):
        title, text = _bs4_text(NOISE / name)
        assert classify_response(200, text, title=title) == "soft_404", name
        assert classify_response(404, text, title=title) == "error"
    title, text = _bs4_text(NOISE / "kanagawa__yokohama-city__20251112_071037_tail.html")
    assert classify_response(200, text, title=title) == "ok"


_STAMP = re.compile(r"^(?P<site>.+?)__(?P<stamp>\d{8}_\d{6})_(?P<variant>[^.]+)\.html$")


def _page_identity(path: Path) -> tuple[str, str, str]:
    """(site prefix, name variant, og:url/canonical or <title>): one prefix holds several pages."""
    m = _STAMP.match(path.name)
    assert m, path.name
    head = path.read_bytes()[:30000].decode("utf-8", "replace")
    url = re.search(r'(?:og:url"\s+content|rel="canonical"\s+href)="([^"]+)"', head)
    title = re.search(r"<title>(.*?)</title>", head, re.S)
    ident = url.group(1) if url else (title.group(1).strip() if title else "")
    return m.group("site"), m.group("variant"), ident


@needs_corpus
def test_real_soft_404_and_404_pages_extracted():
    for name in (SOFT_404, PAGE_404):
        doc = extract_html((NOISE / name).read_bytes())
        kind = classify_response(200, doc.text, title=doc.title, media_type=doc.media_type)
        assert kind == "soft_404", name


@needs_corpus
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_refetches_of_the_same_page_are_never_content():
    groups: dict[tuple[str, str, str], list[Path]] = {}
    for path in sorted(NOISE.glob("*.html")):
        groups.setdefault(_page_identity(path), []).append(path)
    docs = {p: extract_html(p.read_bytes()) for ps in groups.values() for p in ps}
    pairs = 0
    for paths in groups.values():
        usable = [p for p in paths if classify_response(200, docs[p].text, title=docs[p].title) == "ok"]
        for a, b in itertools.combinations(usable, 2):
            result = classify_change(docs[a].text, docs[b].text)
            assert result.kind in ("noise", "unchanged"), (a.name, b.name, result.changes()[:6])
            pairs += 1
    assert pairs >= 10  # chiba x4, hokkaido x2, yokohama x3, naha x2, tokyo x2


@needs_corpus
def test_different_pages_of_one_site_are_content():
    cat = extract_html((NOISE / "kanagawa__yokohama-city__20251113_155033_tail.html").read_bytes())
    dog = extract_html((NOISE / "kanagawa__yokohama-city__20251116_031229_tail.html").read_bytes())
    assert classify_change(cat.text, dog.text).kind == "content"
