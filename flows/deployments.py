"""One served deployment per registry source, on the source's cron schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron

from flows.pipeline import pipeline


def build_deployments(sources_file: str | Path, db_path: str | Path, sources: list[Any], timezone: str) -> list[Any]:
    """``pipeline.to_deployment(...)`` for each source: named by its id, running only that source."""
    sources_file, db_path = str(Path(sources_file).resolve()), str(Path(db_path).resolve())
    return [
        pipeline.to_deployment(
            name=source.id,
            schedule=Cron(source.schedule, timezone=timezone),
            parameters={"sources_file": sources_file, "db_path": db_path, "source_ids": [source.id]},
            tags=["wardwatch", f"source:{source.id}"],
            description=f"{source.municipality} {source.name or source.id}: crawl, extract, diff and flag",
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for source in sources
    ]
