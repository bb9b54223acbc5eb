"""Fact-level diff between two versions of a document: ``diff_facts(before, after)``.

Facts are matched by key (program, kind, qualifier). Within one key the two sequences of values
are aligned with a longest-common-subsequence match (difflib), so equal values pair up first and
an inserted fact shows as one "added" instead of shifting every later fact; the remaining
unmatched facts of a replaced stretch are paired by position ("changed"), the surplus is
"added"/"removed". Facts with the same key and value are unchanged even when their offsets moved.

Inputs may be ``extractors.model.Fact`` objects or dicts in the ``Fact.to_json()`` shape.
The compared value is ``value`` plus ``max`` when the fact has one (ranges such as 上限/下限 pairs).
Each change carries the ``program_id`` of its fact (the after side's, the before side's for "removed"), so
changes can be grouped by program across pages and wards; matching itself stays on the names as written.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from diffs.text import update_date_spans

VALUE_EXTRAS = ("max",)  # extra fields that are part of a fact's value

Key = tuple[Any, str, Any]


@dataclass(frozen=True)
class FactChange:
    """One fact-level change. ``before_*`` are None for "added", ``after_*`` for "removed".

    ``before`` / ``after`` are the fact's value, or ``{"value": v, "max": m}`` when it has a max.
    ``page`` is the after-side PDF page (before-side for "removed"). ``program_id`` is the fact's program
    id (a catalog id or ``<municipality code>:<key>``; the after side's, else the before side's), or None.
    """

    program: str | None
    kind: str
    qualifier: str | None
    change: str  # "added" | "removed" | "changed"
    before: Any = None
    after: Any = None
    before_text: str | None = None
    after_text: str | None = None
    before_start: int | None = None
    before_end: int | None = None
    after_start: int | None = None
    after_end: int | None = None
    page: int | None = None
    program_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "program_id": self.program_id,
            "kind": self.kind,
            "qualifier": self.qualifier,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "before_text": self.before_text,
            "after_text": self.after_text,
            "before_start": self.before_start,
            "before_end": self.before_end,
            "after_start": self.after_start,
            "after_end": self.after_end,
            "page": self.page,
        }


def fact_field(fact: Any, name: str) -> Any:
    """A field of a Fact (including its extra) or of a fact dict; None when absent."""
    if isinstance(fact, dict):
        return fact.get(name)
    if hasattr(fact, name):
        return getattr(fact, name)
    extra = getattr(fact, "extra", None) or {}
    return extra.get(name)


def fact_key(fact: Any) -> Key:
    """(program, kind, qualifier) of a Fact or fact dict."""
    return (fact_field(fact, "program"), fact_field(fact, "kind"), fact_field(fact, "qualifier"))


def fact_value(fact: Any) -> Any:
    """The compared value: ``value``, or {"value", "max"} when the fact carries a max."""
    value = fact_field(fact, "value")
    extras = {k: fact_field(fact, k) for k in VALUE_EXTRAS if fact_field(fact, k) is not None}
    return {"value": value, **extras} if extras else value


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def _change(kind: str, key: Key, b: Any = None, a: Any = None) -> FactChange:
    program, fkind, qualifier = key
    return FactChange(
        program=program,
        kind=fkind,
        qualifier=qualifier,
        change=kind,
        before=fact_value(b) if b is not None else None,
        after=fact_value(a) if a is not None else None,
        before_text=fact_field(b, "text") if b is not None else None,
        after_text=fact_field(a, "text") if a is not None else None,
        before_start=fact_field(b, "start") if b is not None else None,
        before_end=fact_field(b, "end") if b is not None else None,
        after_start=fact_field(a, "start") if a is not None else None,
        after_end=fact_field(a, "end") if a is not None else None,
        page=fact_field(a, "page") if a is not None else fact_field(b, "page"),
        program_id=_program_id(a, b),
    )


def _program_id(a: Any, b: Any) -> str | None:
    for f in (a, b):
        pid = fact_field(f, "program_id") if f is not None else None
        if pid:
            return pid
    return None


def _group(facts: Iterable[Any]) -> dict[Key, list[Any]]:
    groups: dict[Key, list[Any]] = {}
    for f in facts:
        groups.setdefault(fact_key(f), []).append(f)
    return groups


def _diff_group(key: Key, bs: list[Any], as_: list[Any]) -> list[FactChange]:
    out: list[FactChange] = []
    sm = difflib.SequenceMatcher(
        None, [_canon(fact_value(f)) for f in bs], [_canon(fact_value(f)) for f in as_], autojunk=False
    )
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        old, new = bs[i1:i2], as_[j1:j2]
        paired = min(len(old), len(new))
        out.extend(_change("changed", key, old[k], new[k]) for k in range(paired))
        out.extend(_change("removed", key, b=f) for f in old[paired:])
        out.extend(_change("added", key, a=f) for f in new[paired:])
    return out


def _position(c: FactChange) -> int:
    pos = c.after_start if c.after_start is not None else c.before_start
    return pos if isinstance(pos, int) else 0


def _drop_update_dates(facts: list[Any], doc_text: str | None) -> list[Any]:
    spans = update_date_spans(doc_text) if doc_text else []
    if not spans:
        return list(facts)

    def on_update_line(f: Any) -> bool:
        start = fact_field(f, "start")
        return isinstance(start, int) and any(a <= start < b for a, b in spans)

    return [f for f in facts if not on_update_line(f)]


def diff_facts(
    before: list[Any], after: list[Any], *, before_doc_text: str | None = None, after_doc_text: str | None = None
) -> list[FactChange]:
    """Fact changes from ``before`` to ``after`` (ordered by position in the after document,
    removed facts at their before position).

    Pass the documents' texts (``before_doc_text``/``after_doc_text``, the facts' offsets point
    into them) to ignore the date facts on the page's own 更新日 line, which change on every edit.
    """
    bg = _group(_drop_update_dates(before, before_doc_text))
    ag = _group(_drop_update_dates(after, after_doc_text))
    keys = list(dict.fromkeys([*bg, *ag]))
    out: list[FactChange] = []
    for key in keys:
        out.extend(_diff_group(key, bg.get(key, []), ag.get(key, [])))
    return sorted(out, key=_position)
