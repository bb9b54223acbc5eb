"""Structured program datasets (secondary sources): bytes -> records -> fact dicts. Pure, no I/O.

Two input formats (see docs/datasets.md):

* ``civichat`` — Civichat / CPSV-J style JSON: ``{"systemsData": [record, ...]}`` or a bare list of
  records whose keys are the 行政サービス・制度 (GIF) names (タイトル（制度名）, 支援内容, 対象者,
  お問い合わせ先, 詳細参照先 ...; an ``ad:`` prefix is accepted).
* ``csv`` — one fact per row, header ``municipality,program,kind,qualifier,value,text,url``
  (:mod:`extractors.datasets_csv`).

:func:`parse_dataset` validates every record and returns the facts together with every row-level
:class:`Problem`; a caller must not load anything when ``problems`` is non-empty. Facts inside
free-text cells come from the page extractor (:func:`extractors.facts.extract_facts`), so a
dataset's amounts, phones (E.164), ages and dates are normalised exactly like the official pages'.
"""

from __future__ import annotations

import codecs
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

from extractors.dataset_cells import MUNI_RE, PREF_RE, URL_RE, Parsed, Problem, cell_facts
from extractors.dataset_cells import show as _show
from extractors.datasets_csv import parse_csv

FORMATS = ("civichat", "csv")
MAX_JSON_DEPTH = sys.getrecursionlimit()  # json's C scanner raises RecursionError past about this depth

ID_KEYS = ("サービスID", "PSID", "URI", "制度管理番号", "制度番号")
TITLE_KEYS = ("タイトル（制度名）", "制度名")
PREF_KEYS = ("都道府県",)
MUNI_KEYS = ("市町村", "対象地域", "地域")
ORG_KEYS = ("制度所管組織",)

# Civichat key (normalised: no "ad:", "•" and "/" written "・") -> GIF 制度 name. Facts are extracted
# from these cells only; ids, titles, tags and classification columns never yield facts.
FACT_FIELDS = {
    "概要": "概要", "制度概要": "概要", "支援内容": "内容", "内容": "内容", "留意事項": "公募備考",
    "対象者": "対象者", "条件": "対象者条件", "対象者条件": "対象者条件", "収入条件": "収入条件",
    "家族構成条件": "家族構成条件", "用途・対象物": "用途・対象物",
    "給付上限額": "給付上限額", "借入限度額": "借入限度額", "最大金利": "最大金利", "最大補助率": "最大補助率",
    "償還期限": "償還期限", "費用": "費用",
    "利用・申請方法": "申請届出方法", "申請届出方法": "申請届出方法", "手続き等": "申請届出方法",
    "申請窓口": "実施組織・支援機関", "必要なもの": "手続書類", "手続書類": "手続書類",
    "受付可能日時（受付日）": "募集時期", "受付可能日時（受付時間）": "募集時期", "募集時期": "募集時期",
    "受付開始日": "公募開始日", "公募開始日": "公募開始日", "受付終了日": "公募終了日", "公募終了日": "公募終了日",
    "公開日": "公開開始日", "公開開始日": "公開開始日", "公開日程": "公開開始日",
    "公開終了日": "公開終了日", "申請期限（公開終了日）": "公開終了日", "最終更新日": "最終更新日",
    "詳細参照先": "詳細参照先", "詳細URL": "詳細URL", "申請可能URL": "詳細URL", "必要書類のURL": "添付ファイル名",
    "お問い合わせ先": "お問い合わせ先（連絡先）", "お問い合わせ一覧": "お問い合わせ一覧",
}
DATE_FIELDS = frozenset({"受付開始日", "受付終了日", "公募開始日", "公募終了日", "公開日", "公開開始日", "公開日程",
                         "公開終了日", "申請期限（公開終了日）", "最終更新日"})
URL_FIELDS = frozenset({"詳細参照先", "詳細URL", "申請可能URL", "必要書類のURL"})
AMOUNT_FIELDS = frozenset({"給付上限額", "借入限度額", "費用"})

_PHONE_LIKE = re.compile(r"(?<!\d)0\d{1,4}[-‐－(（]\d{1,4}[-‐－)）]\d{3,4}(?!\d)")
_DATE_WORDS = ("随時", "通年", "未定", "常時", "毎年", "なし", "-")
_READ_KEYS = frozenset(FACT_FIELDS) | set(ID_KEYS) | set(TITLE_KEYS) | set(PREF_KEYS) | set(MUNI_KEYS) | set(ORG_KEYS)


def parse_dataset(data: bytes, fmt: str | None = None, *, municipality: str | None = None) -> Parsed:
    """Validate and parse a whole dataset; ``municipality`` is the default for records naming none."""
    fmt = fmt or detect_format(data)
    if fmt is None:
        why = "cannot tell the format (neither Civichat JSON nor a CSV with a program,kind header); use --format-in"
        return Parsed("unknown", problems=[Problem(None, None, None, why)])
    if fmt == "csv":

        return parse_csv(data, municipality)
    if fmt == "civichat":
        return parse_civichat(data, municipality)
    raise ValueError(f"unknown dataset format {fmt!r}")


def detect_format(data: bytes) -> str | None:
    head = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if head[:1] in (b"{", b"["):
        return "civichat"
    first = head.split(b"\n", 1)[0]
    for enc in ("utf-8", "cp932"):
        try:
            names = {c.strip().strip('"').lower() for c in first.decode(enc).split(",")}
        except UnicodeDecodeError:
            continue
        if {"program", "kind"} <= names:
            return "csv"
    return None


# ---------- Civichat / CPSV-J JSON ----------

def parse_civichat(data: bytes, municipality: str | None = None) -> Parsed:
    """Records of a Civichat JSON file; each record is dropped as soon as its facts are taken, so the
    peak is about the parsed document, not document + normalised copy + facts."""
    out = Parsed("civichat")
    doc = _load_json(data, out)
    if doc is None:
        return out
    records = doc.get("systemsData") if isinstance(doc, dict) else doc
    del doc
    if not isinstance(records, list) or not records:
        out.problems.append(Problem(None, None, None, 'no records: expected {"systemsData": [...]} or a list of records'))
        return out
    out.records = len(records)
    if not any(isinstance(r, dict) and any(_norm_key(k) in TITLE_KEYS for k in r if isinstance(k, str)) for r in records):
        names = " or ".join(TITLE_KEYS)
        out.problems.append(Problem(None, None, None, f"not a program dataset: no record has a program name ({names})"))
        return out
    out.municipality = _data_municipality(_normalised(r) if isinstance(r, dict) else None for r in records)
    seen: dict[str, int] = {}
    for row in range(1, len(records) + 1):
        raw, records[row - 1] = records[row - 1], None  # free each record once it is read
        if not isinstance(raw, dict):
            out.problems.append(Problem(row, None, None, "is not an object"))
            continue
        rec = _normalised(raw)
        del raw
        rid = _first(rec, ID_KEYS)
        if rid is not None and rid in seen:
            out.problems.append(Problem(row, rid, None, f"duplicate record id (also row {seen[rid]})"))
        if rid is not None:
            seen.setdefault(rid, row)
        problems = _check_record(row, rid, rec)
        out.problems += problems
        if problems or out.problems:
            continue  # nothing is loaded once any row is malformed: keep checking, stop collecting facts
        title = _first(rec, TITLE_KEYS)
        where = _first(rec, MUNI_KEYS) or _first(rec, PREF_KEYS) or municipality or out.municipality
        for key, (orig_key, value) in rec.items():
            if key in FACT_FIELDS and value not in (None, ""):
                for f in cell_facts(str(value), title, number_as_amount=key in AMOUNT_FIELDS):
                    out.facts.append({"record_id": rid, "municipality": where, "program": title, "field": orig_key, **f})
    if out.problems:
        out.facts.clear()
    return out


def _load_json(data: bytes, out: Parsed) -> Any:
    """The parsed document, or None with the file-level problem recorded (never raises)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.problems.append(Problem(None, None, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"))
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        out.problems.append(Problem(None, None, None, f"not valid JSON ({where}: {exc.msg})"))
    except RecursionError:
        out.problems.append(Problem(None, None, None, f"not readable: arrays/objects nested more than "
                                                      f"{MAX_JSON_DEPTH} levels deep (a program record needs 3)"))
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        why = str(exc).splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        if "integer string conversion" in why:
            why = f"a number has more than {sys.get_int_max_str_digits():,} digits"
        out.problems.append(Problem(None, None, None, f"not readable JSON: {why}"))
    return None


def _normalised(record: dict) -> dict[str, tuple[str, Any]]:
    return {_norm_key(k): (k, v) for k, v in record.items() if isinstance(k, str)}


def _check_record(row: int, rid: str | None, rec: dict[str, tuple[str, Any]]) -> list[Problem]:
    found: list[tuple[str, str]] = []  # (original key, message)
    if rid is None:
        found.append(("/".join(ID_KEYS[:2]), "missing: every record needs an id"))
    title = _first(rec, TITLE_KEYS)
    title_key = next((rec[k][0] for k in TITLE_KEYS if k in rec), TITLE_KEYS[0])
    if title is None:
        found.append((title_key, "missing: every record needs a program name"))
    else:
        bad = _title_problem(title)
        if bad:
            found.append((title_key, f"{_show(title)} {bad}"))
    for key, (orig_key, value) in rec.items():
        if value is None or value == "" or key not in _READ_KEYS:
            continue  # columns wardwatch does not read (tags, classifications) are not checked
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            found.append((orig_key, f"is {type(value).__name__}, expected text"))
            continue
        text = unicodedata.normalize("NFKC", str(value)).strip()
        bad = None
        if key in PREF_KEYS and not PREF_RE.fullmatch(text):
            bad = "is not a prefecture name"
        elif key in MUNI_KEYS and not MUNI_RE.fullmatch(text):
            bad = "is not a municipality name"
        elif key in DATE_FIELDS:
            bad = _date_problem(text)
        elif key in URL_FIELDS and not URL_RE.search(text):
            bad = "is not a URL" + (" (looks like a contact)" if _PHONE_LIKE.search(text) else "")
        elif key in AMOUNT_FIELDS and not re.search(r"\d", text):
            bad = "is not an amount"
        if bad:
            found.append((orig_key, f"{_show(value)} {bad}"))
    shifted = " — columns look shifted" if len(found) >= 2 else ""
    return [Problem(row, rid, key, msg + shifted) for key, msg in found]


def _title_problem(title: str) -> str | None:
    if URL_RE.search(title):
        return "is a URL, not a program name"
    if "\n" in title.strip():
        return "is several lines, not a program name"
    if title.rstrip().endswith("。"):
        return "is a sentence, not a program name"
    if len(title) > 100:
        return "is too long for a program name"
    return None


def _date_problem(text: str) -> str | None:
    if URL_RE.search(text):
        return "is a URL, not a date"
    if _PHONE_LIKE.search(text):
        return "is a phone number, not a date"
    if not re.search(r"\d|元年", text) and not any(w in text for w in _DATE_WORDS):
        return "is not a date"
    return None


def _data_municipality(records: Iterable[dict[str, tuple[str, Any]] | None]) -> str | None:
    """The municipality most records name (市町村/対象地域, else 都道府県, else a local-government 所管組織)."""
    counters: tuple[Counter[str], ...] = (Counter(), Counter(), Counter())
    for r in records:
        if not r:
            continue
        for counter, keys in zip(counters, (MUNI_KEYS, PREF_KEYS, ORG_KEYS)):
            v = _first(r, keys)
            if v and MUNI_RE.fullmatch(v):
                counter[v] += 1
    for names in counters:
        if names:
            return names.most_common(1)[0][0]
    return None


# ---------- helpers ----------

def _norm_key(key: str) -> str:
    key = key.removeprefix("ad:").strip()
    return key.replace("•", "・").replace("／", "・").replace("/", "・")


def _first(rec: dict[str, tuple[str, Any]], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` holding text (or a number); lists and objects are not text (reported by
    _check_record) and are never turned into strings (a deeply nested one would exhaust the stack)."""
    for k in keys:
        if k in rec and rec[k][1] not in (None, "") and _scalar(rec[k][1]):
            return str(rec[k][1]).strip()
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
