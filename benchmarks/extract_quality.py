"""Fact extraction quality against the hand-written gold in tests/gold/*.json.

    python -m benchmarks.extract_quality            # precision/recall per kind
    python -m benchmarks.extract_quality --ablation # also the regex-only baseline (sudachi=False)

The cases and the scoring are in ``tests/support/gold.py`` (shared with the gold tests).
"""

from __future__ import annotations

import argparse
import sys

from tests.support.gold import TRAPS, cases, format_table, merge, score, target, trap_facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ablation", action="store_true", help="also score the regex-only baseline")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every mismatch")
    args = parser.parse_args(argv)
    all_cases = cases()
    if not all_cases:
        print("no gold inputs found (../shared missing?)")
        return 1
    modes = [True, False] if args.ablation else [True]
    failed = False
    for sudachi in modes:
        title = "SudachiPy + rules" if sudachi else "ablation: regex only (sudachi=False)"
        per_case = []
        print(f"== {title}")
        for case in all_cases:
            counts = score(case.facts(sudachi=sudachi), case.gold)
            per_case.append(counts)
            n_err = sum(len(c.errors) for c in counts.values())
            print(f"  {case.label:<40} gold={len(case.gold):<4} mismatches={n_err}")
            if args.verbose:
                for c in counts.values():
                    for e in c.errors:
                        print(f"      {e}")
        total = merge(per_case)
        print(format_table(total))
        traps = trap_facts(sudachi)
        print(f"kanji-word traps ({len(TRAPS)} sentences): {len(traps)} spurious numeric facts"
              + "".join(f"\n      {f.kind} {f.value!r} {f.text!r}" for f in traps))
        print()
        if sudachi:
            failed = any(min(c.precision, c.recall) < target(k) for k, c in total.items())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
