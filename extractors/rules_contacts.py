"""Contact facts of one line: url, email, phone/fax, address (office hours: ``extractors.rules_hours``;
departments: ``extractors.rules_departments``). The priorities and the dash class are shared with those.

Document-level context (area codes of numbers written without one, 平日/土日祝日を除く on the
next line, whether a センター is a contact unit) is applied afterwards by
:func:`extractors.contact_context.resolve_contacts`.

* phone/fax: Japanese numbers with an area code, validated and formatted E.164 by
  ``phonenumbers`` (03-5984-1319, 03(3908)9201, ０３－５９８４－１３１９, 011 ‐ 746 ‐ 1190 ->
  "+81359841319" ...); the kind is ``fax`` when the nearest label before the number is
  FAX/ファクス. A number written without separators needs a phone label before it (電話, TEL, ☎ ...),
  and a number whose nearest label is an identifier (口座番号, 法人番号, ID, No., 〒, ISBN ...) is
  not a phone. A labelled number that is possible but not valid (a digit too many in a 広報:
  ☎０１６６‐２７５‐１６１１) is kept as written, in E.164.
  One number under a shared label (TEL/FAX, TEL・FAX, 電話／ファクス, FAX/TEL) is a phone AND a fax
  over the same span.
  A number written without its area code after ☎/電話/TEL/FAX (広報: "☎ 9-3050", "TEL (5)3311")
  has value "9-3050" and ``local: true``. The same shape with no label ("中井経済課長5-3314", a
  staff table) is proposed with ``unlabelled: true`` and kept by the document pass only when a
  labelled number of the document has the same exchange code, or when it stands in a table column
  headed 電話番号/TEL/連絡先/FAX (document pass).
* address: a Sudachi place-name (地名) run followed by a block number (1-15-22, 1丁目18番1号,
  469番地1, 8番1号; a bare number after a 字 name: 音威子府村字音威子府443, or after a place that
  follows a postal code: 〒098-0131上川郡和寒町南町110); the value is the normalised text with
  numerals as digits and without spaces. The place run may hold a grid of 条/通り and 東西南北 between
  the place name and the block (Hokkaido: 名寄市西2条南6丁目14-1, 旭川市5条通り4丁目) and one space after
  a municipality (大田区 西六郷3丁目). An address broken across two lines (「〒156-0056 東京都世田谷区」 /
  「八幡山二丁目9番地11号」) is joined by the document pass.
"""

from __future__ import annotations

import bisect
import re

import phonenumbers

from extractors.lineview import Candidate, LineView
from extractors.tokenizer import Token

P_LINK, P_PHONE, P_HOURS, P_ADDRESS, P_DEPARTMENT = 10, 20, 30, 40, 110
P_UNLABELLED_PHONE = 105  # any other reading of "5-3314" wins over an unlabelled local number

_URL_RE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_EMAIL_RE = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")

DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"  # norm text keeps ‐ – — − when spaced out: "011 ‐ 746"
_SEP = rf"(?:\s{{0,2}}[{DASH}]\s{{0,2}}|\s)?"
_PHONE_RE = re.compile(
    rf"(?<![0-9{DASH}+.,])(?:\+81[\s\-]?\(?0?[0-9]{{1,4}}\)?|\(?0[0-9]{{1,4}}\)?){_SEP}\(?[0-9]{{1,4}}\)?{_SEP}[0-9]{{3,4}}"
    rf"(?![0-9{DASH}])"
)
_PHONE_LABELS = (r"電話番号|電話|TEL|Tel|tel|☎|FAX|Fax|fax|ファクス|ファックス|ファクシミリ|携帯|"
                 r"フリーダイヤル|フリーコール|ナビダイヤル|ダイヤルイン")
_LABEL_RE = re.compile(_PHONE_LABELS)
_FAX_LABELS = ("FAX", "Fax", "fax", "ファクス", "ファックス", "ファクシミリ")
# the nearest label before a number decides what it is: a phone label, or an identifier
_ANY_LABEL_RE = re.compile(rf"(?P<phone>{_PHONE_LABELS})|(?P<ident>口座|番号|ID|No\.?|NO\.?|〒|ISBN|ISSN|登録|法人|会員)")
_LABEL_WINDOW = 14
# one number for both: TEL/FAX, TEL・FAX, 電話/ファクス, FAX/TEL (phone and fax over the same span)
_FAX_WORDS = r"FAX|Fax|fax|ファクス|ファックス|ファクシミリ"
_TEL_WORDS = r"TEL|Tel|tel|電話|☎"
_SHARED_LABEL_RE = re.compile(rf"(?:(?:{_TEL_WORDS})\s*[/・&]\s*(?:{_FAX_WORDS})|(?:{_FAX_WORDS})\s*[/・&]\s*(?:{_TEL_WORDS}))\s*$")
_LOCAL_LABEL = r"☎|TEL|Tel|tel|電話(?:番号)?|FAX|Fax|fax|ファクス|ファックス|ファクシミリ"
_LOCAL_PHONE_RE = re.compile(
    rf"(?P<label>{_LOCAL_LABEL})\s*(?:番号)?\s*[:]?\s*"
    rf"(?:\(\s*(?P<ex1>[1-9][0-9]{{0,3}})\s*\)\s*|(?P<ex2>[1-9][0-9]{{0,3}})\s*[{DASH}]\s*)(?P<sub>[0-9]{{4}})"
    rf"(?![0-9{DASH}])"
)
# "課長5-3314": exchange + subscriber with no label (kept only when the document confirms the exchange)
_BARE_LOCAL_RE = re.compile(
    rf"(?<![0-9{DASH}.,/#〒:+(])(?P<ex>[1-9][0-9]?)[{DASH}](?P<sub>[0-9]{{4}})(?![0-9{DASH}.,]|\s*[円年月日人件号番歳才%])"
)

_BANCHI_RE = re.compile(
    r"(?<![0-9\-])[0-9]+(?:丁目(?:[0-9]+(?:番地?(?:[0-9]+号?)?|-[0-9]+))?|番地(?:[0-9]+(?:-[0-9]+)?)?|番[0-9]+号"
    r"|(?:-[0-9]+){1,3}(?:号)?|(?P<bare>(?![0-9\-番丁号年月日時円人件歳%.,])))"
)
_ADDRESS_WORDS = frozenset({"郡", "字", "大字", "小字"})
# regex-only baseline (sudachi=False): a run of kanji/katakana ending in 都道府県区市町村 + block number
_ADDRESS_RE_BASELINE = re.compile(r"[一-龥ぁ-んァ-ヴー々ヶケ]*?[都道府県区市町村郡][一-龥ァ-ヴー々ヶケ]*$")

# the rest of a URL that a PDF text layer broke with spaces after a path separator: 「…/details/ post_ 15.html」
# (pieces of URL characters, the last one ending in a file name extension)
_URL_REST_RE = re.compile(r"(?:\s[A-Za-z0-9\-._~/%]+?){1,3}?\.(?:html?|php|pdf|aspx?|jsp|cgi)(?![A-Za-z0-9])")


def find_links(lv: LineView) -> list[Candidate]:
    """url (as written, trailing punctuation dropped) and email (lower case). A URL broken by spaces right
    after a path separator (/, _, -) that continues with pieces ending in a file name (.html, .pdf ...) is
    one URL without the spaces."""
    text = lv.norm.text
    out = []
    for m in _URL_RE.finditer(text):
        url = m.group().rstrip(".,;:!?)]'")
        end = m.start() + len(url)
        if url.endswith(("/", "_", "-")) and end == m.end():
            rest = _URL_REST_RE.match(text, end)
            if rest:
                url, end = url + "".join(rest.group().split()), rest.end()
        a, b = lv.norm_to_line(m.start(), end)
        out.append(Candidate("url", url, a, b, P_LINK))
    for m in _EMAIL_RE.finditer(text):
        email = m.group().rstrip(".-")
        a, b = lv.norm_to_line(m.start(), m.start() + len(email))
        out.append(Candidate("email", email.lower(), a, b, P_LINK))
    return out


def _phone_kind(text: str, start: int, prev_end: int) -> str:
    """"phone", "fax", or "both" for one number under a shared label (TEL/FAX, 電話・ファクス)."""
    labels = list(_LABEL_RE.finditer(text, prev_end, start))
    if not labels:
        return "phone"
    last = labels[-1]
    if _SHARED_LABEL_RE.search(text, max(prev_end, last.start() - 12), last.end()):
        return "both"
    return "fax" if last.group() in _FAX_LABELS else "phone"


def _kinds(kind: str) -> tuple[str, ...]:
    return ("phone", "fax") if kind == "both" else (kind,)


def _nearest_label(text: str, start: int, prev_end: int) -> re.Match[str] | None:
    """The last phone label before ``start`` (within ``_LABEL_WINDOW``), or an identifier label written
    right before it (口座番号 0123456; not 口座振替担当(011-746-1257), a department)."""
    last = None
    for m in _ANY_LABEL_RE.finditer(text, max(prev_end, start - _LABEL_WINDOW), start):
        if m.group("ident") and text[m.end():start].strip(" :.") != "":
            continue
        last = m
    return last


def find_phones(lv: LineView) -> list[Candidate]:
    text = lv.norm.text
    out = []
    prev_end = 0
    taken = bytearray(len(text) + 1)  # characters already read as a phone number
    for m in _PHONE_RE.finditer(text):
        raw = m.group()
        if raw.startswith("(") and not re.match(r"\(0[0-9]{1,4}\)", raw):
            m = _PHONE_RE.match(text, m.start() + 1) or m  # "(011 ‐ 746 ‐ 1190)": the bracket is not the number's
            raw = m.group()
        digits = re.sub(r"[^0-9+]", "", raw)
        label = _nearest_label(text, m.start(), prev_end)
        if label is not None and label.group("ident"):
            continue  # 口座番号 0123456, 法人番号 ..., 〒098-2501: an identifier, not a number to call
        labelled = label is not None and text[label.end():m.start()].strip(" :()") == ""
        if digits == raw and not labelled:
            continue  # a bare run of digits is an id/amount unless a phone label says otherwise
        try:
            number = phonenumbers.parse(digits, "JP")
        except phonenumbers.NumberParseException:
            continue
        # a labelled number with a digit too many (a typo in print) is still the page's number
        typo_ok = labelled and digits.startswith("0") and phonenumbers.is_possible_number(number)
        if not phonenumbers.is_valid_number(number) and not typo_ok:
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        a, b = lv.norm_to_line(m.start(), m.end())
        kind = _phone_kind(text, m.start(), prev_end)
        out += [Candidate(k, e164, a, b, P_PHONE, group=-1 - a) for k in _kinds(kind)]
        taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
        prev_end = m.end()
    for m in _LOCAL_PHONE_RE.finditer(text):
        if any(taken[m.start("sub"):m.end()]):
            continue
        ex = m.group("ex1") or m.group("ex2")
        start = text.rfind("(", 0, m.start("ex1")) if m.group("ex1") else m.start("ex2")  # (5)3311 from its bracket
        kind = "fax" if m.group("label") in _FAX_LABELS else "phone"
        if _SHARED_LABEL_RE.search(text, max(0, m.start() - 12), m.end("label")):
            kind = "both"
        a, b = lv.norm_to_line(start, m.end("sub"))
        out += [Candidate(k, f"{ex}-{m.group('sub')}", a, b, P_PHONE, extra={"local": True}, group=-1 - a)
                for k in _kinds(kind)]
        taken[start:m.end("sub")] = b"\x01" * (m.end("sub") - start)
    if "-" in text:
        for m in _BARE_LOCAL_RE.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            label = _nearest_label(text, m.start(), 0)
            if label is not None and label.group("ident"):
                continue
            a, b = lv.norm_to_line(m.start(), m.end())
            out.append(Candidate("phone", f"{m.group('ex')}-{m.group('sub')}", a, b, P_UNLABELLED_PHONE,
                                 extra={"local": True, "unlabelled": True}))
    return out


def _is_place(t: Token) -> bool:
    return t.pos[2] == "地名" or t.surface in _ADDRESS_WORDS


# the grid between a Hokkaido place name and its block: 西2条南, 5条通り, 永山6条 (a number only before 条/線)
_GRID_WORDS = frozenset({"東", "西", "南", "北", "条", "通り", "通", "線"})
_GRID_NUMBER_BEFORE = frozenset({"条", "線"})
_MUNICIPALITY_ENDS = ("都", "道", "府", "県", "市", "区", "町", "村", "郡")
_POSTCODE_BEFORE_RE = re.compile(r"〒\s*[0-9]{3}-?[0-9]{4}\s*$")


def _is_grid(tokens: list[Token], i: int) -> bool:
    t = tokens[i]
    if t.surface in _GRID_WORDS:
        return True
    return (t.pos[1] == "数詞" and t.surface.isdigit() and i + 1 < len(tokens)
            and tokens[i + 1].surface in _GRID_NUMBER_BEFORE)


def _spaced_after_municipality(tokens: list[Token], i: int) -> bool:
    """``tokens[i]`` is one space between a municipality and a place name: 大田区 西六郷."""
    return (0 < i < len(tokens) - 1 and tokens[i].surface.isspace() and len(tokens[i].surface) <= 2
            and tokens[i - 1].pos[2] == "地名" and tokens[i - 1].surface.endswith(_MUNICIPALITY_ENDS)
            and tokens[i + 1].pos[2] == "地名")


def find_addresses(lv: LineView) -> list[Candidate]:
    """Place name + block number, e.g. 東京都北区王子本町1-15-22."""
    view = lv.view.text
    out = []
    aza = "字" in view
    ends: list[int] | None = None
    postcode = "〒" in view
    for m in _BANCHI_RE.finditer(view):
        if m.group("bare") is not None and not (aza or postcode):
            continue
        norm_start, _ = lv.view_to_norm(m.start(), m.start() + 1)
        if lv.sudachi:
            if ends is None:
                ends = [t.end for t in lv.tokens]
            start = _place_start_sudachi(lv.tokens, norm_start, ends)
        else:
            pm = _ADDRESS_RE_BASELINE.search(lv.norm.text, max(0, norm_start - 30), norm_start)
            start = pm.start() if pm and pm.start() < norm_start else None
        if start is None:
            continue
        if (m.group("bare") is not None and "字" not in lv.norm.text[start:norm_start]
                and not _POSTCODE_BEFORE_RE.search(lv.norm.text, 0, start)):
            continue  # a bare block number only after a rural 字 name (音威子府村字音威子府443) or a postal code
        vs = _norm_to_view(lv, start)
        value = re.sub(r"\s+", "", view[vs : m.end()])
        a, _ = lv.norm_to_line(start, start + 1)
        _, b = lv.view_to_line(m.start(), m.end())
        out.append(Candidate("address", value, a, b, P_ADDRESS))
    return out


def _place_start_sudachi(tokens: list[Token], norm_start: int, ends: list[int]) -> int | None:
    """Start of the place-name run ending exactly at ``norm_start``, if it begins with a 地名."""
    k = bisect.bisect_left(ends, norm_start)
    if k >= len(ends) or ends[k] != norm_start:
        return None
    i = k
    while i >= 0 and (i == k or tokens[i].end == tokens[i + 1].start) and (
            _is_place(tokens[i]) or _is_grid(tokens, i) or _spaced_after_municipality(tokens, i)):
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
    return bisect.bisect_left(starts, norm_pos)  # starts never decrease


# offices attached to a post of a national ministry: 内閣府政策統括官（防災担当）付参事官（防災計画担当）付


