"""Every fact keeps its full heading path (outermost first): what program matching resolves."""

from __future__ import annotations

from extractors.facts import extract_facts
from extractors.html import extract_html

PAGE = """<html><head><title>ひとり親家庭への支援｜練馬区公式ホームページ</title></head><body><main>
<h1>ひとり親家庭への支援</h1>
<h2>ひとり親家庭住宅支援資金貸付</h2>
<h3>貸付額</h3>
<p>月額上限4万円（最長12か月）</p>
<h3>お問い合わせ</h3>
<p>生活福祉課 電話：03-5984-4742</p>
<h2>児童扶養手当</h2>
<dl><dt>手当額（月額）</dt><dd>全部支給 46,690円</dd></dl>
</main></body></html>"""


def by_text(facts, part):
    return next(f for f in facts if part in f.text)


def test_html_facts_carry_title_and_every_open_heading():
    facts = extract_facts(extract_html(PAGE.encode()))
    loan = by_text(facts, "4万円")
    assert loan.heading_path == ("ひとり親家庭への支援｜練馬区公式ホームページ", "ひとり親家庭への支援",
                                 "ひとり親家庭住宅支援資金貸付", "貸付額")
    phone = by_text(facts, "03-5984-4742")
    assert phone.heading_path[-2:] == ("ひとり親家庭住宅支援資金貸付", "お問い合わせ")  # h3 replaced, h2 kept
    amount = by_text(facts, "46,690円")
    assert amount.heading_path[-2:] == ("児童扶養手当", "手当額（月額）")  # a new h2 closes the h3; the dt scope
    assert amount.to_json()["heading_path"] == list(amount.heading_path)
