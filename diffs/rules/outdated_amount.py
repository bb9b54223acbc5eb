"""outdated_amount: a page or dataset states a national program amount of an earlier fiscal year (過年度の金額).

National amounts (児童扶養手当, 特別児童扶養手当, 児童手当 …) move every April, and copies keep last year's
number. Any page or dataset — official or secondary, of any municipality — is checked: a fact whose
``program_id`` is a national catalog program and whose amount belongs to an earlier fiscal year and not to
the current one (``diffs.amounts``) is flagged, naming that year and the current amount:
"51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円".

Not flagged, because the old number is there on purpose or cannot be told from a current one:

* the page (or dataset record) also states the newer amount of the same series — a revision notice
  ("45,500円から46,690円に改定") or a table by year;
* the fact's line says it is history (改定前, 改正前, 変更前, 従前, 従来, 廃止, これまでの, 旧手当額 …);
* the amount is also a valid current 一部支給 amount (42,330円, FY2016's 全部支給, lies inside FY2025's
  一部支給 range) and nothing pins it to an old year: it is conclusive only when its context says 全部支給
  (the fact's text, the nearest 全部/一部 marker before it on its line, its headings), when another amount
  of the program on the page (or dataset record) belongs to one of the same earlier years (43,160円 next to
  43,150円: FY2020's 全部支給 and 一部支給 upper bound — a table of that year), or when it is one end of a
  range whose every end is an earlier year's;
* thresholds (…円以上 / 未満 / 以下), and amounts that belong to no year at all (that is
  ``secondary_contradicts_official``'s business).

One flag per page and program, listing each outdated amount with its span. Severity ``high`` on secondary
sources (a copy that readers take as current, with nothing saying it is old) and ``medium`` on official
pages (old amounts appear there legitimately in revision notices and history tables this rule cannot
always recognise, and an official page not revised at all is already ``missed_annual_update``, high).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from diffs.amounts import (
    StatedAmount,
    current_unknown,
    fiscal_year_label,
    stated_amounts,
    variant_hint,
)
from diffs.facts import fact_field as _f
from diffs.match import evidence_of
from diffs.rules.base import FlagFinding, Page, Rule, evidence_of_flag, fact_row, row
from diffs.rules.base import key as _key
from extractors.eras import fiscal_year_of
from extractors.programs import Catalog, load_catalog

HISTORY_RE = re.compile(r"改定前|改正前|変更前|従前|従来|廃止|これまでの|旧(?:手当|支給)?(?:金)?額")
MAX_LINE = 300  # characters either side of a fact read as its line


def outdated_amount(
    facts: list[Any], today: date, *, source: str | None = None, text: str | None = None,
    source_kind: str = "secondary", catalog: Catalog | None = None,
) -> list[FlagFinding]:
    """Flag national program amounts of an earlier fiscal year stated by one page or dataset.

    ``facts``: the page's (or dataset's) facts, with ``program_id``. ``text``: the page's main text (the
    facts' offsets point into it), for each fact's line; without it (datasets) a fact's own ``text`` (the
    cell's line) is its line. ``source_kind`` ``official`` gives severity medium, anything else high.
    """
    cat = catalog or load_catalog()
    per_fact = [(f, stated_amounts(f, today, catalog=cat)) for f in facts]
    on_page: dict[tuple[str, Any], set[int]] = {}  # every yen stated per program (and dataset record)
    old_years: dict[tuple[str, Any], dict[int, set[int]]] = {}  # earlier-year amounts: yen -> their fiscal years
    for f, stated in per_fact:
        for s in stated:
            where = (s.program_id, _f(f, "record_id"))
            on_page.setdefault(where, set()).add(s.yen)
            if s.earlier_year and s.check is not None:
                old_years.setdefault(where, {}).setdefault(s.yen, set()).update(y for m in s.check.matches for y in m.years)
    groups: dict[str, list[tuple[StatedAmount, str | None]]] = {}
    for f, stated in per_fact:
        for s in stated:
            if not s.earlier_year:
                continue
            line, before, headings = _context(f, s.yen, text)
            hint = variant_hint(f, before, headings)
            where = (s.program_id, _f(f, "record_id"))
            if not _explained(s, stated, on_page.get(where, set()), old_years.get(where, {}), line, hint):
                groups.setdefault(s.program_id, []).append((s, hint))
    severity = "medium" if source_kind == "official" else "high"
    out = []
    for pid, items in groups.items():
        program = cat.program(pid)
        name = program.name if program else pid
        amounts, seen = [], set()
        for s, hint in items:
            if s.yen in seen:
                continue
            seen.add(s.yen)
            amounts.append(_amount_evidence(s, name, source, hint))
        first = items[0][0].fact
        evidence = {"program_id": pid, "program_name": name, "current_fiscal_year": fiscal_year_of(today),
                    "fiscal_years": sorted({y for a in amounts for m in a["belongs_to"] for y in m["years"]}),
                    "amounts": amounts, "source": source, "source_kind": source_kind}
        out.append(FlagFinding("outdated_amount", severity, _f(first, "program") or name, "amount", evidence,
                               _key("outdated_amount", source, pid), program_id=pid))
    return out


def _explained(s: StatedAmount, same_fact: list[StatedAmount], stated_yen: set[int], old_years: dict[int, set[int]],
               line: str, hint: str | None) -> bool:
    """Is this earlier-year amount there on purpose, or not conclusive (see the module doc)?

    ``same_fact``: every amount its fact states (two for a range); ``stated_yen``: every amount of the
    program on the page (or record); ``old_years``: its earlier-year amounts and their fiscal years;
    ``hint``: ``diffs.amounts.variant_hint``."""
    chk = s.check
    assert chk is not None
    newer = {m.now.yen for m in chk.matches if m.now is not None and m.now.yen is not None}
    if newer & stated_yen:
        return True  # the newer amount is stated too: a revision notice or a table by year
    if HISTORY_RE.search(line):
        return True
    if not chk.in_current_range or hint == "full":
        return False
    if hint == "partial":
        return True  # a valid 一部支給 amount this year
    mine = old_years.get(s.yen, set())
    if any(yen != s.yen and years & mine for yen, years in old_years.items()):
        return False  # another amount of the same old year beside it: that year's table
    # otherwise conclusive only as one end of a range whose every end is an earlier year's
    return not (len(same_fact) > 1 and all(x.earlier_year for x in same_fact))


def _context(fact: Any, yen: int, text: str | None) -> tuple[str, str, tuple[str, ...]]:
    """(the fact's line, the part of the line before the fact, its headings)."""
    headings = tuple(_f(fact, "heading_path") or ())
    start, end = _f(fact, "start"), _f(fact, "end")
    if text and isinstance(start, int) and isinstance(end, int):
        a = max(text.rfind("\n", 0, start) + 1, start - MAX_LINE)
        b = text.find("\n", end)
        b = min(len(text) if b < 0 else b, end + MAX_LINE)
        return text[a:b], text[a:start], headings
    own = _f(fact, "text") or ""  # a dataset cell's line: the part before the amount is its context
    m = re.search(rf"{yen:,}|{yen}".replace(",", "[,，]?"), own)
    return own, own[: m.start()] if m else "", headings


def _amount_evidence(s: StatedAmount, name: str, source: str | None, hint: str | None) -> dict[str, Any]:
    chk = s.check
    assert chk is not None
    belongs = [{"variant": m.variant, "label": m.label, "years": list(m.years),
                "now_fiscal_year": m.now.fiscal_year if m.now else None,
                "now_yen": m.now.yen if m.now else None} for m in chk.matches]
    return {**evidence_of(s.fact, source), "yen": s.yen, "part": s.end, "description": chk.describe(name),
            "belongs_to": belongs, "current_unknown": current_unknown(chk), "variant_hint": hint,
            "in_current_range": chk.in_current_range}


def check(page: Page) -> list[FlagFinding]:
    if not page.facts:
        return []
    return outdated_amount(page.facts, page.today, source=page.url, text=page.text or None,
                           source_kind=page.source_kind)


# --- display -------------------------------------------------------------------------------------
def _years_ja(years: list[int]) -> str:
    if not years:
        return "?"
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{fiscal_year_label(years[0])}〜{fiscal_year_label(years[-1])}"
    return "、".join(fiscal_year_label(y) for y in years)


def _now_ja(m: dict[str, Any], current_fy: Any) -> str:
    if m.get("now_fiscal_year") is None:
        return "支給終了(現在は支給されていません)"
    now = f"{fiscal_year_label(m['now_fiscal_year'])}: {m['now_yen']:,}円"
    if current_fy and m["now_fiscal_year"] != current_fy:
        now += f"(FY{current_fy} の金額はカタログ未登録)"
    return now


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev, url = evidence_of_flag(flag), flag.get("url")
    name = ev.get("program_name") or flag.get("program") or ""
    rows = []
    for a in ev.get("amounts") or []:
        rows.append(fact_row("過年度の金額", a, url, texts, snippet))
        for m in a.get("belongs_to") or []:
            rows.append(row("該当する年度", f"{a.get('yen', 0):,}円 は {name} {m.get('label')} の "
                                        f"{_years_ja(m.get('years') or [])} の金額"))
            latest = m.get("now_fiscal_year") not in (None, ev.get("current_fiscal_year"))
            rows.append(row("カタログの最新の金額" if latest else "現在の金額", _now_ja(m, ev.get("current_fiscal_year"))))
    return rows


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    said = " / ".join(a.get("description") or "" for a in ev.get("amounts") or [])
    return f"{flag.get('url')} — {said}"


RULE = Rule("outdated_amount", "page", "high", "過年度の金額", check, evidence, summary)
