"""The review queue and the Atom feed by municipality › program (``tests/report/program_rows.py``): program headers,
the ``?program=`` filter next to the others (a program id, or the heading of items without one), bulk decisions on
one program, the feed's titles and its program filter; once in Chromium at phone width."""

from __future__ import annotations

import re
import threading
import warnings
from html import unescape
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest

with warnings.catch_warnings():  # Starlette would like httpx2; httpx is what the project has
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tests.report.program_rows import (
    FC_JIDO,
    JIDO,
    JIDO_A,
    JOSEI_B,
    JUTAKU,
    JUTAKU_A,
    JUTAKU_K,
    LINE_JUTAKU,
    OA_JIDO,
    OYAMOTO_B,
    SC_JOSEI,
    SO_JUTAKU,
    SR_OYAMOTO,
    fill,
)
from tests.support.helpers import free_port, q
from tests.support.waiting import wait_until
from wardwatch.review.app import create_app
from warehouse.db import Warehouse
from warehouse.schema import migrate

BASE = "http://127.0.0.1:8000"
CHANGES = {JIDO_A, JUTAKU_A, JUTAKU_K, OYAMOTO_B, JOSEI_B}
FLAGS = {OA_JIDO, SO_JUTAKU, SR_OYAMOTO, SC_JOSEI}


@pytest.fixture(scope="module")
def programs_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("programs-review") / "review.duckdb"
    wh = Warehouse(db)
    migrate(wh)
    with wh.connect() as con:
        fill(con)
        con.execute("CHECKPOINT")
    return db


@pytest.fixture
def programs_db(programs_template: Path, tmp_path: Path) -> Path:
    db = tmp_path / "review.duckdb"
    db.write_bytes(programs_template.read_bytes())
    return db


@pytest.fixture
def client(programs_db: Path):
    with TestClient(create_app(programs_db, reviewer="佐藤"), base_url=BASE) as c:
        yield c


def shown(html: str) -> tuple[set[str], set[str]]:
    """The change item keys and flag ids on a queue page."""
    return set(re.findall(r'<li class="page" id="c-([^"]+)"', html)), set(re.findall(r'<article class="item flag[^"]*" '
                                                                                   r'id="f-([^"]+)"', html))


def headers(html: str) -> list[str]:
    """Municipality and program headers in order: 'h3 北区', 'h4 北区親元近居助成事業' …"""
    changes = html.split('id="changes"', 1)[1].split('id="health"', 1)[0]
    return [f"{tag} {re.sub(r'<[^>]+>', '', text).split(' 変更 ')[0].strip()}"
            for tag, text in re.findall(r"<(h[34])>(.*?)</h[34]>", changes, flags=re.S)]


@pytest.mark.slow  # several requests, each reading the whole queue
def test_the_queue_is_grouped_by_municipality_and_program_and_filters_by_program(client):
    page = client.get("/").text
    assert headers(page) == ["h3 北区", "h4 北区親元近居助成事業", "h4 助成額", "h3 練馬区", "h4 児童扶養手当",
                             "h4 ひとり親家庭住宅支援資金貸付"]
    assert shown(page) == (CHANGES, FLAGS)
    assert page.index('id="run-health"') < page.index('class="filters"') < page.index('id="changes"')
    options = dict((unescape(v), unescape(label)) for v, label in re.findall(
        r'<option value="([^"]+)"(?: selected)?>([^<]+)</option>', page.split('name="program"', 1)[1].split("</select>")[0]))
    assert options == {JIDO: "児童扶養手当(国)", JUTAKU: "ひとり親家庭住宅支援資金貸付(国)",
                       "131172:親元近居助成": "北区親元近居助成事業(北区)", "助成額": "助成額"}
    # one program (by its id): its changes and flags only, whatever its pages call it
    one = client.get(f"/?program={JUTAKU}").text
    assert shown(one) == ({JUTAKU_A, JUTAKU_K}, {SO_JUTAKU})
    assert headers(one) == ["h3 練馬区", "h4 ひとり親家庭住宅支援資金貸付"]
    assert f'<option value="{JUTAKU}" selected>' in one
    assert f'href="/feed.atom?program={JUTAKU}"' in one  # the feed of what is shown
    # items without a program id: by their heading; and with the other filters (AND)
    assert shown(client.get(f"/?program={quote('助成額')}").text) == ({JOSEI_B}, {SC_JOSEI})
    assert shown(client.get(f"/?program={quote('助成額')}&ward={quote('練馬区')}").text) == (set(), set())
    assert shown(client.get(f"/?program={JIDO}&rule=outdated_amount").text) == (set(), {OA_JIDO})


@pytest.mark.slow  # a POST and two page reads
def test_a_bulk_decision_on_one_program(programs_db, client):
    page = client.get(f"/?program={JIDO}").text
    values = [unescape(v) for v in re.findall(r'name="shown" value="([^"]*)"', page)]
    assert values == [f"change:{JIDO_A}", f"flag:{OA_JIDO}"]  # its change (with its own flag) and the summary's flag
    r = client.post("/decide", data={"csrf": client.cookies["wardwatch_csrf"], "form_id": "bulk", "all_shown": "1",
                                     "shown": values, "status": "reviewed", "next": f"/?program={JIDO}"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/?program={JIDO}&done=")
    decided = {(t, k): s for t, k, s in q(programs_db, "SELECT item_type, item_key, status FROM latest_reviews")}
    assert decided == {("change", JIDO_A): "reviewed", ("flag", FC_JIDO): "reviewed", ("flag", OA_JIDO): "reviewed"}
    rest = client.get("/").text
    assert shown(rest) == (CHANGES - {JIDO_A}, FLAGS - {OA_JIDO})
    assert "h4 児童扶養手当" not in headers(rest)  # nothing left to review in it


@pytest.mark.slow  # two feed requests
def test_feed_titles_are_the_report_lines_and_the_feed_filters_by_program(client):
    parsed = feedparser.parse(client.get("/feed.atom").content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = {e.id.removeprefix("tag:wardwatch,2026:"): e.title for e in parsed.entries}
    assert titles[f"change:{JUTAKU_A}"] == titles[f"change:{JUTAKU_K}"] == LINE_JUTAKU
    assert titles[f"change:{JOSEI_B}"] == "北区 › 助成額: 月額上限2万円 → 2万5千円 (2026-04-01)"
    assert titles[f"flag:{OA_JIDO}"] == "[高] 過年度の金額: 練馬区 › 児童扶養手当"
    assert titles[f"flag:{SR_OYAMOTO}"] == "[高] 古い時点の情報: 北区 › 北区親元近居助成事業"  # the summary says 親元近居助成
    assert f"flag:{FC_JIDO}" not in titles  # its change's entry
    r = client.get(f"/feed.atom?program={JUTAKU}")
    one = feedparser.parse(r.content)
    assert not one.bozo and {e.id.removeprefix("tag:wardwatch,2026:") for e in one.entries} == {
        f"change:{JUTAKU_A}", f"change:{JUTAKU_K}", f"flag:{SO_JUTAKU}"}
    assert one.feed.title == "wardwatch 変更とフラグ — ひとり親家庭住宅支援資金貸付"
    assert one.feed.id == f"tag:wardwatch,2026:feed:program:{JUTAKU}"
    both = feedparser.parse(client.get(f"/feed.atom?ward={quote('北区')}&program={quote('助成額')}").content)
    assert [e.title for e in both.entries] == ["[中] 二次情報と公式情報の不一致: 北区 › 助成額",  # first seen 10:00
                                               "北区 › 助成額: 月額上限2万円 → 2万5千円 (2026-04-01)"]  # detected 09:00
    assert both.feed.title == "wardwatch 変更とフラグ — 北区 › 助成額"


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.slow  # headless Chromium
def test_the_program_filter_in_chromium_at_phone_width(programs_db):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (run `make test` as root, or apt-get install chromium)")
    import uvicorn
    from playwright.sync_api import Error, sync_playwright

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(programs_db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="review-app", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 20, "the review app to start")
        with sync_playwright() as pw:
            try:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
            except Error as exc:
                pytest.skip(f"Chromium cannot be launched here: {str(exc).splitlines()[0]}")
            page = browser.new_page(viewport={"width": 390, "height": 900}, locale="ja-JP")
            page.set_default_timeout(20_000)
            page.goto(f"http://127.0.0.1:{port}/")
            programs = page.locator("#changes section.program h4").all_inner_texts()
            assert programs == ["北区親元近居助成事業", "助成額", "児童扶養手当", "ひとり親家庭住宅支援資金貸付"]
            jutaku = page.locator("section.program", has=page.locator("h4", has_text="ひとり親家庭住宅支援資金貸付"))
            assert jutaku.locator(".badge.scope").inner_text() == "国"
            assert jutaku.locator("article.change .line").inner_text().startswith(
                "練馬区 › ひとり親家庭住宅支援資金貸付: 上限4万円 → 上限5万円 (2026-04-01)")
            page.select_option("select[name=program]", JUTAKU)
            page.get_by_role("button", name="絞り込む").click()
            page.wait_for_load_state()
            assert f"program={JUTAKU}" in page.url
            assert page.locator("#changes section.program h4").all_inner_texts() == ["ひとり親家庭住宅支援資金貸付"]
            assert page.locator("#changes li.page").count() == 2 and page.locator("#changes article.flag").count() == 1
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner == 390, f"{scroll}px wide in a 390px viewport"
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
