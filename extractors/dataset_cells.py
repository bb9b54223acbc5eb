"""What both dataset formats share: rows' problems, the parse result, the municipality and URL
patterns, and the facts inside one free-text cell (from the page extractor). Pure, no I/O."""

from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from extractors.facts import extract_facts
from extractors.model import Document

URL_RE = re.compile(r"https?://[^\s<>\"]+")
_PREF = r"(?:東京都|北海道|京都府|大阪府|[^\s都道府県]{2,3}県)"
PREF_RE = re.compile(_PREF)
MUNI_RE = re.compile(rf"全国|{_PREF}|{_PREF}?[^\s、。，,「」（）()]{{1,6}}?[市区町村](?:[^\s、。，,「」（）()]{{1,5}}区)?")
_LINE_SPLIT = re.compile(r"\r?\n|\\n")  # one Civichat version writes newlines as a literal backslash-n
_HEADER_QUALIFIER = re.compile(r"月額|年額")



@dataclass(frozen=True)
class Problem:
    """What is wrong with one row (``row`` None: with the whole file)."""

    row: int | None
    record_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}" + (f" (id={self.record_id})" if self.record_id else "")
        return f"{where}: field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "text": str(self)}


@dataclass
class Parsed:
    format: str
    records: int = 0
    facts: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    municipality: str | None = None  # the municipality the data itself names, if any

    @property
    def malformed_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})


# ---------- facts inside one cell ----------

def cell_facts(text: str, program: str | None, *, number_as_amount: bool = False) -> list[dict[str, Any]]:
    """Facts in one free-text cell: kind, value, qualifier, text (the original line holding the fact).

    A 月額/年額 on a line of its own (a table header such as 手当額（月額）) applies to the amounts
    on the lines below it in the same cell.
    """
    if number_as_amount and re.fullmatch(r"\d+", text.strip()):
        return [{"kind": "amount", "value": int(text.strip()), "qualifier": None, "text": text}]
    lines = _LINE_SPLIT.split(text)
    doc = Document.from_blocks([(line, {"program": program}) for line in lines], "text/plain")
    starts = [b.start for b in doc.blocks]
    facts = extract_facts(doc)
    lines_with_facts = {bisect.bisect_right(starts, f.start) - 1 for f in facts}
    headers: dict[int, str] = {}
    current = None
    for i, line in enumerate(lines):
        m = _HEADER_QUALIFIER.search(line)
        if m and i not in lines_with_facts:
            current = m.group()
        headers[i] = current
    out = []
    for f in facts:
        i = bisect.bisect_right(starts, f.start) - 1
        qualifier = f.qualifier
        if f.kind == "amount" and headers[i] and not re.search("月額|年額", qualifier or ""):
            qualifier = ",".join([headers[i]] + ([qualifier] if qualifier else []))
        out.append({"kind": f.kind, "value": f.value, "qualifier": qualifier, "text": lines[i].strip()})
    return out


def show(value: Any, width: int = 40) -> str:
    text = " ".join(str(value).split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")
