"""Dataset import memory benchmark: a valid Civichat JSON of N records (200,000 ≈ 35 MB by default),
imported with `wardwatch import-dataset` in a child process per step.

Prints, for each step, the child's RSS before the step (after its imports) and its peak RSS after
it, side by side, with the wall time: parse only (``extractors.datasets.parse_dataset``) and the whole
import into a fresh warehouse file (parse + validate + load).

    python -m benchmarks.dataset_memory [--records 200000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import resource, sys, time, json
from pathlib import Path
step, path, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
from extractors.datasets import parse_dataset
from wardwatch.stages.datasets import import_dataset
from warehouse.schema import migrate
if step == "import":
    migrate(db)
before = rss_mb()
t0 = time.perf_counter()
if step == "parse":
    parsed = parse_dataset(path.read_bytes())
    result = {"records": parsed.records, "facts": len(parsed.facts), "problems": len(parsed.problems)}
else:
    r = import_dataset(db, path)
    result = {"records": r["records"], "facts": r["facts"], "problems": 0}
elapsed = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"before_mb": before, "peak_mb": peak, "seconds": elapsed, **result}))
"""

PROGRAMS = ("児童育成手当", "児童扶養手当", "ひとり親家庭等医療費助成", "母子及び父子福祉資金貸付", "ひとり親家庭休養ホーム事業")
WARDS = ("渋谷区", "練馬区", "北区", "足立区", "荒川区")


def write_dataset(path: Path, records: int) -> int:
    """A valid Civichat JSON file of ``records`` small records; returns its size in bytes."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"systemsData": [')
        for i in range(records):
            rec = {"サービスID": f"bench-{i:07d}", "タイトル（制度名）": PROGRAMS[i % len(PROGRAMS)],
                   "市町村": WARDS[i % len(WARDS)], "支援内容": f"月額{13000 + i % 500:,}円"}
            fh.write(("," if i else "") + json.dumps(rec, ensure_ascii=False))
        fh.write("]}")
    return path.stat().st_size


def run_step(step: str, path: Path, db: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, step, str(path), str(db)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--keep", type=Path, help="write the dataset and warehouse here (default: a temp folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ww-dsmem-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "datas_bench_systemsdata@2026-01-01_bench.json"
        t0 = time.perf_counter()
        size = write_dataset(path, args.records)
        print(f"dataset: {args.records:,} records, {size / 1e6:.1f} MB ({time.perf_counter() - t0:.1f} s to write)")
        print(f"{'step':<8} {'RSS before':>11} {'peak RSS after':>15} {'growth':>9} {'seconds':>8}  result")
        for step in ("parse", "import"):
            db = folder / f"bench-{step}.duckdb"
            r = run_step(step, path, db)
            if "error" in r:
                print(f"{step:<8} failed: {r['error']}")
                continue
            print(f"{step:<8} {r['before_mb']:>8.0f} MB {r['peak_mb']:>12.0f} MB {r['peak_mb'] - r['before_mb']:>6.0f} MB "
                  f"{r['seconds']:>8.1f}  {r['records']:,} records, {r['facts']:,} facts, {r['problems']} problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
