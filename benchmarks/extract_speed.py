"""Extraction speed: raw SudachiPy tokenization vs full fact extraction, same text.

    python -m benchmarks.extract_speed [--repeat 12] [--rounds 3]

The text is the two seed files (../shared/seeds) repeated ``--repeat`` times (~380 KB at 12).
"raw" is the bare cost of Sudachi mode C: ``tokenizer.tokenize(line)`` for every non-empty line
(the MorphemeList is built, nothing is read from it). "facts" is ``extract_facts`` on a Document
of the same lines (normalisation, Sudachi where needed, all rules, offset mapping). Both run on
a warm dictionary, interleaved; the best of ``--rounds`` is reported. Target: facts >= 0.5 x raw.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from extractors.facts import extract_facts
from extractors.model import Document
from extractors.tokenizer import get_dictionary

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_lines(repeat: int) -> list[str]:
    lines: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines += path.read_text(encoding="utf-8").split("\n")
    return lines * repeat


def best_seconds(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_tokenization(lines: list[str], rounds: int) -> float:
    """Seconds for raw mode-C tokenization of every non-empty line."""
    from sudachipy import SplitMode

    tok = get_dictionary().tokenizer(mode=SplitMode.C)
    nonempty = [line for line in lines if line.strip()]

    def run() -> None:
        for line in nonempty:
            tok.tokenize(line)

    return best_seconds(run, rounds)


def bench_facts(doc: Document) -> tuple[float, int]:
    """Seconds for one extract_facts over ``doc``, and the number of facts."""
    t0 = time.perf_counter()
    n = len(extract_facts(doc))
    return time.perf_counter() - t0, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="raw Sudachi tokenization vs fact extraction speed")
    parser.add_argument("--repeat", type=int, default=12, help="copies of the seed texts (default 12)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds, best is kept (default 7)")
    args = parser.parse_args(argv)
    if not SEEDS.exists():
        print(f"seed texts not found at {SEEDS}")
        return 1
    lines = seed_lines(args.repeat)
    chars = sum(len(line) + 1 for line in lines)
    size_kb = sum(len(line.encode()) + 1 for line in lines) / 1024
    print(f"text: seeds x{args.repeat} = {chars:,} chars ({size_kb:,.0f} KB UTF-8), {len(lines):,} lines")
    doc = Document.from_blocks([(line, {}) for line in lines], "text/plain")
    extract_facts(doc)  # warm-up: dictionary load, regex compilation
    raw, facts, n = float("inf"), float("inf"), 0
    for _ in range(args.rounds):  # interleaved, so a busy machine slows both alike
        raw = min(raw, bench_tokenization(lines, 1))
        seconds, n = bench_facts(doc)
        facts = min(facts, seconds)
    print(f"raw SudachiPy tokenization (mode C): {chars / raw:>12,.0f} chars/s  ({raw:.3f} s)")
    print(f"full fact extraction:                {chars / facts:>12,.0f} chars/s  ({facts:.3f} s, {n:,} facts)")
    ratio = raw / facts
    print(f"ratio extraction/raw: {ratio:.2f}x  (target >= 0.5x: {'ok' if ratio >= 0.5 else 'BELOW'})")
    print()
    from benchmarks import extract_pdf_speed  # PDF pages/s: ours vs pdftotext, same run

    return extract_pdf_speed.main([])


if __name__ == "__main__":
    sys.exit(main())
