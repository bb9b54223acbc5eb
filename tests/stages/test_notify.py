"""Notifications: the Japanese notice built from a report model, delivered through Apprise and the JSON webhook
to loopback receivers; a failing notifier only comes back as a reason."""

from __future__ import annotations

import pytest

from tests.support.helpers import free_port
from tests.support.receiver import Receiver
from wardwatch.report.model import build_report
from wardwatch.report.notice import notice_from_model
from wardwatch.stages.notify import deliver, notify_urls, redact


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _change(municipality: str, program: str, before: str, after: str, url: str, seq: int) -> dict:
    return {"after_version_id": f"v{seq}", "seq": seq, "url": url, "source_id": "nerima", "municipality": municipality,
            "source_kind": "official", "program": program, "kind": "amount", "qualifier": "上限", "change": "changed",
            "before": int(before[:-2]) * 10000, "after": int(after[:-2]) * 10000, "before_text": before,
            "after_text": after, "run_id": "r2", "page": None, "before_version_id": f"u{seq}"}


def _health(failed: bool) -> dict:
    return {"source_id": "kita", "municipality": "北区", "source_kind": "official", "run_id": "r2",
            "fetched": 0 if failed else 5, "errors": 1 if failed else 0, "ok": 0 if failed else 5, "failed": failed,
            "error_kinds": {"dns": 1} if failed else {}, "reason": None}


def test_notice_lists_each_change_with_place_values_and_url() -> None:
    model = build_report({"changes": [
        _change("練馬区", "住宅支援資金貸付", "4万円", "5万円", "https://www.city.nerima.tokyo.jp/a.html", 1)],
        "flags": [], "health": [_health(False)]})
    notice = notice_from_model(model, report="/data/reports/r2.html")
    assert "練馬区 › 住宅支援資金貸付: 金額(上限) 4万円 → 5万円 https://www.city.nerima.tokyo.jp/a.html" in notice.body
    assert notice.body.endswith("レポート: /data/reports/r2.html")
    assert notice.title == "wardwatch: 変更1件" and notice.worth_sending


def test_a_failed_crawl_is_a_notice_of_its_own() -> None:
    model = build_report({"changes": [], "flags": [], "health": [_health(True)]})
    notice = notice_from_model(model)
    assert notice.worth_sending and notice.failed_sources == ["kita"]
    assert notice.title == "wardwatch: 取得失敗"
    assert notice.body.splitlines()[0] == "🛑 1件中1件のソースを取得できませんでした — 変更なしではありません"
    assert "kita(北区): ホスト名を解決できません" in notice.body


def test_nothing_to_say_is_not_sent() -> None:
    model = build_report({"changes": [], "flags": [], "health": [_health(False)]})
    assert not notice_from_model(model).worth_sending


@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_apprise_and_webhook_deliver_the_same_japanese_notice(receiver: Receiver) -> None:
    delivery = deliver("wardwatch: 変更1件", "練馬区 › 住宅支援資金貸付: 4万円 → 5万円", {"changes": 1},
                       urls=[f"json://127.0.0.1:{receiver.port}/apprise"],
                       webhook=f"http://127.0.0.1:{receiver.port}/hook")
    assert delivery.errors == [] and delivery.sent == ["json://127.0.0.1", "http://127.0.0.1"]
    apprise_body, webhook_body = receiver.bodies
    assert apprise_body["title"] == "wardwatch: 変更1件"
    assert apprise_body["message"] == "練馬区 › 住宅支援資金貸付: 4万円 → 5万円"
    assert webhook_body["text"] == "wardwatch: 変更1件\n練馬区 › 住宅支援資金貸付: 4万円 → 5万円"
    assert webhook_body["changes"] == 1


def test_failing_notifiers_come_back_as_reasons_never_raise() -> None:
    port = free_port()  # nothing listens there
    delivery = deliver("t", "b", {}, urls=[f"json://127.0.0.1:{port}/x", "nosuchservice://token@host"],
                       webhook=f"http://127.0.0.1:{port}/hook")
    assert delivery.sent == [] and len(delivery.errors) == 3
    assert delivery.errors[1].startswith("nosuchservice://host: not a notification URL")
    assert "token" not in " ".join(delivery.errors)  # secrets in URLs are not logged


def test_urls_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("WARDWATCH_NOTIFY", "ntfy://wardwatch, mailto://u:p@example.jp  json://127.0.0.1/x")
    assert notify_urls() == ["ntfy://wardwatch", "mailto://u:p@example.jp", "json://127.0.0.1/x"]
    assert notify_urls(["slack://a/b/c"]) == ["slack://a/b/c"]
    assert redact("mailto://user:secret@example.jp/x?to=a") == "mailto://example.jp"
