"""The source registry (``sources.toml``): which municipal pages to crawl, and how.

A bad registry fails with :class:`RegistryError` naming the file, the source and the field.
"""

from __future__ import annotations

import functools
import math
import os
import re
import stat
import tomllib
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import regex
from cronsim import CronSim, CronSimError

KINDS = ("official", "secondary")
REQUIRED = ("id", "municipality", "code", "kind", "start_urls", "allowed_domains", "follow", "max_depth", "schedule")
OPTIONAL = {"delay_seconds": 3.0, "max_pages": 500, "name": None, "notes": None, "switchboard": None}
# ids name files and locks (<db dir>/locks/<id>.lock, staging files): ASCII only, no dots, no control
# characters, bounded length (fullmatch: a trailing newline is not "the end").
_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_DELAY_S = 3600.0  # politeness delay bound: inf / 1e300 would hang the crawl (and its shutdown)
# follow regexes run on every link on the crawler's thread: each match is bounded, and a pattern that
# backtracks catastrophically on a probe path is refused when the registry is read.
MATCH_TIMEOUT_S = 0.05
PROBE_TIMEOUT_S = 0.25
_PROBE_LENGTH = 1024  # links longer than MAX_URL_LENGTH (1024) are never followed


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
    switchboard: str | None = None  # the municipality's main number (代表), e.g. "01656-5-3311"

    def follows(self, path: str) -> bool:
        """True when a URL path matches one of the ``follow`` regexes (a match that takes longer than
        MATCH_TIMEOUT_S counts as no match: the link is not followed)."""
        return any(follow_pattern(p).search(path) for p in self.follow)

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
            "switchboard": self.switchboard,
        }


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a registry file."""
    path = Path(path)
    try:
        raw = tomllib.loads(_read_registry(path).decode("utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise RegistryError(f"{path}: not a registry: arrays/tables nested too deeply") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry: {exc.strerror or exc}") from None
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


MAX_REGISTRY_BYTES = 4 * 2**20


def _read_registry(path: Path) -> bytes:
    """The file's bytes; a FIFO or device (which would block or never end) and huge files are refused."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RegistryError(f"{path}: not a regular file (a FIFO, device or directory cannot be a registry)")
        if st.st_size > MAX_REGISTRY_BYTES:
            raise RegistryError(f"{path}: {st.st_size:,} bytes: larger than a registry may be "
                                f"({MAX_REGISTRY_BYTES // 2**20} MiB)")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(MAX_REGISTRY_BYTES + 1)
    finally:
        os.close(fd)


def select(sources: list[Source], ids: list[str] | None) -> list[Source]:
    """The sources named by ``ids`` (all when empty); unknown ids raise RegistryError."""
    if not ids:
        return list(sources)
    by_id = {s.id: s for s in sources}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise RegistryError(f"unknown source id(s): {', '.join(missing)} (known: {', '.join(by_id)})")
    return [by_id[i] for i in ids]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based): one machine's share of the registry. Every source is in
    exactly one shard, chosen by a CRC-32 of its id — stable across runs, machines and Python versions
    (Python's own ``hash`` of a str changes per process), and independent of the registry's order."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, source_id: str) -> bool:
        return shard_index(source_id, self.count) == self.index


def shard_index(source_id: str, count: int) -> int:
    """The shard (1..count) that ``source_id`` belongs to."""
    return zlib.crc32(source_id.encode("utf-8")) % count + 1


def parse_shard(text: str) -> Shard:
    """``"K/N"`` (1 <= K <= N) as a Shard; ValueError with a one-line reason otherwise."""
    m = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", str(text), re.ASCII)
    if m is None:
        raise ValueError(f"--shard {text!r}: expected K/N, e.g. 1/3 (shard K of N)")
    index, count = int(m[1]), int(m[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"--shard {text!r}: K must be from 1 to N and N at least 1 (e.g. 1/3, 2/3, 3/3)")
    return Shard(index, count)


def select_shard(sources: list[Source], shard: Shard | None) -> list[Source]:
    """The sources of ``shard`` in registry order (all of them when ``shard`` is None or 1/1)."""
    if shard is None or shard.count == 1:
        return list(sources)
    return [s for s in sources if shard.contains(s.id)]


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
    if not isinstance(sid, str) or not _ID_RE.fullmatch(sid):
        raise fail("id", "must be 1-64 lower-case ASCII letters, digits, '-' or '_' (starting with a letter or digit)")
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
        why = _url_problem(url)
        if why:
            raise fail("start_urls", f"{url!r} {why}")
        if not _host_allowed(urlsplit(url).hostname or "", entry["allowed_domains"]):
            raise fail("start_urls", f"{url!r} is outside allowed_domains")
    for pattern in entry["follow"]:
        why = _regex_problem(pattern)
        if why:
            raise fail("follow", f"{why} {pattern!r}" if why.startswith("invalid") else f"regex {pattern!r} {why}")
    if not isinstance(entry["max_depth"], int) or isinstance(entry["max_depth"], bool) or entry["max_depth"] < 0:
        raise fail("max_depth", "must be a non-negative integer")
    try:
        CronSim(entry["schedule"], datetime(2026, 1, 1))
    except (CronSimError, ValueError) as exc:
        raise fail("schedule", f"invalid cron expression {entry['schedule']!r}: {exc}") from None
    delay = entry.get("delay_seconds", OPTIONAL["delay_seconds"])
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not math.isfinite(delay) \
            or not 0 <= delay <= MAX_DELAY_S:
        raise fail("delay_seconds", f"must be a number of seconds from 0 to {MAX_DELAY_S:.0f}, got {delay!r}")
    for field in ("name", "notes"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            raise fail(field, f"must be a string, got {type(entry[field]).__name__}")
    if entry.get("switchboard") is not None:
        why = _switchboard_problem(entry["switchboard"])
        if why:
            raise fail("switchboard", why)
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
        switchboard=entry.get("switchboard"),
    )


def _switchboard_problem(number: object) -> str | None:
    """Why ``number`` is not a Japanese phone number with its area code (None when it is one)."""
    import phonenumbers

    if not isinstance(number, str):
        return f"must be a string, got {type(number).__name__}"
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException as exc:
        return f"{number!r} is not a phone number ({exc})"
    if parsed.country_code != 81 or not phonenumbers.is_valid_number(parsed):
        return f"{number!r} is not a valid Japanese number with its area code (e.g. \"01656-5-3311\")"
    return None


def _url_problem(url: str) -> str | None:
    """Why a start URL is unusable (None when it is fine); never raises."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", a non-numeric port
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not host:
        return "is not an http(s) URL"
    if port == 0:
        return "has port 0"
    if any(ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in url):
        return "contains spaces or control characters"
    return None


@functools.lru_cache(maxsize=1024)
def follow_pattern(pattern: str) -> _TimedPattern:
    """The compiled ``follow`` regex whose ``search`` gives up after MATCH_TIMEOUT_S (as no match)."""
    return _TimedPattern(regex.compile(pattern), MATCH_TIMEOUT_S)


class _TimedPattern:
    """A compiled regex (the ``regex`` package, re-compatible syntax) whose matches are bounded in time."""

    def __init__(self, compiled: regex.Pattern, timeout: float):
        self.compiled, self.timeout, self.pattern = compiled, timeout, compiled.pattern

    def search(self, text: str) -> regex.Match | None:
        try:
            return self.compiled.search(text, timeout=self.timeout)
        except TimeoutError:
            return None

    match = search  # links are matched with search semantics (anchor with ^ in the pattern)


def _regex_problem(pattern: str) -> str | None:
    """Why a ``follow`` regex is refused: invalid, or catastrophic backtracking on a probe path."""
    try:
        re.compile(pattern)
        compiled = regex.compile(pattern)
    except (re.error, regex.error) as exc:
        return f"invalid regex: {exc}"
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT_S)
        except TimeoutError:
            return (f"backtracks catastrophically (a {len(probe)}-character path took over {PROBE_TIMEOUT_S}s); "
                    "avoid nested or overlapping repeats such as (a+)+ or (a|aa)+")
    return None


def _probes(pattern: str) -> list[str]:
    """Paths that make nested/overlapping repeats backtrack: runs of each character the pattern names,
    ending in a character that fails the match."""
    chars = {c for c in pattern if c.isalnum() or c in "/-_.~%"} | set("a0/-")
    out = []
    for c in sorted(chars)[:40]:
        run = c * _PROBE_LENGTH
        out += ["/" + run + "\x00", run + "!", "/" + (c + "/") * (_PROBE_LENGTH // 8) + "\x00"]
    return out


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
