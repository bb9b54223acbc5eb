"""A source's switchboard (registry `switchboard`) gives area codes to the phones its pages print without one."""

from __future__ import annotations

import pytest

from tests.support.helpers import Rows, q
from wardwatch.stages.extract import extract_pending
from warehouse.db import Warehouse
from warehouse.schema import migrate

PAGE = """<html><head><meta charset="utf-8"><title>ごみの出し方</title></head><body><main>
<h1>ごみの出し方</h1><p>粗大ごみの収集は申込制です。</p>
<p>問い合わせ　住民課生活環境係　☎ 5-3311</p></main></body></html>""".encode()


@pytest.mark.parametrize(("switchboard", "value", "local"), [
    ("01656-5-3311", "+81165653311", None),  # the village's 代表 gives 01656
    (None, "5-3311", True),  # nothing in the page or the registry tells the area code: kept as written
])
@pytest.mark.slow  # > 0.2 s: kept out of `make test-fast`
def test_switchboard_decides_the_area_code(switchboard, value, local) -> None:
    wh = Warehouse(":memory:")
    migrate(wh)
    with wh.connect() as con:
        con.execute("INSERT INTO sources (source_id, municipality, code, kind, start_urls, allowed_domains, schedule, "
                    "updated_at, switchboard) VALUES ('s', '音威子府村', '014729', 'official', [], [], '', now(), ?)",
                    [switchboard])
        rows = Rows(con)
        rows.version("v1", "https://www.vill.otoineppu.hokkaido.jp/gomi.html", rows.blob(PAGE), 1)
    assert extract_pending(wh)["extracted"] == 1
    phones = q(wh, "SELECT value, extra->>'local' FROM facts WHERE kind = 'phone'")
    assert [(v.strip('"'), lo) for v, lo in phones] == [(value, None if local is None else "true")]
