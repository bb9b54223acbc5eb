"""wardwatch.review.app in this process (no server): oversized POST bodies are refused before they are read,
and an archived page no charset decodes is still shown, with a notice (the browser run: tests/e2e/test_browser.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support.helpers import Rows
from wardwatch.review.app import MAX_FORM_BYTES, create_app
from warehouse.db import Warehouse
from warehouse.schema import migrate

HOST = "127.0.0.1:8000"
UNDECODABLE = b"<html><body><h1>\x81\x20\xff\xfe\x80</h1><p>" + bytes(range(128, 256)) * 40 + b"</p></body></html>"


@pytest.fixture()
def review_db(tmp_path: Path) -> Path:
    db = tmp_path / "w.duckdb"
    wh = Warehouse(db)
    migrate(wh)
    with wh.connect() as con:
        rows = Rows(con)
        rows.version("v-ok", "https://city.example.jp/a/page.html",
                     rows.blob('<h1>児童扶養手当</h1><p>月額46,690円</p><a href="/decide">d</a>'.encode()), 1)
        rows.version("v-bad", "https://city.example.jp/a/bad.html", rows.blob(UNDECODABLE), 1)
    return db


def request(db: Path, method: str, path: str, **kw) -> httpx.Response:
    """One request to a fresh app for ``db`` through httpx's ASGI transport."""
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db)), base_url=f"http://{HOST}") as c:
            return await c.request(method, path, **kw)
    return asyncio.run(go())


def asgi_post(app, headers: list[tuple[bytes, bytes]], chunks, chunk_size: int) -> tuple[int, int]:
    """POST /decide straight through ASGI with a body of ``chunks`` chunks of ``chunk_size`` bytes, produced only
    when the app asks for them: (status, bytes the app pulled)."""
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        if pulled >= chunks * chunk_size:
            return {"type": "http.disconnect"}
        pulled += chunk_size
        return {"type": "http.request", "body": b"a" * chunk_size, "more_body": pulled < chunks * chunk_size}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/decide", "raw_path": b"/decide", "query_string": b"", "root_path": "",
             "headers": [(b"host", HOST.encode()), (b"origin", f"http://{HOST}".encode()),
                         (b"content-type", b"application/x-www-form-urlencoded"), *headers],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    return next(m["status"] for m in sent if m["type"] == "http.response.start"), pulled


def test_a_huge_declared_post_is_refused_before_reading(review_db):
    app = create_app(review_db)
    size = 400 * 1024 * 1024  # 400 MB announced: nothing of it is read
    status, pulled = asgi_post(app, [(b"content-length", str(size).encode())], chunks=400, chunk_size=1024 * 1024)
    assert status == 413 and pulled == 0


def test_a_huge_chunked_post_is_cut_at_the_limit(review_db):
    app = create_app(review_db)
    status, pulled = asgi_post(app, [(b"transfer-encoding", b"chunked")], chunks=400, chunk_size=64 * 1024)
    assert status == 413
    assert pulled <= MAX_FORM_BYTES + 64 * 1024  # stopped one chunk past the limit, not 25 MB later


def test_bad_content_length_and_small_posts(review_db):
    app = create_app(review_db)
    assert asgi_post(app, [(b"content-length", b"12x")], chunks=1, chunk_size=12)[0] == 400
    # a form within the limit is read and judged on its content (here: no CSRF token -> 403, not 413)
    status, pulled = asgi_post(app, [(b"content-length", b"1000")], chunks=1, chunk_size=1000)
    assert status == 403 and pulled == 1000
    big = request(review_db, "POST", "/decide", content=b"a" * (MAX_FORM_BYTES + 1), headers={"Origin": f"http://{HOST}"})
    assert big.status_code == 413 and "送信内容が大きすぎます" in big.text


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_an_undecodable_archived_page_is_shown_with_a_notice(review_db):
    bad = request(review_db, "GET", "/archive/v-bad/raw")
    assert bad.status_code == 200 and bad.headers["content-security-policy"].startswith("sandbox")
    assert "文字コードを判定できませんでした(undecodable: " in bad.text and "\ufffd" in bad.text
    assert "Traceback" not in bad.text
    ok = request(review_db, "GET", "/archive/v-ok/raw")
    assert ok.status_code == 200 and "月額46,690円" in ok.text and "文字コード" not in ok.text
    # a relative link never points at the review app itself
    assert 'href="https://city.example.jp/decide"' in ok.text and 'href="/decide"' not in ok.text
    assert request(review_db, "GET", "/archive/nope/raw").status_code == 404
