"""National (and Tokyo) program amounts by fiscal year: pure lookups over the catalog's ``[[variant]]`` table.

A fiscal year (年度) runs April 1 - March 31 (:mod:`extractors.eras`). Amounts usually change on April 1
(the 物価スライド revision); mid-year changes carry their own effective date (児童扶養手当 2nd/3rd-child
additions 2016-08-01 and 2024-11-01, 児童手当 2024-10-01).

* :func:`amount_in_force` — the amount of a variant on a day (None: not in force, or outside the table);
* :func:`years_of` — the fiscal years in which an amount was in force for a variant;
* :func:`current` — the amount in force today;
* :func:`check_amount` — what a stated amount is for a program on a day: current, outdated (naming the
  fiscal year(s) it belongs to and the current amount), inside a current 一部支給 range, or none of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from extractors.eras import fiscal_year_of
from extractors.programs.catalog import Amount, Catalog, load_catalog


def _cat(catalog: Catalog | None) -> Catalog:
    return catalog if catalog is not None else load_catalog()


def amount_in_force(program_id: str, variant: str, day: date, *, catalog: Catalog | None = None) -> Amount | None:
    """The amount of ``program_id``/``variant`` in force on ``day``.

    None when the variant does not exist, was not (yet or any more) in force, or ``day`` lies beyond the
    last fiscal year of the table. An :class:`Amount` with ``yen is None`` means the catalog knows the
    fiscal year but not its amount.
    """
    v = _cat(catalog).variant(program_id, variant)
    if v is None:
        return None
    for a in v.amounts:
        if a.in_force(day):
            return a
    return None


def current(
    program_id: str, variant: str, today: date | None = None, *, catalog: Catalog | None = None
) -> Amount | None:
    """The amount in force on ``today`` (default: the local date)."""
    return amount_in_force(program_id, variant, today or date.today(), catalog=catalog)


def years_of(program_id: str, variant: str, yen: int, *, catalog: Catalog | None = None) -> list[int]:
    """The fiscal years in which ``yen`` was in force for the variant (on at least one day), ascending."""
    v = _cat(catalog).variant(program_id, variant)
    if v is None:
        return []
    out: set[int] = set()
    for a in v.amounts:
        if a.yen == yen:
            out.update(a.fiscal_years())
    return sorted(out)


def amounts_of(program_id: str, yen: int, *, catalog: Catalog | None = None) -> list[Amount]:
    """Every table row of the program (any variant) whose amount is ``yen``."""
    return [a for v in _cat(catalog).variants_of(program_id) for a in v.amounts if a.yen == yen]


@dataclass(frozen=True)
class VariantMatch:
    """``yen`` is the ``variant`` amount of ``years``; ``now`` is that variant's amount on the checked day
    (None when the variant is no longer in force or the day is beyond the table)."""

    variant: str
    label: str
    years: tuple[int, ...]
    now: Amount | None


@dataclass(frozen=True)
class AmountCheck:
    """What a stated amount is for a program on a day.

    ``status``: ``"current"`` (some variant has this amount on the day), ``"in-range"`` (inside a current
    一部支給 range, e.g. 児童扶養手当 partial-min..partial-max), ``"outdated"`` (the amount of an earlier
    fiscal year only: ``matches`` says which variant and years, and the amount now), ``"unknown"`` (the
    table has the amount only for years whose current value is unknown, so nothing can be concluded).

    An outdated amount may also lie inside a current 一部支給 range (42,330円, FY2016's 全部支給, is a valid
    一部支給 amount in FY2025): ``in_current_range`` says so, and the caller decides with the fact's
    qualifier (全部支給 → outdated; 一部支給 or none → not conclusive).
    """

    program_id: str
    yen: int
    day: date
    status: str
    matches: tuple[VariantMatch, ...] = ()
    in_current_range: bool = False

    @property
    def fiscal_year(self) -> int:
        return fiscal_year_of(self.day)

    def describe(self, name: str | None = None) -> str:
        """One line for evidence, e.g. ``51,500円 is 特別児童扶養手当 1級 (重度) for FY2016; FY2025: 56,800円``."""
        prog = name or self.program_id
        if self.status != "outdated" or not self.matches:
            return f"{self.yen:,}円: {self.status} for {prog} in FY{self.fiscal_year}"
        parts = []
        for m in self.matches:
            years = _years_text(m.years)
            if m.now is None:
                now = "no longer paid"
            elif m.now.yen is None:
                now = f"FY{self.fiscal_year}: amount not in the catalog"
            else:
                now = f"FY{m.now.fiscal_year}: {m.now.yen:,}円"
            parts.append(f"{prog} {m.label} for {years}; {now}")
        return f"{self.yen:,}円 is " + " / ".join(parts)


def _years_text(years: tuple[int, ...]) -> str:
    if len(years) == 1:
        return f"FY{years[0]}"
    if list(years) == list(range(years[0], years[-1] + 1)):
        return f"FY{years[0]}-FY{years[-1]}"
    return ", ".join(f"FY{y}" for y in years)


def check_amount(program_id: str, yen: int, day: date, *, catalog: Catalog | None = None) -> AmountCheck | None:
    """Classify ``yen`` stated for ``program_id`` as of ``day``; None when the amount belongs to no year
    and no current range (the caller treats it as a contradiction, not as an outdated amount)."""
    cat = _cat(catalog)
    variants = cat.variants_of(program_id)
    if not variants:
        return None
    hits: list[VariantMatch] = []
    unknown_now = False
    for v in variants:
        rows = [a for a in v.amounts if a.yen == yen]
        if not rows:
            continue
        now = amount_in_force(program_id, v.id, day, catalog=cat)
        if now is not None and now.yen == yen:
            return AmountCheck(
                program_id,
                yen,
                day,
                "current",
                (VariantMatch(v.id, v.label, tuple(years_of(program_id, v.id, yen, catalog=cat)), now),),
            )
        if now is not None and now.yen is None:
            unknown_now = True
            continue
        years = tuple(y for y in years_of(program_id, v.id, yen, catalog=cat) if y <= fiscal_year_of(day))
        if years:
            hits.append(VariantMatch(v.id, v.label, years, now))
    in_range = _in_current_range(cat, program_id, yen, day)
    if hits:
        return AmountCheck(program_id, yen, day, "outdated", tuple(hits), in_current_range=in_range)
    if in_range:
        return AmountCheck(program_id, yen, day, "in-range", in_current_range=True)
    if unknown_now:
        return AmountCheck(program_id, yen, day, "unknown")
    return None


def _in_current_range(cat: Catalog, program_id: str, yen: int, day: date) -> bool:
    """Is ``yen`` inside a 一部支給 range in force on ``day``? Ranges are variant pairs ``X-max``/``X-min``
    (``partial-max``/``partial-min``, ``second-partial-max``/``second-partial-min`` ...)."""
    for v in cat.variants_of(program_id):
        if not v.id.endswith("-max"):
            continue
        hi = amount_in_force(program_id, v.id, day, catalog=cat)
        lo = amount_in_force(program_id, v.id[: -len("max")] + "min", day, catalog=cat)
        if hi and lo and hi.yen is not None and lo.yen is not None and lo.yen <= yen <= hi.yen:
            return True
    return False
