"""`wardwatch run --no-prefect`: the main job, stage after stage, in this process."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def run_pipeline(args: argparse.Namespace, db_path: Path, sources: list[Any]) -> int:
    from spiders.progress import ProgressDisplay
    from wardwatch.cli import Failed
    from wardwatch.cli_extract import extraction_summary
    from wardwatch.crawl import crawl
    from wardwatch.report_text import crawl_summary
    from wardwatch.cli_analyst import diff_summary
    from wardwatch.stages import diff_stage, extract_stage

    result = crawl(sources, db_path, progress=ProgressDisplay())
    out: dict[str, Any] = {"crawl": result.to_json()}
    out["extract"] = extract_stage(db_path)
    out["diff"] = diff_stage(db_path)
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
