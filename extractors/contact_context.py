"""Document-level pass over contact facts: ``resolve_contacts(facts, doc) -> facts``.

The line rules (:mod:`extractors.rules_contacts`) see one line; these decisions need the document:

* **Area codes of local numbers.** A number written without its area code ("☎ 5-3311",
  value "5-3311", ``local: true``) gets the area code of the document's full numbers of the same
  exchange code (01656-5-3837 gives 01656 to 5-3311) — or, when no full number shares its exchange,
  of a number marked 代表 (switchboard) in the document — and becomes E.164 ("+81165653311";
  ``local`` dropped). It stays local when that is not unambiguous: no candidate, candidates with
  different area codes in one document (all local numbers of a document are in the publisher's own
  area), or only area codes the document itself contrasts with local numbers. When the caller
  gives the publisher's ``switchboard`` (the municipality's main number, e.g. from the source
  registry), its area code is the home of every local number that fits it, unless the document
  contrasts that area with its local numbers. Contrast: a full number written next to
  (same or adjacent line) a local number of the same exchange is from another area, or the writer
  would have left out its area code too ("名寄警察署 ☎01654-2-0110 美深警察庁舎 ☎2-1110").
  Number lengths are checked: 5-3311 (5 digits) only takes a 4-digit area code (01656); the
  resulting number must be valid for ``phonenumbers``.
  A local number proposed without any label ("中井経済課長5-3314", a staff table) is kept only
  when a labelled number of the document has the same exchange code (else dropped), or when it is
  in a table column whose header (the table's first row) says 電話番号/TEL/連絡先 (FAX: a fax). Such a
  column lists other offices' numbers too: it takes the switchboard's area code only for an exchange
  the publisher's own numbers use (the switchboard's, a full number of that area, a ☎-labelled local
  number); "道道 | 出張所 | 2-1081" stays local.
* **Office hours broken across two lines** (a PDF line break, a narrow cell: 「午前10時〜」 / 「午後4時」)
  are one office_hours fact whose span covers the line break (not when the text is already another fact).
* **Periods broken across two lines** (a PDF line break: 「受付期間：令和7年4月1日（火）～」 /
  「令和7年6月30日（月）」) are one period fact whose span covers the line break: a date that ends its
  line with a range marker (~, から) and a date that starts the next line are read as one line.
* **Days on the line above a window.** A window that starts its line and has no day words takes the
  day words that end the line above (「診療時間・金曜日」 / 「11：30 ~ 12：30 14：00 ~ 17：00」, a PDF line break:
  "Fr 11:30-12:30,14:00-17:00"; the span runs from the days), unless those words are another fact's or
  name closed days (休診日：…).
* **Weekdays of office hours.** A window with no day words gets "Mo-Fr " when its line says
  平日, 開庁(日/時間), 土日祝日を除く / 土・日・祝日除く or 土日(祝日)は休み, or an adjacent line does and
  its own line names no other days (words inside another office_hours fact are that fact's days;
  翌平日 is not a weekday window).
* **Whether a unit name that may be something else is a department.** A name with 課/係/委員会/部/局
  in it is one (総務課総務財政室, 住民課保健福祉室保健福祉センター), and so is a 署/所/委員会 name of
  more than one word (名寄警察署, 音威子府駐在所). A 室/センター/事務所/出張所 name without them — it
  may be a room, a facility or a venue — and one common noun naming a kind of institution
  (警察署, 税務署, 実行委員会) are kept only in a contact context: in its sentence (40 characters
  either side) or, when its line is short (a contact block), on the adjacent lines, a phone/fax/email
  or お問い合わせ/問合せ/連絡先/担当/申込先/提出先/までご連絡; 問 (㉄) just before it; a staff name
  printed after it (◇教育委員会阿部 郁也); an item of a list of institutions (児童相談所、子ども家庭
  支援センター、保健所) — or when the same unit name (without a place name in front) is kept in such
  a context elsewhere in the document (保健福祉センター内で… once "問 保健福祉センター ☎9-3050"
  appears; 総合福祉事務所 once 練馬総合福祉事務所相談係 is a contact). A kindergarten's event
  (幼児センターにて七夕会), a bus stop (「高齢者センター」停留所) or a room (相談室) is not a contact unit.
* **A venue is not a contact unit.** A 室/センター/事務所 name right after 場所/会場/ところ (「場所：音威子府村保健福祉
  センター」, 「検診会場 保健福祉センター」) is where something happens: dropped, even when the same unit is a
  contact elsewhere, unless a phone/fax/email follows it on its line.
* **A table column of contact units**: a unit in a cell of a column headed 受付窓口/提出先/問い合わせ先/担当
  (「届出が必要な時 | 受付窓口 | 必要なもの」 / 「… | 役場住民課旭川年金事務所 | …」) is in a contact context.
* **A field label naming the responsible unit** (管理支所, 所管課, 管轄事務所 as a table header or a
  definition term, 「管理支所」 / 「城南島出張所」) is a contact context for the unit under it.
* **An address broken across two lines** (「〒156-0056 東京都世田谷区」 / 「八幡山二丁目9番地11号」): a line that
  is only a place name (after a postal code) ending in 都道府県市区町村郡, right above a line that starts with an
  address, is that address's beginning: one address fact over the line break.
* **Staff surnames glued in front of a unit** (「山田子育て支援課」, Sudachi 人名) are cut when the
  document names the unit without them elsewhere.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace
from functools import lru_cache

import phonenumbers

from extractors.lineview import LineView
from extractors.model import Document, Fact
from extractors.normalize import normalize
from extractors.rules_dates import DateContext, find_dates
from extractors.rules_departments import WEAK_SUFFIXES
from extractors.rules_hours import find_office_hours, trailing_days
from extractors.tokenizer import tokenize

_GENERIC_KIND_ENDINGS = ("署", "所", "委員会")
_STRONG_UNIT_RE = re.compile("課|係|委員会|部|局")
_UNIT_SEGMENT_RE = re.compile(r".+?(?:課|係|室|センター|事務所|出張所|委員会|事務局|担当|部|局)")
_CONTACT_WORDS_RE = re.compile(r"お?問い?合わ?せ|問合せ|連絡先|担当(?!し|す[るれ])|申込先|申し込み先|提出先|申請先"
                               r"|(?:まで|へ|に)\s*[ごお]?(?:連絡|相談|問い?合わ?せ|申し?込)")
# a field label naming the responsible unit (a table header, a definition term): 管理支所 | 城南島出張所
_UNIT_LABEL_RE = re.compile(r"(?:所管|管理|管轄)(?:課|部署|支所|事務所|出張所)(?=[ \t]*(?:[:：|]|\n|$))")
# a venue label right before a unit name: 場所：…センター, 検診会場 …センター (spaced PDF letters: 会 場)
_VENUE_BEFORE_RE = re.compile(r"(?:場\s*所|会\s*場|ところ)\s*[:：|]?\s*$")
_ASKED_BEFORE_RE = re.compile(r"[問㉄]\s*[:：]?\s*$")
_WEEKDAY_CONTEXT_RE = re.compile(
    r"(?<![翌前])平日(?!以外)|開庁|閉庁日を?除|土(?:曜日?)?[\s\u3000]*[・、,，]?[\s\u3000]*日(?:曜日?)?[^。\n]{0,14}?(?:除[くき外]|以外|休[み館業診日]|閉[庁館])"
)
_DAY_WORDS_RE = re.compile("[月火水木金土日]曜|土日|第[1-5１-５一二三四五][・、]")
_DAY_PREFIX_RE = re.compile(r"^[A-Z]")
_SWITCHBOARD_RE = re.compile("代表")
_NEAR = 40  # characters around a unit in a long line (a PDF paragraph) that count as its context
_SHORT_LINE = 60
_INSTITUTION = r"(?:所|センター|課|室|機関|署|病院|施設)"
_LISTED_AFTER_RE = re.compile(rf"\s*[、,・や]\s*[^、,。\s]{{1,12}}?{_INSTITUTION}(?=[、,・やなと。\s)）」]|$)")
_LISTED_BEFORE_RE = re.compile(rf"{_INSTITUTION}\s*[、,・や]\s*$")
_NSN_LENGTH = 9  # Japanese geographic numbers: area code + exchange + subscriber = 9 digits after 0


def resolve_contacts(facts: list[Fact], doc: Document, switchboard: str | None = None) -> list[Fact]:
    """``facts`` (of ``doc``, in document order) with the document-level contact decisions applied.

    ``switchboard``: the publisher's main number (e.g. "01656-5-3311"), used like a 代表 number of
    the document when no number of the document decides a local number's area code.
    """
    if _BROKEN_WINDOW_RE.search(doc.text):
        facts = _join_broken_hours(facts, doc)
    if any(f.kind == "address" for f in facts):
        facts = _join_broken_addresses(facts, doc)
    if _BROKEN_PERIOD_RE.search(doc.text):
        facts = _join_broken_periods(facts, doc)
    if not any(f.kind in ("phone", "fax", "office_hours", "department") for f in facts):
        return facts
    lines = _LineIndex(doc.text)
    facts = _resolve_phones(facts, lines, switchboard, doc)
    facts = _resolve_hours(facts, lines)
    return _resolve_departments(facts, lines, _Tables(doc))


class _LineIndex:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def number(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def span(self, n: int) -> tuple[int, int]:
        start = self.starts[n]
        end = self.starts[n + 1] - 1 if n + 1 < len(self.starts) else len(self.text)
        return start, end

    def line(self, n: int) -> str:
        if n < 0 or n >= len(self.starts):
            return ""
        a, b = self.span(n)
        return self.text[a:b]


# ---------------------------------------------------------------- phones


@lru_cache(maxsize=4096)
def _area_split_of(value: str) -> tuple[str, str] | None:
    number = _parse(value)
    return _area_split(number) if number is not None else None


def _area_split(number: phonenumbers.PhoneNumber) -> tuple[str, str] | None:
    """(area code without 0, exchange code) of a valid geographic number, else None."""
    if phonenumbers.number_type(number) not in (phonenumbers.PhoneNumberType.FIXED_LINE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    n = phonenumbers.length_of_geographical_area_code(number)
    nsn = phonenumbers.national_significant_number(number)
    if n <= 0 or len(nsn) != _NSN_LENGTH:
        return None
    return nsn[:n], nsn[n:-4]


def _parse(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        return None


def _resolve_phones(facts: list[Fact], lines: _LineIndex, switchboard: str | None,
                    doc: Document | None = None) -> list[Fact]:
    full: list[tuple[int, str, str, Fact]] = []  # line, area, exchange
    local: list[tuple[int, str, str, Fact]] = []  # line, exchange, subscriber
    in_column: set[int] = set()  # unlabelled numbers in a table column headed 電話/FAX
    relabelled: dict[int, Fact] = {}
    tables = _Tables(doc) if doc is not None else None
    for f in facts:
        if f.kind in ("phone", "fax") and f.extra.get("local"):
            if f.extra.get("unlabelled") and tables is not None:
                column = tables.column_label(f.start)
                if column:
                    extra = {k: v for k, v in f.extra.items() if k != "unlabelled"}
                    relabelled[id(f)] = g = replace(f, kind=column, extra=extra)
                    in_column.add(id(g))
                    f = g
            ex, sub = f.value.split("-")
            local.append((lines.number(f.start), ex, sub, f))
    if not local:
        return facts
    if relabelled:
        facts = [relabelled.get(id(f), f) for f in facts]
    for f in facts:
        if f.kind in ("phone", "fax") and not f.extra.get("local") and isinstance(f.value, str):
            split = _area_split_of(f.value) if f.value.startswith("+81") else None
            if split:
                full.append((lines.number(f.start), split[0], split[1], f))
    labelled_exchanges = {ex for _, ex, _, f in local if not f.extra.get("unlabelled")}
    labelled_exchanges |= {ex for _, _, ex, _ in full}
    drop = {id(f) for _, ex, _, f in local if f.extra.get("unlabelled") and ex not in labelled_exchanges}
    local = [x for x in local if id(x[3]) not in drop]

    local_at = {(ln, ex) for ln, ex, _, _ in local}
    contrasted = {area for ln, area, ex, _ in full if any((m, ex) in local_at for m in (ln - 1, ln, ln + 1))}
    home = _area_split_of(switchboard) if switchboard else None
    if home:
        # the publisher's own area is known: every local number is in it, unless the document itself
        # contrasts that area with its local numbers
        # a number in a table column (a list of other offices' numbers) takes it only for an exchange the
        # publisher's own numbers use: the switchboard's, a full number of that area, a ☎-labelled one
        own = {home[1]} | {ex for _, area, ex, _ in full if area == home[0]} | {
            ex for _, ex, _, f in local if not f.extra.get("unlabelled") and id(f) not in in_column}
        chosen = {} if home[0] in contrasted else {
            id(f): home[0] for _, ex, sub, f in local if len(home[0]) + len(ex) + len(sub) == _NSN_LENGTH
            and (id(f) not in in_column or ex in own)}
    else:
        chosen = _areas_from_document(full, local, contrasted, lines)

    out = []
    for f in facts:
        if id(f) in drop:
            continue
        if f.kind in ("phone", "fax") and f.extra.get("local"):
            extra = {k: v for k, v in f.extra.items() if k != "unlabelled"}
            area = chosen.get(id(f))
            e164 = _e164("0" + area + f.value.replace("-", "")) if area else None
            if e164:
                extra.pop("local", None)
                f = replace(f, value=e164, extra=extra)
            elif extra != f.extra:
                f = replace(f, extra=extra)
        out.append(f)
    return out


_COLUMN_PHONE_RE = re.compile(r"電話|TEL|Tel|☎|連絡先")
_COLUMN_FAX_RE = re.compile(r"FAX|Fax|ファクス|ファックス")
_CELL = " | "  # how the text layer joins the cells of a table row
_COLUMN_CONTACT_RE = re.compile(r"窓口|提出先|申請先|届出先|申込先|相談先|問い?合わ?せ|問合せ|連絡先|担当")


class _Tables:
    """Column headers of the document's tables (runs of adjacent "row" blocks; the first row is the header)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.starts: list[int] | None = None
        self.first: dict[int, int] = {}  # row block index -> index of its table's first row

    def column_label(self, pos: int) -> str | None:
        """"phone"/"fax" when ``pos`` lies in a table row cell whose column header names a phone
        (電話番号, TEL, 連絡先) or a fax number; else None."""
        header = self.header(pos)
        if header is None or any(c.isdigit() for c in header):
            return None
        if _COLUMN_FAX_RE.search(header) and not _COLUMN_PHONE_RE.search(header):
            return "fax"
        return "phone" if _COLUMN_PHONE_RE.search(header) else None

    def names_contacts(self, pos: int) -> bool:
        """``pos`` lies in a cell of a column headed 受付窓口/提出先/問い合わせ先/担当 …: the units it lists
        are where one goes or asks (「届出が必要な時 | 受付窓口 | …」 / 「… | 役場住民課旭川年金事務所 | …」)."""
        header = self.header(pos)
        return header is not None and bool(_COLUMN_CONTACT_RE.search(header))

    def header(self, pos: int) -> str | None:
        """The header cell of the column of the table cell at ``pos`` (None outside a table's body)."""
        blocks = self.doc.blocks
        if not blocks:
            return None
        if self.starts is None:
            self.starts = [b.start for b in blocks]
        i = bisect.bisect_right(self.starts, pos) - 1
        if i < 0 or blocks[i].kind != "row" or pos >= blocks[i].end:
            return None
        row = blocks[i]
        column = self.doc.text[row.start:pos].count(_CELL)
        h = self._first_row(i)
        if h == i:
            return None  # the header row itself
        header = blocks[h].text.split(_CELL)
        if len(header) != row.text.count(_CELL) + 1:
            return None
        return header[column]

    def _first_row(self, i: int) -> int:
        blocks = self.doc.blocks
        path = []
        while i not in self.first and i > 0 and blocks[i - 1].kind == "row" and blocks[i - 1].end + 1 == blocks[i].start:
            path.append(i)
            i -= 1
        first = self.first.get(i, i)
        for k in path + [i]:
            self.first[k] = first
        return first


def _areas_from_document(full: list[tuple[int, str, str, Fact]], local: list[tuple[int, str, str, Fact]],
                         contrasted: set[str], lines: _LineIndex) -> dict[int, str]:
    """Area code per local number from the document's full numbers (same exchange, else a 代表 number)."""
    by_exchange: dict[str, set[str]] = {}
    for _, area, ex, _ in full:
        if area not in contrasted:
            by_exchange.setdefault(ex, set()).add(area)
    switchboards = {area for _, area, _, f in full if _SWITCHBOARD_RE.search(_around(lines, f))} - contrasted
    chosen: dict[int, str] = {}
    for _, ex, sub, f in local:
        n = len(ex) + len(sub)
        areas = {a for a in by_exchange.get(ex, set()) if len(a) + n == _NSN_LENGTH}
        if not areas:
            areas = {a for a in switchboards if len(a) + n == _NSN_LENGTH}
        if len(areas) == 1:
            chosen[id(f)] = areas.pop()
    if len(set(chosen.values())) > 1:
        return {}  # two "home" area codes in one document: nothing is unambiguous
    return chosen


def _e164(national: str) -> str | None:
    number = _parse(national)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _around(lines: _LineIndex, f: Fact, width: int = 8) -> str:
    a, b = lines.span(lines.number(f.start))
    return lines.text[max(a, f.start - width):min(b, f.end + width)]


# ---------------------------------------------------------------- office hours

# a time window whose two ends are on two lines (a PDF line break, a narrow table cell): 午前10時~ / 午後4時
_BROKEN_WINDOW_RE = re.compile(
    "(?:[0-9０-９]|[0-9０-９][時分半]|正午)[ \t\u3000]*(?:から|[~〜～∼\\-－ー‐―])[ \t\u3000]*\n"
    "[ \t\u3000]*(?:午前|午後|正午|AM|PM|[0-9０-９])")


_MAX_BROKEN_WINDOWS = 200


def _join_broken_hours(facts: list[Fact], doc: Document) -> list[Fact]:
    """One office_hours fact for each window broken across two lines (the span covers the line break)."""
    text = doc.text
    added: list[Fact] = []
    starts = [bl.start for bl in doc.blocks]
    for k, m in enumerate(_BROKEN_WINDOW_RE.finditer(text)):
        if k >= _MAX_BROKEN_WINDOWS:
            break  # a hostile document of nothing but "1~" lines: the line facts stand
        nl = text.index("\n", m.start())
        a = text.rfind("\n", 0, nl) + 1
        b = text.find("\n", nl + 1)
        b = len(text) if b < 0 else b
        first, second = text[a:nl], text[nl + 1:b]
        for c in find_office_hours(LineView.build(first + second)):
            if not (c.start < len(first) < c.end):
                continue
            start, end = a + c.start, nl + 1 + c.end - len(first)
            if any(f.start < end and start < f.end and f.kind != "office_hours" for f in facts):
                continue  # the text is already something else (a period, a phone)
            i = bisect.bisect_right(starts, start) - 1
            block = doc.blocks[i] if i >= 0 and start < doc.blocks[i].end else None
            added.append(Fact("office_hours", c.value, text[start:end], start, end, None,
                              block.program if block else None, block.page if block else None))
    if not added:
        return facts
    kept = [f for f in facts if not (f.kind == "office_hours" and any(
        g.start < f.end and f.start < g.end for g in added))]
    return sorted(kept + added, key=lambda f: (f.start, f.end))


def _resolve_hours(facts: list[Fact], lines: _LineIndex) -> list[Fact]:
    hours = [f for f in facts if f.kind == "office_hours"]
    if not hours:
        return facts
    spans = _Spans([(f.start, f.end) for f in hours])
    context: dict[int, bool] = {}
    day_words: dict[int, bool] = {}

    def has(cache: dict[int, bool], regex: re.Pattern[str], n: int) -> bool:
        if n not in cache:
            cache[n] = 0 <= n < len(lines.starts) and any(
                not spans.overlaps(m.start(), m.end()) for m in regex.finditer(lines.text, *lines.span(n)))
        return cache[n]

    updated: dict[int, Fact] = {}
    for f in hours:
        if _DAY_PREFIX_RE.match(f.value):
            continue
        n = lines.number(f.start)
        above = _days_above(facts, lines, f, n)
        if above is not None:
            updated[id(f)] = above
            continue
        # a word inside another window's span is that window's days; a line naming other days has its own
        if has(context, _WEEKDAY_CONTEXT_RE, n) or (
                not has(day_words, _DAY_WORDS_RE, n)
                and (has(context, _WEEKDAY_CONTEXT_RE, n - 1) or has(context, _WEEKDAY_CONTEXT_RE, n + 1))):
            updated[id(f)] = replace(f, value=f"Mo-Fr {f.value}")
    return [updated.get(id(f), f) for f in facts] if updated else facts


def _days_above(facts: list[Fact], lines: _LineIndex, f: Fact, n: int) -> Fact | None:
    """``f`` with the days that end the line above it, when ``f`` starts its line (「診療時間・金曜日」 /
    「11：30 ~ 12：30 14：00 ~ 17：00」: "Fr 11:30-12:30,14:00-17:00" over both lines); None otherwise."""
    a, _ = lines.span(n)
    if n == 0 or lines.text[a:f.start].strip():
        return None
    pa, pb = lines.span(n - 1)
    found = trailing_days(lines.text[pa:pb])
    if found is None:
        return None
    days, s = found
    start = pa + s
    if any(g.start < pb and start < g.end for g in facts if g is not f):
        return None  # the words are another fact's (a date's weekday, another window's days)
    return replace(f, value=f"{days} {f.value}", text=lines.text[start:f.end], start=start)


class _Spans:
    """Non-overlapping spans sorted by start (facts after overlap resolution): overlap test in O(log n)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [a for a, _ in spans]
        self.ends = [b for _, b in spans]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end


# ---------------------------------------------------------------- periods

# a range marker ending a line and a date starting the next one: 令和7年4月1日から / 令和7年6月30日まで
_BROKEN_PERIOD_RE = re.compile("(?:から|より|[~〜～∼\\-－ー‐―])[ \t\u3000]*\n[ \t\u3000]*"
                               "(?:明治|大正|昭和|平成|令和|同年|翌|[0-9０-９]|[MTSHR][0-9０-９])")
_MARKER_TAIL_RE = re.compile("(?:から|より|[~〜～∼\\-－ー‐―])[ \t\u3000]*$")


def _join_broken_periods(facts: list[Fact], doc: Document) -> list[Fact]:
    """One period for two dates joined by a range marker across a line break."""
    text = doc.text
    starts = [bl.start for bl in doc.blocks]
    by_start = {f.start: f for f in facts}
    replaced: set[int] = set()
    added: list[Fact] = []
    for f in facts:
        if f.kind != "date" or id(f) in replaced:
            continue
        nl = text.find("\n", f.end)
        if nl < 0 or nl - f.end > 6 or not _MARKER_TAIL_RE.search(text, f.start, nl):
            continue
        b = nl + 1
        while b < len(text) and text[b] in " \t\u3000":
            b += 1
        g = next((by_start[k] for k in range(b, b + 4) if k in by_start), None)
        if g is None or g.kind != "date" or text[b:g.start] not in ("", "翌", "翌年", "翌々年", "同年"):
            continue
        a = text.rfind("\n", 0, f.start) + 1
        e = text.find("\n", g.end)
        e = len(text) if e < 0 else e
        first, second = text[a:nl], text[nl + 1:e]
        for c in find_dates(LineView.build(first + second), DateContext()):
            if c.kind == "period" and c.start <= f.start - a and c.end >= len(first) + g.end - nl - 1:
                start, end = a + c.start, nl + 1 + c.end - len(first)
                i = bisect.bisect_right(starts, start) - 1
                block = doc.blocks[i] if i >= 0 and start < doc.blocks[i].end else None
                added.append(Fact("period", c.value, text[start:end], start, end, None,
                                  block.program if block else None, block.page if block else None))
                replaced.update((id(f), id(g)))
                break
    if not added:
        return facts
    return sorted([f for f in facts if id(f) not in replaced] + added, key=lambda f: (f.start, f.end))


# ---------------------------------------------------------------- addresses

# the first line of an address broken in two: an optional postal code, then only a place name
_ADDRESS_HEAD_RE = re.compile(r"[ \t\u3000]*(?:〒[ \t\u3000]*[0-9０-９]{3}[-－‐ー−]?[0-9０-９]{4}[ \t\u3000]*)?"
                              r"(?P<place>[^\s0-9０-９〒]{2,20}?[都道府県市区町村郡])[ \t\u3000]*")
_PLACE_SUFFIXES = frozenset("都道府県市区町村郡")


def _join_broken_addresses(facts: list[Fact], doc: Document) -> list[Fact]:
    """An address whose place name ends the line above (「東京都世田谷区」 / 「八幡山二丁目9番地11号」) is one fact."""
    text = doc.text
    taken = [(f.start, f.end) for f in facts]
    out = []
    for f in facts:
        if f.kind == "address" and f.start > 0 and text[f.start - 1] == "\n":
            a = text.rfind("\n", 0, f.start - 1) + 1
            m = _ADDRESS_HEAD_RE.fullmatch(text, a, f.start - 1)
            if m and _is_place_run(m.group("place")) and not any(s < f.start - 1 and a < e for s, e in taken):
                place = "".join(normalize(m.group("place")).text.split())
                f = replace(f, value=place + f.value, text=text[m.start("place"):f.end], start=m.start("place"))
        out.append(f)
    return out


@lru_cache(maxsize=1024)
def _is_place_run(text: str) -> bool:
    """Only place names (Sudachi 地名) and administrative suffixes: 東京都世田谷区, 北海道 上川郡."""
    tokens = [t for t in tokenize(text) if not t.surface.isspace()]
    return bool(tokens) and all(t.pos[2] == "地名" or t.surface in _PLACE_SUFFIXES for t in tokens)


# ---------------------------------------------------------------- departments


@lru_cache(maxsize=4096)
def _is_weak(value: str) -> bool:
    """Whether the name may be a room/facility/venue or a generic kind of office (needs context)."""
    if value.endswith(WEAK_SUFFIXES) and not _STRONG_UNIT_RE.search(value):
        return True
    # one common noun naming a kind of institution: 警察署, 税務署, 実行委員会 (最寄りの警察署)
    tokens = tokenize(value)
    return len(tokens) == 1 and tokens[0].pos[1] == "普通名詞" and value.endswith(_GENERIC_KIND_ENDINGS)


@lru_cache(maxsize=4096)
def _core(value: str) -> str:
    """The unit name without a place name in front: 音威子府村保健福祉センター -> 保健福祉センター."""
    tokens = tokenize(value)
    k = 0
    while k < len(tokens) - 1 and tokens[k].pos[2] == "地名":
        k += 1
    rest = value[tokens[k].start:] if k else value
    return rest if _is_weak(rest) and len(rest) > 3 else value


def _resolve_departments(facts: list[Fact], lines: _LineIndex, tables: _Tables | None = None) -> list[Fact]:
    depts = [f for f in facts if f.kind == "department"]
    if not depts:
        return facts
    contacts = sorted(f.start for f in facts if f.kind in ("phone", "fax", "email"))
    confirmed: set[str] = set()
    undecided: list[Fact] = []
    venues: set[int] = set()
    for f in depts:
        if _is_weak(f.value) and _is_venue(f, lines, contacts):
            venues.add(id(f))  # 場所：音威子府村保健福祉センター: where it happens
        elif not _is_weak(f.value):
            confirmed.update(_segments(f.value))
        elif (_in_contact(f, lines, contacts) or _listed_with_institutions(f, lines)
              or _followed_by_person(lines.text[f.end:f.end + 6]) or _office_line(f, lines)
              or (tables is not None and tables.names_contacts(f.start))):
            confirmed.add(_core(f.value))
        else:
            undecided.append(f)
    drop = {id(f) for f in undecided if not _named_elsewhere(_core(f.value), confirmed)} | venues
    facts = [f for f in facts if id(f) not in drop] if drop else facts
    return _cut_person_names(facts)


def _is_venue(f: Fact, lines: _LineIndex, contacts: list[int]) -> bool:
    """A venue label right before the unit and no phone/fax/email after it on its line."""
    a, b = lines.span(lines.number(f.start))
    if not _VENUE_BEFORE_RE.search(lines.text[max(a, f.start - 10):f.start]):
        return False
    i = bisect.bisect_left(contacts, f.end)
    return not (i < len(contacts) and contacts[i] < min(b, f.end + 15))


def _office_line(f: Fact, lines: _LineIndex) -> bool:
    """A …室 with a name of three characters or more that is its line's whole text (復興総室, 建築審査室: the
    office in charge, as a record or a page's footer names it); rooms (会議室, 相談室) have shorter names."""
    a, b = lines.span(lines.number(f.start))
    return (f.value.endswith("室") and len(f.value) >= 4
            and lines.text[a:f.start].strip(" ・◇◆●○■□") == "" and lines.text[f.end:b].strip() == "")


def _named_elsewhere(name: str, confirmed: set[str]) -> bool:
    """The unit is a contact unit elsewhere, alone or after a place name (練馬総合福祉事務所 for 総合福祉事務所)."""
    if name in confirmed:
        return True
    return any(c.endswith(name) and _is_place_name(c[: -len(name)]) for c in confirmed if len(c) > len(name))


@lru_cache(maxsize=4096)
def _is_place_name(text: str) -> bool:
    tokens = tokenize(text)
    return bool(tokens) and all(t.pos[2] == "地名" for t in tokens)


@lru_cache(maxsize=4096)
def _followed_by_person(after: str) -> bool:
    """A staff name printed after the unit (◇教育委員会阿部 郁也): the unit as an organisation."""
    tokens = tokenize(after) if after and not after[0].isspace() else []
    return bool(tokens) and tokens[0].pos[2] == "人名"


def _listed_with_institutions(f: Fact, lines: _LineIndex) -> bool:
    """An item of a list of institutions: 施設入所案内、福祉保健センター、児童相談所など."""
    a, b = lines.span(lines.number(f.start))
    return bool(_LISTED_AFTER_RE.match(lines.text, f.end, b)
                or _LISTED_BEFORE_RE.search(lines.text[max(a, f.start - 16):f.start]))


def _cut_person_names(facts: list[Fact]) -> list[Fact]:
    """山田子育て支援課 -> 子育て支援課 when the document names 子育て支援課 elsewhere (a staff surname glued
    to the unit in print); Sudachi tags the surname 人名."""
    values = {f.value for f in facts if f.kind == "department"}
    out = []
    for f in facts:
        if f.kind == "department":
            name = _leading_person(f.value)
            rest = f.value[len(name):] if name else ""
            if name and rest in values and f.text.startswith(name):
                cut = len(name) + len(f.text[len(name):]) - len(f.text[len(name):].lstrip())
                f = replace(f, value=rest, text=f.text[cut:], start=f.start + cut)
        out.append(f)
    return out


@lru_cache(maxsize=4096)
def _leading_person(value: str) -> str | None:
    tokens = tokenize(value)
    if len(tokens) > 1 and tokens[0].pos[2] == "人名":
        return tokens[0].surface
    return None


def _segments(value: str) -> set[str]:
    """Unit names inside a department chain: 住民課保健福祉室保健福祉センター -> its three units."""
    return set(_UNIT_SEGMENT_RE.findall(value))


def _in_contact(f: Fact, lines: _LineIndex, contacts: list[int]) -> bool:
    """A phone/fax/email or a contact word near the unit: in its sentence within ``_NEAR`` characters, or
    anywhere on an adjacent line when the unit's own line is short (a contact block of a page)."""
    n = lines.number(f.start)
    a, b = lines.span(n)
    if _ASKED_BEFORE_RE.search(lines.text[max(a, f.start - 3):f.start]):
        return True
    lo, hi = max(a, f.start - _NEAR), min(b, f.end + _NEAR)
    stop = lines.text.rfind("。", lo, f.start)  # the unit's own sentence
    lo = stop + 1 if stop >= 0 else lo
    stop = lines.text.find("。", f.end, hi)
    hi = stop if stop >= 0 else hi
    if b - a <= _SHORT_LINE:
        lo = lines.span(n - 1)[0] if n > 0 else a
        hi = lines.span(n + 1)[1] if n + 1 < len(lines.starts) else b
    i = bisect.bisect_left(contacts, lo)
    if i < len(contacts) and contacts[i] < hi:
        return True
    if any(m.end() <= f.start or m.start() >= f.end for m in _UNIT_LABEL_RE.finditer(lines.text, lo, hi)):
        return True  # 管理支所 / 城南島出張所 (not the unit's own name: 天塩川ダム管理事務所)
    return bool(_CONTACT_WORDS_RE.search(lines.text, lo, hi))
