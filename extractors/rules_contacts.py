"""Contact facts of one line: url, email, phone/fax, office_hours, address, department.

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
* office_hours: a time window, "[days ]HH:MM-HH:MM[,HH:MM-HH:MM ...]" (OSM opening_hours
  style). Days: Mo Tu We Th Fr Sa Su, PH for 祝日; a range "Mo-Fr", a list "Sa,Su,PH", the n-th
  weekday of the month "Sa[2]" (第2土曜日), "Sa[2,4]" (第2・第4土曜). Days come from words written directly before the
  times (月曜から金曜:, 平日, 土日祝日, 月曜日から木曜日の) or in brackets directly after them
  (09:00~19:00(月曜~金曜)); they are part of the span. Several ranges in one window (separated
  by 、 , ・ / と 及び or spaces, no new days in between, in time order) are one fact: 午前8時30分から午前10時まで、
  正午から午後1時まで -> "08:30-10:00,12:00-13:00". 正午 is 12:00; 午前/午後, 24-hour "17:15" and
  "5時15分", "~"/"から…まで" are read; AM/PM like 午前/午後, and an end without 午前/午後 after a 午後 start
  is afternoon too (午後2時~6時 -> 14:00-18:00). Days may be followed by a bracket of excepted days before
  the times (月曜日~金曜日(祝日を除く)午前8時30分~ -> Mo-Fr), or written after the times without a bracket
  (8:30~17:15 月~金). A window followed by を除く (12:00~13:00を除く) is a break, not a window. A window without day words gets "Mo-Fr" from
  平日/開庁/土日祝日を除く/土日は休み on its line or the adjacent lines (document pass); the span
  stays the times. A window followed by 運休/休止/休館/休み (16:30~17:30はリフト一時運休) is a closure: no fact.
* address: a Sudachi place-name (地名) run followed by a block number (1-15-22, 1丁目18番1号,
  469番地1, 8番1号; a bare number after a 字 name: 音威子府村字音威子府443); the value is the
  normalised text with numerals as digits.
* department: an organisational unit name inside a Sudachi noun compound, ending in
  課/係/室/センター/事務所/出張所/委員会/署/駐在所/保健所 (or 部/局/事務局/担当 after such a unit:
  農業委員会事務局, 札幌道税事務所自動車税部課税担当).
  The value is the unit without spaces: 「子育て支援課 手当係」 (space or full-width space,
  or の, between a unit and the lower unit after it) is ONE department "子育て支援課手当係" whose
  span covers both. Not departments: a unit used as a modifier of the noun after it
  (保健福祉センターだより, 給食センター方式, 浄化センター維持管理業務; 窓口/内/前 and staff words after
  it are fine: 役場住民課窓口 -> 役場住民課, 保健福祉センター保健師 -> 保健福祉センター; so is a staff
  name printed after it: 総務課総務財政室𠮷田 -> 総務課総務財政室), a unit in a job title (中井経済課長, 住民課参事), rooms (学習室 ...),
  words where 課 is not a unit (課税証明書: Sudachi reads 課税). 支所 is a (weak) unit like 出張所; an office
  above divisions (保健所, 事務所, 支所, 振興局, 警察署 ...) followed by a space and a 課 is one department
  (名寄保健所 健康推進課); 担当部署/所管部署 name no unit. Leading words that are not part of
  the name are dropped: prefixes (各 drops the mention: every office of a kind; 本/当/同 too: 本委員会
  points back at one named before), 問/担当/窓口, a counter (回 of 第1回策定委員会)
  (a staff surname glued in front, 「山田子育て支援課」, is cut by the document pass). A compound holding two
  units of which the second starts a new name (役場住民課旭川年金事務所: a 地名 starts it;
  住民課経済課: two 課) is two departments. Words coordinated by ・ before a unit, with no unit of their
  own, belong to its name (高齢者・障害者相談センター; 税務課・住民課 stays two). A unit followed by a space
  and a facility's own name (「山村・都市交流センター 木遊館」: …館/温泉/ホール …) is that facility, not a
  department. Offices attached to a ministry post are one department each, brackets included
  (内閣府政策統括官（防災担当）付参事官（防災計画担当）付). Whether a 室/センター/事務所 name with no 課/係/委員会
  in it is a unit or a room/facility/venue is decided by the document pass (contact context).
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

_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"  # norm text keeps ‐ – — − when spaced out: "011 ‐ 746"
_SEP = rf"(?:\s{{0,2}}[{_DASH}]\s{{0,2}}|\s)?"
_PHONE_RE = re.compile(
    rf"(?<![0-9{_DASH}+.,])(?:\+81[\s\-]?\(?0?[0-9]{{1,4}}\)?|\(?0[0-9]{{1,4}}\)?){_SEP}\(?[0-9]{{1,4}}\)?{_SEP}[0-9]{{3,4}}"
    rf"(?![0-9{_DASH}])"
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
    rf"(?:\(\s*(?P<ex1>[1-9][0-9]{{0,3}})\s*\)\s*|(?P<ex2>[1-9][0-9]{{0,3}})\s*[{_DASH}]\s*)(?P<sub>[0-9]{{4}})"
    rf"(?![0-9{_DASH}])"
)
# "課長5-3314": exchange + subscriber with no label (kept only when the document confirms the exchange)
_BARE_LOCAL_RE = re.compile(
    rf"(?<![0-9{_DASH}.,/#〒:+(])(?P<ex>[1-9][0-9]?)[{_DASH}](?P<sub>[0-9]{{4}})(?![0-9{_DASH}.,]|\s*[円年月日人件号番歳才%])"
)

_DAY = "[月火水木金土日祝]"
_TIME = r"(?:(?:午前|午後|AM|PM|am|pm|A\.M\.|P\.M\.|a\.m\.|p\.m\.)\s*)?[0-9]{1,2}(?:時(?:\s*[0-9]{1,2}\s*分|半)?|:[0-9]{2})|正午"
_RANGE_RE = re.compile(rf"(?P<t1>{_TIME})\s*(?:から|[~〜{_DASH}ー])\s*(?P<t2>{_TIME})(?:まで)?")
_TIME_PARTS = re.compile(
    r"(午前|午後|AM|PM|am|pm|A\.M\.|P\.M\.|a\.m\.|p\.m\.)?\s*([0-9]{1,2})(?:時(?:\s*([0-9]{1,2})\s*分|(半))?|:([0-9]{2}))")
_PM = frozenset({"午後", "PM", "pm", "P.M.", "p.m."})
_DAY_CODES = {"月": "Mo", "火": "Tu", "水": "We", "木": "Th", "金": "Fr", "土": "Sa", "日": "Su", "祝": "PH"}
_KANJI_ORDINAL = str.maketrans("一二三四五", "12345")
_DAY_ITEM_RE = re.compile(
    rf"\s*(?:(?P<wd>平日)|第\s*(?P<nth>[1-5])\s*(?:(?P<nd>[月火水木金土日])(?:曜日?)?)?|(?P<ph>祝日|祝祭日|祝)"
    rf"|(?P<d>[月火水木金土日])(?:曜日?)?|(?P<to>から|[~〜ー{_DASH}])|(?P<sep>[・、,と]|及び|および))\s*"
)
_SEL_CHARS = set("月火水木金土日祝曜平第毎週0123456789一二三四五・、,~〜ー-‐からと及びおよ ")
_LEAD_GAP = " :、,はの(|"  # between days and times: 月曜から金曜:, 土曜日 9:00, 月曜日から木曜日の, 平日 | 9:00
_GROUP_GAP_RE = re.compile(r"\s*(?:[、,・/]|及び|および|と)?\s*")
_CLOSED_AFTER_RE = re.compile(r"\s*(?:は|の間は?)\s*[^\s、。,()]{0,12}?(?:運休|休止|休館|休業|休診|閉鎖|停止|中止|休み)"
                              r"|\s*を?除[くき]")  # 9:00~17:00(12:00~13:00を除く): the break, not a window
# a bracket saying which days are left out, between the days and the times: 月曜日~金曜日(祝日を除く)午前8時30分~
_EXCEPT_BRACKET_RE = re.compile(r"\([^()]{1,16}?(?:を除く|除く|を除き|除き)\)\s*$")
# days written after the times without a bracket: 8:30~17:15 月~金 (then the end of the line or a break)
_TRAIL_DAYS_RE = re.compile(r"\s*(?P<sel>[月火水木金土日祝曜平第毎週・、~ー\-からと及びおよ]{1,16}?)(?=\s|$|[。,(])")
_TRAIL_SEL_RE = re.compile(r"\s*\(\s*(?P<sel>[^()\n]{1,16}?)\s*(?:\)|(?=\()|$)")

_BANCHI_RE = re.compile(
    r"(?<![0-9\-])[0-9]+(?:丁目(?:[0-9]+(?:番地?(?:[0-9]+号?)?|-[0-9]+))?|番地(?:[0-9]+(?:-[0-9]+)?)?|番[0-9]+号"
    r"|(?:-[0-9]+){1,3}(?:号)?|(?P<bare>(?![0-9\-番丁号年月日時円人件歳%.,])))"
)
_ADDRESS_WORDS = frozenset({"郡", "字", "大字", "小字"})
# regex-only baseline (sudachi=False): a run of kanji/katakana ending in 都道府県区市町村 + block number
_ADDRESS_RE_BASELINE = re.compile(r"[一-龥ぁ-んァ-ヴー々ヶケ]*?[都道府県区市町村郡][一-龥ァ-ヴー々ヶケ]*$")

DEPARTMENT_SUFFIXES = ("課", "係", "室", "センター", "事務所", "出張所", "支所", "委員会", "署", "駐在所", "保健所")
# units that may appear inside a department's chain but do not end one
_CHAIN_SUFFIXES = ("部", "局", "本部", "事務局")
# units that need the document's contact context to count (they also name rooms, facilities, venues)
WEAK_SUFFIXES = ("室", "センター", "事務所", "出張所", "支所")
# cheap line filter before Sudachi: a unit word that is not part of 課税/課程/放課後/関係/係る
_DEPT_TRIGGER = re.compile("(?<!放)課(?![税程題])|(?<![関連])係(?![るりれろらわ数])|室|センター|事務所|出張所|支所|委員会|署(?!名)|駐在所|保健所")
_NOT_DEPARTMENTS = (
    "課室", "学習室", "集会室", "事務室", "居室", "会議室", "和室", "洋室", "教室", "浴室", "控室",
    "研修室", "待合室", "授乳室", "図書室", "談話室", "調理室", "更衣室", "休憩室", "自習室", "病室",
    "寝室", "個室", "温室", "客室", "別室", "関係", "連係",
    "公課", "賦課", "日課", "課金",  # 課 as a levy or a task, not a unit
)
# a department after one of these prefixes points back at one named before (本実行委員会, 当センター)
_ANAPHORIC_PREFIXES = frozenset({"本", "当", "同", "両", "貴", "該"})
_GENERIC_UNITS = frozenset({"所管課", "担当課", "主管課", "関係課", "担当係", "当センター", "同センター", "本センター",
                            "部署", "各部署", "関係部署", "担当部署", "所管部署", "担当窓口課", "支所"})
_SUB_SUFFIXES = ("担当", "グループ", "チーム")  # units only after another: 課税担当, 総務企画グループ
_ASK_WORDS = frozenset({"問", "問い合わせ", "お問い合わせ", "問合せ"})
_LEAD_WORDS = frozenset({"問", "問い", "問合せ", "問い合わせ", "お問い合わせ", "担当", "窓口", "宛先", "所属"})
# nouns that may follow a unit without making it a modifier: 役場住民課窓口, 保健福祉センター内
_UNIT_TAILS = frozenset({"窓口", "内", "前", "宛", "宛て", "あて"})
# staff of the unit after it: 保健福祉センター保健師, 経済課担当職員 (the unit is still the one meant)
_STAFF_ENDINGS = ("師", "員", "士", "者")
# a unit followed by one of these is part of a job title (中井経済課長, 北川住民課参事)
_TITLES = ("長", "参事", "次長", "主幹", "主査", "主任", "補佐", "課長", "室長", "係長", "所長", "局長", "部長", "主事")
_DEPT_RE_BASELINE = re.compile(r"(?:[一-龥ァ-ヴー々ヶ]+(?:課|係|室|センター|事務所|出張所|委員会))+")
_LOANWORD_RE = re.compile(r"[ァ-ヴーA-Za-z]+")


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


def _clock(t: str) -> str:
    t = t.strip()
    if t == "正午":
        return "12:00"
    m = _TIME_PARTS.fullmatch(t)
    if not m:
        raise ValueError(t)
    half, hour = m.group(1), int(m.group(2))
    minute = int(m.group(3) or m.group(5) or (30 if m.group(4) else 0))
    if half in _PM and hour < 12:
        hour += 12
    if hour > 24 or minute > 59:
        raise ValueError(t)
    return f"{hour:02d}:{minute:02d}"


def _range_value(t1: str, t2: str) -> str:
    """"HH:MM-HH:MM"; an end without 午前/午後 after a 午後 start is afternoon too (午後2時~6時 -> 14:00-18:00)."""
    a, b = _clock(t1), _clock(t2)
    m1, m2 = _TIME_PARTS.match(t1.strip()), _TIME_PARTS.match(t2.strip())
    if (m1 and m2 and m1.group(1) in _PM and not m2.group(1) and b < a
            and int(b[:2]) < 12 and f"{int(b[:2]) + 12:02d}{b[2:]}" > a):
        b = f"{int(b[:2]) + 12:02d}{b[2:]}"
    return f"{a}-{b}"


def parse_days(text: str) -> str | None:
    """Day words -> "Mo-Fr", "Sa,Su,PH", "Sa[2]", "Tu-Su"; None unless ``text`` is only day words."""
    s = text.strip().translate(_KANJI_ORDINAL)
    for lead in ("毎週", "毎月"):
        if s.startswith(lead):
            s = s[len(lead):]
    if not s:
        return None
    items: list[str] = []
    pending_range = False
    nths: list[str] = []  # 第1・第3土曜日: ordinals waiting for their day
    pos = 0
    while pos < len(s):
        m = _DAY_ITEM_RE.match(s, pos)
        if not m or m.end() == pos:
            return None
        pos = m.end()
        if m.group("to"):
            if not items or pending_range:
                return None
            pending_range = True
            continue
        if m.group("sep"):
            continue
        if m.group("nth") and not m.group("nd"):
            nths.append(m.group("nth"))
            continue
        if nths and not m.group("nth"):
            return None  # 第1・土曜: an ordinal without its day
        if m.group("wd"):
            code = "Mo-Fr"
        elif m.group("nth"):
            code = f"{_DAY_CODES[m.group('nd')]}[{','.join([*nths, m.group('nth')])}]"
            nths = []
        elif m.group("ph"):
            code = "PH"
        else:
            code = _DAY_CODES[m.group("d")]
        if pending_range:
            items[-1] = f"{items[-1]}-{code}"
            pending_range = False
        else:
            items.append(code)
    if pending_range or nths or not items:
        return None
    return ",".join(items)


def _leading_days(text: str, start: int, floor: int) -> tuple[str, int] | None:
    """Day words written directly before ``text[start:]`` (not before ``floor``): (days, their start)."""
    end = start
    bracket = _EXCEPT_BRACKET_RE.search(text, floor, start)
    if bracket:
        end = bracket.start()
    while end > floor and text[end - 1] in _LEAD_GAP:
        end -= 1
    if end == start and end > floor and text[end - 1] not in _SEL_CHARS:
        return None
    lo = end
    while lo > floor and end - lo < 20 and text[lo - 1] in _SEL_CHARS:
        lo -= 1
    for s in range(lo, end):
        if text[s] in " 、,・":
            continue
        days = parse_days(text[s:end])
        if days is None:
            continue
        if s > 0 and text[s - 1] == "(" and s > 1 and text[s - 2] in "日0123456789":
            return None  # 9月18日(土) 14:00~: the weekday of a date, not opening days
        return days, s
    return None


def find_office_hours(lv: LineView) -> list[Candidate]:
    """月曜から金曜:午前8時30分から午後5時15分まで -> "Mo-Fr 08:30-17:15"; 土曜日9:00~11:30 -> "Sa 09:00-11:30";
    9:00~11:00 14:00~16:00 -> "09:00-11:00,14:00-16:00"; a window without days -> "14:00-16:00"."""
    text = lv.view.text
    ranges = []
    for m in _RANGE_RE.finditer(text):
        try:
            ranges.append((m.start(), m.end(), _range_value(m.group("t1"), m.group("t2"))))
        except ValueError:
            continue
    out = []
    i = 0
    floor = 0
    while i < len(ranges):
        start, end, first = ranges[i]
        lead = _leading_days(text, start, floor)
        days, span_start = (lead[0], lead[1]) if lead else (None, start)
        values = [first]
        j = i + 1
        while j < len(ranges):
            gap = text[end:ranges[j][0]]
            if (len(gap) > 3 or not _GROUP_GAP_RE.fullmatch(gap) or _leading_days(text, ranges[j][0], end)
                    or ranges[j][2][:5] < values[-1][-5:]):
                break  # a new window: other days, or a range that starts before the last one ended
            values.append(ranges[j][2])
            end = ranges[j][1]
            j += 1
        if days is None:
            tm = _TRAIL_SEL_RE.match(text, end) or _TRAIL_DAYS_RE.match(text, end)
            if tm:
                trailing = parse_days(tm.group("sel"))
                if trailing:
                    days, end = trailing, tm.end("sel")
        if _CLOSED_AFTER_RE.match(text, end):
            floor, i = end, j
            continue  # 16:30~17:30はリフト一時運休: when it is closed, not opening hours
        value = ",".join(values)
        if days:
            value = f"{days} {value}"
        a, b = lv.view_to_line(span_start, end)
        out.append(Candidate("office_hours", value, a, b, P_HOURS))
        floor = end
        i = j
    return out


def _is_place(t: Token) -> bool:
    return t.pos[2] == "地名" or t.surface in _ADDRESS_WORDS


def find_addresses(lv: LineView) -> list[Candidate]:
    """Place name + block number, e.g. 東京都北区王子本町1-15-22."""
    view = lv.view.text
    out = []
    aza = "字" in view
    ends: list[int] | None = None
    for m in _BANCHI_RE.finditer(view):
        if m.group("bare") is not None and not aza:
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
        if m.group("bare") is not None and "字" not in lv.norm.text[start:norm_start]:
            continue  # a bare block number only after a rural 字 name: 中川郡音威子府村字音威子府443
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
    return bisect.bisect_left(starts, norm_pos)  # starts never decrease


# offices attached to a post of a national ministry: 内閣府政策統括官（防災担当）付参事官（防災計画担当）付
_ATTACHED_RE = re.compile(
    r"(?:内閣府|内閣官房|[一-龥]{1,6}?[省庁])(?:[一-龥]{1,8}?官(?:\([^()]{1,12}\))?付)+")
_WIDE_BRACKETS = str.maketrans("()", "（）")


def find_departments(lv: LineView) -> list[Candidate]:
    text = lv.norm.text
    attached = []
    if "付" in text:
        for m in _ATTACHED_RE.finditer(text):
            s = m.start() + 1 if m.group().startswith("問") else m.start()
            a, b = lv.norm_to_line(s, m.end())
            value = re.sub(r"\s+", "", text[s:m.end()]).translate(_WIDE_BRACKETS)
            attached.append(Candidate("department", value, a, b, P_DEPARTMENT - 1))
    if not _DEPT_TRIGGER.search(text):
        return attached
    spans = _department_spans_sudachi(lv.tokens) if lv.sudachi else _department_spans_regex(text)
    out = attached
    for s, e in _merge_sub_units(spans, text):
        if text[s:e].startswith("各") or text[max(0, s - 1):s] == "各":
            continue  # 各総合福祉事務所(の相談係): every office of a kind, not one department
        a, b = lv.norm_to_line(s, e)
        out.append(Candidate("department", re.sub(r"\s+", "", text[s:e]), a, b, P_DEPARTMENT))
    return out


def _is_compound_part(t: Token) -> bool:
    if t.pos[0] in ("名詞", "接頭辞", "接尾辞"):
        return t.pos[1] != "数詞"
    return t.pos[0] != "補助記号" and _LOANWORD_RE.fullmatch(t.surface) is not None  # ソーラン (感動詞)


def _department_spans_sudachi(tokens: list[Token]) -> list[tuple[int, int, str]]:
    """Departments inside noun compounds (maximal runs of adjacent noun/prefix/suffix tokens)."""
    spans: list[tuple[int, int, str]] = []
    i = 0
    previous: tuple[int, int, bool] | None = None  # the last compound: first and last token, has a unit
    while i < len(tokens):
        if not _is_compound_part(tokens[i]):
            i += 1
            continue
        j = i
        while (j + 1 < len(tokens) and _is_compound_part(tokens[j + 1]) and tokens[j + 1].start == tokens[j].end
               and tokens[j + 1].surface not in _ASK_WORDS):
            j += 1  # 問 starts the next contact line (PDF lines run together: …警察庁舎問音威子府駐在所)
        found = _departments_in(tokens[i : j + 1])
        if found and found[-1][1] == tokens[j].end and _names_a_facility_after(tokens, j + 1):
            found.pop()  # 山村・都市交流センター 木遊館: the facility's own name follows, not a contact unit
        if found and found[0][0] == tokens[i].start and previous and _coordinated(tokens, previous, i):
            # 高齢者・障害者相談センター: the words before ・ (no unit among them) belong to the name
            found[0] = (tokens[previous[0]].start, *found[0][1:])
        spans += found
        previous = (i, j, any(_unit_end(tokens, k, i) for k in range(i, j + 1)))
        i = j + 1
    return spans


def _coordinated(tokens: list[Token], previous: tuple[int, int, bool], i: int) -> bool:
    """``tokens[previous]`` + ・ + the compound at ``i``, the former a modifier without a unit of its own."""
    first, last, has_unit = previous
    dot = tokens[last + 1] if last + 1 < i else None
    return (not has_unit and last + 2 == i and dot is not None and dot.surface == "・"
            and tokens[last].end == dot.start and dot.end == tokens[i].start and last - first < 4
            and tokens[first].surface not in _LEAD_WORDS and tokens[first].pos[0] != "接頭辞"
            and all(t.pos[2] != "人名" for t in tokens[first:last + 1]))


# the last word of a facility's own name (館 of 木遊館, 天塩川温泉, 文化ホール ...)
_FACILITY_ENDS = ("館", "温泉", "ホール", "プラザ", "園", "荘", "ミュージアム", "アトリエ", "ドーム", "スタジアム")


def _names_a_facility_after(tokens: list[Token], k: int) -> bool:
    """A space, then a noun compound that is a facility's name: the unit before it is that facility."""
    if k >= len(tokens) or not tokens[k].surface.isspace():
        return False
    j = k + 1
    while j < len(tokens) and (_is_compound_part(tokens[j]) or (tokens[j].surface == "の" and j > k + 1)) and (
            j == k + 1 or tokens[j].start == tokens[j - 1].end):
        j += 1  # 木遊館, 森の学び館: a compound, or two joined by の
    return j > k + 1 and tokens[j - 1].surface.endswith(_FACILITY_ENDS) and tokens[j - 1].pos[2] != "人名"


def _unit_end(run: list[Token], k: int, seg_start: int) -> str | None:
    """The unit suffix token ``run[k]`` ends with ("課", "センター", "担当", "部" ...), or None."""
    s = run[k].surface
    for suffix in DEPARTMENT_SUFFIXES:
        if s.endswith(suffix):
            return suffix
    for suffix in _CHAIN_SUFFIXES:
        if s.endswith(suffix) and (len(s) > len(suffix) or k > seg_start):
            return suffix
    if s in _SUB_SUFFIXES and k > seg_start:
        return s  # 課税担当 after 札幌道税事務所自動車税部; 総務企画グループ after 環境衛生課
    return None


def _departments_in(run: list[Token]) -> list[tuple[int, int, str]]:
    """Departments of one noun compound: chains of units, cut where a new name starts.

    Each span is typed: "dept"; "head", a 部/局 that is a department only with the unit written
    after it (環境部 環境衛生課); "sub", a 担当/グループ that is one only after a unit (環境衛生課
    総務企画グループ).
    """
    out: list[tuple[int, int, str]] = []
    first = 0
    while first < len(run) and (run[first].pos[0] == "接頭辞" or run[first].surface in _LEAD_WORDS
                                or (len(run[first].surface) == 1 and run[first].pos[2] == "助数詞可能"
                                    and _unit_end(run, first, first) is None)):
        if run[first].surface in _ANAPHORIC_PREFIXES:
            return []
        first += 1  # 問, 各, 回 (of 第1回策定委員会) are not part of the name
    start = first  # first token of the current department
    seg = first  # first token of the current unit segment
    last_unit: int | None = None  # token index ending the current department's last real unit
    last_suffix: str | None = None
    chained = False  # the current department has a unit before its last one
    k = first
    while k < len(run):
        suffix = _unit_end(run, k, seg)
        if suffix is None:
            k += 1
            continue
        new_name = last_unit is not None and (
            run[seg].pos[1] == "固有名詞" or (suffix == "課" and last_suffix == "課"))
        if new_name:
            out += _finish(run, start, last_unit)
            start, chained = seg, False
            last_unit = None
        if suffix in DEPARTMENT_SUFFIXES or last_unit is not None or (suffix in _SUB_SUFFIXES and chained):
            # a unit; 部/局/事務局/担当 after one extend it (農業委員会事務局, 札幌道税事務所自動車税部課税担当)
            if last_unit is not None:
                chained = True
            last_unit, last_suffix = k, suffix
        else:
            chained = True  # 部/局 before the first unit: 自衛隊旭川地方協力本部名寄出張所
        seg = k + 1
        k += 1
    if last_unit is None:
        end = run[-1]
        if len(run) - start > 1 or len(end.surface) > 1:
            if chained and _unit_end(run, len(run) - 1, start) in _CHAIN_SUFFIXES and end.pos[2] != "副詞可能":
                out.append((run[start].start, end.start + len(end.surface), "head"))  # 環境部 (一部 is not)
            elif end.surface in _SUB_SUFFIXES and len(run) - start > 1:
                out.append((run[start].start, end.end, "sub"))
        return out
    tail = run[last_unit + 1:]
    if tail:
        words = "".join(t.surface for t in tail)
        if words.startswith(_TITLES) or any(t.surface in _TITLES for t in tail[:1]):
            return out  # 中井経済課長: a person's title
        # staff of the unit (保健福祉センター保健師, 経済課担当職員) or a staff name after it (会計課金徳)
        staff = all(t.surface == "担当" or t.surface.endswith(_STAFF_ENDINGS) or t.pos[2] == "人名" for t in tail)
        if not staff and not (len(tail) == 1 and tail[0].surface in _UNIT_TAILS):
            return out  # 保健福祉センターだより, 給食センター方式: the unit modifies the noun after it
    return out + _finish(run, start, last_unit)


def _finish(run: list[Token], start: int, last: int) -> list[tuple[int, int, str]]:
    name = "".join(t.surface for t in run[start : last + 1])
    if name.endswith(_NOT_DEPARTMENTS):
        return []  # 所属課室, 学習室, 関係: not a department
    if name in _GENERIC_UNITS or name in DEPARTMENT_SUFFIXES:
        return []  # a bare センター/課 names nothing
    return [(run[start].start, run[last].end, "dept")]


_UPPER_UNITS = ("課", "委員会")  # a unit of this level after a space starts a new department
# ... unless the unit before the space is an office of a higher level: 名寄保健所 健康推進課, 上川支所 地域振興課
_OFFICES_ABOVE_DIVISIONS = ("保健所", "事務所", "支所", "振興局", "支庁", "本部", "警察署", "税務署", "消防署")


def _merge_sub_units(spans: list[tuple[int, int, str]], text: str) -> list[tuple[int, int]]:
    """Join a unit and the lower unit written after it, separated by spaces or の; keep departments.

    "北区生活福祉課 生活支援係", "住民課 住民生活室 生活環境係", "教育委員会 生涯学習係",
    "住民課保健福祉室 保健福祉センター", "総合福祉事務所の相談係", "環境部 環境衛生課 総務企画グループ"
    are one department each; "経済課 総務課" are two; "環境部" alone is none.
    """
    merged: list[tuple[int, int, str]] = []
    for s, e, kind in spans:
        if merged:
            ps, pe, pkind = merged[-1]
            gap = text[pe:s]
            spaced = bool(gap) and gap.isspace() and len(gap) <= 2
            if pkind == "head" and spaced:
                merged[-1] = (ps, e, kind if kind != "sub" else "head")
                continue
            if pkind == "dept" and ((spaced and (kind == "sub" or not text[s:e].endswith(_UPPER_UNITS)
                                                 or (text[ps:pe].endswith(_OFFICES_ABOVE_DIVISIONS)
                                                     and text[s:e].endswith("課"))))
                                    or (gap == "の" and kind == "dept" and text[s:e].endswith(("係", "室", "担当")))):
                merged[-1] = (ps, e, "dept")
                continue
        merged.append((s, e, kind))
    return [(s, e) for s, e, kind in merged if kind == "dept"]


def _department_spans_regex(text: str) -> list[tuple[int, int, str]]:
    return [(*m.span(), "dept") for m in _DEPT_RE_BASELINE.finditer(text) if not m.group().endswith(_NOT_DEPARTMENTS)]
