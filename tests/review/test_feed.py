"""The review app's Atom feed (/feed.atom): valid RFC 4287 (read with feedparser and checked element by element),
stable entry ids, a per-ward filter, links to the review app's items, one entry per change and its own flag."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import quote

import feedparser
import httpx
import pytest

from tests.review.queue import AMOUNT_A, FLAG_AMOUNT_A, FLAG_SECONDARY, PHONE_A
from wardwatch.review.app import create_app
from warehouse.review import record_decisions

A = "{http://www.w3.org/2005/Atom}"


def request(db, method: str, path: str) -> httpx.Response:
    """One request to a fresh app for ``db`` through httpx's ASGI transport."""
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db)),
                                     base_url="http://127.0.0.1:8000") as c:
            return await c.request(method, path)
    return asyncio.run(go())


def get(db, path: str = "/feed.atom") -> httpx.Response:
    r = request(db, "GET", path)
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    return r


def test_the_feed_is_valid_atom(queue_db):
    r = get(queue_db)
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "wardwatch 変更とフラグ" and parsed.feed.author == "wardwatch"
    # RFC 4287 4.1.1: a feed has exactly one id, title and updated, an author (or every entry has one), a self link
    root = ET.fromstring(r.content)
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{tag}")) == 1, tag
    assert root.find(f"{A}author/{A}name").text == "wardwatch"
    assert {(ln.get("rel"), ln.get("href")) for ln in root.findall(f"{A}link")} == {
        ("self", "http://127.0.0.1:8000/feed.atom"), ("alternate", "http://127.0.0.1:8000/")}
    entries = root.findall(f"{A}entry")
    for e in entries:  # 4.1.2: each entry has exactly one id, title and updated (RFC 3339), and an alternate link
        for tag in ("id", "title", "updated"):
            assert len(e.findall(f"{A}{tag}")) == 1, tag
        datetime.fromisoformat(e.find(f"{A}updated").text)
        assert e.find(f"{A}id").text.startswith("tag:wardwatch,2026:")
        assert e.find(f"{A}link").get("rel") == "alternate"
    stamps = [e.find(f"{A}updated").text for e in entries]
    assert root.find(f"{A}updated").text == max(stamps)
    ids = [e.find(f"{A}id").text for e in entries]
    assert len(ids) == len(set(ids))
    # one entry per change (its fact_changed flag is that entry), the other flags their own
    assert f"tag:wardwatch,2026:change:{AMOUNT_A}" in ids and f"tag:wardwatch,2026:flag:{FLAG_AMOUNT_A}" not in ids
    assert f"tag:wardwatch,2026:flag:{FLAG_SECONDARY}" in ids and "tag:wardwatch,2026:flag:bl-0" in ids
    assert len(ids) == 3 + 1 + 3  # 3 changes, the secondary flag, 3 broken links
    amount = parsed.entries[[e.id for e in parsed.entries].index(f"tag:wardwatch,2026:change:{AMOUNT_A}")]
    assert amount.title == "練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 5万円 (2026-11-02)"  # the report's line
    assert amount.link == f"http://127.0.0.1:8000/?status=all&ward=%E7%B7%B4%E9%A6%AC%E5%8C%BA#c-{AMOUNT_A}"
    assert "https://a.example.jp/syuurou.html" in amount.summary


@pytest.mark.slow  # renders the queue pages the entries link to
def test_entry_ids_are_stable_and_links_reach_the_items(queue_db):
    first, second = get(queue_db).content, get(queue_db).content
    assert first == second  # nothing changed: the same document, ids and updated included
    parsed = feedparser.parse(first)
    pages: dict[str, str] = {}
    for entry in parsed.entries:
        path, _, anchor = entry.link.removeprefix("http://127.0.0.1:8000").partition("#")
        if path not in pages:
            pages[path] = request(queue_db, "GET", path).text
        assert f'id="{anchor}"' in pages[path], entry.link  # the item is on the page the entry links to
    assert len(pages) == 2  # one page per ward
    # a decision changes the item's state, not its entry id; noise leaves the feed
    record_decisions(queue_db, [("change", PHONE_A)], "noise", reason="代表番号")
    ids = [e.id for e in feedparser.parse(get(queue_db).content).entries]
    assert f"tag:wardwatch,2026:change:{PHONE_A}" not in ids and f"tag:wardwatch,2026:change:{AMOUNT_A}" in ids


@pytest.mark.parametrize("ward, expected", [("北区", 1), ("練馬区", 6), ("世田谷区", 0), ('<b>"&\x01区', 0)])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_the_ward_filter(queue_db, ward, expected):
    r = get(queue_db, f"/feed.atom?ward={quote(ward)}")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo and len(parsed.entries) == expected
    assert parsed.feed.title == f"wardwatch 変更とフラグ — {ward.replace(chr(1), '')}"  # escaped, never markup
    root = ET.fromstring(r.content)
    assert root.find(f"{A}id").text == "tag:wardwatch,2026:feed:ward:" + quote(ward, safe="")  # its own feed id
    assert root.find(f"{A}link[@rel='self']").get("href") == "http://127.0.0.1:8000/feed.atom?ward=" + quote(ward)
    assert all(ward in e.title for e in parsed.entries)


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_control_characters_in_crawled_text_never_break_the_xml(queue_db):
    import duckdb

    with duckdb.connect(str(queue_db)) as con:
        con.execute("UPDATE fact_changes SET program = 'プログラム\x01\x0b<&>' WHERE seq = 1")
    r = get(queue_db)
    ET.fromstring(r.content)  # well-formed
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo and any("プログラム<&>" in e.title for e in parsed.entries)
