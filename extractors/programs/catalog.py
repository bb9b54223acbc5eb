"""The shipped program (制度) catalog: loading and validating ``catalog.toml`` (pure, no I/O beyond the file).

The catalog holds national and Tokyo-metropolitan programs (stable id, official name, aliases, scope,
agency, URLs), the documents amounts cite (``[sources.*]``) and the amount series per fiscal year
(``[[variant]]``). :func:`load_catalog` parses and validates it once per process; a broken catalog raises
:class:`CatalogError` with one line naming the file, the entry and the field. The format is documented in
``docs/programs.md``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from extractors.eras import fiscal_year_end, fiscal_year_of, fiscal_year_start

SCOPES = ("national", "prefectural", "municipal")
SOURCE_KINDS = ("law", "official", "corpus", "page")
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PREF_RE = re.compile(r"^(0[1-9]|[1-3][0-9]|4[0-7])$")
CATALOG_FILE = "catalog.toml"


class CatalogError(ValueError):
    """The catalog file is malformed; the message is one line naming file, entry and field."""


@dataclass(frozen=True)
class Source:
    """A document an amount cites: a law, an official page, a corpus file (``path`` under ../shared) or a
    stored copy of a municipal page read while building the table (``kind == "page"``)."""

    id: str
    kind: str
    title: str
    url: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Program:
    """One catalog program. ``prefecture`` is the 2-digit 都道府県 code of a prefectural program."""

    id: str
    name: str
    aliases: tuple[str, ...]
    scope: str
    agency: str
    urls: tuple[str, ...] = ()
    prefecture: str | None = None
    law: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Amount:
    """One amount in force for a program variant from ``effective`` to ``until`` (both inclusive).

    ``yen`` is None when the catalog knows the fiscal year but not its amount (``yen = "unknown"``).
    ``verified`` means a document in ``seen`` states that value for that fiscal year; otherwise ``note``
    says why it is not verified.
    """

    program_id: str
    variant: str
    label: str
    fiscal_year: int
    yen: int | None
    effective: date
    until: date
    verified: bool
    sources: tuple[Source, ...]
    seen: tuple[Source, ...]
    note: str = ""
    unit: str = "円/月"

    def in_force(self, day: date) -> bool:
        return self.effective <= day <= self.until

    def fiscal_years(self) -> range:
        """The fiscal years this amount was in force in (at least one day)."""
        return range(fiscal_year_of(self.effective), fiscal_year_of(self.until) + 1)


@dataclass(frozen=True)
class Variant:
    """One amount series of a program (e.g. 児童扶養手当 ``full``); ``amounts`` sorted by ``effective``.

    ``required_from`` is the first fiscal year from which the series must be contiguous (no gap) up to
    its last row; None for series that start or end mid-table (a new or abolished benefit).
    """

    program_id: str
    id: str
    label: str
    unit: str
    required_from: int | None
    amounts: tuple[Amount, ...]


@dataclass(frozen=True)
class Catalog:
    version: str
    programs: tuple[Program, ...]
    variants: tuple[Variant, ...]
    sources: dict[str, Source]

    def program(self, program_id: str) -> Program | None:
        return _program_index(self).get(program_id)

    def variants_of(self, program_id: str) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if v.program_id == program_id)

    def variant(self, program_id: str, variant: str) -> Variant | None:
        return _variant_index(self).get((program_id, variant))

    def __hash__(self) -> int:  # identity: one loaded catalog per file
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


@lru_cache(maxsize=8)
def _program_index(cat: Catalog) -> dict[str, Program]:
    return {p.id: p for p in cat.programs}


@lru_cache(maxsize=8)
def _variant_index(cat: Catalog) -> dict[tuple[str, str], Variant]:
    return {(v.program_id, v.id): v for v in cat.variants}


def default_catalog_path() -> Path:
    return Path(str(resources.files("extractors.programs").joinpath(CATALOG_FILE)))


@lru_cache(maxsize=4)
def load_catalog(path: str | Path | None = None) -> Catalog:
    """Parse and validate the catalog (the shipped ``catalog.toml`` by default); cached per path."""
    p = Path(path) if path is not None else default_catalog_path()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"{p}: cannot read the catalog: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise CatalogError(f"{p}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{p}: not UTF-8") from None
    return parse_catalog(raw, name=p.name)


def parse_catalog(raw: dict[str, Any], name: str = CATALOG_FILE) -> Catalog:
    """Validate a parsed catalog dict (what ``tomllib`` returns) and build the :class:`Catalog`."""
    unknown = set(raw) - {"version", "program", "sources", "variant"}
    if unknown:
        raise CatalogError(f"{name}: unknown top-level key(s) {sorted(unknown)}")
    sources = _parse_sources(raw.get("sources", {}), name)
    programs = _parse_programs(raw.get("program", []), name)
    known = {p.id for p in programs}
    variants = _parse_variants(raw.get("variant", []), name, known, sources)
    return Catalog(version=str(raw.get("version", "")), programs=programs, variants=variants, sources=sources)


def _field(entry: dict, key: str, where: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
    if key not in entry:
        if required:
            raise CatalogError(f"{where}: field '{key}' is missing")
        return None
    v = entry[key]
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        tname = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise CatalogError(f"{where}: field '{key}' must be {tname}, got {v!r}")
    return v


def _parse_sources(raw: Any, name: str) -> dict[str, Source]:
    if not isinstance(raw, dict):
        raise CatalogError(f"{name}: [sources] must be a table")
    out: dict[str, Source] = {}
    for sid, entry in raw.items():
        where = f"{name}: source '{sid}'"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be a table")
        if not _ID_RE.match(sid):
            raise CatalogError(f"{where}: id must be a lower-case ascii slug")
        unknown = set(entry) - {"kind", "title", "url", "path"}
        if unknown:
            raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
        kind = _field(entry, "kind", where, str)
        if kind not in SOURCE_KINDS:
            raise CatalogError(f"{where}: field 'kind' must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
        url = _field(entry, "url", where, str, required=False)
        path = _field(entry, "path", where, str, required=False)
        if kind == "corpus" and not path:
            raise CatalogError(f"{where}: a corpus source needs 'path' (relative to ../shared)")
        if kind != "corpus" and not url:
            raise CatalogError(f"{where}: field 'url' is missing")
        out[sid] = Source(sid, kind, _field(entry, "title", where, str), url, path)
    return out


def _parse_programs(raw: Any, name: str) -> tuple[Program, ...]:
    if not isinstance(raw, list):
        raise CatalogError(f"{name}: [[program]] must be an array of tables")
    out: list[Program] = []
    seen: set[str] = set()
    allowed = {"id", "name", "aliases", "scope", "prefecture", "agency", "law", "urls", "note"}
    for i, entry in enumerate(raw):
        where = f"{name}: program #{i + 1}"
        pid = _field(entry, "id", where, str)
        where = f"{name}: program '{pid}'"
        if not _ID_RE.match(pid):
            raise CatalogError(f"{where}: field 'id': must be a lower-case ascii slug (a-z, 0-9, -)")
        if pid in seen:
            raise CatalogError(f"{where}: duplicate id")
        seen.add(pid)
        unknown = set(entry) - allowed
        if unknown:
            raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
        scope = _field(entry, "scope", where, str)
        if scope not in SCOPES:
            raise CatalogError(f"{where}: field 'scope' must be one of {', '.join(SCOPES)}, got {scope!r}")
        pref = _field(entry, "prefecture", where, str, required=False)
        if scope == "prefectural" and (pref is None or not _PREF_RE.match(pref)):
            raise CatalogError(f"{where}: field 'prefecture': a prefectural program needs a 2-digit code 01-47")
        if scope != "prefectural" and pref is not None:
            raise CatalogError(f"{where}: field 'prefecture' is only for prefectural programs")
        aliases = _field(entry, "aliases", where, list)
        if not aliases or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise CatalogError(f"{where}: field 'aliases' must be a non-empty list of names")
        urls = _field(entry, "urls", where, list, required=False) or []
        for u in urls:
            if not isinstance(u, str) or not u.startswith(("https://", "http://")):
                raise CatalogError(f"{where}: field 'urls': not an http(s) URL: {u!r}")
        out.append(
            Program(
                id=pid,
                name=_field(entry, "name", where, str),
                aliases=tuple(aliases),
                scope=scope,
                agency=_field(entry, "agency", where, str),
                urls=tuple(urls),
                prefecture=pref,
                law=_field(entry, "law", where, str, required=False),
                note=_field(entry, "note", where, str, required=False) or "",
            )
        )
    return tuple(out)


def _parse_variants(raw: Any, name: str, programs: set[str], sources: dict[str, Source]) -> tuple[Variant, ...]:
    if not isinstance(raw, list):
        raise CatalogError(f"{name}: [[variant]] must be an array of tables")
    out: list[Variant] = []
    seen: set[tuple[str, str]] = set()
    allowed = {"program", "id", "label", "unit", "required_from", "sources", "values"}
    for i, entry in enumerate(raw):
        where = f"{name}: variant #{i + 1}"
        pid = _field(entry, "program", where, str)
        vid = _field(entry, "id", where, str)
        where = f"{name}: variant '{pid}/{vid}'"
        if pid not in programs:
            raise CatalogError(f"{where}: field 'program': unknown program id {pid!r}")
        if not _ID_RE.match(vid):
            raise CatalogError(f"{where}: field 'id': must be a lower-case ascii slug")
        if (pid, vid) in seen:
            raise CatalogError(f"{where}: duplicate variant")
        seen.add((pid, vid))
        unknown = set(entry) - allowed
        if unknown:
            raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
        label = _field(entry, "label", where, str)
        unit = _field(entry, "unit", where, str, required=False) or "円/月"
        required_from = _field(entry, "required_from", where, int, required=False)
        srcs = tuple(_source_refs(_field(entry, "sources", where, list), sources, f"{where}: field 'sources'"))
        if not srcs:
            raise CatalogError(f"{where}: field 'sources': every amount needs at least one source")
        rows = _field(entry, "values", where, list)
        out.append(
            Variant(
                pid, vid, label, unit, required_from, _parse_rows(rows, where, pid, vid, label, unit, srcs, sources)
            )
        )
    return tuple(out)


def _source_refs(refs: list, sources: dict[str, Source], where: str) -> list[Source]:
    out = []
    for r in refs:
        if not isinstance(r, str) or r not in sources:
            raise CatalogError(f"{where}: unknown source {r!r}")
        out.append(sources[r])
    return out


def _parse_rows(
    rows: list,
    where: str,
    pid: str,
    vid: str,
    label: str,
    unit: str,
    srcs: tuple[Source, ...],
    sources: dict[str, Source],
) -> tuple[Amount, ...]:
    parsed: list[tuple[date, dict, int, bool]] = []
    allowed = {"fy", "yen", "effective", "abolished", "verified", "seen", "note"}
    for j, row in enumerate(rows):
        w = f"{where}: values[{j}]"
        if not isinstance(row, dict):
            raise CatalogError(f"{w}: must be an inline table")
        unknown = set(row) - allowed
        if unknown:
            raise CatalogError(f"{w}: unknown field(s) {sorted(unknown)}")
        fy = _field(row, "fy", w, int)
        if not 1900 <= fy <= 2200:
            raise CatalogError(f"{w}: field 'fy': implausible fiscal year {fy}")
        eff_raw = row.get("effective")
        if eff_raw is None:
            eff = fiscal_year_start(fy)
        else:
            if not isinstance(eff_raw, str):
                raise CatalogError(f"{w}: field 'effective' must be a YYYY-MM-DD string")
            try:
                eff = date.fromisoformat(eff_raw)
            except ValueError:
                raise CatalogError(f"{w}: field 'effective': not a date: {eff_raw!r}") from None
            if fiscal_year_of(eff) != fy:
                raise CatalogError(f"{w}: field 'effective': {eff} is not in fiscal year {fy}")
        abolished = bool(_field(row, "abolished", w, bool, required=False))
        if not abolished:
            yen = row.get("yen")
            if not (yen == "unknown" or isinstance(yen, int) and not isinstance(yen, bool) and yen > 0):
                raise CatalogError(f"{w}: field 'yen' must be a positive integer or \"unknown\", got {yen!r}")
        verified = _field(row, "verified", w, bool)
        seen_refs = _source_refs(row.get("seen", []), sources, f"{w}: field 'seen'")
        note = _field(row, "note", w, str, required=False) or ""
        if verified and not seen_refs:
            raise CatalogError(f"{w}: verified = true needs the corroborating document(s) in 'seen'")
        if not verified and not note:
            raise CatalogError(f"{w}: verified = false needs a 'note' saying why")
        if not abolished and row.get("yen") == "unknown" and verified:
            raise CatalogError(f"{w}: an unknown amount cannot be verified")
        parsed.append((eff, row, fy, abolished))
    parsed.sort(key=lambda t: t[0])
    for a, b in zip(parsed, parsed[1:]):
        if a[0] == b[0]:
            raise CatalogError(f"{where}: two values take effect on {a[0]}")
    out: list[Amount] = []
    for k, (eff, row, fy, abolished) in enumerate(parsed):
        if abolished:
            continue
        nxt = parsed[k + 1][0] if k + 1 < len(parsed) else None
        until = date.fromordinal(nxt.toordinal() - 1) if nxt else fiscal_year_end(fy)
        yen = row.get("yen")
        out.append(
            Amount(
                program_id=pid,
                variant=vid,
                label=label,
                fiscal_year=fy,
                yen=None if yen == "unknown" else yen,
                effective=eff,
                until=until,
                verified=row["verified"],
                sources=srcs,
                seen=tuple(_source_refs(row.get("seen", []), sources, where)),
                note=row.get("note", ""),
                unit=unit,
            )
        )
    # gaps: a fiscal year between two rows with no row of its own is an error (rows are per fiscal year)
    years = sorted({fy for _, _, fy, _ in parsed})
    for a, b in zip(years, years[1:]):
        if b != a + 1 and not any(ab and fy == a for _, _, fy, ab in parsed):
            raise CatalogError(f"{where}: fiscal years {a + 1}-{b - 1} have no value (one row per fiscal year)")
    return tuple(out)
