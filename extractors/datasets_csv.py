"""The simple dataset CSV: one fact per row. Pure, no I/O (used by :mod:`extractors.datasets`).

Header ``municipality,program,kind,qualifier,value,text,url`` (any order; ``program``, ``kind`` and
one of ``value``/``text`` are required, unknown columns are an error). UTF-8 with or without a BOM,
or cp932. ``value`` may be left empty when ``text`` holds the fact (月額13,500円); when both are given
they must agree. Rows are numbered like a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections import Counter
from datetime import date
from typing import Any

import phonenumbers

from extractors.dataset_cells import MUNI_RE, URL_RE, Parsed, Problem, cell_facts
from extractors.dataset_cells import show as _show

COLUMNS = ("municipality", "program", "kind", "qualifier", "value", "text", "url")
KINDS = {
    "amount": "an amount (yen)", "rate": "a rate", "date": "a date", "fiscal_year": "a fiscal year",
    "period": "a period", "duration": "a duration", "age": "an age", "phone": "a phone number",
    "fax": "a fax number", "email": "an e-mail address", "address": "an address", "department": "a department",
    "office_hours": "office hours", "url": "a URL",
}
QUALIFIERS = frozenset("上限 下限 月額 年額 一時金 加算 を限度 以内 未満 以上 以下 まで 現在 以降 以前 から より".split())
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?|--(\d{2})(?:-(\d{2}))?")
_DURATION = re.compile(r"P(?:\d+[YMWD])+(?:T(?:\d+[HMS])+)?|PT(?:\d+[HMS])+")


def parse_csv(data: bytes, municipality: str | None = None) -> Parsed:
    out = Parsed("csv")
    text = _decode(data)
    if text is None:
        out.problems.append(Problem(None, None, None, "neither UTF-8 nor cp932 text"))
        return out
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        out.problems.append(Problem(None, None, None, f"the header cannot be read as CSV: {_csv_error(exc)}"))
        return out
    bad = _header_problem(header)
    if bad:
        out.problems.append(Problem(None, None, None, bad))
        return out
    urls: set[tuple[Any, ...]] = set()
    names: Counter[str] = Counter()
    row_start = reader.line_num + 1
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:  # a cell over the field limit, a NUL byte: the rest of the file is not readable
            out.problems.append(Problem(row_start, None, None, f"cannot be read as CSV: {_csv_error(exc)}"))
            break
        if cells is None:
            break
        row, row_start = row_start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        out.records += 1
        found, fact = _check_row(header, cells, municipality)
        out.problems += [Problem(row, None, f, m) for f, m in found]
        if found:
            continue
        names[fact["municipality"]] += 1
        out.facts.append({"record_id": str(row), **fact})
        url = dict(zip(header, cells)).get("url", "").strip()
        if url and (fact["municipality"], fact["program"], url) not in urls:
            urls.add((fact["municipality"], fact["program"], url))
            out.facts.append({**fact, "record_id": str(row), "kind": "url", "value": url, "qualifier": None,
                              "text": url, "field": "url"})
    if out.records == 0 and not out.problems:
        out.problems.append(Problem(None, None, None, "no data rows under the header"))
    out.municipality = names.most_common(1)[0][0] if names else None
    return out


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is longer than {csv.field_size_limit():,} characters (not a program dataset cell)"
    if "NUL" in text:
        return "it contains a NUL byte (a binary file?)"
    return text


def _decode(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    for enc in ("utf-8", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def _header_problem(header: list[str]) -> str | None:
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        return f"unknown column(s) {', '.join(map(repr, unknown))} in the header (expected {','.join(COLUMNS)})"
    dup = [h for h, n in Counter(header).items() if n > 1]
    if dup:
        return f"column(s) {', '.join(map(repr, dup))} appear twice in the header"
    if not {"program", "kind"} <= set(header) or not {"value", "text"} & set(header):
        return f"the header needs program, kind and value or text (expected {','.join(COLUMNS)})"
    return None


def _check_row(header: list[str], cells: list[str], default_muni: str | None) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    found: list[tuple[str, str]] = []
    if len(cells) != len(header):
        found.append(("", f"has {len(cells)} cells, the header has {len(header)}"))
    c = {k: v.strip() for k, v in zip(header, cells)}
    muni = c.get("municipality") or default_muni
    if not muni:
        found.append(("municipality", "missing (fill it in or pass --municipality)"))
    elif not MUNI_RE.fullmatch(unicodedata.normalize("NFKC", muni)):
        found.append(("municipality", f"{_show(muni)} is not a municipality name"))
    program = c.get("program", "")
    if not program:
        found.append(("program", "missing"))
    elif URL_RE.match(program) or re.fullmatch(r"[\d,.\s円%-]+", program):
        found.append(("program", f"{_show(program)} is not a program name"))
    kind = c.get("kind", "").lower()
    if kind not in KINDS:
        found.append(("kind", f"{_show(c.get('kind', ''))} is not a fact kind ({', '.join(KINDS)})"))
    qualifier = c.get("qualifier") or None
    if qualifier and not all(q.strip() in QUALIFIERS for q in re.split("[,、]", qualifier)):
        found.append(("qualifier", f"{_show(qualifier)} is not a qualifier ({' '.join(sorted(QUALIFIERS))})"))
    url = c.get("url")
    if url and not URL_RE.fullmatch(url):
        found.append(("url", f"{_show(url)} is not a URL"))
    raw, text = c.get("value", ""), c.get("text", "")
    value = None
    if kind in KINDS:
        in_text = [f for f in cell_facts(text, program) if f["kind"] == kind] if text else []
        if raw:
            value = parse_value(kind, raw)
            if value is None:
                found.append(("value", f"{_show(raw)} is not {KINDS[kind]}"))
            elif in_text and all(f["value"] != value for f in in_text):
                found.append(("value", f"{_show(raw)} does not match the text {_show(text)} ({in_text[0]['value']})"))
        elif not text:
            found.append(("value", "value and text are both empty"))
        elif not in_text:
            found.append(("text", f"{_show(text)} has no {kind} in it"))
        else:
            value = in_text[0]["value"]
        if qualifier is None and in_text:
            qualifier = in_text[0]["qualifier"]
    if len(found) >= 2:
        found = [(f, m + " — columns look shifted") for f, m in found]
    fact = {"municipality": muni, "program": program, "kind": kind, "qualifier": qualifier, "value": value,
            "text": text or raw, "field": "value" if raw else "text"}
    return found, fact


def parse_value(kind: str, raw: str) -> Any:
    """The normalised value of a ``value`` cell (same conventions as page facts), None if it is not one."""
    s = unicodedata.normalize("NFKC", raw).strip()
    if kind == "amount" and (m := re.fullmatch(r"[¥\\]?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*円?", s)):
        return int(m.group(1).replace(",", ""))
    if kind == "rate":
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", s):
            return round(float(m.group(1)) / 100, 4)
        if re.fullmatch(r"0?\.\d+|[01](?:\.0+)?", s):
            return round(float(s), 4)
    if kind in ("age", "fiscal_year") and re.fullmatch(r"\d{1,4}", s):
        n = int(s)
        return n if (kind == "age" and n <= 130) or (kind == "fiscal_year" and 1868 <= n <= 2200) else None
    if kind == "date" and _iso_date(s):
        return s
    if kind == "period" and "/" in s and all(_iso_date(p.strip()) for p in s.split("/", 1)):
        start, end = (p.strip() for p in s.split("/", 1))
        return {"start": start, "end": end}
    if kind == "duration" and _DURATION.fullmatch(s):
        return s
    if kind in ("phone", "fax"):
        try:
            number = phonenumbers.parse(s, "JP")
        except phonenumbers.NumberParseException:
            return None
        ok = phonenumbers.is_valid_number(number)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if ok else None
    if kind == "email":
        return s.lower() if _EMAIL_RE.fullmatch(s) else None
    if kind == "url":
        return s if URL_RE.fullmatch(s) else None
    # written the way a page would write it (4万円, 18歳, 令和7年度, 平日9時～17時): the page extractor decides
    facts = [f for f in cell_facts(raw, None) if f["kind"] == kind]
    if facts:
        return facts[0]["value"]
    if kind in ("address", "department", "office_hours"):  # free text the extractor may not recognise
        return s if not URL_RE.match(s) and not re.fullmatch(r"[\d,.\s円%-]+", s) else None
    return None


def _iso_date(s: str) -> bool:
    m = _ISO_DATE.fullmatch(s)
    if not m:
        return False
    y, mo, d, rmo, rd = (int(g) if g else None for g in m.groups())
    try:
        date(y or 2000, mo or rmo or 1, d or rd or 1)
    except ValueError:
        return False
    return True
