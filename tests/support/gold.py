"""Development gold for fact extraction (``tests/gold/*.json``): the cases, and scoring facts against
them (precision / recall per kind). Used by the gold tests and by ``benchmarks/extract_quality.py``.

Each gold file is evaluated on every rendering that exists here:
  * "text": the seed text file (../shared/seeds), one Block per line (Document.from_blocks);
  * "html": the demo page (wardwatch/demo/site/v1/...) through extractors.html.extract_html;
  * "pdf":  the corpus PDF (../shared/corpus) through extractors.pdf.extract_pdf, keeping only
    facts of the gold's article (its page and program heading).
A gold row marked ``"only": "text"``/``"html"`` belongs to that rendering only. Facts are
matched as a multiset of (kind, value, text), text compared without whitespace (PDF text
layers space out "18 歳"); qualifier and ``max``/``local`` are checked on matches.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.facts import extract_facts
from extractors.html import extract_html
from extractors.model import Document, Fact
from extractors.pdf import extract_pdf

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
GOLD_DIR = REPO / "tests" / "gold"
DEMO_V1 = REPO / "wardwatch" / "demo" / "site" / "v1"
TARGETS = {"amount": 0.95, "phone": 0.95, "date": 0.95, "fiscal_year": 0.95}
DEFAULT_TARGET = 0.9

# sentences whose kanji are words, not numbers: any numeric fact here is a false positive
TRAPS = (
    "一時金として支給します。", "一部を助成します。", "十分考慮したうえで、一緒に策定します。",
    "千葉市、八王子市、四谷、九段下の窓口", "万が一の場合は、一般の窓口へ。", "統一様式で一時保育を行います。",
    "五月雨式に提出しないでください。", "数万円程度の費用、十数万円の負担", "万一の場合",
    "店番:3桁の漢数字(例:〇〇八)",
)


@dataclass
class Case:
    name: str  # gold file stem
    rendering: str  # "text" | "html" | "pdf"
    load: Callable[[], Document]
    gold: list[dict[str, Any]]
    page: int | None = None
    program: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}/{self.rendering}"

    def facts(self, sudachi: bool = True, doc: Document | None = None) -> list[Fact]:
        facts = extract_facts(doc or self.load(), sudachi=sudachi)
        if self.page is not None:
            facts = [f for f in facts if f.page == self.page and f.program == self.program]
        return facts


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    qualifier_ok: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _text_doc(path: Path) -> Callable[[], Document]:
    def load() -> Document:
        lines = path.read_text(encoding="utf-8").split("\n")
        return Document.from_blocks([(line, {}) for line in lines], "text/plain")
    return load


def _html_doc(path: Path) -> Callable[[], Document]:
    def load() -> Document:
        return extract_html(path.read_bytes())
    return load


def _pdf_doc(path: Path) -> Callable[[], Document]:
    def load() -> Document:
        return extract_pdf(path.read_bytes())
    return load


def load_gold(name: str) -> dict[str, Any]:
    return json.loads((GOLD_DIR / f"{name}.json").read_text(encoding="utf-8"))


def cases() -> list[Case]:
    """Every (gold, rendering) pair whose input exists on this machine."""
    out: list[Case] = []
    specs = (
        ("nerima_syuurou", SHARED / "seeds" / "nerima_hitorioya_jiritsu_program.txt",
         DEMO_V1 / "nerima" / "kurashi" / "jinken" / "hitorioya" / "syuurou.html"),
        ("kita_hitorioya", SHARED / "seeds" / "kita_hitorioya_summary_secondary.txt",
         DEMO_V1 / "press" / "225813.html"),
    )
    for name, seed, page in specs:
        gold = load_gold(name)["facts"]
        if seed.exists():
            out.append(Case(name, "text", _text_doc(seed), [g for g in gold if g.get("only", "text") == "text"]))
        if page.exists():
            out.append(Case(name, "html", _html_doc(page), [g for g in gold if g.get("only", "html") == "html"]))
    pdf_gold = load_gold("otoineppu_2025-04_jido_fuyo")
    pdf = SHARED / "corpus" / pdf_gold["corpus_file"]
    if pdf.exists():
        out.append(Case("otoineppu_2025-04_jido_fuyo", "pdf", _pdf_doc(pdf), pdf_gold["facts"],
                        page=pdf_gold["page"], program=pdf_gold["program"]))
    return out


def _key(kind: str, value: Any, text: str) -> tuple[str, str, str]:
    # whitespace inside a span is a text-layer artifact (PDF "18 歳"), not part of the fact
    return kind, json.dumps(value, sort_keys=True, ensure_ascii=False), "".join(text.split())


def score(facts: list[Fact], gold: list[dict[str, Any]]) -> dict[str, Counts]:
    """Per-kind counts of a multiset match on (kind, value, text)."""
    counts: dict[str, Counts] = {}
    want = Counter(_key(g["kind"], g["value"], g["text"]) for g in gold)
    gold_by_key = {_key(g["kind"], g["value"], g["text"]): g for g in gold}
    for f in facts:
        c = counts.setdefault(f.kind, Counts())
        k = _key(f.kind, f.value, f.text)
        if want[k] > 0:
            want[k] -= 1
            c.tp += 1
            g = gold_by_key[k]
            extras_ok = all(f.extra.get(x) == g[x] for x in ("max", "local") if x in g)
            if f.qualifier == g.get("qualifier") and extras_ok:
                c.qualifier_ok += 1
            else:
                c.errors.append(f"qualifier/extra {f.text!r}: got {f.qualifier!r} {f.extra}, want {g.get('qualifier')!r}")
        else:
            c.fp += 1
            c.errors.append(f"spurious {f.kind} {f.value!r} {f.text!r}")
    for (kind, value, text), n in want.items():
        if n > 0:
            c = counts.setdefault(kind, Counts())
            c.fn += n
            c.errors.append(f"missed {kind} {value} {text!r} x{n}")
    return counts


def merge(per_case: list[dict[str, Counts]]) -> dict[str, Counts]:
    total: dict[str, Counts] = {}
    for counts in per_case:
        for kind, c in counts.items():
            t = total.setdefault(kind, Counts())
            t.tp += c.tp
            t.fp += c.fp
            t.fn += c.fn
            t.qualifier_ok += c.qualifier_ok
            t.errors += c.errors
    return total


def target(kind: str) -> float:
    return TARGETS.get(kind, DEFAULT_TARGET)


def format_table(total: dict[str, Counts]) -> str:
    rows = [f"{'kind':<13}{'gold':>6}{'found':>7}{'tp':>5}{'prec':>8}{'recall':>8}{'qual ok':>9}  target"]
    for kind in sorted(total):
        c = total[kind]
        ok = "ok" if min(c.precision, c.recall) >= target(kind) else "BELOW"
        rows.append(f"{kind:<13}{c.tp + c.fn:>6}{c.tp + c.fp:>7}{c.tp:>5}{c.precision:>8.3f}{c.recall:>8.3f}"
                    f"{c.qualifier_ok:>5}/{c.tp:<3}  {target(kind):.2f} {ok}")
    return "\n".join(rows)


def trap_facts(sudachi: bool) -> list[Fact]:
    doc = Document.from_blocks([(t, {}) for t in TRAPS], "text/plain")
    return [f for f in extract_facts(doc, sudachi=sudachi) if f.kind != "department"]
