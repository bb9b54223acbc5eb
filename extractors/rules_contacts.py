"""Contact facts: url, email, phone/fax, office_hours, address, department.

* phone/fax: Japanese numbers with an area code, validated and formatted E.164 by
  ``phonenumbers`` (03-5984-1319, 03(3908)9201, ０３－５９８４－１３１９ -> "+81359841319"); the kind
  is ``fax`` when the nearest label before the number is FAX/ファクス. A number written without
  its area code right after ☎/電話/TEL (広報: "☎ 9-3050") is a phone with value "9-3050" and
  ``local: true`` — it cannot be made E.164 without guessing the area code.
* address: a Sudachi place-name (地名) run followed by a block number (1-15-22, 1丁目18番1号,
  469番地1); the value is the normalised text with numerals as digits.
* department: a noun compound (Sudachi) ending in 課/係/室/センター/事務所, cut after its last
  such word (子育て給付係窓口 -> 子育て給付係), without leading prefixes (各) and excluding
  rooms (学習室, 事務室 ...) and 関係; "北区生活福祉課 生活支援係" is one department.
"""

from __future__ import annotations

import re

import phonenumbers

from extractors.lineview import Candidate, LineView
from extractors.tokenizer import Token

P_LINK, P_PHONE, P_HOURS, P_ADDRESS, P_DEPARTMENT = 10, 20, 30, 40, 110

_URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_PHONE_RE = re.compile(
    r"(?<![0-9\-+.])(?:\+81[\s\-]?\(?0?[0-9]{1,4}\)?|\(?0[0-9]{1,4}\)?)[\s\-]?\(?[0-9]{1,4}\)?[\s\-]?[0-9]{3,4}(?![0-9\-])"
)
_LOCAL_PHONE_RE = re.compile(r"(?:☎|℡|電話|TEL|Tel|tel)\s*(?:番号)?\s*:?\s*([1-9][0-9]{0,3}-[0-9]{4})(?![0-9\-])")
_LABEL_RE = re.compile(r"FAX|Fax|fax|ファクス|ファックス|ファクシミリ|TEL|Tel|tel|電話|☎|℡")
_FAX_LABELS = ("FAX", "Fax", "fax", "ファクス", "ファックス", "ファクシミリ")

_DAY = "[月火水木金土日祝]"
_TIME = r"(?:(?:午前|午後)\s*)?[0-9]{1,2}(?:時(?:[0-9]{1,2}分|半)?|:[0-9]{2})"
_HOURS_RE = re.compile(
    rf"(?:(?:(?P<d1>{_DAY})曜?日?\s*(?:から|~|-)\s*(?P<d2>{_DAY})曜?日?|(?P<wd>平日)|(?P<d0>{_DAY})曜日?)"
    rf"\s*[:、,]?\s*\(?\s*)?"
    rf"(?P<t1>{_TIME})\s*(?:から|~|-)\s*(?P<t2>{_TIME})(?:まで)?"
)
_TIME_PARTS = re.compile(r"(午前|午後)?\s*([0-9]{1,2})(?:時(?:([0-9]{1,2})分|(半))?|:([0-9]{2}))")
_DAY_CODES = {"月": "Mo", "火": "Tu", "水": "We", "木": "Th", "金": "Fr", "土": "Sa", "日": "Su", "祝": "PH"}

_BANCHI_RE = re.compile(
    r"(?<![0-9\-])[0-9]+(?:丁目(?:[0-9]+(?:番地?(?:[0-9]+号?)?|-[0-9]+))?|番地(?:[0-9]+(?:-[0-9]+)?)?|(?:-[0-9]+){1,3}(?:号)?)"
)
_ADDRESS_WORDS = frozenset({"郡", "字", "大字", "小字"})
# regex-only baseline (sudachi=False): a run of kanji/katakana ending in 都道府県区市町村 + block number
_ADDRESS_RE_BASELINE = re.compile(r"[一-龥ぁ-んァ-ヴー々ヶケ]*?[都道府県区市町村郡][一-龥ァ-ヴー々ヶケ]*$")

DEPARTMENT_SUFFIXES = ("課", "係", "室", "センター", "事務所")
# cheap line filter before Sudachi: a unit word that is not part of 課税/課程/放課後/関係/係る
_DEPT_TRIGGER = re.compile("(?<!放)課(?![税程題金])|(?<![関連])係(?![るりれろらわ数])|室|センター|事務所")
_NOT_DEPARTMENTS = (
    "課室", "学習室", "集会室", "事務室", "居室", "会議室", "和室", "洋室", "教室", "浴室", "控室",
    "研修室", "待合室", "授乳室", "図書室", "談話室", "調理室", "更衣室", "休憩室", "自習室", "病室",
    "寝室", "個室", "温室", "客室", "別室", "関係", "連係",
)
_SUB_UNITS = ("係", "室")
_GENERIC_UNITS = frozenset({"所管課", "担当課", "主管課", "関係課", "担当係", "当センター", "同センター", "本センター"})
_LEAD_WORDS = frozenset({"問", "問い", "問合せ", "問い合わせ", "お問い合わせ", "担当", "窓口", "宛先", "所属"})
_DEPT_RE_BASELINE = re.compile(r"(?:[一-龥ァ-ヴー々ヶ]+(?:課|係|室|センター|事務所))+")


def find_links(lv: LineView) -> list[Candidate]:
    """url (as written, trailing punctuation dropped) and email (lower case)."""
    text = lv.norm.text
    out = []
    for m in _URL_RE.finditer(text):
        url = m.group().rstrip(".,;:!?)]'")
        a, b = lv.norm_to_line(m.start(), m.start() + len(url))
        out.append(Candidate("url", url, a, b, P_LINK))
    for m in _EMAIL_RE.finditer(text):
        email = m.group().rstrip(".-")
        a, b = lv.norm_to_line(m.start(), m.start() + len(email))
        out.append(Candidate("email", email.lower(), a, b, P_LINK))
    return out


def _phone_kind(text: str, start: int, prev_end: int) -> str:
    labels = _LABEL_RE.findall(text, prev_end, start)
    return "fax" if labels and labels[-1] in _FAX_LABELS else "phone"


def find_phones(lv: LineView) -> list[Candidate]:
    text = lv.norm.text
    out = []
    prev_end = 0
    for m in _PHONE_RE.finditer(text):
        try:
            number = phonenumbers.parse(m.group(), "JP")
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        a, b = lv.norm_to_line(m.start(), m.end())
        out.append(Candidate(_phone_kind(text, m.start(), prev_end), e164, a, b, P_PHONE))
        prev_end = m.end()
    for m in _LOCAL_PHONE_RE.finditer(text):
        a, b = lv.norm_to_line(m.start(1), m.end(1))
        out.append(Candidate("phone", m.group(1), a, b, P_PHONE, extra={"local": True}))
    return out


def _clock(t: str) -> str:
    m = _TIME_PARTS.fullmatch(t.strip())
    if not m:
        raise ValueError(t)
    half, hour = m.group(1), int(m.group(2))
    minute = int(m.group(3) or m.group(5) or (30 if m.group(4) else 0))
    if half == "午後" and hour < 12:
        hour += 12
    return f"{hour:02d}:{minute:02d}"


def find_office_hours(lv: LineView) -> list[Candidate]:
    """月曜から金曜:午前8時30分から午後5時15分まで -> "Mo-Fr 08:30-17:15"; 土曜日9:00~11:30 -> "Sa 09:00-11:30";
    a time range without days -> "14:00-16:00"."""
    text = lv.view.text
    out = []
    for m in _HOURS_RE.finditer(text):
        try:
            hours = f"{_clock(m.group('t1'))}-{_clock(m.group('t2'))}"
        except ValueError:
            continue
        if m.group("wd"):
            hours = f"Mo-Fr {hours}"
        elif m.group("d0"):
            hours = f"{_DAY_CODES[m.group('d0')]} {hours}"
        elif m.group("d1"):
            hours = f"{_DAY_CODES[m.group('d1')]}-{_DAY_CODES[m.group('d2')]} {hours}"
        a, b = lv.view_to_line(m.start(), m.end())
        out.append(Candidate("office_hours", hours, a, b, P_HOURS))
    return out


def _is_place(t: Token) -> bool:
    return t.pos[2] == "地名" or t.surface in _ADDRESS_WORDS


def find_addresses(lv: LineView) -> list[Candidate]:
    """Place name + block number, e.g. 東京都北区王子本町1-15-22."""
    view = lv.view.text
    out = []
    for m in _BANCHI_RE.finditer(view):
        norm_start, _ = lv.view_to_norm(m.start(), m.start() + 1)
        if lv.sudachi:
            start = _place_start_sudachi(lv.tokens, norm_start)
        else:
            pm = _ADDRESS_RE_BASELINE.search(lv.norm.text, max(0, norm_start - 30), norm_start)
            start = pm.start() if pm and pm.start() < norm_start else None
        if start is None:
            continue
        vs = _norm_to_view(lv, start)
        value = re.sub(r"\s+", "", view[vs : m.end()])
        a, _ = lv.norm_to_line(start, start + 1)
        _, b = lv.view_to_line(m.start(), m.end())
        out.append(Candidate("address", value, a, b, P_ADDRESS))
    return out


def _place_start_sudachi(tokens: list[Token], norm_start: int) -> int | None:
    """Start of the place-name run ending exactly at ``norm_start``, if it begins with a 地名."""
    k = next((i for i, t in enumerate(tokens) if t.end == norm_start), None)
    if k is None:
        return None
    i = k
    while i >= 0 and _is_place(tokens[i]) and (i == k or tokens[i].end == tokens[i + 1].start):
        i -= 1
    i += 1
    while i <= k and tokens[i].pos[2] != "地名":
        i += 1
    return tokens[i].start if i <= k else None


def _norm_to_view(lv: LineView, norm_pos: int) -> int:
    """Smallest view offset whose source starts at or after ``norm_pos``."""
    starts = lv.view.starts
    if starts is None:
        return norm_pos
    for i, s in enumerate(starts):
        if s >= norm_pos:
            return i
    return len(starts)


def find_departments(lv: LineView) -> list[Candidate]:
    text = lv.norm.text
    if not _DEPT_TRIGGER.search(text):
        return []
    spans = _department_spans_sudachi(lv.tokens) if lv.sudachi else _department_spans_regex(text)
    out = []
    for s, e in _merge_sub_units(spans, text):
        if text[s:e].startswith("各") or text[max(0, s - 1):s] == "各":
            continue  # 各総合福祉事務所(の相談係): every office of a kind, not one department
        a, b = lv.norm_to_line(s, e)
        out.append(Candidate("department", re.sub(r"\s+", "", text[s:e]), a, b, P_DEPARTMENT))
    return out


def _is_compound_part(t: Token) -> bool:
    return t.pos[0] in ("名詞", "接頭辞", "接尾辞") and t.pos[1] != "数詞"


def _department_spans_sudachi(tokens: list[Token]) -> list[tuple[int, int]]:
    """Departments inside noun compounds (maximal runs of adjacent noun/prefix/suffix tokens)."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        if not _is_compound_part(tokens[i]):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and _is_compound_part(tokens[j + 1]) and tokens[j + 1].start == tokens[j].end:
            j += 1
        span = _department_in(tokens[i : j + 1])
        if span:
            spans.append(span)
        i = j + 1
    return spans


def _department_in(run: list[Token]) -> tuple[int, int] | None:
    for last in range(len(run) - 1, -1, -1):
        text = "".join(t.surface for t in run[: last + 1])
        if text.endswith(_NOT_DEPARTMENTS):
            return None  # 所属課室, 関係: not a department, and nothing before it is one either
        if text.endswith(DEPARTMENT_SUFFIXES):
            first = 0
            while first < last and (run[first].pos[0] == "接頭辞" or run[first].surface in _LEAD_WORDS):
                first += 1
            name = "".join(t.surface for t in run[first : last + 1])
            if last > first and name not in _GENERIC_UNITS:  # a bare センター/課 names nothing
                return run[first].start, run[last].end
            return None
    return None


def _merge_sub_units(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join a 課/センター/事務所 and the 係/室 right after it, separated by spaces or の.

    "北区生活福祉課 生活支援係" and "総合福祉事務所の相談係" are one department each.
    """
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            ps, pe = merged[-1]
            gap = text[pe:s]
            if ((gap == "の" or (gap and gap.isspace() and len(gap) <= 2)) and text[s:e].endswith(_SUB_UNITS)
                    and text[ps:pe].endswith(("課", "センター", "事務所"))):
                merged[-1] = (ps, e)
                continue
        merged.append((s, e))
    return merged


def _department_spans_regex(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DEPT_RE_BASELINE.finditer(text) if not m.group().endswith(_NOT_DEPARTMENTS)]
