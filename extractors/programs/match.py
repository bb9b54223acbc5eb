"""Resolving a fact's heading path to a program id (pure; Sudachi for word boundaries and normalised forms).

``match_program(heading_path, municipality, text)`` walks the headings from the innermost outwards; the
nearest heading that names a program wins:

1. a catalog program, when the heading's key equals a catalog alias, ends with one after only
   qualifier words (ひとり親家庭, 母子家庭等 …: "ひとり親家庭高等職業訓練促進給付金" is
   高等職業訓練促進給付金), or a parenthesis names one ("医療費助成(マル親)");
2. a municipal program, when the heading itself names a program (see below) but no catalog alias:
   its id is ``municipal_program_id(code, name)`` = ``<municipality code>:<key>``, unless an
   :class:`Aliases` object maps that name to another id;
3. a generic heading (助成額, 対象者要件, 支給手当月額, 申込書類, お問い合わせ …) is skipped, so the fact
   resolves to the enclosing program heading — except that a generic heading whose modifier is a catalog
   name (児童扶養手当の手当額) names that program.

If no heading resolves, ``text`` (the fact's sentence) is searched for catalog aliases; exactly one
program named there is the match (``via="text"``).

**Keys.** A name is compared by its *key*: NFKC (``extractors.normalize``), decorations and affixes removed
(【…】, ■◆, (令和7年度), について, のご案内, 事業, 制度, 等 …), a leading municipality removed (Sudachi
地名 tokens followed by 都/道/府/県/市/区/町/村/郡, or an out-of-vocabulary stem before one), then the
Sudachi normalised forms of the remaining mode-A morphemes joined without particles and symbols
(貸付 → 貸し付け, 子ども → 子供, 問合せ → 問い合わせ).

**Generic headings are a class, not a list.** Japanese compounds are head-final: 助成額 is an amount
(額), 親元近居助成 a subsidy (助成). A heading names a program iff its head morpheme is a *program noun*
(手当, 給付(金), 助成, 貸付, 資金, 控除, 相談, 施設 …) with at least one modifier, or a *weak* program noun
(支援, 事業, 制度, サービス …) with a specific modifier (経済的支援, ひとり親家庭支援 and くらしのサポート are
categories, not programs). Anything headed by another noun (額, 要件, 書類, 方法, 問い合わせ, 概要 …) is
generic, as is a heading that is a sentence (ends in a verb or auxiliary) or lists 各種/主な programs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from extractors.normalize import normalize
from extractors.programs.catalog import Catalog, Program, load_catalog
from extractors.tokenizer import get_dictionary, split_for_sudachi

# ---------------------------------------------------------------- vocabulary (Sudachi normalised forms)

# head nouns that make a heading name a program (given one modifier)
PROGRAM_HEADS = frozenset(
    "手当 給付 助成 貸し付け 貸与 資金 控除 減免 免除 減額 軽減 補助 援助 扶助 奨学 手帳 年金 医療費 相談 "
    "ホーム 施設 保育 訓練 講習 派遣 ヘルパー ヘルプ ステー 交付 猶予 割引 無料 ローン 券 保護 一時金 "
    "センター プログラム 教室 給付金 助成金 補助金 奨励金 祝い金 見舞い金 貸付金 融資 利子補給 償還免除 "
    "保険 支給 預かり 送迎".split()
)
# program nouns too general to name a program without a specific modifier
WEAK_HEADS = frozenset("支援 事業 制度 サービス サポート 施策 対策 福祉 応援 給付等 取り組み".split())
# modifiers that only say what area a category heading covers
CATEGORY_MODIFIERS = frozenset(
    "経済 的 自立 就業 就労 生活 暮らし 子育て 住まい 住宅 教育 医療 医療費 福祉 健康 仕事 学校 お金 費用 経済的 "
    "各種 主 其の 他 様々 色々 全般 一覧 関係 関連 等 など 支援 事業 制度 サービス サポート 施策 対策".split()
)
# modifiers that make a heading a list of programs ("ひとり親家庭への各種貸付資金", "主な支援")
LIST_MODIFIERS = frozenset("各種 様々 色々 主 其の 他 全般 一覧".split())
# words that may precede a catalog name without making it another program
QUALIFIERS = frozenset(
    "一人 親 家庭 母子 父子 寡婦 世帯 家族 子供 児童 子 方 父 母 等 向け 国 都 道 府 県 市 区 町 村 "
    "区市町村 市区町村 都道府県 新 新た 東京 ひとり".split()
)
_MUNI_SUFFIX = frozenset("都 道 府 県 市 区 町 村 郡".split())
_CONNECTORS = frozenset("と 及び 並びに 又は 或いは や".split())

_DECOR_RE = re.compile(r"^[\s■□◆◇●○◎・※★☆▼▽▲△▶▷►→〇\-–—*#>|]+|[\s■□◆◇●○◎★☆]+$")
_LEAD_BRACKET_RE = re.compile(r"^[【\[〔［][^】\]〕］]{0,12}[】\]〕］]\s*|\s*[【\[〔［][^】\]〕［]{0,24}[】\]〕］]$")
_ENUM_RE = re.compile(r"^(?:\d{1,2}[\s.．、)）]|[(（]\d{1,2}[)）]|[\u2460-\u2473]|第\d{1,2}[\s.．、]?)\s*")
_YEAR_RE = re.compile(
    r"[(（]?(?:(?:令和|平成|昭和)(?:元|\d{1,2})|R\d{1,2}|H\d{1,2}|(?:19|20)\d{2})年度?(?:版|分)?[)）]?"
)
_TRAIL_AFFIX_RE = re.compile(
    r"(?:について|に関して|に関するお知らせ|のご案内|ご案内|の案内|案内|のお知らせ|お知らせ|のページ|のご紹介|のお願い|とは|の概要"
    r"|[(（](?:旧ページ|新規|更新|終了|受付終了|受付中)[)）])$"
)
_PAREN_RE = re.compile(r"[(（]([^()（）]*)[)）]")
_SEP_RE = re.compile(r"\s+[-|｜/／]\s+|[|｜]")
_QUOTES_RE = re.compile(r"[「」『』〈〉《》\"“”]")
_SENTENCE_POS = ("動詞", "助動詞", "形容詞")
MAX_HEADING_CHARS = 60


# ---------------------------------------------------------------- Sudachi mode A, one tokenizer per thread

_local = threading.local()


@dataclass(frozen=True, slots=True)
class Morph:
    surface: str
    form: str  # Sudachi normalized_form
    pos: tuple[str, ...]
    oov: bool


def _tokenizer() -> Any:
    tok = getattr(_local, "tok_a", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = get_dictionary().tokenizer(mode=SplitMode.A)
        _local.tok_a = tok
    return tok


def morphs(text: str) -> list[Morph]:
    """Mode-A morphemes of ``text`` with their normalised forms."""
    out: list[Morph] = []
    tok = _tokenizer()
    for _, chunk in split_for_sudachi(text):
        if not chunk:
            continue
        for m in tok.tokenize(chunk):
            out.append(Morph(m.surface(), m.normalized_form(), tuple(m.part_of_speech()), m.is_oov()))
    return out


def _is_symbol(m: Morph) -> bool:
    return m.pos[0] in ("補助記号", "空白") or not m.surface.strip()


def _is_particle(m: Morph) -> bool:
    return m.pos[0] == "助詞"


def _is_place(m: Morph) -> bool:
    return m.pos[2] == "地名" or m.oov or (m.pos[0] == "名詞" and m.pos[1] == "固有名詞")


# ---------------------------------------------------------------- heading analysis


@dataclass(frozen=True)
class Heading:
    """A heading (or any program name) analysed for matching.

    ``key`` is the normalised name (see the module doc); ``tokens`` its normalised forms;
    ``names_program`` whether the heading itself names a program; ``parens`` the keys of
    parenthesised parts; ``place`` the municipality prefix that was removed (NFKC surface).
    """

    text: str
    key: str
    tokens: tuple[str, ...]
    names_program: bool
    head: str | None
    parens: tuple[str, ...] = ()
    place: str | None = None


def _clean(text: str) -> str:
    s = normalize(text).text.strip()
    s = _QUOTES_RE.sub("", s)
    for _ in range(3):
        before = s
        s = _DECOR_RE.sub("", s)
        s = _LEAD_BRACKET_RE.sub("", s)
        s = _ENUM_RE.sub("", s)
        s = _YEAR_RE.sub("", s).strip()
        s = _TRAIL_AFFIX_RE.sub("", s).strip()
        if s == before:
            break
    return s


def _strip_place(ms: list[Morph], municipality: str | None) -> tuple[list[Morph], str | None]:
    """Remove a leading municipality/prefecture: 地名 (or out-of-vocabulary) stems each followed by a
    municipal suffix (東京+都, 北+区, 北海道, 中川+郡+音威子府+村), and a following の."""
    i = 0
    end = 0
    n = len(ms)
    while i < n:
        m = ms[i]
        if _is_place(m) and i + 1 < n and ms[i + 1].surface in _MUNI_SUFFIX:
            i += 2
            end = i
            continue
        if m.pos[2] == "地名" and len(m.surface) >= 3 and m.surface[-1] in _MUNI_SUFFIX:
            i += 1
            end = i
            continue
        break
    if end == 0 and municipality:
        # the source's own municipality written in a way Sudachi splits differently
        muni = normalize(municipality).text
        acc = ""
        for j, m in enumerate(ms):
            acc += m.surface
            if acc == muni:
                end = j + 1
                break
            if not muni.startswith(acc):
                break
    if end == 0 or end >= n:
        return ms, None
    place = "".join(m.surface for m in ms[:end])
    rest = ms[end:]
    if rest and _is_particle(rest[0]) and rest[0].surface == "の":
        rest = rest[1:]
    return rest, place


def _key_tokens(ms: Iterable[Morph]) -> list[Morph]:
    """Morphemes that make up a key: no particles, symbols, prefixes (お/ご) or 等."""
    out = []
    for m in ms:
        if _is_symbol(m) or _is_particle(m) or m.pos[0] == "接頭辞":
            continue
        if m.surface == "等" and m.pos[0] == "接尾辞":
            continue
        out.append(m)
    return out


def _drop_trailing_affixes(toks: list[Morph]) -> list[Morph]:
    while len(toks) > 1 and toks[-1].form in ("事業", "制度"):
        toks = toks[:-1]
    return toks


def _head_of(toks: list[Morph]) -> tuple[str | None, list[str]]:
    """The head morpheme's normalised form (a nominal suffix 金/費/料/者 joins the noun before it)
    and the normalised forms of the modifiers."""
    if not toks:
        return None, []
    words: list[str] = []  # a nominal suffix (費, 者, 金 …) joins the morpheme before it: 医療+費 -> 医療費
    for t in toks:
        if t.pos[0] == "接尾辞" and words:
            words[-1] += t.form
        else:
            words.append(t.form)
    head = words[-1]
    if head not in PROGRAM_HEADS and head.endswith("金") and head[:-1] in PROGRAM_HEADS:
        head = head[:-1]
    return head, words[:-1]


def _classify(ms: list[Morph], toks: list[Morph]) -> tuple[bool, str | None]:
    content = [m for m in ms if not _is_symbol(m)]
    if content and content[-1].pos[0] in _SENTENCE_POS:
        return False, None
    if any(m.pos[0] in ("動詞", "助動詞") for m in content):
        return False, None
    head, mods = _head_of(toks)
    if head is None:
        return False, None
    if any(m in LIST_MODIFIERS for m in mods):
        return False, head
    if head in PROGRAM_HEADS:
        return bool(mods) and any(m not in CATEGORY_MODIFIERS for m in mods), head
    if head in WEAK_HEADS:
        # a specific modifier: not a category/target word, and not a bare program noun (免除制度, 軽減制度)
        specific = [m for m in mods if m not in CATEGORY_MODIFIERS and m not in QUALIFIERS and m not in WEAK_HEADS]
        if specific and all(m in PROGRAM_HEADS for m in specific) and len(mods) == len(specific):
            return False, head
        return bool(specific), head
    return False, head


@lru_cache(maxsize=8192)
def analyse(text: str, municipality: str | None = None) -> Heading:
    """Analyse one heading (cached: the same headings recur on every page of a site)."""
    cleaned = _clean(text)
    parens = [p.strip() for p in _PAREN_RE.findall(cleaned) if p.strip()]
    main = _PAREN_RE.sub(" ", cleaned).strip() or cleaned
    parts = [p.strip() for p in _SEP_RE.split(main) if p.strip()]
    if len(parts) > 1:  # "学習塾等受講料サポート - 受験生チャレンジ支援貸付事業": each part may be the name
        parens += parts
    if len(main) > MAX_HEADING_CHARS:
        return Heading(text, "", (), False, None)
    ms, place = _strip_place(morphs(main), municipality)
    full = _key_tokens(ms)
    toks = _drop_trailing_affixes(full)
    key = "".join(t.form for t in toks)
    names, head = _classify(ms, full)
    paren_keys = tuple(k for k in (_plain_key(p, municipality) for p in parens if len(p) <= MAX_HEADING_CHARS) if k)
    return Heading(text, key, tuple(t.form for t in toks), names, head, paren_keys, place)


def _plain_key(text: str, municipality: str | None = None) -> str:
    ms, _ = _strip_place(morphs(_clean(text)), municipality)
    return "".join(t.form for t in _drop_trailing_affixes(_key_tokens(ms)))


def program_key(name: str, municipality: str | None = None) -> str:
    """The normalised key of a program name ("北区親元近居助成事業" -> "親元近居助成")."""
    return analyse(name, municipality).key


# ---------------------------------------------------------------- catalog alias index


@dataclass(frozen=True)
class _Index:
    by_key: dict[str, str]  # alias key -> program id
    keys_by_len: tuple[str, ...]  # alias keys, longest first
    programs: dict[str, Program]


@lru_cache(maxsize=4)
def _index(catalog: Catalog) -> _Index:
    by_key: dict[str, str] = {}
    for p in catalog.programs:
        for name in (p.name, *p.aliases):
            k = program_key(name)
            if not k:
                continue
            other = by_key.get(k)
            if other is not None and other != p.id:
                raise ValueError(f"catalog alias key {k!r} is shared by {other!r} and {p.id!r}")
            by_key[k] = p.id
    keys = tuple(sorted(by_key, key=len, reverse=True))
    return _Index(by_key, keys, {p.id: p for p in catalog.programs})


def alias_keys(catalog: Catalog | None = None) -> dict[str, str]:
    """Every catalog alias key and the program it names (raises ValueError if two programs share one)."""
    return dict(_index(catalog or load_catalog()).by_key)


# ---------------------------------------------------------------- municipal ids and learnt aliases

_CODE_RE = re.compile(r"^\d{5,6}$")


def municipal_program_id(code: str, name: str) -> str:
    """Id of a municipal program not in the catalog: ``<municipality code>:<normalised name>``.

    ``municipal_program_id("131172", "北区親元近居助成事業") == "131172:親元近居助成"``.
    """
    code = normalize(code).text.strip()
    if not code:
        raise ValueError("municipal_program_id: empty municipality code")
    key = program_key(name)
    if not key:
        raise ValueError(f"municipal_program_id: {name!r} has no name left after normalisation")
    return f"{code}:{key}"


class Aliases:
    """In-memory map of names to program ids, per municipality (pure; the warehouse keeps learnt aliases in ``program_aliases``, see ``wardwatch/stages/programs.py``).

    ``learn(name, program_id, municipality=...)`` records that a (secondary) source's name means
    ``program_id``; ``register(program_id, name, ...)`` records an official program discovered on a
    municipality's pages, so a shorter or longer name of it with only qualifier words in between
    (休養ホーム事業 ⇄ ひとり親家庭休養ホーム事業) resolves to the same id.
    """

    def __init__(self) -> None:
        self._learnt: dict[tuple[str, str], str] = {}
        self._official: dict[str, dict[str, str]] = {}

    @staticmethod
    def _scope(municipality: str | None) -> str:
        return normalize(municipality).text.strip() if municipality else ""

    def learn(self, name: str, program_id: str, *, municipality: str | None = None) -> None:
        key = program_key(name, municipality)
        if not key:
            raise ValueError(f"Aliases.learn: {name!r} has no name left after normalisation")
        self._learnt[(self._scope(municipality), key)] = program_id

    def register(self, program_id: str, name: str, *, municipality: str | None = None) -> None:
        key = program_key(name, municipality)
        if key:
            self._official.setdefault(self._scope(municipality), {})[key] = program_id

    def resolve(self, name: str, *, municipality: str | None = None) -> str | None:
        key = program_key(name, municipality)
        return self.resolve_key(key, municipality) if key else None

    def resolve_key(self, key: str, municipality: str | None = None) -> str | None:
        scope = self._scope(municipality)
        for s in (scope, ""):
            hit = self._learnt.get((s, key))
            if hit:
                return hit
        official = self._official.get(scope, {})
        if key in official:
            return official[key]
        toks = analyse(key).tokens
        for okey, pid in official.items():
            if _qualified_suffix(okey, key) or _qualified_suffix(key, okey, toks):
                return pid
        return None

    def items(self) -> list[tuple[str, str, str]]:
        """(municipality, key, program id) of every learnt alias."""
        return [(m, k, p) for (m, k), p in sorted(self._learnt.items())]

    def __len__(self) -> int:
        return len(self._learnt)


def _qualified_suffix(longer: str, shorter: str, longer_tokens: Sequence[str] | None = None) -> bool:
    """``longer`` == qualifier words + ``shorter`` (on morpheme boundaries)."""
    if len(shorter) < 2 or len(longer) <= len(shorter) or not longer.endswith(shorter):
        return False
    toks = longer_tokens if longer_tokens is not None else analyse(longer).tokens
    prefix = longer[: len(longer) - len(shorter)]
    acc = ""
    for t in toks:
        if acc == prefix:
            return True
        if t not in QUALIFIERS:
            return False
        acc += t
    return acc == prefix


# ---------------------------------------------------------------- matching


@dataclass(frozen=True)
class Match:
    """A fact's program.

    ``via``: ``"alias"`` (catalog alias, possibly after qualifier words), ``"paren"`` (a parenthesised
    alias), ``"modifier"`` (a generic heading whose modifier is a catalog name), ``"part"`` (a program
    heading whose name is part of the enclosing program's: 訓練促進給付金 under 高等職業訓練促進給付金), ``"learnt"`` (an
    :class:`Aliases` entry), ``"municipal"`` (a program heading not in the catalog), ``"text"`` (no heading
    resolved; the fact's sentence names one catalog program). ``heading`` is the heading that matched and
    ``depth`` its index in the heading path (None for ``"text"``). A heading naming several catalog programs
    ("児童扶養手当・特別児童扶養手当について") gives ``ambiguous=True`` with every program in ``candidates``;
    ``program_id`` is then the one the fact's text names, else the first.
    """

    program_id: str
    name: str
    scope: str
    via: str
    heading: str | None
    depth: int | None
    candidates: tuple[str, ...] = ()
    ambiguous: bool = False


def _pref_ok(p: Program, code: str | None) -> bool:
    return p.prefecture is None or code is None or code[:2] == p.prefecture


def _catalog_hits(h: Heading, idx: _Index, code: str | None) -> tuple[str | None, str]:
    """(program id, via) for a heading's key: exact alias, alias after qualifier words, parenthesis."""
    pid = idx.by_key.get(h.key)
    if pid and _pref_ok(idx.programs[pid], code):
        return pid, "alias"
    for k in idx.keys_by_len:
        if len(k) < len(h.key) and _qualified_suffix(h.key, k, h.tokens):
            pid = idx.by_key[k]
            if _pref_ok(idx.programs[pid], code):
                return pid, "alias"
    for pk in h.parens:
        pid = idx.by_key.get(pk)
        if pid and _pref_ok(idx.programs[pid], code):
            return pid, "paren"
    return None, ""


def _occurrences(tokens: Sequence[str], idx: _Index, code: str | None) -> tuple[list[str], bool]:
    """Catalog programs named inside a token sequence (longest alias first, on morpheme boundaries), in
    order of appearance, and whether every other token is a connector/qualifier (a conjunction of names)."""
    covered = [False] * len(tokens)
    found: list[tuple[int, str]] = []
    starts = {}
    pos = 0
    for i, t in enumerate(tokens):
        starts[pos] = i
        pos += len(t)
    ends = {}
    pos = 0
    for i, t in enumerate(tokens):
        pos += len(t)
        ends[pos] = i
    joined = "".join(tokens)
    for k in idx.keys_by_len:
        if len(k) < 3:
            continue
        at = joined.find(k)
        while at >= 0:
            i, j = starts.get(at), ends.get(at + len(k))
            if i is not None and j is not None and not any(covered[i : j + 1]):
                pid = idx.by_key[k]
                if _pref_ok(idx.programs[pid], code):
                    for x in range(i, j + 1):
                        covered[x] = True
                    found.append((i, pid))
            at = joined.find(k, at + 1)
    found.sort()
    ids: list[str] = []
    for _, pid in found:
        if pid not in ids:
            ids.append(pid)
    rest = [t for t, c in zip(tokens, covered) if not c]
    conj = all(t in _CONNECTORS or t in QUALIFIERS for t in rest)
    return ids, conj


def _split_municipality(municipality: str | None, code: str | None) -> tuple[str | None, str | None]:
    if municipality and _CODE_RE.match(municipality.strip()):
        return None, code or municipality.strip()
    return municipality, code


def match_program(
    heading_path: Sequence[str] | None,
    municipality: str | None = None,
    text: str | None = None,
    *,
    code: str | None = None,
    aliases: Aliases | None = None,
    catalog: Catalog | None = None,
) -> Match | None:
    """The program of a fact whose headings are ``heading_path`` (outermost first, e.g. page title, h2, h3).

    ``municipality`` is the source's municipality name (or its 6-digit code); ``code`` its 全国地方公共団体
    コード — it prefixes municipal ids and keeps prefectural catalog programs (東京都: 13) to their
    prefecture. Without a code, municipal ids are prefixed with the municipality name; without either, a
    heading that names a non-catalog program gives no match. None when nothing fits.
    """
    cat = catalog or load_catalog()
    idx = _index(cat)
    name, code = _split_municipality(municipality, code)
    path = [h for h in (heading_path or []) if isinstance(h, str) and h.strip()]
    text_ids: list[str] | None = None

    def ids_in_text() -> list[str]:
        nonlocal text_ids
        if text_ids is None:
            text_ids = _programs_in_text(text, idx, code) if text else []
        return text_ids

    for depth in range(len(path) - 1, -1, -1):
        raw = path[depth]
        h = analyse(raw, name)
        if not h.key and not h.parens:
            continue
        if aliases is not None and h.key:
            learnt = aliases.resolve_key(h.key, name)
            if learnt:
                p = idx.programs.get(learnt)
                return Match(learnt, p.name if p else raw, p.scope if p else "municipal", "learnt", raw, depth)
        pid, via = _catalog_hits(h, idx, code)
        if pid:
            p = idx.programs[pid]
            return Match(pid, p.name, p.scope, via, raw, depth)
        named, conj = _occurrences(h.tokens, idx, code)
        if len(named) >= 2 and (conj or not h.names_program):
            in_text = [i for i in ids_in_text() if i in named]
            chosen = in_text[0] if len(in_text) == 1 else named[0]
            p = idx.programs[chosen]
            return Match(chosen, p.name, p.scope, "alias", raw, depth, tuple(named), ambiguous=len(in_text) != 1)
        if h.names_program:
            outer = _enclosing_whole(path[:depth], h.key, name, code, aliases, cat, idx)
            if outer is not None:  # 訓練促進給付金 under 高等職業訓練促進給付金: a part of the enclosing program
                return outer
            prefix = code or (normalize(name).text.strip() if name else None)
            if not prefix:
                continue
            return Match(f"{prefix}:{h.key}", _display(raw, h), "municipal", "municipal", raw, depth)
        if named:  # a generic heading about a catalog program: 児童扶養手当の手当額
            p = idx.programs[named[0]]
            return Match(named[0], p.name, p.scope, "modifier", raw, depth)
    ids = ids_in_text()
    if len(ids) == 1:
        p = idx.programs[ids[0]]
        return Match(ids[0], p.name, p.scope, "text", None, None)
    return None


def _enclosing_whole(
    outer_path: Sequence[str],
    key: str,
    name: str | None,
    code: str | None,
    aliases: Aliases | None,
    cat: Catalog,
    idx: _Index,
) -> Match | None:
    """The enclosing program when ``key`` (a program heading's key) is part of its name or aliases."""
    if len(key) < 3 or not outer_path:
        return None
    m = match_program(outer_path, name, None, code=code, aliases=aliases, catalog=cat)
    if m is None or m.via == "text" or m.ambiguous:
        return None
    names = [analyse(m.heading or "", name).key]
    p = idx.programs.get(m.program_id)
    if p is not None:
        names += [program_key(a) for a in (p.name, *p.aliases)]
    if any(key != n and key in n for n in names):
        return Match(m.program_id, m.name, m.scope, "part", m.heading, m.depth, m.candidates, m.ambiguous)
    return None


def _display(raw: str, h: Heading) -> str:
    s = _clean(raw)
    if h.place and s.startswith(h.place):
        s = s[len(h.place) :].lstrip("の")
    return s.strip() or raw


def _programs_in_text(text: str, idx: _Index, code: str | None) -> list[str]:
    s = normalize(text[:2000]).text
    toks = [t.form for t in _key_tokens(morphs(s))]
    ids, _ = _occurrences(toks, idx, code)
    return ids


def resolve_heading(
    heading: str, municipality: str | None = None, *, code: str | None = None, catalog: Catalog | None = None
) -> Match | None:
    """``match_program`` for a single heading (no enclosing headings, no text)."""
    return match_program([heading], municipality, None, code=code, catalog=catalog)
