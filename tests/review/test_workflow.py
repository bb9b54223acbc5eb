"""The review workflow through the app in this process (Starlette's TestClient, no server): a change and its
fact_changed flag are one item, bulk decisions on a filtered list, inline validation keeping what was
typed, confirmation with undo, the noise-rule page, archived versions with previous / next and a diff
(the same in Chromium at desktop and phone width: tests/e2e/test_browser.py)."""

from __future__ import annotations

import re
import warnings
from html import unescape
from pathlib import Path

import pytest

with warnings.catch_warnings():  # Starlette would like httpx2; httpx is what the project has
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from tests.review.queue import AMOUNT_A, AMOUNT_B, FLAG_AMOUNT_A, FLAG_PHONE_A, PHONE_A
from tests.support.helpers import q
from wardwatch.review.app import create_app
from warehouse.review import (
    ReviewError,
    add_noise_rule,
    record_decisions,
    report_data,
    set_noise_rule_state,
    undo_reviews,
)

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def client(queue_db: Path):
    with TestClient(create_app(queue_db, reviewer="佐藤"), base_url=BASE) as c:
        yield c


def values(html: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'name="{name}" value="([^"]*)"', html)]


def post(client: TestClient, path: str, **form) -> object:
    if not client.cookies.get("wardwatch_csrf"):
        client.get("/rules")  # the session's CSRF cookie (the token is the cookie's value, echoed in the form)
    return client.post(path, data={"csrf": client.cookies["wardwatch_csrf"], **form}, follow_redirects=False)


def latest(db: Path) -> dict[tuple[str, str], str]:
    rows = q(db, "SELECT item_type, item_key, status FROM latest_reviews")
    return {(t, k): s for t, k, s in rows}


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_a_change_and_its_fact_changed_flag_are_one_item(queue_db, client):
    page = client.get("/").text
    # the flag is not a row of its own: its change carries it
    assert f'id="f-{FLAG_AMOUNT_A}"' not in page and f'id="f-{FLAG_PHONE_A}"' not in page
    assert f'data-flags="{FLAG_AMOUNT_A}"' in page and f'data-flags="{FLAG_PHONE_A}"' in page
    assert page.count('class="item flag') == 1  # only the secondary_outdated flag
    # deciding the change decides the flag, and the other way round
    ids = record_decisions(queue_db, [("change", PHONE_A)], "reviewed", reviewer="佐藤")
    assert len(ids) == 2
    assert latest(queue_db) == {("change", PHONE_A): "reviewed", ("flag", FLAG_PHONE_A): "reviewed"}
    record_decisions(queue_db, [("flag", FLAG_AMOUNT_A)], "follow_up")
    assert latest(queue_db)[("change", AMOUNT_A)] == "follow_up"
    assert ("change", AMOUNT_B) not in latest(queue_db)  # the same revision on another ward's page is its own item
    flags = {f["flag_id"]: f["status"] for f in report_data(queue_db)["flags"]}
    assert flags[FLAG_PHONE_A] == "reviewed" and flags[FLAG_AMOUNT_A] == "follow_up"


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_bulk_decision_on_a_filtered_list(queue_db, client):
    page = client.get("/?source=src-a&rule=broken_link").text
    shown = values(page, "shown")
    assert shown == ["flag:bl-0", "flag:bl-1", "flag:bl-2"]  # the filter: src-a's broken links only
    # some: the ticked boxes
    r = post(client, "/decide", form_id="bulk", pick=["flag:bl-1"], status="reviewed", next="/?source=src-a&rule=broken_link")
    assert r.status_code == 303
    assert {k for (t, k) in latest(queue_db)} == {"bl-1"}
    # all shown, one decision
    r = post(client, "/decide", form_id="bulk", all_shown="1", shown=shown, status="noise", reason="移転済みのページ",
             next="/?source=src-a&rule=broken_link")
    assert r.status_code == 303 and r.headers["location"].startswith("/?source=src-a&rule=broken_link&done=")
    assert {k: s for (t, k), s in latest(queue_db).items()} == {"bl-0": "noise", "bl-1": "noise", "bl-2": "noise"}
    confirmed = client.get(r.headers["location"]).text
    assert "3件を「ノイズ」にしました。" in confirmed and len(values(confirmed, "review")) == 3
    # a change group's box holds every page of the group; linked flags come along
    r = post(client, "/decide", form_id="bulk", pick=[f"change:{AMOUNT_A} change:{AMOUNT_B}"], status="reviewed", next="/")
    assert latest(queue_db)[("flag", FLAG_AMOUNT_A)] == "reviewed" and latest(queue_db)[("change", AMOUNT_B)] == "reviewed"
    assert "2件を「確認済み」にしました。(変更に対する「公式情報の変更」フラグ 1件も同じ判断にしました)" in \
        client.get(r.headers["location"]).text


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_nothing_ticked_or_no_noise_reason_shows_the_page_again_with_what_was_typed(queue_db, client):
    before = q(queue_db, "SELECT count(*) FROM reviews")[0][0]
    page = client.get("/").text
    (form_id,) = [f for f in values(page, "form_id") if f.startswith("g-") and "03-5984-4700" in
                  page.split(f'id="form-{f}"')[0].rsplit("<article", 1)[1]]
    r = post(client, "/decide", form_id=form_id, item=f"change:{PHONE_A}", status="noise", reason="  ",
             note="<b>代表番号</b>の確認中", make_rule="1", next="/?status=open&ward=練馬区")
    assert r.status_code == 400
    html = r.text
    form = html.split(f'id="form-{form_id}"', 1)[1].split("</form>", 1)[0]
    assert 'class="field-error"' in form and "ノイズとして却下するには理由を入力してください。" in form
    assert 'value="&lt;b&gt;代表番号&lt;/b&gt;の確認中"' in form  # the note, kept and escaped
    assert 'name="make_rule" value="1" checked' in form and 'aria-invalid="true"' in form
    assert 'role="alert"' in html and "<select name=\"ward\">" in html and 'value="練馬区" selected' in html
    # the bulk form with nothing ticked
    r = post(client, "/decide", form_id="bulk", status="reviewed", note="まとめて", next="/")
    assert r.status_code == 400 and "項目が選択されていません" in r.text
    assert 'value="まとめて"' in r.text.split('id="bulk"', 1)[1].split("</form>", 1)[0]
    assert q(queue_db, "SELECT count(*) FROM reviews")[0][0] == before  # nothing stored


@pytest.mark.slow  # a dozen requests, each reading the whole queue
def test_a_decision_is_confirmed_and_can_be_undone(queue_db, client):
    record_decisions(queue_db, [("change", AMOUNT_B)], "follow_up", note="電話で確認")
    r = post(client, "/decide", item=f"change:{AMOUNT_B}", status="reviewed", next="/?status=all")
    page = client.get(r.headers["location"]).text
    assert "1件を「確認済み」にしました。" in page and "元に戻す" in page
    assert 'name="next" value="/?status=all"' in page  # the confirmation is not carried on
    r = post(client, "/undo", review=values(page, "review"), next="/?status=all")
    assert r.status_code == 303 and "undone=1" in r.headers["location"]
    assert "1件の判断を取り消し、前の状態に戻しました。" in client.get(r.headers["location"]).text
    assert latest(queue_db)[("change", AMOUNT_B)] == "follow_up"
    assert q(queue_db, "SELECT note FROM latest_reviews WHERE item_key = ?", [AMOUNT_B]) == [("電話で確認",)]
    # undoing a first decision: back to no decision (both halves of the item)
    ids = record_decisions(queue_db, [("change", PHONE_A)], "reviewed")
    assert undo_reviews(queue_db, ids, reviewer="佐藤")["skipped"] == []
    by_key = {f"{c['after_version_id']}:{c['seq']}": c for c in report_data(queue_db)["changes"]}
    assert by_key[PHONE_A]["status"] is None
    assert latest(queue_db)[("flag", FLAG_PHONE_A)] == "undecided"
    # a decision already superseded is left alone; every row is kept
    old = record_decisions(queue_db, [("change", AMOUNT_A)], "reviewed")
    record_decisions(queue_db, [("change", AMOUNT_A)], "follow_up")
    assert undo_reviews(queue_db, old)["skipped"] == old
    assert latest(queue_db)[("change", AMOUNT_A)] == "follow_up"
    assert q(queue_db, "SELECT count(*) FROM reviews")[0][0] == 3 + 4 + 4  # AMOUNT_B alone; PHONE_A and AMOUNT_A with their flags
    with pytest.raises(ReviewError):
        undo_reviews(queue_db, ["20260101T000000000000Z-00000000"])


@pytest.mark.slow  # a dozen requests, each reading the whole queue
def test_noise_rules_can_be_listed_disabled_and_enabled(queue_db, client):
    rule = add_noise_rule(queue_db, "src-b", kind="amount", pattern=r"上限\d万円 → 上限\d万円", reason="表記ゆれ",
                          created_by="佐藤")
    assert f'data-item="{AMOUNT_B}"' not in client.get("/").text  # hidden by the rule
    page = client.get("/rules").text
    assert f'id="rule-{rule}"' in page and "表記ゆれ" in page and "無効にする" in page
    r = post(client, "/rules/state", rule=rule, active="0", reason="確認のため表示")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "ノイズルール 1件を無効にしました。" in page and "再び有効にする" in page and "確認のため表示" in page
    assert f'data-item="{AMOUNT_B}"' in client.get("/").text  # shown again
    # undo from the confirmation re-enables it
    r = post(client, "/undo", review=values(page, "review"), next="/rules")
    assert r.headers["location"].startswith("/rules?undone=1")
    assert f'data-item="{AMOUNT_B}"' not in client.get("/").text
    set_noise_rule_state(queue_db, rule, False)
    set_noise_rule_state(queue_db, rule, True, reviewer="鈴木")
    (active,) = report_data(queue_db)["noise_rules"]
    assert active["active"] and [h["status"] for h in active["history"]] == ["enabled", "disabled", "enabled", "disabled"]
    assert q(queue_db, "SELECT count(*) FROM noise_rules") == [(1,)]  # nothing deleted
    with pytest.raises(ReviewError):
        set_noise_rule_state(queue_db, "nope", False)


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_archived_versions_link_previous_and_next_with_a_diff(client):
    middle = client.get("/archive/va2").text
    assert 'rel="prev" class="prev" href="/archive/va1"' in middle and 'rel="next" class="next" href="/archive/va3"' in middle
    assert "版 2 / 3" in middle and "前の版との差分" in middle
    diff = middle.split('id="diff-previous"', 1)[1].split("</details>", 1)[0]
    assert "<del>4</del>" in diff and "<ins>5</ins>" in diff
    first = client.get("/archive/va1").text
    assert 'rel="prev"' not in first and "(最初の版)" in first and 'href="/archive/va2"' in first
    last = client.get("/archive/va3").text
    assert "(最新の版)" in last and "<ins>申請は窓口へ。</ins>" in last
    assert client.get("/archive/nope").status_code == 404


def test_the_review_app_shows_the_run_health_banner(client):
    page = client.get("/").text
    assert 'id="run-health"' in page and "3件のソースをすべて取得しました" in page


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_undo_and_rule_changes_need_the_form_token(queue_db, client):
    ids = record_decisions(queue_db, [("change", AMOUNT_B)], "reviewed")
    rule = add_noise_rule(queue_db, "src-b", kind="amount")
    for path, form in (("/undo", {"review": ids}), ("/rules/state", {"rule": rule, "active": "0"})):
        assert client.post(path, data=form, follow_redirects=False).status_code == 403
        assert client.post(path, data={**form, "csrf": "x" * 43}, follow_redirects=False).status_code == 403
    assert latest(queue_db) == {("change", AMOUNT_B): "reviewed"}  # nothing changed
    # unknown items and rules: a message, not a traceback
    r = post(client, "/decide", item="flag:nope", status="reviewed", next="/")
    assert r.status_code == 400 and "unknown flag item &#39;nope&#39;" in r.text and "Traceback" not in r.text
    assert post(client, "/rules/state", rule="nope", active="0").status_code == 400
    assert post(client, "/undo", review=["not-an-id"]).status_code == 400
