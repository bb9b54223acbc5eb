"""End to end in headless Chromium: the HTML report (file://) and the review app (loopback).

The warehouse is built by crawling a copy of the demo site v1 → v2 with one extra, hostile secondary
page (a <script>, a javascript: link, an <img onerror> and `"><img src=x onerror=…>` written as text in
a heading and next to a value). Uses Debian's /usr/bin/chromium through Playwright (never
`playwright install`); skipped with a message where Chromium cannot be launched. Screenshots are saved
under tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Error, sync_playwright

from tests.support.helpers import free_port, main
from tests.support.waiting import wait_until
from wardwatch.demo.script import demo_registry, demo_site_root
from wardwatch.demo.server import DEMO_CONFIG, SiteServer
from wardwatch.stages.crawl import crawl_subprocess
from wardwatch.stages.extract import extract_pending as extract_stage

pytestmark = pytest.mark.slow  # headless Chromium over a warehouse of two real crawls

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # tests/artifacts
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INJECTED = '"&gt;&lt;img src=x onerror=alert(1)&gt;'  # as written in the page's source: text, not markup
HOSTILE_PAGE = """<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8">
<title>{inj} ひとり親支援まとめ</title>
<script>alert("script in page")</script>
</head>
<body onload="alert('onload')">
<h1>ひとり親支援まとめ {inj}</h1>
<h2>学習支援事業 {inj}</h2>
<p>&lt;script&gt;alert(1)&lt;/script&gt;受講料の助成は{inj}月額{amount}です。</p>
<p><a href="javascript:alert('link')">詳しくはこちら</a> <a href=" JaVaScRiPt:alert('spaced')">もう一つ</a></p>
<p><img src="x" onerror="alert('img')" alt="画像"></p>
<iframe src="javascript:alert('frame')"></iframe>
<object data="javascript:alert('object')"></object>
</body></html>
"""
HOSTILE_SOURCE = """
[[source]]
id = "demo-hostile"
municipality = "練馬区"
code = "131202"
kind = "secondary"
start_urls = ["{base}/press/hostile.html"]
allowed_domains = ["127.0.0.1"]
follow = []
max_depth = 0
schedule = "0 9 * * 1"
delay_seconds = 0
"""
# what an injection would have created in our page
INJECTION_PROBE = """() => ({
  scripts: document.querySelectorAll('script').length,
  imgs: document.querySelectorAll('img').length,
  handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
  jsLinks: [...document.querySelectorAll('[href],[src],[action]')].filter(
      e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action') || '')).length,
  frames: [...document.querySelectorAll('iframe')].filter(f => f.getAttribute('sandbox') === null).length,
})"""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (run `make test` as root, or apt-get install chromium chromium-driver)")
    return str(CHROMIUM)


@pytest.fixture
def browser(chromium_path, tmp_path):
    with sync_playwright() as pw:
        try:
            context = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900}, locale="ja-JP", timeout=60_000)
        except Error as exc:
            pytest.skip(f"Chromium cannot be launched here: {str(exc).splitlines()[0]}")
        context.set_default_timeout(20_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def crawled_warehouse(tmp_path_factory) -> Path:
    """A copy of the demo site (+ a hostile secondary page) crawled v1 → v2, extracted and diffed."""
    from wardwatch.stages.changes import detect_changes

    root = tmp_path_factory.mktemp("hostile-site")
    versions = {}
    for version, amount in (("v1", "3,000円"), ("v2", "3,500円")):
        versions[version] = root / "site" / version
        shutil.copytree(demo_site_root() / version, versions[version])
        page = versions[version] / "press" / "hostile.html"
        page.write_text(HOSTILE_PAGE.format(inj=INJECTED, amount=amount), encoding="utf-8")
    db = root / "data" / "wardwatch.duckdb"
    config = replace(DEMO_CONFIG, redirects=dict(DEMO_CONFIG.redirects), no_charset=set(DEMO_CONFIG.no_charset),
                     headers={}, faults={})
    with SiteServer(versions["v1"], config) as site:
        reg = root / "sources.toml"
        reg.write_text(demo_registry(site.base) + HOSTILE_SOURCE.format(base=site.base), encoding="utf-8")
        for version in ("v1", "v2"):
            site.root = versions[version]
            result = crawl_subprocess(reg, db, timeout=180)
            assert result["status"] != "failed", result
            extract_stage(db)
            detect_changes(db, today=date(2026, 11, 22))
    return db


@pytest.fixture
def hostile_warehouse(crawled_warehouse, tmp_path) -> Path:
    """A private copy of the crawled warehouse (tests store reviews in it)."""
    db = tmp_path / "wardwatch.duckdb"
    shutil.copyfile(crawled_warehouse, db)
    return db


class ReviewServer:
    """The review app served by uvicorn in a thread on a free loopback port."""

    def __init__(self, db: Path, reviewer: str):
        import uvicorn

        from wardwatch.review.app import create_app

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(db, reviewer=reviewer), host="127.0.0.1",
                                                    port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="review-app", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ReviewServer:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 20, "the review app to start")
        assert self.server.started, "review app did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def watch_dialogs(page) -> list[str]:
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def assert_nothing_injected(page, *, imgs_allowed: int = 0) -> None:
    found = page.evaluate(INJECTION_PROBE)
    assert found == {"scripts": 0, "imgs": imgs_allowed, "handlers": 0, "jsLinks": 0, "frames": 0}, found


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def change_article(page, text: str):
    return page.locator("#changes article.change", has_text=text)


def test_html_report_in_chromium(chromium_path, browser, hostile_warehouse, tmp_path, monkeypatch):
    monkeypatch.delenv("WARDWATCH_REVIEW_URL", raising=False)
    report = tmp_path / "report" / "report.html"
    report.parent.mkdir()
    assert main(["report", "--db", str(hostile_warehouse), "-o", str(report)]) == 0  # archived texts embedded
    page = browser.new_page()
    dialogs = watch_dialogs(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    amount = change_article(page, "上限5万円")
    assert amount.locator(".change-values del").inner_text() == "上限4万円"
    assert amount.locator(".change-values ins").inner_text() == "上限5万円"
    assert amount.locator(".snippet.after mark").inner_text() == "上限5万円"
    assert "貸付額は上限5万円、12か月間です。" in amount.locator(".snippet.after").inner_text()
    phone = change_article(page, "03-5984-4700")
    assert phone.locator(".change-values del").inner_text() == "03-5984-4742"
    hostile = change_article(page, "月額3,500円")  # its program heading and sentence carry markup, shown as text
    assert '学習支援事業 "><img src=x onerror=alert(1)>' in page.locator("#changes h4").all_inner_texts()
    assert hostile.locator(".snippet.after").inner_text() == (
        '変更後<script>alert(1)</script>受講料の助成は"><img src=x onerror=alert(1)>月額3,500円です。')
    # archived versions are embedded in the file; the diff is collapsed until opened
    href = amount.locator("a", has_text="保存版").first.get_attribute("href")
    assert href.startswith("#archive-")
    diff = page.locator("details.diff").first
    assert diff.get_attribute("open") is None
    diff.locator("summary").click()
    assert page.locator("details.diff table.sbs ins", has_text="5").first.is_visible()
    assert page.locator("#changes article.flag", has_text="二次情報が古いまま").count() >= 1  # flags sit by ward › program
    assert "リンク切れ" in page.locator("#health").inner_text()
    assert_nothing_injected(page)
    shot(page, "report.png")
    assert dialogs == []
    assert [u for u in requests if not u.startswith("file://")] == []  # one self-contained file


def test_review_app_in_chromium(chromium_path, browser, hostile_warehouse):
    import duckdb

    with ReviewServer(hostile_warehouse, reviewer="テスト担当") as app:
        page = browser.new_page()
        dialogs = watch_dialogs(page)
        page.goto(app.base + "/")
        assert change_article(page, "上限5万円").count() == 1
        assert change_article(page, "03-5984-4700").count() == 1
        assert_nothing_injected(page)
        shot(page, "review-queue.png")

        # 確認済み on the amount change, ノイズ (with a reason and a noise rule) on the phone change
        change_article(page, "上限5万円").get_by_role("button", name="確認済み").click()
        page.wait_for_load_state()
        phone = change_article(page, "03-5984-4700")
        phone.locator("input[name=reason]").fill("代表番号の付け替え(テスト)")
        phone.locator("input[name=note]").fill("<b>メモ</b>")
        phone.locator("input[name=make_rule]").check()
        phone.get_by_role("button", name="ノイズ").click()
        page.wait_for_load_state()

        page.reload()
        assert change_article(page, "上限5万円").count() == 0  # hidden from the default queue
        assert change_article(page, "03-5984-4700").count() == 0
        assert change_article(page, "月額3,500円").count() == 1
        assert "確認済み" in page.locator("#summary").inner_text()

        page.select_option("select[name=status]", "all")
        page.get_by_role("button", name="絞り込む").click()
        page.wait_for_load_state()
        assert "status=all" in page.url
        amount = change_article(page, "上限5万円")
        assert amount.locator(".head .badge.state-reviewed").inner_text() == "確認済み"
        assert "テスト担当" in amount.locator(".review").inner_text()
        phone = change_article(page, "03-5984-4700")
        assert phone.locator(".head .badge.state-noise").inner_text() == "ノイズ"
        assert "代表番号の付け替え(テスト)" in phone.inner_text() and "<b>メモ</b>" in phone.inner_text()
        assert "代表番号の付け替え(テスト)" in page.locator("#rules").inner_text()
        assert_nothing_injected(page)
        shot(page, "review-after.png")

        # filters: one ward, one flag rule
        page.goto(app.base + "/?ward=北区&rule=stale_reference&status=open")
        assert change_article(page, "上限5万円").count() == 0
        assert page.locator("#changes article.flag").count() == 1

        # CSRF: no token, a wrong token, a foreign Origin → 403; the real form token works
        token = page.locator("input[name=csrf]").first.get_attribute("value")
        item = page.locator("input[name=item]").first.get_attribute("value")
        decide = app.base + "/decide"
        assert page.request.post(decide, form={"item": item, "status": "reviewed"}).status == 403
        assert page.request.post(decide, form={"item": item, "status": "reviewed", "csrf": "x" * 43}).status == 403
        assert page.request.post(decide, form={"item": item, "status": "reviewed", "csrf": token},
                                 headers={"Origin": "http://evil.example"}).status == 403
        ok = page.request.post(decide, form={"item": item, "status": "follow_up", "csrf": token, "next": "/"},
                               headers={"Origin": app.base}, max_redirects=0)
        assert ok.status == 303 and re.fullmatch(r"/\?done=[0-9TZ]+-[0-9a-f]{8}", ok.headers["location"])
        assert page.request.get(app.base + "/", headers={"Host": "attacker.example"}).status == 400

        # the archived hostile page: sanitized, sandboxed, never executed
        with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
            (version_id,) = con.execute("SELECT version_id FROM versions WHERE url LIKE '%/press/hostile.html' "
                                        "ORDER BY valid_from DESC LIMIT 1").fetchone()
        page.goto(f"{app.base}/archive/{version_id}")
        frame = page.frame_locator("iframe.archive")
        assert "学習支援事業" in frame.locator("body").inner_text()
        assert page.locator("iframe.archive").get_attribute("sandbox") == ""
        raw = page.request.get(f"{app.base}/archive/{version_id}/raw")
        assert raw.headers["content-security-policy"].startswith("sandbox")
        assert raw.headers["x-content-type-options"] == "nosniff"
        body = raw.text()
        assert "<script" not in body and "onerror" not in body.replace("onerror=alert(1)&gt;", "")
        assert "javascript:" not in body.lower().replace("&lt;script&gt;", "")
        shot(page, "archive.png")

        # the static report served by the app: its archive links open the app's /archive/<id>
        page.goto(app.base + "/report?all=1")
        change_article(page, "上限5万円").locator("a", has_text="保存版").first.click()
        page.wait_for_load_state()
        assert "/archive/" in page.url and page.locator("h1").inner_text().startswith("保存版 ")
        assert dialogs == []

    with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
        rows = con.execute("SELECT status, reviewer, reason FROM reviews ORDER BY decided_at").fetchall()
        rules = con.execute("SELECT source_id, kind, before_text, after_text, created_by FROM noise_rules").fetchall()
    # each change and its own fact_changed flag: one decision, two rows
    assert rows[:4] == [("reviewed", "テスト担当", None)] * 2 + [("noise", "テスト担当", "代表番号の付け替え(テスト)")] * 2
    assert rules == [("demo-nerima", "phone", "03-5984-4742", "03-5984-4700", "テスト担当")]


def test_pdf_versions_download_as_attachments(hostile_warehouse):
    import urllib.error
    import urllib.request

    import duckdb

    with duckdb.connect(str(hostile_warehouse), read_only=True) as con:
        (version_id,) = con.execute("SELECT version_id FROM versions WHERE media_type = 'application/pdf' LIMIT 1"
                                    ).fetchone()
    with ReviewServer(hostile_warehouse, reviewer="") as app:
        with urllib.request.urlopen(f"{app.base}/archive/{version_id}/raw", timeout=10) as response:
            assert response.read(5) == b"%PDF-"
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"].startswith("sandbox")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{app.base}/archive/nope", timeout=10)
        assert missing.value.code == 404 and "Traceback" not in missing.value.read().decode()


# --- the review workflow and the phone layout, at desktop and phone width -------------------------------

WIDTHS = [pytest.param(1280, id="desktop"), pytest.param(390, id="phone")]


def assert_fits(page, width: int) -> None:
    """Nothing wider than the viewport: the document does not scroll sideways (tables scroll in their box)."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == width and scroll <= width, f"{page.url}: {scroll}px wide in a {width}px viewport"


def page_versions(db: Path, like: str) -> list[str]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT version_id FROM versions WHERE url LIKE ? ORDER BY valid_from",
                                          [like]).fetchall()]


@pytest.mark.parametrize("width", WIDTHS)
def test_report_file_layout_and_embedded_archive(chromium_path, browser, hostile_warehouse, tmp_path, monkeypatch,
                                                 width):
    monkeypatch.delenv("WARDWATCH_REVIEW_URL", raising=False)
    report = tmp_path / "report.html"
    assert main(["report", "--db", str(hostile_warehouse), "-o", str(report)]) == 0
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(report.as_uri())
    assert_fits(page, width)
    # the side-by-side diff: two columns on a desktop, stacked (before above after) on a phone
    diff = page.locator("details.diff", has_text="syuurou.html").first
    diff.locator("summary").click()
    row = diff.locator("tr.change", has_text="5万円").first
    left, right = row.locator("td.left").bounding_box(), row.locator("td.right").bounding_box()
    if width < 700:
        assert right["y"] >= left["y"] + left["height"] - 1 and right["x"] == left["x"]
    else:
        assert abs(right["y"] - left["y"]) < 1 and right["x"] > left["x"] + left["width"] - 1
    assert_fits(page, width)
    # 保存版 opens the version's text embedded in the file (no server, no dead link)
    amount = change_article(page, "上限5万円")
    link = amount.locator("a", has_text="保存版").first
    href = link.get_attribute("href")
    assert href.startswith("#archive-")
    target = page.locator(f"[id='{href[1:]}']")
    assert not target.locator(".archived-body").is_visible()
    link.click()
    assert target.locator(".archived-body").is_visible()
    assert "貸付額は上限5万円" in target.locator("pre.text").inner_text()
    assert_fits(page, width)
    shot(page, f"report-{width}.png")


@pytest.mark.parametrize("width", WIDTHS)
def test_review_workflow_in_chromium(chromium_path, browser, hostile_warehouse, width):
    with ReviewServer(hostile_warehouse, reviewer="テスト担当") as app:
        page = browser.new_page()
        page.set_viewport_size({"width": width, "height": 900})
        dialogs = watch_dialogs(page)
        page.goto(app.base + "/")
        assert_fits(page, width)
        assert page.locator("#run-health").is_visible()  # the run-health banner, as in the report
        # a change and its own fact_changed flag: one item
        amount = change_article(page, "上限5万円")
        assert "公式情報の変更" in amount.locator(".linked-flag").inner_text()
        assert page.locator("#changes article.flag", has_text="公式情報の変更").count() == 0

        # inline validation: ノイズ without a reason keeps what was typed, the message next to the field
        phone = change_article(page, "03-5984-4700")
        phone.locator("input[name=note]").fill("番号の付け替えを確認中")
        phone.get_by_role("button", name="ノイズ").click()
        page.wait_for_load_state()
        phone = change_article(page, "03-5984-4700")
        assert phone.locator(".field-error").inner_text() == "ノイズとして却下するには理由を入力してください。"
        assert phone.locator("input[name=note]").input_value() == "番号の付け替えを確認中"
        assert page.evaluate("document.activeElement.name") == "reason"
        assert_fits(page, width)

        # a decision is confirmed; undo puts the item back
        phone.locator("input[name=reason]").fill("代表番号の付け替え")
        phone.get_by_role("button", name="ノイズ").click()
        page.wait_for_load_state()
        assert "1件を「ノイズ」にしました。" in page.locator("#confirm").inner_text()
        assert change_article(page, "03-5984-4700").count() == 0
        assert_fits(page, width)
        page.locator("#confirm").get_by_role("button", name="元に戻す").click()
        page.wait_for_load_state()
        assert "取り消し、前の状態に戻しました" in page.locator("#confirm").inner_text()
        assert change_article(page, "03-5984-4700").locator(".head .badge.state-new").inner_text() == "未確認"

        # bulk: every item shown for one source, one decision, then undone; and only the ticked ones
        page.goto(app.base + "/?source=demo-mamamoi-kita")
        shown = page.locator("input[name=shown]").count()
        assert shown >= 2
        page.locator("#bulk input[name=all_shown]").check()
        page.locator("#bulk").get_by_role("button", name="確認済み").click()
        page.wait_for_load_state()
        assert f"{shown}件を「確認済み」にしました。" in page.locator("#confirm").inner_text()
        assert page.locator("input[name=shown]").count() == 0
        page.locator("#confirm").get_by_role("button", name="元に戻す").click()
        page.wait_for_load_state()
        assert page.locator("input[name=shown]").count() == shown
        page.locator("label.pick input").first.check()
        page.locator("#bulk").get_by_role("button", name="要確認").click()
        page.wait_for_load_state()
        assert "1件を「要確認」にしました。" in page.locator("#confirm").inner_text()
        assert_fits(page, width)

        # a noise rule: made from a dismissal, kept when the dismissal is undone, then disabled and re-enabled
        page.goto(app.base + "/")
        phone = change_article(page, "03-5984-4700")
        phone.locator("input[name=reason]").fill("代表番号の付け替え")
        phone.locator("input[name=make_rule]").check()
        phone.get_by_role("button", name="ノイズ").click()
        page.wait_for_load_state()
        assert "ノイズルールを1件作成しました" in page.locator("#confirm").inner_text()
        page.locator("#confirm").get_by_role("button", name="元に戻す").click()
        page.wait_for_load_state()
        assert change_article(page, "03-5984-4700").count() == 0  # no decision now, but the rule hides it
        page.goto(app.base + "/rules")
        assert_fits(page, width)
        rule = page.locator("article.rule")
        assert rule.count() == 1 and rule.locator(".badge").inner_text() == "有効"
        rule.locator("input[name=reason]").fill("番号を確認するため")
        rule.get_by_role("button", name="無効にする").click()
        page.wait_for_load_state()
        assert "ノイズルール 1件を無効にしました。" in page.locator("#confirm").inner_text()
        assert page.locator("article.rule .badge").inner_text() == "無効"
        page.goto(app.base + "/")
        assert change_article(page, "03-5984-4700").count() == 1
        page.goto(app.base + "/rules")
        page.get_by_role("button", name="再び有効にする").click()
        page.wait_for_load_state()
        assert page.locator("article.rule .badge").inner_text() == "有効"
        page.locator("article.rule details.history summary").click()
        assert "無効化・テスト担当・理由: 番号を確認するため" in page.locator("article.rule details.history").inner_text()
        page.goto(app.base + "/")
        assert change_article(page, "03-5984-4700").count() == 0

        # archived versions: previous / next, and the diff to the previous one
        first, second = page_versions(hostile_warehouse, "%/syuurou.html")
        page.goto(f"{app.base}/archive/{second}")
        assert_fits(page, width)
        assert "(最新の版)" in page.locator("nav.versions").inner_text()
        assert page.locator("#diff-previous table.sbs ins", has_text="5").first.is_visible()
        page.locator("nav.versions a[rel=prev]").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/archive/{first}") and "(最初の版)" in page.locator("nav.versions").inner_text()
        page.locator("nav.versions a[rel=next]").click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/archive/{second}")
        assert_fits(page, width)
        shot(page, f"archive-{width}.png")
        assert dialogs == []
