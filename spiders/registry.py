"""The source registry (``sources.toml``): which municipal pages to crawl, and how.

A bad registry fails with :class:`RegistryError` naming the file, the source and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cronsim import CronSim, CronSimError

KINDS = ("official", "secondary")
REQUIRED = ("id", "municipality", "code", "kind", "start_urls", "allowed_domains", "follow", "max_depth", "schedule")
OPTIONAL = {"delay_seconds": 3.0, "max_pages": 500, "name": None, "notes": None}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class RegistryError(ValueError):
    """The registry file is unusable; the message names file, source and field."""


@dataclass(frozen=True)
class Source:
    id: str
    municipality: str
    code: str
    kind: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    follow: tuple[str, ...]
    max_depth: int
    schedule: str
    delay_seconds: float = 3.0
    max_pages: int = 500
    name: str | None = None
    notes: str | None = None

    def follows(self, path: str) -> bool:
        """True when a URL path matches one of the ``follow`` regexes."""
        return any(re.search(p, path) for p in self.follow)

    def to_row(self) -> dict:
        return {
            "source_id": self.id,
            "municipality": self.municipality,
            "code": self.code,
            "kind": self.kind,
            "name": self.name,
            "start_urls": list(self.start_urls),
            "allowed_domains": list(self.allowed_domains),
            "schedule": self.schedule,
        }


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a registry file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    unknown_top = set(raw) - {"source"}
    if unknown_top:
        raise RegistryError(f"{path}: unknown top-level key(s) {sorted(unknown_top)}; expected [[source]] tables")
    entries = raw.get("source", [])
    if not isinstance(entries, list) or not entries:
        raise RegistryError(f"{path}: no [[source]] entries")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        src = _parse_entry(path, i, entry)
        if src.id in seen:
            raise RegistryError(f"{path}: source {src.id!r}: field 'id': duplicate id")
        seen.add(src.id)
        sources.append(src)
    return sources


def select(sources: list[Source], ids: list[str] | None) -> list[Source]:
    """The sources named by ``ids`` (all when empty); unknown ids raise RegistryError."""
    if not ids:
        return list(sources)
    by_id = {s.id: s for s in sources}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise RegistryError(f"unknown source id(s): {', '.join(missing)} (known: {', '.join(by_id)})")
    return [by_id[i] for i in ids]


def _parse_entry(path: Path, index: int, entry: dict) -> Source:
    label = repr(entry.get("id")) if isinstance(entry.get("id"), str) else f"#{index}"

    def fail(field: str, why: str) -> RegistryError:
        return RegistryError(f"{path}: source {label}: field {field!r}: {why}")

    unknown = set(entry) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown key (allowed: {', '.join(REQUIRED + tuple(OPTIONAL))})")
    for field in REQUIRED:
        if field not in entry:
            raise fail(field, "missing")

    sid = entry["id"]
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        raise fail("id", "must be lower-case letters, digits, '-' or '_'")
    for field in ("municipality", "code", "kind", "schedule"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise fail(field, "must be a non-empty string")
    if not re.fullmatch(r"\d{6}", entry["code"]):
        raise fail("code", "must be the 6-digit 全国地方公共団体コード")
    if not _check_digit_ok(entry["code"]):
        raise fail("code", f"{entry['code']} has a wrong check digit (全国地方公共団体コード)")
    if entry["kind"] not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}")
    for field in ("start_urls", "allowed_domains", "follow"):
        value = entry[field]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(field, "must be a list of strings")
    if not entry["start_urls"]:
        raise fail("start_urls", "must not be empty")
    for url in entry["start_urls"]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fail("start_urls", f"{url!r} is not an http(s) URL")
        if not _host_allowed(parts.hostname, entry["allowed_domains"]):
            raise fail("start_urls", f"{url!r} is outside allowed_domains")
    for pattern in entry["follow"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail("follow", f"invalid regex {pattern!r}: {exc}") from None
    if not isinstance(entry["max_depth"], int) or isinstance(entry["max_depth"], bool) or entry["max_depth"] < 0:
        raise fail("max_depth", "must be a non-negative integer")
    try:
        CronSim(entry["schedule"], datetime(2026, 1, 1))
    except (CronSimError, ValueError) as exc:
        raise fail("schedule", f"invalid cron expression {entry['schedule']!r}: {exc}") from None
    delay = entry.get("delay_seconds", OPTIONAL["delay_seconds"])
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        raise fail("delay_seconds", "must be a non-negative number")
    max_pages = entry.get("max_pages", OPTIONAL["max_pages"])
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        raise fail("max_pages", "must be a positive integer")
    return Source(
        id=sid,
        municipality=entry["municipality"],
        code=entry["code"],
        kind=entry["kind"],
        start_urls=tuple(entry["start_urls"]),
        allowed_domains=tuple(entry["allowed_domains"]),
        follow=tuple(entry["follow"]),
        max_depth=entry["max_depth"],
        schedule=entry["schedule"],
        delay_seconds=float(delay),
        max_pages=max_pages,
        name=entry.get("name"),
        notes=entry.get("notes"),
    )


def _host_allowed(host: str, domains: list[str]) -> bool:
    host = host.lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


def _check_digit_ok(code: str) -> bool:
    """全国地方公共団体コード: the 6th digit is a mod-11 check digit of the first five."""
    total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2)))
    return int(code[5]) == (11 - total % 11) % 10


def to_toml(entries: list[dict]) -> str:
    """Registry text for ``entries`` (dicts of registry keys), e.g. for generated local sites."""

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    blocks = []
    for entry in entries:
        blocks.append("[[source]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in entry.items()))
    return "\n".join(blocks)
