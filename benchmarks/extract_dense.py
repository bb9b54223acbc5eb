"""Extraction time and peak RSS on fact-dense pages (issue 15), new engine vs the old ``_resolve``.

    python -m benchmarks.extract_dense                 # 64 KB, 256 KB, 1 MB, 10 MB
    python -m benchmarks.extract_dense --old-max 1M    # also run the old resolver on 1 MB (~3 min)

The page is one ``<p>`` of ``上限4万円`` repeated (every 5 characters an amount candidate and a
qualifier). Each measurement runs in its own child process, so ``peak RSS`` is that run's
``ru_maxrss``. Modes:

* ``budget``  — the engine as shipped: default :class:`extractors.model.Budget` (the 10 MB page ends
  ``partial``: the fact budget stops it);
* ``linear``  — the engine with the budget lifted: shows the growth is linear;
* ``old``     — the same engine with the pre-issue-15 ``_resolve`` (every candidate compared with every
  kept span, copied below as the baseline) and no long-line pieces, i.e. the old behaviour.
  Quadratic: run only up to ``--old-max`` (default 256 KB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SIZES = {"64K": 64 * 1024, "256K": 256 * 1024, "1M": 1024 * 1024, "10M": 10 * 1024 * 1024}
UNIT = "上限4万円"


def old_resolve(cands, masked):
    """The pre-issue-15 overlap resolution (O(n²) in candidates per line), kept as the baseline."""
    taken = [(a, b, None) for a, b in masked]
    kept = []
    for c in sorted(cands, key=lambda c: (c.priority, c.start, c.start - c.end)):
        if c.end <= c.start:
            continue
        clash = any(a < c.end and c.start < b and not (g is not None and g == c.group) for a, b, g in taken)
        if clash:
            continue
        kept.append(c)
        taken.append((c.start, c.end, c.group))
    kept.sort(key=lambda c: (c.start, c.end))
    return kept


def dense_page(size: int) -> bytes:
    """An HTML page of about ``size`` bytes: one paragraph of ``上限4万円`` repeated."""
    reps = size // len(UNIT.encode())
    return ("<html><body><main><p>" + UNIT * reps + "</p></main></body></html>").encode()


def run_one(size: int, mode: str) -> dict:
    """Extract one dense page in this process; returns the figures (called in a child)."""
    from extractors import facts as engine
    from extractors.html import extract_html
    from extractors.model import Budget

    budget = Budget() if mode == "budget" else Budget(seconds=1e9, facts=10**9)
    if mode == "old":
        engine._resolve = old_resolve
        engine.MAX_LINE_CHARS = 10**12
    engine.extract_facts(extract_html("<p>warm-up 4万円</p>".encode()))  # Sudachi dictionary load not timed
    body = dense_page(size)
    t0 = time.perf_counter()
    doc = extract_html(body)
    result = engine.extract_facts_result(doc, budget=budget)
    seconds = time.perf_counter() - t0
    return {"bytes": len(body), "mode": mode, "seconds": round(seconds, 2), "facts": len(result.facts),
            "status": "partial" if result.partial else "ok", "reason": result.partial,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def measure(size: int, mode: str, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.extract_dense", "--child", str(size), mode]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout
    except subprocess.TimeoutExpired:
        return {"bytes": size, "mode": mode, "seconds": None, "status": f"still running after {timeout:g} s"}
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("BYTES", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--old-max", default="256K", choices=[*SIZES, "0"], help="largest size for the old resolver")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per measurement")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(int(args.child[0]), args.child[1])))
        return 0
    old_max = SIZES.get(args.old_max, 0)
    print(f"{'size':>5}  {'mode':<7} {'seconds':>8} {'peak RSS MB':>11} {'facts':>7}  status")
    for label, size in SIZES.items():
        modes = ["budget"] + (["linear"] if size <= SIZES["1M"] else []) + (["old"] if size <= old_max else [])
        for mode in modes:
            r = measure(size, mode, args.timeout)
            secs = f"{r['seconds']:.2f}" if r.get("seconds") is not None else "-"
            reason = f" ({r['reason']})" if r.get("reason") else ""
            print(f"{label:>5}  {mode:<7} {secs:>8} {r.get('peak_rss_mb', '-'):>11} {r.get('facts', '-'):>7}  "
                  f"{r['status']}{reason}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
