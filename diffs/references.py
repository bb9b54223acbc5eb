"""Reference dates a page states about itself: fiscal years (年度), as-of dates (…時点/…現在) and
its update date (更新日). Used by ``diffs.flags`` to judge how current a page is. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from diffs.facts import fact_field as _f
from diffs.jpdate import fiscal_year_of, nfkc, parse_fiscal_year, parse_jp_date, parse_year
from diffs.text import update_date_of

FISCAL_YEAR_KINDS = {"fiscal_year"}
AS_OF_KINDS = {"as_of", "reference_date"}
UPDATE_KINDS = {"update_date", "updated"}
DATE_KINDS = {"date", "deadline", "period", "date_range"}
AMOUNT_KINDS = {"amount"}


@dataclass(frozen=True)
class Reference:
    """A date a page states about itself: a fiscal year, an as-of date or its update date."""

    fiscal_year: int
    what: str  # "fiscal_year" | "as_of" | "update_date"
    text: str
    program: str | None = None
    start: int | None = None
    end: int | None = None
    program_id: str | None = None


def reference_of(fact: Any, doc_text: str | None = None) -> Reference | None:
    """The reference date a fact states, or None (amounts, phones, deadlines … are not references).

    ``doc_text`` (the document the fact's offsets point into), when given, lets a date followed by
    時点/現在 outside the fact's own span ("平成28年8月" + "時点") count as an as-of date.
    """
    kind, text = _f(fact, "kind"), _f(fact, "text") or ""
    after = ""
    end = _f(fact, "end")
    if doc_text and isinstance(end, int):
        after = doc_text[end: end + 4]
    hint = nfkc(f"{_f(fact, 'qualifier') or ''} {text} {after}")
    value = _f(fact, "value")
    span = dict(text=text, program=_f(fact, "program"), start=_f(fact, "start"), end=end,
                program_id=_f(fact, "program_id"))
    if kind in FISCAL_YEAR_KINDS or (kind not in AMOUNT_KINDS and "年度" in text):
        fy = parse_fiscal_year(value) or parse_fiscal_year(text)
        if fy:
            return Reference(fy, "fiscal_year", **span)
    what = ("as_of" if kind in AS_OF_KINDS or re.search(r"時点|現在", hint) else
            "update_date" if kind in UPDATE_KINDS or re.search(r"更新日|最終更新|更新$", hint) else None)
    if what:
        d = parse_jp_date(value) or parse_jp_date(text)
        year = None if d else (parse_fiscal_year(value) or parse_year(text))  # "2016" / 平成28年現在
        if d or year:
            return Reference(fiscal_year_of(d) if d else year, what, **span)
    return None


_AS_OF_RE = re.compile(r"(?:\d{4}|(?:平成|令和)\s*(?:\d{1,2}|元))\s*年[^\n。]{0,8}?(?:時点|現在)")


def text_references(text: str) -> list[Reference]:
    """The page's 更新日 and "…年…時点/現在" dates found in its main text."""
    out = []
    upd = update_date_of(text)
    if upd and parse_jp_date(upd):
        out.append(Reference(fiscal_year_of(parse_jp_date(upd)), "update_date", upd))
    for m in _AS_OF_RE.finditer(nfkc(text)):
        d = parse_jp_date(m.group(0))
        if d:
            out.append(Reference(fiscal_year_of(d), "as_of", m.group(0).strip()))
    return out


def newest(refs: Iterable[Reference]) -> Reference | None:
    """The reference with the latest fiscal year (None for none)."""
    return max(refs, key=lambda r: r.fiscal_year, default=None)
