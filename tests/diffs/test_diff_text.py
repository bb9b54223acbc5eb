"""diffs.text: comparable_text, update_date_of, text_diff."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from diffs.text import changed_only, comparable_text, text_diff, update_date_of

PAGE = """練馬区ひとり親家庭自立支援プログラム策定事業
ページ番号：805-576-132
更新日：2025年4月1日
ひとり親家庭の方の自立を促進するため、支援計画を策定します。
対象者
区内に住む方"""


def test_update_date_line_removed_and_returned():
    assert "更新日" not in comparable_text(PAGE)
    assert "2025年4月1日" not in comparable_text(PAGE)
    assert update_date_of(PAGE) == "2025-04-01"


def test_update_date_variants():
    assert update_date_of("最終更新日：令和7年4月1日") == "2025-04-01"
    assert update_date_of("掲載日:2024/3/29") == "2024-03-29"
    assert update_date_of("更新日：２０２５年１１月１２日（水曜日）") == "2025-11-12"
    assert update_date_of("2025年4月1日更新") == "2025-04-01"
    assert update_date_of("ページ番号：1 最終更新日 2025年 4月 1日") == "2025-04-01"
    assert update_date_of("本文だけ\n申請期限 2025年4月1日") is None
    assert update_date_of("") is None


def test_item_dates_are_content_not_the_page_update_date():
    text = "最終更新日：2025年11月8日（土曜日）\n（仮名）ほぅ（雑種 メス 成猫）【R7.11.6更新】\n2025年11月1日掲載"
    assert update_date_of(text) == "2025-11-08"
    assert comparable_text(text) == "(仮名)ほぅ(雑種メス成猫)【R7.11.6更新】"
    assert update_date_of("（仮名）ほぅ【R7.11.6更新】\n本文") is None


def test_long_content_line_keeps_inline_dates():
    line = "制度は令和7年4月1日更新の要綱に基づき、所得制限限度額を改定しました。詳細は下記をご覧ください。" * 2
    assert "令和7年4月1日" in comparable_text(line)


def test_page_number_and_tokens_removed():
    text = "ページ番号：805-576-132\nページID：12345\n本文 GTM-NRM0001 G-5JLFEGTCR1 style.css?v=1731400000\n" \
           "/x.js?20251112 rs_639707 ;jsessionid=ABC123 UA-12345-1"
    out = comparable_text(text)
    assert out == "本文style.css\n/x.js"


def test_whitespace_and_width_normalised():
    a = comparable_text("児童扶養手当　月額 46,690円\n\n\n  お問い合わせ  ")
    b = comparable_text("児童扶養手当 月額４６，６９０円\nお問い合わせ")
    assert a == b


def test_related_block_dropped_but_contact_kept():
    text = ("本文です。\n関連ページ\nひとり親家庭\n児童扶養手当\nお問い合わせ\n生活福祉課 03-5984-1319\n"
            "このページを見ている人はこんなページも見ています\n保育園\n学童クラブ")
    out = comparable_text(text)
    assert out == "本文です。\nお問い合わせ\n生活福祉課03-5984-1319"


def test_related_block_stops_at_long_line():
    body = "この手当は、ひとり親家庭の生活の安定と自立を助けるために支給されるものであり、所得に応じて額が決まります。"
    out = comparable_text(f"関連情報\nリンク\n{body}")
    assert out == body


def test_carousel_counter_dropped_only_next_to_slider():
    assert comparable_text("stop\n2/4\n前のスライドを表示") == comparable_text("stop\n3/4\n前のスライドを表示")
    assert "1/2" in comparable_text("負担割合\n1/2\n対象経費")


def test_text_diff_line_then_char():
    ops = text_diff("対象者\n上限40,000円\n連絡先\n", "対象者\n上限50,000円\n連絡先\n新しい行\n")
    assert changed_only(ops) == [("delete", "4"), ("insert", "5"), ("insert", "新しい行\n")]
    assert text_diff("同じ\n", "同じ\n") == [("equal", "同じ\n")]
    assert text_diff("", "") == []


@given(st.text(alphabet="ab\n円0上限 ", max_size=40), st.text(alphabet="ab\n円0上限 ", max_size=40))
def test_text_diff_reconstructs_both_sides(a, b):
    ops = text_diff(a, b)
    assert "".join(t for op, t in ops if op != "insert") == a
    assert "".join(t for op, t in ops if op != "delete") == b
    assert all(ops[i][0] != ops[i + 1][0] for i in range(len(ops) - 1))


@given(st.text(max_size=200))
def test_comparable_text_is_idempotent(s):
    once = comparable_text(s)
    assert comparable_text(once) == once
