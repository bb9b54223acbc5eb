"""`wardwatch run`: the main job — a Prefect flow run, or with `--no-prefect` the stages in this process."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any


def run_pipeline(args: argparse.Namespace, db_path: Path, sources: list[Any]) -> int:
    if not getattr(args, "no_prefect", False):  # the default: every run is a Prefect flow run
        from wardwatch.run_flow import run_with_prefect

        return run_with_prefect(args, db_path, args.sources, sources)
    from spiders.progress import ProgressDisplay
    from wardwatch.cli import Failed
    from wardwatch.cli_extract import extraction_summary
    from wardwatch.crawl import crawl
    from wardwatch.report_text import crawl_summary
    from wardwatch.cli_analyst import diff_summary
    from wardwatch.stages import diff_stage, extract_stage
    from warehouse.locks import LockTimeout, hold

    with contextlib.ExitStack() as stack:  # one run per source at a time (same locks as the Prefect flows)
        for source in sorted(sources, key=lambda s: s.id):
            try:
                stack.enter_context(hold(db_path, source.id, on_wait=lambda p, s=source: print(
                    f"waiting for another run of {s.id} to finish ({p})", file=sys.stderr)))
            except LockTimeout as exc:
                raise Failed(str(exc)) from None
        result = crawl(sources, db_path, progress=ProgressDisplay())
        out: dict[str, Any] = {"crawl": result.to_json(), "extract": extract_stage(db_path), "diff": diff_stage(db_path)}
    if args.format == "json":
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        print(crawl_summary(result))
        print(extraction_summary(out["extract"]))
        print(diff_summary(out["diff"]))
    if result.status != "ok":
        first = result.failed_sources[0]
        raise Failed(f"{len(result.failed_sources)} of {len(result.sources)} sources failed "
                     f"(first: {first['source_id']}: {first['reason']})")
    return 0
