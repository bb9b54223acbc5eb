"""Data shapes shared by every extractor stage (bytes -> text -> facts).

These are the contract between the text layer (``extractors.html``, ``extractors.pdf``),
the fact rules (``extractors.facts``) and the warehouse. Everything here is plain data:
no I/O, no global state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """One unit of extracted main text: a heading, a paragraph/line, a table row.

    ``start`` is the offset of ``text`` inside ``Document.text``; ``program`` is the
    nearest enclosing heading (h1-h4, dt, table caption) that names the program the
    block belongs to; ``page`` is the 1-based PDF page (None for HTML).
    """

    text: str
    start: int
    kind: str = "para"  # "heading" | "para" | "row" | "caption" | "term"
    program: str | None = None
    page: int | None = None
    level: int | None = None  # heading level 1-6 for kind == "heading"
    headings: tuple[str, ...] = ()  # the heading path, outermost first (title, h1, h2 …, dt/caption)

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Document:
    """The main text of one fetched document, as blocks joined by newlines."""

    text: str
    blocks: tuple[Block, ...]
    media_type: str  # "text/html" | "application/pdf" | "text/plain"
    title: str | None = None
    pages: int | None = None  # PDF page count
    warnings: tuple[str, ...] = ()  # e.g. "no text layer"

    partial: str | None = None  # why only part of the document was extracted (a budget ran out), else None

    @classmethod
    def from_blocks(cls, blocks: list[tuple[str, dict]], media_type: str, **kw: Any) -> Document:
        """Build a Document from (text, attrs) pairs, computing offsets.

        Every block (and program/title) goes through :func:`extractors.normalize.sanitize_text`
        first: unreadable code points never reach the fact rules or the warehouse, and offsets
        are those of the cleaned text. A newline inside a block is a space (blocks are lines).
        """
        from extractors.normalize import sanitize_text

        out: list[Block] = []
        pos = 0
        changed = 0
        for text, attrs in blocks:
            text, n = sanitize_text(text.replace("\n", " "))
            changed += n
            if attrs.get("program"):
                attrs = {**attrs, "program": sanitize_text(attrs["program"])[0]}
            if attrs.get("headings"):
                attrs = {**attrs, "headings": tuple(sanitize_text(h)[0] for h in attrs["headings"])}
            out.append(Block(text=text, start=pos, **attrs))
            pos += len(text) + 1
        if kw.get("title"):
            kw["title"] = sanitize_text(kw["title"])[0]
        if changed:
            warning = f"{changed} unreadable or control character(s) in the text layer replaced"
            kw["warnings"] = (*kw.get("warnings", ()), warning)
        return cls(text="\n".join(b.text for b in out), blocks=tuple(out), media_type=media_type, **kw)


@dataclass(frozen=True)
class Fact:
    """One mention of a fact, with its exact evidence span.

    ``text`` == ``Document.text[start:end]`` always holds.
    ``value`` is JSON-serialisable (int, float, str or {"start","end"} dict).
    ``extra`` carries kind-specific fields such as ``max`` for ranges.
    """

    kind: str
    value: Any
    text: str
    start: int
    end: int
    qualifier: str | None = None
    program: str | None = None
    page: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    heading_path: tuple[str, ...] = ()  # the block's headings, outermost first (what program matching reads)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        extra = d.pop("extra")
        d.update(extra)
        return d


class ExtractionError(Exception):
    """A document could not be turned into text (names what was wrong)."""


MiB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """What one document may cost to extract; past it, extraction stops with status ``partial``.

    Defaults are sized for real municipal pages (a 12-page newsletter: ~1 s, ~600 facts, a few
    MB of decompressed streams) with wide margins; :meth:`from_env` reads overrides from
    ``WARDWATCH_EXTRACT_SECONDS``, ``WARDWATCH_EXTRACT_FACTS``, ``WARDWATCH_EXTRACT_BYTES``
    (decompressed bytes, PDF streams and HTML text), ``WARDWATCH_EXTRACT_PAGES`` and
    ``WARDWATCH_EXTRACT_MEMORY`` (address-space limit of the PDF parsing child, bytes; 0 = parse
    in-process, no limit).
    """

    seconds: float = 60.0  # wall clock for the fact rules (and the PDF parse) of one document
    facts: int = 20_000
    decompressed_bytes: int = 256 * MiB
    pages: int = 500
    memory_bytes: int = 2048 * MiB

    _ENV = {"seconds": "WARDWATCH_EXTRACT_SECONDS", "facts": "WARDWATCH_EXTRACT_FACTS",
            "decompressed_bytes": "WARDWATCH_EXTRACT_BYTES", "pages": "WARDWATCH_EXTRACT_PAGES",
            "memory_bytes": "WARDWATCH_EXTRACT_MEMORY"}

    @classmethod
    def from_env(cls, env: Any = None) -> Budget:
        """The defaults with ``WARDWATCH_EXTRACT_*`` overrides; a bad value raises ValueError naming it."""
        import math
        import os

        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, var in cls._ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            kind = float if name == "seconds" else int
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{var}={raw!r}: not a number") from None
            if (kind is float and not math.isfinite(value)) or value < 0 or (value == 0 and name != "memory_bytes"):
                raise ValueError(f"{var}={raw!r}: must be a positive finite number")
            values[name] = value
        return cls(**values)
