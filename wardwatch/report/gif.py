"""Program records → the デジタル庁 GIF 「行政サービス・制度」 model (制度データモデル), with evidence.

Pure functions: :func:`gif_record` maps one record of ``warehouse.programs.program_records`` (one program ×
municipality, its CURRENT facts and the contact facts of its official pages) to one JSON object with the
model's field names (``../shared/corpus/standards/digital-go-jp_GIF/451-4-1_制度データモデル_クラス図.mmd``):
タイトル, 制度所管組織, 地域, 給付上限額, 借入限度額, 償還期限, 最大補助率, 募集時期, 公募開始日, 公募終了日, 詳細URL,
最終更新日, お問い合わせ先 and 連絡先情報 (a 連絡先: 連絡先名称, 連絡先電話番号, 連絡先メールアドレス, 連絡先住所).

A field the pages do not state is ABSENT, never guessed. Every filled field has its evidence in the parallel
``_evidence`` object (same key; ``連絡先情報.連絡先電話番号`` for the nested ones): the rule that filled it, the
source kind, the spans (url, version_id, start, end, text, page, heading_path, valid_from), how many facts were
candidates and how many of them said something else. Official facts beat secondary ones for every field; among
official facts that disagree the most recent page version wins. Keys starting with ``_`` are wardwatch's own,
not the model's. The mapping table is in docs/programs.md ("GIF export: field mapping").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

try:
    from zoneinfo import ZoneInfo

    TOKYO: tzinfo = ZoneInfo("Asia/Tokyo")
except Exception:  # no time zone database: Japan has no DST
    TOKYO = timezone(timedelta(hours=9), "JST")

# The model's fields this export fills, in the .mmd's order (概要 and 対象者 are never filled: wardwatch extracts
# values, not prose; see docs/programs.md).
FIELDS = ("タイトル", "制度所管組織", "地域", "給付上限額", "借入限度額", "償還期限", "最大補助率", "募集時期", "公募開始日",
          "公募終了日", "詳細URL", "お問い合わせ先", "連絡先情報", "最終更新日")
CONTACT_FIELDS = ("連絡先名称", "連絡先電話番号", "連絡先メールアドレス", "連絡先住所")
CONTACT = "連絡先情報"  # the .mmd's association 制度 --> 連絡先 : pd:連絡先情報

LOAN_WORDS = ("貸付", "貸し付", "貸与", "資金", "融資")
BENEFIT_WORDS = ("手当", "給付", "助成", "補助", "支給", "奨励", "祝金", "支援金", "一時金", "扶助", "援助")
UPPER_QUALIFIERS = {"上限", "を限度", "以内", "まで", "以下"}
UPPER_WORDS = ("上限", "限度", "最大", "最高")
BENEFIT_QUALIFIERS = {"月額", "年額", "一時金"}  # an amount with only these (or none) may be the benefit itself
NOT_BENEFIT = ("所得", "収入", "年収", "控除", "負担", "費用", "料金", "手数料", "家賃", "加算", "貸付", "限度額")
SUBSIDY_RATE = ("補助", "助成", "支給", "給付", "受講料", "経費", "費用", "入学料", "授業料")
NOT_SUBSIDY_RATE = ("利子", "利息", "利率", "金利", "延滞", "違約", "税率", "所得割", "自己負担", "負担割合", "負担は")
APPLICATION = ("申請", "申込", "申し込", "募集", "受付", "公募", "応募", "締切", "締め切", "提出")
DEADLINE = ("締切", "締め切", "期限", "まで")
CONTACT_HEADINGS = ("問い合わせ", "問い合せ", "問合せ", "問合わせ", "連絡先", "担当", "窓口", "申請先", "申込先", "提出先")
CONTACT_KINDS = {"department": "連絡先名称", "phone": "連絡先電話番号", "email": "連絡先メールアドレス", "address": "連絡先住所"}
REPAYMENT = ("償還", "返済期")
NOT_REPAYMENT = ("据置", "貸付期間", "支給期間", "利用期間")
_PERIOD_END = re.compile(r"(?:据置|貸付|支給|利用)期間(?:の)?(?:経過|終了|満了)後")  # "after the period": not it
_RANGE = re.compile(r"\d\s*[~〜～\-－ー―]\s*[\d０-９]|\d\s*円?\s*から\s*[\d０-９]")
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CSV_DANGER = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


# ---------------------------------------------------------------- helpers over one fact


def _nfkc(text: Any) -> str:
    return unicodedata.normalize("NFKC", str(text or ""))


def _qualifiers(f: dict[str, Any]) -> set[str]:
    return {q for q in (f.get("qualifier") or "").split(",") if q}


def _before(f: dict[str, Any]) -> str:
    """The words before the value on its line (NFKC); the previous line when the value starts its line (a
    label above or in the cell before, as tables and definition lists are extracted)."""
    text = _nfkc(f.get("context_before"))
    lines = text.split("\n")
    same = lines[-1]
    if not same.strip(" 　:：・") and len(lines) > 1:
        return lines[-2] + " " + same
    return same


def _heading(f: dict[str, Any]) -> str:
    path = f.get("heading_path") or []
    return _nfkc(path[-1]) if path else ""


def _near(f: dict[str, Any], words: Iterable[str], *, heading: bool = True) -> bool:
    """One of ``words`` in the text before the value on its line, or in its nearest heading."""
    words = tuple(words)
    return any(w in _before(f) for w in words) or (heading and any(w in _heading(f) for w in words))


def _num(f: dict[str, Any]) -> float | None:
    v = f.get("value_num")
    if v is None and isinstance(f.get("value"), int | float) and not isinstance(f.get("value"), bool):
        v = f["value"]
    return None if v is None else float(v)


def _when(f: dict[str, Any]) -> datetime:
    v = f.get("valid_from")
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, str):
        try:
            d = datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.min.replace(tzinfo=UTC)


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime | date) else v


def _span(f: dict[str, Any]) -> dict[str, Any]:
    """A fact's evidence: where it is stated and the exact text."""
    return {"url": f.get("url"), "version_id": f.get("version_id"), "source_kind": f.get("source_kind"),
            "start": f.get("start_offset"), "end": f.get("end_offset"), "text": f.get("text"), "page": f.get("page"),
            "heading_path": list(f.get("heading_path") or []), "valid_from": _iso(f.get("valid_from"))}


def _is_official(f: dict[str, Any]) -> bool:
    return f.get("source_kind") == "official"


def program_type(record: dict[str, Any]) -> str | None:
    """``"loan"`` (its name or a heading it is matched by says 貸付/貸与/資金/融資), ``"benefit"`` (手当, 給付,
    助成, 補助 …) or None (a service, a facility, counselling: no amount field applies)."""
    names = [_nfkc(record.get("name"))] + [_nfkc(f.get("program_name")) for f in record.get("facts") or ()]
    if any(w in n for n in names for w in LOAN_WORDS):
        return "loan"
    if any(w in n for n in names for w in BENEFIT_WORDS):
        return "benefit"
    return None


# ---------------------------------------------------------------- choosing among candidates


@dataclass
class Pick:
    """A field's value and why: the facts it comes from and how many others there were."""

    value: Any
    facts: list[dict[str, Any]]
    rule: str
    candidates: int = 1
    disagreeing: int = 0
    secondary_ignored: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        kinds = {f.get("source_kind") for f in self.facts}
        out = {"rule": self.rule, "source_kind": kinds.pop() if len(kinds) == 1 else "mixed",
               "spans": [_span(f) for f in self.facts], "candidates": self.candidates,
               "disagreeing": self.disagreeing}
        if self.secondary_ignored:
            out["secondary_ignored"] = self.secondary_ignored
        out.update(self.extra)
        return out


Candidate = tuple[dict[str, Any], Any]  # (fact, the value it gives the field)


def choose(cands: Sequence[Candidate], rule: str,
           combine: Callable[[list[Candidate]], list[Candidate]] | None = None) -> Pick | None:
    """The field's value from its candidate facts: official ones if any (else secondary ones), of the most
    recent page version among them; ``combine`` picks the value(s) within that version (default: the first
    in document order). ``disagreeing`` counts the candidates that give another value."""
    if not cands:
        return None
    official = [c for c in cands if _is_official(c[0])]
    pool = official or list(cands)
    newest = max(_when(f) for f, _ in pool)
    latest_versions = {f.get("version_id") for f, _ in pool if _when(f) == newest}
    version = sorted(v or "" for v in latest_versions)[0]  # equal times: one version, deterministically
    in_version = [c for c in pool if (c[0].get("version_id") or "") == version]
    chosen = combine(in_version) if combine else in_version[:1]
    values = {_key(v) for _, v in chosen}
    value = chosen[0][1] if len(chosen) == 1 else [v for _, v in chosen]
    disagreeing = sum(1 for _, v in pool if _key(v) not in values)
    return Pick(value, [f for f, _ in chosen], rule, candidates=len(pool), disagreeing=disagreeing,
                secondary_ignored=len(cands) - len(pool) if official else 0)


def _key(v: Any) -> str:
    return repr(v)


def _largest(cs: list[Candidate]) -> list[Candidate]:
    return [max(cs, key=lambda c: c[1])]


def _earliest(cs: list[Candidate]) -> list[Candidate]:
    return [min(cs, key=lambda c: c[1])]


def _latest(cs: list[Candidate]) -> list[Candidate]:
    return [max(cs, key=lambda c: c[1])]


# ---------------------------------------------------------------- the field rules


def _is_range(f: dict[str, Any]) -> bool:
    return bool(_RANGE.search(_nfkc(f.get("text"))))


def _upper_amounts(facts: list[dict[str, Any]]) -> list[Candidate]:
    """Amounts stated as a ceiling: qualifier 上限/を限度/以内/まで/以下, or 上限/限度/最大/最高 just before the
    value — not an income limit (所得/収入 on the line before) and not a range (its upper end is not stored)."""
    out = []
    for f in facts:
        if f.get("kind") != "amount" or _num(f) is None or _is_range(f):
            continue
        before = _before(f)
        if any(w in before for w in ("所得", "収入", "年収")):
            continue
        if _qualifiers(f) & UPPER_QUALIFIERS or any(w in before[-8:] for w in UPPER_WORDS):
            out.append((f, int(_num(f))))
    return out


def _benefit_amounts(facts: list[dict[str, Any]]) -> list[Candidate]:
    """Amounts that may be the benefit itself (no 上限 stated): qualifiers among 月額/年額/一時金 only, not a
    range, nothing on the line before that makes it an income limit, a fee, a share or an addition."""
    out = []
    for f in facts:
        if f.get("kind") != "amount" or _num(f) is None or _is_range(f):
            continue
        if not _qualifiers(f) <= BENEFIT_QUALIFIERS or _near(f, NOT_BENEFIT):
            continue
        out.append((f, int(_num(f))))
    return out


def _repayment_durations(facts: list[dict[str, Any]]) -> list[Candidate]:
    """Durations whose nearest keyword before them in their sentence (or else their heading) is 償還/返済期:
    "償還期間は据置期間経過後5年以内" and "償還期限は貸付期間満了後20年以内" count (a period's end is not the period
    itself), "据置期間1年" does not."""
    out = []
    for f in facts:
        if f.get("kind") != "duration" or not isinstance(f.get("value"), str):
            continue
        before = _PERIOD_END.sub("", _before(f).split("。")[-1])
        hits = [(before.rfind(w), w in REPAYMENT) for w in REPAYMENT + NOT_REPAYMENT if w in before]
        if hits:
            if max(hits)[1]:
                out.append((f, f["value"]))
        elif any(w in _heading(f) for w in REPAYMENT):
            out.append((f, f["value"]))
    return out


def _rates(facts: list[dict[str, Any]]) -> list[Candidate]:
    """Rates of a cost the program pays ("受講料の60%", "経費の2分の1を助成", under 支給額/補助率): a subsidy word
    before the value or in its heading, and no interest, tax, income or own-share word before it."""
    return [(f, float(_num(f))) for f in facts
            if f.get("kind") == "rate" and _num(f) is not None and _near(f, SUBSIDY_RATE)
            and not _near(f, NOT_SUBSIDY_RATE, heading=False)]


def _application(f: dict[str, Any]) -> bool:
    return _near(f, APPLICATION)


def _application_periods(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in facts if f.get("kind") == "period" and isinstance(f.get("value"), dict) and _application(f)]


def _distinct_in_order(cs: list[Candidate]) -> list[Candidate]:
    """Every distinct value of the version, in document order (募集時期 lists each application period)."""
    seen: dict[str, Candidate] = {}
    for c in sorted(cs, key=lambda c: c[0].get("start_offset") or 0):
        seen.setdefault(_key(c[1]), c)
    return list(seen.values())


def _start_dates(facts: list[dict[str, Any]]) -> list[Candidate]:
    out = [(f, f["value"]["start"]) for f in _application_periods(facts)
           if _FULL_DATE.fullmatch(str(f["value"].get("start") or ""))]
    out += [(f, f["value"]) for f in facts
            if f.get("kind") == "date" and _FULL_DATE.fullmatch(str(f.get("value") or ""))
            and _qualifiers(f) & {"から", "より", "以降"} and _application(f)]
    return out


def _end_dates(facts: list[dict[str, Any]]) -> list[Candidate]:
    out = [(f, f["value"]["end"]) for f in _application_periods(facts)
           if _FULL_DATE.fullmatch(str(f["value"].get("end") or ""))]
    out += [(f, f["value"]) for f in facts
            if f.get("kind") == "date" and _FULL_DATE.fullmatch(str(f.get("value") or ""))
            and (_qualifiers(f) & {"まで"} or _near(f, DEADLINE[:3])) and _application(f)]
    return out


def _is_contact_heading(text: str) -> bool:
    return any(w in _nfkc(text) for w in CONTACT_HEADINGS)


@dataclass
class _Block:
    facts: list[dict[str, Any]]
    own: bool

    @property
    def official(self) -> bool:
        return _is_official(self.facts[0])

    @property
    def when(self) -> datetime:
        return _when(self.facts[0])


def _contact_blocks(record: dict[str, Any]) -> list[_Block]:
    """Contact sections: the program's own facts under an お問い合わせ-like heading, and the page-level contact
    section of each official page stating the program (a contact heading whose parent encloses the program's
    facts on that page), one block per (url, version, heading path)."""
    facts = record.get("facts") or []
    blocks: dict[tuple, _Block] = {}
    for f in facts:
        path = f.get("heading_path") or []
        if f.get("kind") in CONTACT_KINDS and path and _is_contact_heading(path[-1]):
            blocks.setdefault(("own", f.get("url"), f.get("version_id"), tuple(path)), _Block([], True)).facts.append(f)
    own_paths: dict[str, list[tuple[str, ...]]] = {}
    for f in facts:
        if _is_official(f):
            own_paths.setdefault(f.get("url"), []).append(tuple(f.get("heading_path") or ()))
    for c in record.get("page_contacts") or ():
        path = tuple(c.get("heading_path") or ())
        if c.get("kind") not in CONTACT_KINDS or not path or not _is_contact_heading(path[-1]):
            continue
        parent = path[:-1]
        if not any(p[:len(parent)] == parent for p in own_paths.get(c.get("url"), [])):
            continue
        c = {**c, "source_kind": c.get("source_kind") or "official"}
        blocks.setdefault(("page", c.get("url"), c.get("version_id"), path), _Block([], False)).facts.append(c)
    return [b for b in blocks.values() if any(f["kind"] in ("department", "phone", "email") for f in b.facts)]


def _contact(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The 連絡先 (one block: official before secondary, the program's own before its page's, then the newest
    version) and the evidence of each of its fields."""
    blocks = _contact_blocks(record)
    if not blocks:
        return None
    official = [b for b in blocks if b.official]
    pool = official or blocks
    pool.sort(key=lambda b: (not b.own, -b.when.timestamp(), b.facts[0].get("url") or "",
                             b.facts[0].get("start_offset") or 0))
    block = pool[0]
    contact: dict[str, Any] = {}
    evidence: dict[str, Any] = {}
    rule = ("the program's own contact section" if block.own else "the contact section of its official page")
    for f in sorted(block.facts, key=lambda x: x.get("start_offset") or 0):
        name = CONTACT_KINDS[f["kind"]]
        if name in contact:
            continue
        if f["kind"] == "phone":
            value = _nfkc(f.get("text")).strip()  # as written (NFKC): the E.164 value is in the evidence
        else:
            value = f.get("value") if isinstance(f.get("value"), str) else _nfkc(f.get("text"))
        contact[name] = value
        ev = Pick(value, [f], rule, candidates=len(pool), disagreeing=0,
                  secondary_ignored=(len(blocks) - len(pool)) if official else 0).evidence()
        if f["kind"] == "phone":
            ev["value"] = f.get("value")
        evidence[name] = ev
    ordered = {k: contact[k] for k in CONTACT_FIELDS if k in contact}
    return ordered, {k: evidence[k] for k in ordered}


def _detail_url(record: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """An official page of the program (HTML before PDF, then the one stating most of its facts), else the
    catalog's official URL of a national or prefectural program."""
    urls = list(record.get("official_urls") or [])
    if urls:
        counts: dict[str, int] = {}
        for f in record.get("facts") or ():
            counts[f.get("url")] = counts.get(f.get("url"), 0) + 1
        urls.sort(key=lambda u: (u.lower().split("?")[0].endswith(".pdf"), -counts.get(u, 0), u))
        return urls[0], {"rule": "official page of the program (HTML first, most facts)", "source_kind": "official",
                         "official_urls": len(urls)}
    catalog = list(record.get("catalog_urls") or [])
    if catalog:
        return catalog[0], {"rule": "the program catalog's official URL", "source_kind": "catalog"}
    return None


def _date_in(value: Any, tz: tzinfo) -> str | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return None


# ---------------------------------------------------------------- the record


def gif_record(record: dict[str, Any], *, agency: str | None = None, tz: tzinfo = TOKYO) -> dict[str, Any]:
    """One GIF 制度 record for one program × municipality record (see the module docstring).

    ``agency`` is the catalog's 所管 (e.g. こども家庭庁) of a national or prefectural program; ``tz`` the zone
    最終更新日 is the date in."""
    facts = [f for f in record.get("facts") or () if f.get("valid_to") is None]  # current facts only
    kind = program_type(record)
    out: dict[str, Any] = {}
    ev: dict[str, Any] = {}

    def put(name: str, pick: Pick | None) -> None:
        if pick is not None and pick.value not in (None, "", []):
            out[name] = pick.value
            ev[name] = pick.evidence()

    if record.get("name"):
        out["タイトル"] = record["name"]
        ev["タイトル"] = {"rule": "the catalog's official name" if record.get("scope") in ("national", "prefectural")
                          else "the program heading of its official pages (or of the sources naming it)",
                          "source_kind": "catalog" if record.get("scope") in ("national", "prefectural") else "heading"}
    contact = _contact(record)
    if agency and record.get("scope") in ("national", "prefectural"):
        out["制度所管組織"] = agency
        ev["制度所管組織"] = {"rule": "the catalog's agency of a national or prefectural program",
                             "source_kind": "catalog"}
    elif contact and "連絡先名称" in contact[0] and contact[1]["連絡先名称"]["source_kind"] == "official":
        out["制度所管組織"] = contact[0]["連絡先名称"]
        ev["制度所管組織"] = {**contact[1]["連絡先名称"], "rule": "the department of the official contact section"}
    if record.get("municipality"):
        out["地域"] = record["municipality"]
        ev["地域"] = {"rule": "the municipality of the sources", "source_kind": "registry", "code": record.get("code")}

    if kind == "benefit":
        pick = choose(_upper_amounts(facts), "amount stated as a ceiling (上限/限度/最大/以内/まで)", _largest)
        if pick is None:
            pick = choose(_benefit_amounts(facts), "the largest benefit amount stated (no ceiling stated)", _largest)
        put("給付上限額", pick)
    if kind == "loan":
        put("借入限度額", choose(_upper_amounts(facts), "amount stated as a ceiling of a loan program", _largest))
        put("償還期限", choose(_repayment_durations(facts), "duration next to 償還/返済期間 (ISO 8601)"))
    put("最大補助率", choose(_rates(facts), "the largest rate stated (not an interest or tax rate)", _largest))
    periods = [(f, _nfkc(f.get("text"))) for f in _application_periods(facts)]
    pick = choose(periods, "the application period(s) as written", _distinct_in_order)
    if pick is not None and isinstance(pick.value, list):
        pick.value = "、".join(pick.value)
    put("募集時期", pick)
    put("公募開始日", choose(_start_dates(facts), "the earliest start of an application period (full dates only)",
                         _earliest))
    put("公募終了日", choose(_end_dates(facts), "the latest end of an application period or deadline (full dates only)",
                         _latest))
    detail = _detail_url(record)
    if detail:
        out["詳細URL"], ev["詳細URL"] = detail
    if contact:
        fields, fev = contact
        parts = [fields[k] for k in ("連絡先名称", "連絡先電話番号", "連絡先メールアドレス") if k in fields]
        if parts:
            out["お問い合わせ先"] = " ".join(parts)
            first = fev[next(k for k in ("連絡先名称", "連絡先電話番号", "連絡先メールアドレス") if k in fields)]
            ev["お問い合わせ先"] = {**first, "rule": "the contact's name, phone and email as one line",
                               "spans": [s for k in ("連絡先名称", "連絡先電話番号", "連絡先メールアドレス") if k in fev
                                         for s in fev[k]["spans"]]}
        out[CONTACT] = fields
        for k, v in fev.items():
            ev[f"{CONTACT}.{k}"] = v
    updated = _date_in(record.get("last_changed"), tz)
    if updated:
        out["最終更新日"] = updated
        ev["最終更新日"] = {"rule": "the date the program's facts last changed in wardwatch (programs.last_changed)",
                          "source_kind": "warehouse"}

    ordered = {k: out[k] for k in FIELDS if k in out}
    secondary = sorted(k for k, e in ev.items() if e.get("source_kind") in ("secondary", "mixed"))
    return {**ordered, "_program_id": record.get("program_id"), "_scope": record.get("scope"),
            "_code": record.get("code"), "_secondary_fields": secondary,
            "_evidence": {k: ev[k] for k in [*FIELDS, *(f"{CONTACT}.{c}" for c in CONTACT_FIELDS)] if k in ev}}


def gif_records(records: Iterable[dict[str, Any]], agencies: dict[str, str] | None = None,
                tz: tzinfo = TOKYO) -> list[dict[str, Any]]:
    """:func:`gif_record` of each record; ``agencies`` maps catalog program ids to their agency."""
    agencies = agencies or {}
    return [gif_record(r, agency=agencies.get(r.get("program_id") or ""), tz=tz) for r in records]


# ---------------------------------------------------------------- CSV


CSV_FIELDS = ("タイトル", "制度所管組織", "給付上限額", "借入限度額", "償還期限", "最大補助率", "募集時期", "公募開始日",
              "公募終了日", "詳細URL", "最終更新日", "お問い合わせ先", *CONTACT_FIELDS)
NO_EVIDENCE_COLUMNS = {"タイトル", "詳細URL", "最終更新日"}  # derived from the record, not from a text span


def csv_header() -> list[str]:
    """The CSV columns: the record's ids, 地域, then each field with its evidence URL and text columns."""
    cols = ["program_id", "scope", "地域", "地域コード"]
    for name in CSV_FIELDS:
        cols.append(name)
        if name not in NO_EVIDENCE_COLUMNS:
            cols += [f"{name}_根拠URL", f"{name}_根拠"]
    return [*cols, "secondary_fields"]


def csv_row(rec: dict[str, Any]) -> list[Any]:
    """One GIF record flattened: nested 連絡先 fields as columns, evidence as URL + text columns."""
    contact = rec.get(CONTACT) or {}
    evidence = rec.get("_evidence") or {}
    row: list[Any] = [rec.get("_program_id"), rec.get("_scope"), rec.get("地域"), rec.get("_code")]
    for name in CSV_FIELDS:
        value = contact.get(name) if name in CONTACT_FIELDS else rec.get(name)
        row.append(value)
        if name not in NO_EVIDENCE_COLUMNS:
            e = evidence.get(f"{CONTACT}.{name}" if name in CONTACT_FIELDS else name) or {}
            spans = e.get("spans") or []
            row.append(spans[0]["url"] if spans else None)
            row.append(" / ".join(dict.fromkeys(str(s["text"]) for s in spans if s.get("text"))) or None)
    row.append(",".join(rec.get("_secondary_fields") or []))
    return row


def csv_cell(value: Any) -> str:
    """One CSV cell: NULL empty, whole floats as integers, a text a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_CSV_DANGER):
        return "'" + text  # never a formula in Excel or LibreOffice
    return text


def to_csv(records: Iterable[dict[str, Any]], *, bom: bool = False) -> str:
    """GIF records as CSV text (a header row even when there are none); ``bom`` for Excel."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(csv_header())
    for rec in records:
        writer.writerow([csv_cell(v) for v in csv_row(rec)])
    return ("\ufeff" if bom else "") + buf.getvalue()
