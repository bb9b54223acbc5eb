"""Matching facts across sites: same program, comparable values (pure).

Facts carry a ``program_id`` (``extractors.programs``: a catalog id such as ``jido-fuyo-teate``, or
``<municipality code>:<key>`` for a municipal program). Two facts are about the same program when both
have an id and the ids are equal — "北区親元近居助成事業" on the official page and "親元近居助成" in a summary
resolve to one id, while 児童扶養手当 and 特別児童扶養手当 never match however alike their names. Only when
one side has no id does matching fall back to the names: equal Sudachi keys
(``extractors.programs.program_key``: no list of ward names), or one containing the other.

:func:`program_key` is the older regex key. It no longer decides any match; it stays because flag keys
(and so flag ids, which editors' reviews point to) are built from it, and a new key would re-open every
stored flag as a new one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from diffs.facts import fact_field, fact_value
from diffs.jpdate import nfkc
from extractors.programs import program_key as sudachi_key

# --- flag-key stability only (see the module doc): never used for matching ---------------------
WARDS = (
    "千代田区 中央区 港区 新宿区 文京区 台東区 墨田区 江東区 品川区 目黒区 大田区 世田谷区 渋谷区 中野区 "
    "杉並区 豊島区 北区 荒川区 板橋区 練馬区 足立区 葛飾区 江戸川区"
).split()
_STRIP_WORDS = [
    "東京都", *sorted(WARDS, key=len, reverse=True), "ひとり親家庭等", "ひとり親家庭", "ひとり親世帯",
    "ひとり親", "母子家庭等", "母子家庭", "父子家庭", "母子・父子", "のご案内", "ご案内", "のお知らせ",
    "について", "旧ページ", "事業", "制度",
]
_STRIP_RE = re.compile("|".join(re.escape(w) for w in _STRIP_WORDS))
_PUNCT_RE = re.compile(r"[\s「」『』()（）【】\[\]〈〉《》・･、。,.:：/／\-‐－~〜～]|の")
MIN_CONTAIN = 2  # a key shorter than this only matches an equal key


def program_key(name: str | None) -> str:
    """The regex key of a program name that flag keys are built from (kept stable; not for matching):
    NFKC, ward/metro names, ひとり親家庭, 事業/制度, brackets, punctuation, spaces and の removed. None -> ""."""
    if not name:
        return ""
    s = _STRIP_RE.sub("", nfkc(name))
    return _PUNCT_RE.sub("", s)


# --- matching ---------------------------------------------------------------------------------
def name_key(name: str | None) -> str:
    """The key program names are compared by when a fact has no program id: the Sudachi key of
    ``extractors.programs`` (municipality prefix, affixes and particles removed, normalised forms)."""
    if not name or not name.strip():
        return ""
    return sudachi_key(name)


def programs_match(a: str | None, b: str | None) -> bool:
    """Fallback match on names: equal keys (two facts without any program heading are in one slot, as
    before program ids), or one contains the other (both at least ``MIN_CONTAIN`` long)."""
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    if len(ka) < MIN_CONTAIN or len(kb) < MIN_CONTAIN:
        return False
    return ka in kb or kb in ka


def same_program(a: Any, b: Any) -> bool:
    """Are two facts (or a fact and a change) about the same program? Equal ``program_id`` when both
    have one; otherwise the fuzzy name match :func:`programs_match`. (The caller pairs facts of one
    municipality: a catalog id alone does not say which ward.)"""
    ia, ib = fact_field(a, "program_id"), fact_field(b, "program_id")
    if ia and ib:
        return ia == ib
    return programs_match(fact_field(a, "program"), fact_field(b, "program"))


def same_program_exactly(a: Any, b: Any) -> bool:
    """Same program id (both set), or — without ids — the same name key (not mere containment)."""
    ia, ib = fact_field(a, "program_id"), fact_field(b, "program_id")
    if ia and ib:
        return ia == ib
    return name_key(fact_field(a, "program")) == name_key(fact_field(b, "program"))


def qualifier_key(q: str | None) -> str:
    return "".join(nfkc(q).split()) if q else ""


def _norm(v: Any, kind: str | None) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: _norm(x, kind) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [_norm(x, kind) for x in v]
    s = "".join(nfkc(str(v)).split())
    if kind in ("phone", "fax", "tel"):
        if s.startswith("+81"):  # E.164 (the fact extractor's form) -> domestic digits
            s = "0" + s[3:]
        return re.sub(r"\D", "", s)
    num = s.replace(",", "")
    if re.fullmatch(r"-?\d+(?:\.\d+)?", num):
        return float(num)
    return s


def norm_value(value: Any, kind: str | None = None) -> str:
    """Canonical string of a value for cross-site comparison (numbers as floats, phones as digits,
    strings NFKC without spaces)."""
    return json.dumps(_norm(value, kind), sort_keys=True, ensure_ascii=False, default=str)


def fact_norm(fact: Any) -> str:
    """``norm_value`` of a fact's compared value (value plus max)."""
    return norm_value(fact_value(fact), fact_field(fact, "kind"))


# A bare amount often takes its periodicity from a heading ("支給手当月額" over "重度:51,500円"):
# an unqualified fact may fill a 月額/年額 slot, never a 上限/下限/加算 one.
PERIODIC_QUALIFIERS = {"月額", "年額"}


def qualifiers_compatible(a: str | None, b: str | None) -> bool:
    qa, qb = qualifier_key(a), qualifier_key(b)
    return qa == qb or (not qa and qb in PERIODIC_QUALIFIERS) or (not qb and qa in PERIODIC_QUALIFIERS)


def same_slot(a: Any, b: Any) -> bool:
    """Same kind, compatible qualifiers, and the same program (:func:`same_program`: by program id when
    both facts have one, else by name)."""
    return (
        fact_field(a, "kind") == fact_field(b, "kind")
        and qualifiers_compatible(fact_field(a, "qualifier"), fact_field(b, "qualifier"))
        and same_program(a, b)
    )


def evidence_of(fact: Any, source: str | None = None) -> dict[str, Any]:
    """The evidence fields of one fact (for FlagFinding.evidence)."""
    names = ("program", "program_id", "kind", "qualifier", "value", "text", "start", "end", "page")
    ev = {k: fact_field(fact, k) for k in names}
    if fact_field(fact, "max") is not None:
        ev["max"] = fact_field(fact, "max")
    if source is not None:
        ev["source"] = source
    return ev
