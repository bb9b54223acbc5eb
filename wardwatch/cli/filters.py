"""Row filters of the analyst commands (`changes`, `flags`) and the check every `--source` of a
warehouse command goes through: a source id, municipality or rule the warehouse does not know is bad
usage (exit 2) naming what is known — never an empty answer that reads as "nothing changed"."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from wardwatch.cli.common import Usage

SEVERITIES = ("high", "medium", "low")


def add_filters(p: argparse.ArgumentParser, *, flags: bool = False) -> None:
    """--source/--municipality/--program/--kind (and --rule/--severity for flags); each repeatable."""
    p.add_argument("--source", action="append", dest="source_ids", metavar="ID",
                   help="only this source id (repeatable; comma-separated ids too)")
    p.add_argument("--municipality", action="append", dest="municipalities", metavar="NAME",
                   help="only this municipality, e.g. 練馬区 (repeatable)")
    p.add_argument("--program", action="append", dest="programs", metavar="TEXT",
                   help="only programs whose name contains TEXT (repeatable: any of them)")
    p.add_argument("--kind", action="append", dest="kinds", metavar="KIND",
                   help="only facts of this kind: amount, phone, deadline, … (repeatable)")
    if flags:
        p.add_argument("--rule", action="append", dest="rules", metavar="RULE",
                       help="only this flag rule, e.g. secondary_outdated (repeatable; comma-separated too)")
        p.add_argument("--severity", action="append", dest="severities", metavar="LEVEL",
                       help="only this severity: high, medium or low (repeatable; comma-separated too)")


def split(values: Iterable[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (None when the option was not given)."""
    if values is None:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def require_known_sources(db: Any, ids: Iterable[str | None] | None) -> None:
    """Usage "unknown source id(s): nope (known: …)" unless every id is in the warehouse's ``sources``
    table (None entries are ignored: "no --source given"). For `diff`, `reextract`, `changes`, `flags`."""
    ids = [i for i in ids or () if i is not None]
    if ids:
        from warehouse.analyst import known_sources

        check_known_sources(ids, known_sources(db))


def check_known_sources(ids: Iterable[str], known: Iterable[str]) -> None:
    known = list(known)
    missing = [i for i in dict.fromkeys(ids) if i not in known]
    if missing:
        raise Usage(f"unknown source id(s): {', '.join(missing)} ({_known(known, 'no sources yet')})")


def filter_kwargs(db: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The keyword filters of ``warehouse.analyst.changes/flags`` from ``args``, each value checked."""
    from warehouse.analyst import known_sources

    sources, municipalities = split(getattr(args, "source_ids", None)), getattr(args, "municipalities", None)
    kw: dict[str, Any] = {"sources": sources, "municipalities": municipalities,
                          "programs": getattr(args, "programs", None), "kinds": split(getattr(args, "kinds", None))}
    if sources or municipalities:
        known = known_sources(db)
        if sources:
            check_known_sources(sources, known)
        if municipalities:
            places = sorted({m for m in known.values() if m})
            missing = [m for m in dict.fromkeys(municipalities) if m not in places]
            if missing:
                raise Usage(f"unknown municipality: {', '.join(missing)} ({_known(places, 'no sources yet')})")
    if hasattr(args, "rules"):
        from diffs.rules import RULES

        rules = split(args.rules)
        missing = [r for r in dict.fromkeys(rules or ()) if r not in RULES]
        if missing:
            raise Usage(f"unknown rule(s): {', '.join(missing)} (known: {', '.join(sorted(RULES))})")
        severities = split(args.severities)
        bad = [s for s in dict.fromkeys(severities or ()) if s not in SEVERITIES]
        if bad:
            raise Usage(f"unknown severity: {', '.join(bad)} (known: {', '.join(SEVERITIES)})")
        kw.update(rules=rules, severities=severities)
    return kw


def _known(names: list[str], none: str) -> str:
    return f"known: {', '.join(names)}" if names else f"the warehouse has {none}"
