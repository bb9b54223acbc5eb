"""deadline_passed: an application period that has ended while the page still says 受付中."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from diffs.facts import fact_field as _f
from diffs.jpdate import JPDate, nfkc, parse_jp_date, period_end
from diffs.match import evidence_of, program_key
from diffs.references import DATE_KINDS
from diffs.rules.base import FlagFinding, Page, Rule, evidence_of_flag, fact_row, row
from diffs.rules.base import key as _key

DEADLINE_LABEL_RE = re.compile(
    r"申込期間|申し込み期間|申込期限|申し込み期限|申請期間|申請期限|受付期間|受付期限|募集期間|"
    r"応募期間|応募期限|提出期限|締切|締め切り|〆切"
)
# 受付中 but not 受付中止/受付中断; closed wording competes with it for the nearest status
_STATUS_RE = re.compile(
    r"(?P<open>(?:申込|申請)?(?:受付中|募集中)(?![止断]))"
    r"|(?P<closed>受付(?:は)?終了|募集(?:は|を)?終了|受付を終了|締め切りました|締切りました)"
)


def _end_date(fact: Any) -> JPDate | None:
    value = _f(fact, "value")
    cands = [value.get("end"), value.get("max")] if isinstance(value, dict) else []
    cands += [_f(fact, "max"), _f(fact, "end_date")]
    for cand in cands:
        d = parse_jp_date(cand)
        if d is not None:
            return d
    return period_end(_f(fact, "text") or "") or (parse_jp_date(value) if isinstance(value, str) else None)


def _near_label(fact: Any, text: str) -> bool:
    if DEADLINE_LABEL_RE.search(nfkc(_f(fact, "qualifier") or "")):
        return True
    start = _f(fact, "start")
    if not isinstance(start, int):
        return False
    window = text[max(0, start - 80): start]
    window = "\n".join(window.split("\n")[-2:])  # the fact's line and the one before
    return bool(DEADLINE_LABEL_RE.search(nfkc(window)))


def deadline_passed(
    facts: list[Any], text: str, today: date, *, source: str | None = None
) -> list[FlagFinding]:
    """Flag an application period/deadline that has ended while the page still says 受付中.

    Deadline facts: kind in DATE_KINDS (or a value with an "end") whose qualifier, or the text
    just before them (same line or the line above), names 申込期間/申請期限/受付期間/締切 …
    The end is the period's "end"/``max`` or the last date in the fact text; year-less dates
    ("4月～11月") are skipped. Flagged when end < today and the status wording nearest to the
    fact is 受付中/募集中 (not 受付中止, and not outweighed by a nearer 受付終了/締め切りました).
    """
    text = text or ""
    statuses = [(m.start(), bool(m.group("open")), m.group(0)) for m in _STATUS_RE.finditer(text)]
    if not any(is_open for _, is_open, _ in statuses):
        return []
    out, seen = [], set()
    for f in facts:
        dated = _f(f, "kind") in DATE_KINDS or isinstance(_f(f, "value"), dict)
        if not dated or not _near_label(f, text):
            continue
        end = _end_date(f)
        if end is None or end.to_date(end=True) >= today:
            continue
        pos = _f(f, "start") if isinstance(_f(f, "start"), int) else 0
        where, is_open, said = min(statuses, key=lambda s: abs(s[0] - pos))
        key = _key("deadline_passed", source, program_key(_f(f, "program")), end.iso())
        if not is_open or key in seen:
            continue
        seen.add(key)
        evidence = {"deadline": evidence_of(f, source), "end": end.iso(), "today": today.isoformat(),
                    "status_text": said, "status_start": where}
        out.append(FlagFinding("deadline_passed", "high", _f(f, "program"), _f(f, "kind"), evidence, key,
                               program_id=_f(f, "program_id")))
    return out


def check(page: Page) -> list[FlagFinding]:
    if page.source_kind != "official" or not page.text:
        return []
    return deadline_passed(page.facts, page.text, page.today, source=page.url)


def evidence(flag: dict[str, Any], texts: dict[str, str], snippet: Any) -> list[dict[str, Any]]:
    ev = evidence_of_flag(flag)
    return [fact_row("期限", ev.get("deadline"), flag.get("url"), texts, snippet), row("期限日", ev.get("end")),
            row("ページの記載", ev.get("status_text"))]


def summary(flag: dict[str, Any]) -> str:
    ev = evidence_of_flag(flag)
    return f"{flag.get('url')} — deadline {ev.get('end')} passed, page still says {ev.get('status_text')}"


RULE = Rule("deadline_passed", "page", "high", "受付期限切れ", check, evidence, summary)
