"""Programs (制度) for facts: every fact gets a ``program_id`` from its heading path (the extract stage
calls :func:`assign_program_ids`), and :func:`learn_aliases` maps the names secondary sources give a
municipality's programs to the ids its official pages use (table ``program_aliases``).

Matching is the pure ``extractors.programs.match_program`` (Sudachi normalised forms, the catalog's
aliases; a generic heading such as 助成額 resolves to the enclosing program). A municipal program's id is
``<municipality code>:<normalised name>``; catalog programs keep their catalog id everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extractors.programs import Aliases, load_catalog, match_program
from warehouse import programs as store
from warehouse.db import Warehouse

MAX_LINE = 300  # characters of the fact's line handed to the matcher (a program named in the sentence)


def assign_program_ids(facts: list[dict[str, Any]], text: str, municipality: str | None,
                       code: str | None) -> None:
    """Set ``program_id`` (None when nothing fits), ``program_name`` and ``program_via`` on each fact dict, in place."""
    cache: dict[tuple[tuple[str, ...], str], Any] = {}
    for f in facts:
        path = tuple(f.get("heading_path") or ())
        line = _line(text, f.get("start"), f.get("end"))
        key = (path, line)
        if key not in cache:
            try:
                m = match_program(list(path), municipality, line, code=code)
            except Exception:  # a matcher bug must not cost the document its facts: no program for this one
                m = None
            cache[key] = m
        m = cache[key]
        if m is None:
            f["program_id"], f["program_name"] = None, None
            continue
        pid = _by_amount(m.candidates, f) if m.ambiguous else None
        f["program_id"], f["program_name"], f["program_via"] = (pid, _name(pid), "amount") if pid else (
            m.program_id, m.name, m.via)


def _by_amount(candidates: tuple[str, ...], fact: dict[str, Any]) -> str | None:
    """Of the programs an ambiguous heading names (児童扶養手当・特別児童扶養手当について), the only one whose
    amount table has this fact's yen (56,800円 is 特別児童扶養手当 1級); None when that does not decide."""
    yen = fact.get("value")
    if fact.get("kind") != "amount" or not isinstance(yen, int):
        return None
    cat = load_catalog()
    hits = [pid for pid in candidates if any(a.yen == yen for v in cat.variants_of(pid) for a in v.amounts)]
    return hits[0] if len(hits) == 1 else None


def _name(program_id: str) -> str:
    p = next((p for p in load_catalog().programs if p.id == program_id), None)
    return p.name if p else program_id


def _line(text: str, start: Any, end: Any) -> str:
    if not isinstance(start, int) or not isinstance(end, int):
        return ""
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    b = len(text) if b < 0 else b
    a = max(a, start - MAX_LINE // 2)
    return text[a:min(b, a + MAX_LINE)]


def learn_aliases(db: Warehouse | Path) -> dict[str, int]:
    """Map secondary sources' municipal program ids to the official ones of the same municipality.

    A secondary page or dataset that names a municipality's program differently from its official
    pages (親元近居助成 vs 北区親元近居助成事業 resolve to one key already; 休養ホーム事業 vs
    ひとり親家庭休養ホーム事業 differ by qualifier words only) gets an alias row, so that every view and
    rule sees one program id. Returns {"learnt": n, "programs": official municipal programs seen}.
    """
    wh = Warehouse.of(db)
    official = store.official_municipal_programs(wh)  # (code, program_id, name)
    secondary = store.secondary_municipal_programs(wh)  # (code, program_id, name)
    by_code: dict[str, Aliases] = {}
    official_ids = {(c, pid) for c, pid, _ in official}
    for c, pid, name in official:
        by_code.setdefault(c, Aliases()).register(pid, name, municipality=c)
    rows = []
    for c, pid, name in secondary:
        if (c, pid) in official_ids or c not in by_code:
            continue
        target = by_code[c].resolve(name, municipality=c)
        if target and target != pid:
            rows.append((c, pid, target, name))
    learnt = store.save_aliases(wh, rows)
    return {"learnt": learnt, "programs": len(official_ids)}


def sync_catalog(db: Warehouse | Path) -> int:
    """Write the shipped catalog's programs into ``program_catalog`` (what the ``programs`` view names)."""
    cat = load_catalog()
    rows = [(p.id, p.name, p.scope, p.prefecture, p.agency, list(p.aliases), list(p.urls)) for p in cat.programs]
    return store.sync_catalog(Warehouse.of(db), rows)


_LAST_REFRESH: dict[str, tuple] = {}  # warehouse -> the extraction state its aliases were last learnt from


def refresh_programs(db: Warehouse | Path) -> dict[str, int]:
    """After an extraction: the catalog copy and the learnt aliases up to date (idempotent). Skipped when
    this process already refreshed the warehouse and no extraction or dataset has been stored since: a
    run extracts source after source, most of them with nothing new."""
    wh = Warehouse.of(db)
    state = store.extraction_state(wh)
    if _LAST_REFRESH.get(str(wh)) == state:
        return {"catalog": 0, "learnt": 0, "skipped": 1}
    result = {"catalog": sync_catalog(wh), **learn_aliases(wh)}
    _LAST_REFRESH[str(wh)] = state
    return result
