"""What Prefect costs a pipeline run: `wardwatch run` with and without Prefect over a 50-page site.

    python -m benchmarks.prefect_overhead [--fresh N]     (or: python benchmarks/prefect_overhead.py)

Generates a 50-page ward site in a temporary directory, serves it on 127.0.0.1
(wardwatch.demo.server.SiteServer), writes a one-source registry with delay_seconds = 0, then times,
each in a fresh Python process as the CLI would run, into a fresh warehouse:

  no-prefect    the in-process pipeline (`wardwatch run --no-prefect`: wardwatch/pipeline.py)
  prefect-cold  the pipeline flow (`wardwatch run`), in a fresh PREFECT_HOME (Prefect creates its database)
  prefect-warm  the same again, PREFECT_HOME already set up (the usual case)
  prefect-2nd   a second flow run in the same process (Prefect's local server already up), as a
                long-lived process such as `wardwatch schedule` sees it

and prints each wall time and its ratio to no-prefect. ``--fresh N`` adds N Prefect-mode runs, each
in a fresh PREFECT_HOME, and prints how many succeeded (target N/N) with their times; every run
also counts Prefect server processes left behind (target 0).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spiders.registry import to_toml
from tests.support.registry import local_source

PAGES = 50
ROOT = Path(__file__).resolve().parents[1]



def make_site(root: Path) -> None:
    folder = root / "bench"
    folder.mkdir(parents=True)
    links = "".join(f'<li><a href="p{i:02d}.html">手当 {i}</a></li>' for i in range(1, PAGES))
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>ひとり親家庭</title></head>'
        f"<body><h1>ひとり親家庭への支援</h1><ul>{links}</ul></body></html>", encoding="utf-8")
    for i in range(1, PAGES):
        (folder / f"p{i:02d}.html").write_text(
            f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>支援 {i}</title></head><body>'
            f"<h1>支援制度 {i}</h1><p>月額 {40000 + i * 130:,}円を支給します（令和8年4月1日から）。</p>"
            f"<p>問い合わせ：子育て支援課 電話 03-3993-{1000 + i}</p><p>更新日：2026年4月{1 + i % 28}日</p>"
            f"</body></html>", encoding="utf-8")


def child(mode: str, sources_file: Path, db_dir: Path) -> None:
    """One timed run (or two, for prefect-2nd), as `wardwatch run` would do it."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the run's own summary is not the benchmark's output
    from spiders.registry import load_sources

    sources = load_sources(sources_file)
    if mode == "no-prefect":
        from wardwatch.cli.run import run_direct

        run_direct(sources_file, db_dir / "a" / "w.duckdb", sources)
        return
    if mode == "prefect-2nd":  # the flow itself, twice: the temporary server stays up in between
        import asyncio

        from wardwatch.cli.prefect_server import configure_env

        configure_env(db_dir / "a" / "w.duckdb")
        from flows.pipeline import pipeline

        for db in (db_dir / "a" / "w.duckdb", db_dir / "b" / "w.duckdb"):  # the second one is timed
            started = time.perf_counter()
            asyncio.run(pipeline(sources_file=str(sources_file), db_path=str(db), source_ids=[s.id for s in sources]))
        print(json.dumps({"second_run_s": time.perf_counter() - started}), file=sys.stderr)
        return
    from wardwatch.cli.run import run_with_prefect

    run_with_prefect(db_dir / "a" / "w.duckdb", sources_file, sources)


def attempt(mode: str, sources_file: Path, work: Path, prefect_home: Path, db_dir: Path | None = None
            ) -> tuple[subprocess.CompletedProcess | None, float]:
    """One child run; (the finished process or None if it hung past 900 s, its wall time)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    db_dir = db_dir or work / mode
    started = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", mode, str(sources_file),
                               str(db_dir)], env=env, capture_output=True, text=True, cwd=ROOT, timeout=900)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - started
    return proc, time.perf_counter() - started


def timed(mode: str, sources_file: Path, work: Path, prefect_home: Path) -> float:
    proc, wall = attempt(mode, sources_file, work, prefect_home)
    if proc is None:
        sys.exit(f"{mode}: still running after 900 s")
    if proc.returncode != 0:
        sys.exit(f"{mode}: exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    if mode == "prefect-2nd":
        line = [ln for ln in proc.stderr.splitlines() if ln.startswith('{"second_run_s"')][-1]
        return json.loads(line)["second_run_s"]
    return wall


def fresh_runs(n: int, sources_file: Path, work: Path) -> list[tuple[bool, float, str]]:
    """``n`` Prefect-mode runs, each in a fresh PREFECT_HOME (a fresh database to migrate): (ok, seconds, why)."""
    out = []
    for i in range(n):
        proc, wall = attempt("prefect-cold", sources_file, work, work / f"fresh-home-{i}", work / f"fresh-{i}")
        if proc is None:
            out.append((False, wall, "hung (> 900 s)"))
        elif proc.returncode != 0:
            out.append((False, wall, f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['?'])[-1]}"))
        else:
            out.append((True, wall, ""))
        print(f"  fresh run {i + 1}/{n}: {'ok' if out[-1][0] else 'FAILED'} {wall:7.2f} s {out[-1][2]}".rstrip(),
              file=sys.stderr)
    return out


def orphans() -> int:
    """Prefect server processes still running (temporary servers left behind by the runs), Linux only."""
    count = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"wardwatch-prefect-bench-" in env and (b"uvicorn" in cmd or (b"server" in cmd and b"start" in cmd)):
            count += 1
    return count


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", type=int, default=0, metavar="N",
                        help="also N Prefect-mode runs each in a fresh PREFECT_HOME: their success rate (target N/N)")
    args = parser.parse_args()
    if args.fresh < 0:
        parser.error("--fresh N: N must be 0 or more")
    sys.path.insert(0, str(ROOT))
    from wardwatch.demo.server import SiteConfig, SiteServer

    with tempfile.TemporaryDirectory(prefix="wardwatch-prefect-bench-") as tmp:
        work = Path(tmp)
        make_site(work / "site")
        with SiteServer(work / "site", SiteConfig(robots="User-agent: *\nDisallow:\n")) as site:
            sources_file = work / "sources.toml"
            sources_file.write_text(to_toml([local_source("bench", site.base, "/bench/index.html", follow=["^/bench/"],
                                                        max_depth=1, max_pages=200)]), encoding="utf-8")
            times = {"no-prefect": timed("no-prefect", sources_file, work, work / "unused-home")}
            times["prefect-cold"] = timed("prefect-cold", sources_file, work, work / "prefect-home")
            times["prefect-warm"] = timed("prefect-warm", sources_file, work, work / "prefect-home")
            times["prefect-2nd"] = timed("prefect-2nd", sources_file, work, work / "prefect-home")
            fresh = fresh_runs(args.fresh, sources_file, work) if args.fresh else []
            pages = len(set(site.paths(200)))
            left = orphans()
    base = times["no-prefect"]
    print(f"pipeline over a {PAGES}-page loopback site ({pages} distinct paths answered 200, robots.txt included), one source, "
          f"delay 0, fresh warehouse each run; wall time of a fresh process unless noted")
    notes = {"no-prefect": "the runner without Prefect (--no-prefect)", "prefect-cold": "pipeline flow, fresh PREFECT_HOME",
             "prefect-warm": "pipeline flow, existing PREFECT_HOME",
             "prefect-2nd": "second flow run in the same process (server up)"}
    for mode, seconds in times.items():
        print(f"  {mode:<13} {seconds:7.2f} s   x{seconds / base:5.2f}   {notes[mode]}")
    print(f"ratio prefect/no-prefect: {times['prefect-warm'] / base:.2f} (warm), {times['prefect-cold'] / base:.2f} (cold), "
          f"{times['prefect-2nd'] / base:.2f} (server already up)")
    if fresh:
        ok = [t for good, t, _ in fresh if good]
        spread = f"{min(ok):.2f} / {statistics.median(ok):.2f} / {max(ok):.2f} s (min / median / max)" if ok else "-"
        print(f"fresh PREFECT_HOME runs: {len(ok)}/{len(fresh)} succeeded (target {len(fresh)}/{len(fresh)}); "
              f"wall time {spread}")
        for i, (good, t, why) in enumerate(fresh, 1):
            if not good:
                print(f"  run {i} failed after {t:.1f} s: {why}")
    print(f"Prefect server processes left running after the runs: {left}")


if __name__ == "__main__":
    main()
