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

    @classmethod
    def from_blocks(cls, blocks: list[tuple[str, dict]], media_type: str, **kw: Any) -> Document:
        """Build a Document from (text, attrs) pairs, computing offsets."""
        out: list[Block] = []
        pos = 0
        for text, attrs in blocks:
            out.append(Block(text=text, start=pos, **attrs))
            pos += len(text) + 1
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

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d.update(extra)
        return d


class ExtractionError(Exception):
    """A document could not be turned into text (names what was wrong)."""
