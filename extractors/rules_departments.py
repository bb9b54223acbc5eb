"""Departments of one line: organisational units in Sudachi noun compounds.

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
  points back at one named before; 各 after a unit ends it: 島しょ保健所各出張所 -> 島しょ保健所),
  問/担当/窓口, an ordinal with a counter (第1回 of 第1回策定委員会; an ordinal without one is part of the
  name: 第一管区海上保安本部)
  (a staff surname glued in front, 「山田子育て支援課」, is cut by the document pass). A compound holding two
  units of which the second starts a new name (役場住民課旭川年金事務所: a 地名 starts it;
  住民課経済課: two 課) is two departments. Words coordinated by ・ before a unit, with no unit of their
  own, belong to its name (高齢者・障害者相談センター; 税務課・住民課 stays two). A unit followed by a space
  and a facility's own name (「山村・都市交流センター 木遊館」: …館/温泉/ホール …) is that facility, not a
  department; nor is a 室/センター/事務所 coordinated with another place as the object of a work item
  (保健福祉センター及び村立診療所の清掃委託: a bid table's building). A municipal office written before a unit with a space (「村役場 住民課住民生活室」, 役場/役所/庁)
  is part of it, as it is when glued (役場住民課). Offices attached to a ministry post are one department each, brackets included
  (内閣府政策統括官（防災担当）付参事官（防災計画担当）付). Whether a 室/センター/事務所 name with no 課/係/委員会
  in it is a unit or a room/facility/venue is decided by the document pass (contact context).
"""

from __future__ import annotations

import re

from extractors.lineview import Candidate, LineView
from extractors.rules_contacts import P_DEPARTMENT
from extractors.tokenizer import Token

DEPARTMENT_SUFFIXES = ("課", "係", "室", "センター", "事務所", "出張所", "支所", "委員会", "署", "駐在所", "保健所")
# units that may appear inside a department's chain but do not end one
_CHAIN_SUFFIXES = ("部", "局", "本部", "事務局")
# units that need the document's contact context to count (they also name rooms, facilities, venues)
WEAK_SUFFIXES = ("室", "センター", "事務所", "出張所", "支所")
# cheap line filter before Sudachi: a unit word that is not part of 課税/課程/放課後/関係/係る
_DEPT_TRIGGER = re.compile("(?<!放)課(?![税程題])|(?<![関連])係(?![るりれろらわ数])|室|センター|事務所|出張所|支所|委員会|署(?!名)|駐在所|保健所|会事務局")
_NOT_DEPARTMENTS = (
    "課室", "学習室", "集会室", "事務室", "居室", "会議室", "和室", "洋室", "教室", "浴室", "控室",
    "研修室", "待合室", "授乳室", "図書室", "談話室", "調理室", "更衣室", "休憩室", "自習室", "病室",
    "寝室", "個室", "温室", "客室", "別室", "関係", "連係", "保育室",  # 保育室: a small nursery (a facility)
    "公課", "賦課", "日課", "課金",  # 課 as a levy or a task, not a unit
)
# a department after one of these prefixes points back at one named before (本実行委員会, 当センター)
_ANAPHORIC_PREFIXES = frozenset({"本", "当", "同", "両", "貴", "該"})
_GENERIC_UNITS = frozenset({"所管課", "担当課", "主管課", "関係課", "担当係", "当センター", "同センター", "本センター",
                            "部署", "各部署", "関係部署", "担当部署", "所管部署", "担当窓口課", "支所",
                            "管理支所", "管轄支所", "管理事務所", "所管事務所", "管轄事務所",
                            "届出受理事務所", "受理事務所",
                            # unit types without a name: 消防署・支署, 事務局にて配布
                            "支署", "分署", "本署", "支局", "支援センター", "事務局"})  # role names
# kinds of (national, prefectural) offices that need a place in their name: 旭川年金事務所 is a unit,
# 年金事務所 alone (「窓口又は年金事務所へご相談ください」, 「最寄りの保健所に提出」) names none, unless a
# contact line names it so (「問 警察署 ☎ 2-0110」: the area's own station)
_INSTITUTION_KINDS = frozenset({
    "年金事務所", "税務署", "警察署", "保健所", "消防署", "児童相談所", "労働基準監督署", "公共職業安定所",
    "法務局", "地方法務局", "道税事務所", "県税事務所", "都税事務所", "府税事務所", "年金事務センター",
    "総合振興局", "振興局", "財務事務所", "財務局", "運輸支局", "森林管理署", "駐在所", "交番", "福祉事務所",
})
_SUB_SUFFIXES = ("担当", "グループ", "チーム")  # units only after another: 課税担当, 総務企画グループ
_ASK_WORDS = frozenset({"問", "問い合わせ", "お問い合わせ", "問合せ"})
_LEAD_WORDS = frozenset({"問", "問い", "問合せ", "問い合わせ", "お問い合わせ", "担当", "窓口", "宛先", "所属"})
# nouns that may follow a unit without making it a modifier: 役場住民課窓口, 保健福祉センター内
_UNIT_TAILS = frozenset({"窓口", "内", "前", "宛", "宛て", "あて"})
# the unit's own media after it name the unit: 横浜市動物愛護センター公式X, …センターホームページ
_OWN_MEDIA = ("公式", "ホームページ", "ウェブサイト")
# staff of the unit after it: 保健福祉センター保健師, 経済課担当職員 (the unit is still the one meant)
_STAFF_ENDINGS = ("師", "員", "士", "者")
# a unit followed by one of these is part of a job title (中井経済課長, 北川住民課参事)
_TITLES = ("長", "参事", "次長", "主幹", "主査", "主任", "補佐", "課長", "室長", "係長", "所長", "局長", "部長", "主事")
_DEPT_RE_BASELINE = re.compile(r"(?:[一-龥ァ-ヴー々ヶ]+(?:課|係|室|センター|事務所|出張所|委員会))+")
_LOANWORD_RE = re.compile(r"[ァ-ヴーA-Za-z]+")


_ATTACHED_RE = re.compile(
    r"(?:内閣府|内閣官房|[一-龥]{1,6}?[省庁])(?:[一-龥]{1,8}?官(?:\([^()]{1,12}\))?付)+")
_WIDE_BRACKETS = str.maketrans("()", "（）")
_ALIAS_BEFORE_RE = re.compile(r"\s*\(\s*[ぁ-ゖァ-ヺー・]{1,12}")  # a kana nickname in brackets: (あいにきた道央センター)
# a unit of whichever municipality (or every one) the reader has: お住まいの市区町村の…課, 全国の…センター
_ANY_MUNICIPALITY = ("市区町村", "区市町村", "市町村", "都道府県", "自治体")
_ANY_MUNICIPALITY_RE = re.compile(r"(?:市区町村|区市町村|市町村|都道府県|自治体|全国)の?\s*$")
_SELF_PREFIX_RE = re.compile(r"(?:本|当)(?:村|町|市|区)(?=[一-龥ァ-ヴ])")


def find_departments(lv: LineView) -> list[Candidate]:
    text = lv.norm.text
    attached = []
    if "付" in text:
        for m in _ATTACHED_RE.finditer(text):
            s = m.start() + 1 if m.group().startswith("問") else m.start()
            a, b = lv.norm_to_line(s, m.end())
            value = re.sub(r"\s+", "", text[s:m.end()]).translate(_WIDE_BRACKETS)
            attached.append(Candidate("department", value, a, b, P_DEPARTMENT - 1))
    if not _DEPT_TRIGGER.search(text) and not ("問" in text and ("局" in text or "部" in text)):
        return attached  # (問 北海道…推進局: a contact line may name a 部/局)
    spans = _department_spans_sudachi(lv.tokens) if lv.sudachi else _department_spans_regex(text)
    out = attached
    previous_end: int | None = None  # where the last department of the line ends (in ``text``)
    for s, e, kind in _merge_sub_units(spans, text):
        if (kind == "head" or text[s:e] in _INSTITUTION_KINDS) and not _names_the_contact(text, s, e):
            continue  # 環境部, 年金事務所 alone in a sentence name no unit (「問 警察署 ☎ …」 does)
        if text[s:e].endswith(WEAK_SUFFIXES) and _WORKED_ON_RE.match(text, e):
            continue  # 保健福祉センター及び村立診療所の清掃委託: the building a contract works on
        if text[s:e].startswith("各") or text[max(0, s - 1):s] == "各":
            continue  # 各総合福祉事務所(の相談係): every office of a kind, not one department
        if _ANY_MUNICIPALITY_RE.search(text, max(0, s - 12), s) or text.startswith(_ANY_MUNICIPALITY, s):
            continue  # お住まいの市区町村の児童課, 全国の精神保健福祉センター, 都道府県公安委員会: a unit type, no unit
        self_ref = _SELF_PREFIX_RE.match(text, s)
        if self_ref and self_ref.end() < e:
            s = self_ref.end()  # 本村総務課総務財政室: "this village's" is not part of the name
        if previous_end is not None and _ALIAS_BEFORE_RE.fullmatch(text, previous_end, s) and text.startswith(")", e):
            continue  # 北海道立動物愛護センター(あいにきた道央センター): the unit's nickname, not another unit
        a, b = lv.norm_to_line(s, e)
        out.append(Candidate("department", re.sub(r"\s+", "", text[s:e]), a, b, P_DEPARTMENT))
        previous_end = e
    return out


def _is_compound_part(t: Token) -> bool:
    if t.pos[0] in ("名詞", "接頭辞", "接尾辞"):
        return t.pos[1] != "数詞"
    return t.pos[0] != "補助記号" and _LOANWORD_RE.fullmatch(t.surface) is not None  # ソーラン (感動詞)


def _part_at(tokens: list[Token], j: int) -> bool:
    """A compound part, or the number of an ordinal glued to its 第 (第一管区, 第1回)."""
    t = tokens[j]
    if _is_compound_part(t):
        return True
    return (t.pos[1] == "数詞" and j > 0 and tokens[j - 1].surface == "第" and tokens[j - 1].end == t.start
            and j + 1 < len(tokens) and tokens[j + 1].start == t.end and _is_compound_part(tokens[j + 1]))


# a municipal office before a unit, with a space: 村役場 住民課住民生活室 (glued, 役場住民課 is one compound)
_OFFICE_WORDS = ("役場", "役所", "庁")


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
        while (j + 1 < len(tokens) and _part_at(tokens, j + 1) and tokens[j + 1].start == tokens[j].end
               and tokens[j + 1].surface not in _ASK_WORDS):
            j += 1  # 問 starts the next contact line (PDF lines run together: …警察庁舎問音威子府駐在所)
        found = _departments_in(tokens[i : j + 1])
        if found and found[-1][1] == tokens[j].end and _names_a_facility_after(tokens, j + 1):
            found.pop()  # 山村・都市交流センター 木遊館: the facility's own name follows, not a contact unit
        if found and found[0][0] == tokens[i].start and previous and _coordinated(tokens, previous, i):
            # 高齢者・障害者相談センター: the words before ・ (no unit among them) belong to the name
            found[0] = (tokens[previous[0]].start, *found[0][1:])
        elif found and found[0][0] == tokens[i].start and previous and _office_before(tokens, previous, i):
            found[0] = (tokens[previous[0]].start, *found[0][1:])  # 村役場 住民課住民生活室: one department
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


def _office_before(tokens: list[Token], previous: tuple[int, int, bool], i: int) -> bool:
    """``tokens[previous]`` is a municipal office (村役場, 市役所) written a space before the unit at ``i``."""
    first, last, has_unit = previous
    gap_start, gap_end = tokens[last].end, tokens[i].start
    words = "".join(t.surface for t in tokens[first:last + 1])
    return (not has_unit and last + 1 < i and 0 < gap_end - gap_start <= 2
            and all(t.surface.isspace() for t in tokens[last + 1:i])
            and words.endswith(_OFFICE_WORDS) and len(words) <= 8)


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
    while first < len(run):
        t = run[first]
        if t.surface == "第" and first + 1 < len(run) and run[first + 1].pos[1] == "数詞":
            k = first + 2
            if k < len(run) and len(run[k].surface) == 1 and run[k].pos[2] == "助数詞可能" and _unit_end(run, k, k) is None:
                first = k + 1  # 第1回策定委員会: the ordinal of a meeting is not part of the name
                continue
            break  # 第一管区海上保安本部: the ordinal is part of the name
        if not (t.pos[0] == "接頭辞" or t.surface in _LEAD_WORDS
                or (len(t.surface) == 1 and t.pos[2] == "助数詞可能" and _unit_end(run, first, first) is None)):
            break
        if t.surface in _ANAPHORIC_PREFIXES:
            return []
        first += 1  # 問, 各, 回 (of 第1回策定委員会) are not part of the name
    start = first  # first token of the current department
    seg = first  # first token of the current unit segment
    last_unit: int | None = None  # token index ending the current department's last real unit
    last_suffix: str | None = None
    chained = False  # the current department has a unit before its last one
    k = first
    while k < len(run):
        if k > first and run[k].surface == "各" and run[k].pos[0] == "接頭辞":
            # 島しょ保健所各出張所: "each branch of" — the unit right before 各 is the one named
            return out + _finish(run, start, last_unit) if last_unit == k - 1 else out
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
        if end.surface.endswith("事務局") and len(run) - start > 1 and run[-2].surface.endswith("会"):
            return out + _finish(run, start, len(run) - 1)  # 上川町村会事務局, 大会事務局: the office of a named body
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
        # a post of the unit after it (生活福祉課子ども女性相談主査): the unit is the one to contact
        post = len(tail) > 1 and tail[-1].surface in _TITLES and all(t.pos[2] != "人名" for t in tail)
        if (not staff and not post and not (len(tail) == 1 and tail[0].surface in _UNIT_TAILS)
                and not words.startswith(_OWN_MEDIA)):
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
    are one department each; "経済課 総務課" are two; "環境部" alone is none (kept as "head": a
    contact line may name it, see :func:`_names_the_contact`).
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
    return [(s, e, kind) for s, e, kind in merged if kind in ("dept", "head")]


# a facility coordinated with another one as the object of a work item (a bid table's 概要 cell):
# 保健福祉センター及び周辺清掃委託, …センター及び村立診療所の清掃委託
_WORKED_ON_RE = re.compile(r"\s*(?:及び|および|並びに|・)[一-龥ァ-ヴー々]{0,16}?の?"
                           r"(?:清掃|警備|管理|点検|改修|工事|委託|整備|修繕|保守|設置|賃貸借)")


# the whole of a contact line: 問 (㉄) before the name, then the line's end or its number
_ASKED_RE = re.compile(r"(?:^|[\s◇・|])問\s*[:|]?\s*$")
_THEN_NUMBER_RE = re.compile(r"\s*(?:$|☎|TEL|Tel|電話|[0-9(])")


def _names_the_contact(text: str, s: int, e: int) -> bool:
    """A 部/局 chain that a contact line names (「㉄北海道環境生活部アイヌ政策推進局」, then its ☎ or the line's
    end): the office to ask is a department even without a 課 under it."""
    return bool(_ASKED_RE.search(text[max(0, s - 6):s]) if s > 6 else _ASKED_RE.search(text[:s])) and bool(
        _THEN_NUMBER_RE.match(text, e))


def _department_spans_regex(text: str) -> list[tuple[int, int, str]]:
    return [(*m.span(), "dept") for m in _DEPT_RE_BASELINE.finditer(text) if not m.group().endswith(_NOT_DEPARTMENTS)]

