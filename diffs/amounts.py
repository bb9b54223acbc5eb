"""Which fiscal year (年度) a national program amount stated by a fact belongs to (pure).

A fact whose ``program_id`` is a national catalog program (児童扶養手当, 特別児童扶養手当, 児童手当 …) and
whose kind is ``amount`` is checked against the catalog's amounts by fiscal year
(``extractors.programs.check_amount``): each stated yen (the value, and the upper end of a range) is
``current``, a valid current 一部支給 amount (``in-range``), the amount of an **earlier** fiscal year only
(``outdated``), or belongs to no year at all (None). The flag rule ``outdated_amount`` reports the
earlier-year amounts; ``secondary_contradicts_official`` leaves them to it and keeps the amounts that
belong to no year.

When the catalog does not know the current year's amount of a series yet (特別児童扶養手当 FY2026 is
``"unknown"``), an amount is still *earlier-year* if it belongs only to fiscal years before the newest
known one and differs from it: 51,500円 (1級 FY2016) is outdated next to FY2025's 56,800円, whatever FY2026
will be; 56,800円 itself stays undecided. The same holds when today lies beyond the program's table (FY2027
with a table that ends in FY2026): amounts are judged as of the table's last day, and the amounts of that
last year are undecided, never "no longer paid".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from diffs.facts import fact_field as _f
from extractors.eras import fiscal_year_of, to_era
from extractors.programs import (
    AmountCheck,
    Catalog,
    Program,
    VariantMatch,
    check_amount,
    load_catalog,
    years_of,
)

# comparisons, not a stated payment ("所得が…円未満", "…円以上")
THRESHOLD_QUALIFIERS = frozenset({"以上", "未満", "以下"})
_FULL_RE = re.compile(r"全部支給|全額支給|全部|全額")
_PARTIAL_RE = re.compile(r"一部支給|一部")


def national_program(program_id: str | None, catalog: Catalog | None = None) -> Program | None:
    """The catalog program of ``program_id`` when it is national and has amounts by fiscal year."""
    if not program_id or ":" in program_id:
        return None
    cat = catalog or load_catalog()
    p = cat.program(program_id)
    if p is None or p.scope != "national" or not cat.variants_of(program_id):
        return None
    return p


def table_end(program_id: str, *, catalog: Catalog | None = None) -> date | None:
    """The last day the program's amount table covers (March 31 of its last fiscal year)."""
    cat = catalog or load_catalog()
    return max((a.until for v in cat.variants_of(program_id) for a in v.amounts), default=None)


def amount_status(program_id: str, yen: int, today: date, *, catalog: Catalog | None = None) -> AmountCheck | None:
    """``check_amount`` on ``today`` (on the table's last day when today lies beyond it), plus: an amount
    the catalog cannot place because the current amount of its series is unknown is ``outdated`` against
    the newest known amount when it belongs only to earlier fiscal years than that one (the match's
    ``now`` is then that newest known amount). The result's ``day`` is ``today``."""
    cat = catalog or load_catalog()
    end = table_end(program_id, catalog=cat)
    day = today if end is None or today <= end else end
    chk = check_amount(program_id, yen, day, catalog=cat)
    if chk is None:
        return None
    if day != today and chk.status == "current":  # beyond the table: the last year's amounts may still be paid
        return AmountCheck(program_id, yen, today, "unknown")
    if chk.status != "unknown":
        return AmountCheck(program_id, yen, today, chk.status, chk.matches, chk.in_current_range)
    fy = fiscal_year_of(day)
    matches: list[VariantMatch] = []
    for v in cat.variants_of(program_id):
        if not any(a.yen == yen for a in v.amounts):
            continue
        known = [a for a in v.amounts if a.yen is not None and a.effective <= day]
        if not known or known[-1].yen == yen:
            return AmountCheck(program_id, yen, today, "unknown")  # the newest known amount: may still be paid
        years = tuple(y for y in years_of(program_id, v.id, yen, catalog=cat) if y <= fy)
        if years and years[-1] < known[-1].fiscal_year:
            matches.append(VariantMatch(v.id, v.label, years, known[-1]))
    return AmountCheck(program_id, yen, today, "outdated" if matches else "unknown", tuple(matches))


def current_unknown(chk: AmountCheck) -> bool:
    """True when a match's ``now`` is the newest known amount, not the one in force on ``chk.day``
    (the current fiscal year's amount is not in the catalog, or today lies beyond its table)."""
    return any(m.now is not None and not m.now.in_force(chk.day) for m in chk.matches)


@dataclass(frozen=True)
class StatedAmount:
    """One yen a fact states for a national program: ``end`` is ``"value"`` or ``"max"`` (a range's
    upper end), ``check`` what the catalog says about it on the day (None: it belongs to no year)."""

    fact: Any
    program_id: str
    end: str
    yen: int
    check: AmountCheck | None

    @property
    def earlier_year(self) -> bool:
        return self.check is not None and self.check.status == "outdated"


def stated_amounts(fact: Any, today: date, *, catalog: Catalog | None = None) -> list[StatedAmount]:
    """The national-program amounts one fact states (empty for other kinds, programs and thresholds)."""
    if _f(fact, "kind") != "amount":
        return []
    pid = _f(fact, "program_id")
    if national_program(pid, catalog) is None:
        return []
    quals = set((_f(fact, "qualifier") or "").split(","))
    if quals & THRESHOLD_QUALIFIERS:
        return []
    out = []
    for end in ("value", "max"):
        yen = _f(fact, end)
        if isinstance(yen, bool) or not isinstance(yen, (int, float)) or yen <= 0 or yen != int(yen):
            continue
        out.append(StatedAmount(fact, pid, end, int(yen), amount_status(pid, int(yen), today, catalog=catalog)))
    return out


def belongs_to_earlier_year(fact: Any, today: date | None, *, catalog: Catalog | None = None) -> bool:
    """Does the fact state a national amount of an earlier fiscal year (``outdated_amount``'s business)?"""
    if today is None:
        return False
    return any(s.earlier_year for s in stated_amounts(fact, today, catalog=catalog))


def variant_hint(fact: Any, line_before: str = "", headings: Iterable[str] = ()) -> str | None:
    """``"full"`` when the fact's context says 全部支給/全額, ``"partial"`` for 一部支給, else None.

    Looked at in order: the fact's own text and qualifier; the nearest marker before the fact on its
    line ("全部支給:42,330円 一部支給:42,320円~9,990円"); the headings, innermost first; the program.
    """
    own = f"{_f(fact, 'qualifier') or ''} {_f(fact, 'text') or ''}"
    for where in (own, line_before):
        hit = _last_marker(where)
        if hit:
            return hit
    for h in (*reversed(list(headings)), _f(fact, "program") or ""):
        hit = _last_marker(h)
        if hit:
            return hit
    return None


def _last_marker(text: str) -> str | None:
    full = [m.end() for m in _FULL_RE.finditer(text)]
    partial = [m.end() for m in _PARTIAL_RE.finditer(text)]
    if not full and not partial:
        return None
    return "full" if max(full, default=-1) > max(partial, default=-1) else "partial"


def fiscal_year_label(fy: int) -> str:
    """``2016`` -> "FY2016 (平成28年度)"; 2019 -> "FY2019 (令和元年度)" (the era of the year's 12月)."""
    era, n = to_era(date(fy, 12, 31))
    return f"FY{fy} ({era}{'元' if n == 1 else n}年度)"
