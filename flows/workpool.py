"""Distributed runs on a Prefect work pool: one flow run per source, run by whichever worker is free.

``wardwatch run --work-pool NAME`` calls :func:`submit`; ``wardwatch worker --pool NAME`` (a wrapper over
``prefect worker start --type process``) runs on each machine. Everything that queues, dispatches and
watches the work is Prefect's; wardwatch only describes it:

* a **work pool** of type ``process`` (created when missing);
* one **deployment** of :func:`crawl_source_flow`, entrypoint ``flows.workpool.crawl_source_flow`` (a
  module path, so every machine with wardwatch installed can run it: no code storage, no shared folder);
* one **flow run per source** (``run_deployment``), picked up by the pool's workers;
* an **automation** that marks a flow run ``Crashed`` when its heartbeats stop (Prefect's documented
  zombie-flow detection: the flow runs of the deployment emit a heartbeat every
  ``$WARDWATCH_HEARTBEAT_SECONDS``; silence for ``$WARDWATCH_ZOMBIE_AFTER_SECONDS`` is a dead worker).
  A source whose flow run ends Crashed (or whose crawl was interrupted on a worker that was being stopped)
  is submitted again (up to ``tries`` flow runs in all), so a live worker picks it up. Nothing else is
  retried here: each stage keeps the one retry policy of ``flows/tasks.py``.

Each flow run gets its source's registry entry as a parameter (workers need no copy of the registry), crawls,
extracts and diffs the source into the shared DuckLake warehouse (``runner.run_source``, the same call the
pipeline flow makes; staging, locks and logs in the machine's own lake folder) and leaves its outcome as a table artifact
(key ``wardwatch-source-outcome``; Prefect keeps it in its database, so the submitter reads it from any
machine — flow results would need storage every machine can reach). The submitter then runs
``runner.finish`` (report, ``source_failing`` flags, notice) on the outcomes, as a local run does.

Correctness never rests on the dispatch: the warehouse's loaders check before they insert under the
lake's writer lock, so a source crawled twice (a resubmission after a false alarm) stores nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_table_artifact

from flows.tasks import prefect_step
from wardwatch import runner
from wardwatch.runner import LOCK_TIMEOUT_S, RunOptions

FLOW_NAME = "wardwatch-source-on-pool"
DEPLOYMENT_NAME = "wardwatch-source"
ENTRYPOINT = "flows.workpool.crawl_source_flow"
POOL_TYPE = "process"
OUTCOME_KEY = "wardwatch-source-outcome"
AUTOMATION_NAME = "wardwatch: crash silent flow runs"
TAG = "wardwatch-pool"

HEARTBEAT_ENV = "WARDWATCH_HEARTBEAT_SECONDS"  # how often a flow run says it is alive (Prefect's minimum: 30)
ZOMBIE_ENV = "WARDWATCH_ZOMBIE_AFTER_SECONDS"  # silence after which it is marked Crashed (default 3 heartbeats)
DEFAULT_HEARTBEAT_S = 30
DEFAULT_TRIES = 2  # flow runs per source at most: the first, and one more after a crash
DEFAULT_TIMEOUT_S = 6 * 3600.0
POLL_S = 2.0

FINAL_OK = {"COMPLETED", "FAILED"}  # the flow ran to its end: its outcome artifact says how it went


class SourceFailed(RuntimeError):
    """The source's pipeline failed (the flow run ends Failed; its outcome artifact says why)."""


class PoolError(RuntimeError):
    """The work pool, its deployment or its automation could not be set up, or the API refused a call."""


def heartbeat_seconds() -> int:
    """``$WARDWATCH_HEARTBEAT_SECONDS`` (default 30; Prefect emits no faster than every 30 s)."""
    return max(30, _env_int(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_S))


def zombie_after_seconds() -> int:
    """``$WARDWATCH_ZOMBIE_AFTER_SECONDS``: default three heartbeats; never less than one heartbeat + 10 s."""
    beat = heartbeat_seconds()
    return max(beat + 10, _env_int(ZOMBIE_ENV, 3 * beat))


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(float(raw))
    except ValueError:
        raise PoolError(f"${name}={raw!r}: not a number of seconds") from None


# --- the flow a worker runs -------------------------------------------------------------------------------


@flow(name=FLOW_NAME, flow_run_name="source-{source_id}", persist_result=False)
async def crawl_source_flow(source_id: str, sources_file: str, warehouse: str, data_path: str | None = None,
                            registry: str | None = None, lock_timeout: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    """crawl → extract → diff and flag for one source into the DuckLake warehouse ``warehouse`` (its
    connection string; ``data_path`` when the lake is new). ``registry``: the source's registry entry as
    TOML (what the submitter sends, so a worker needs no copy of ``sources_file``). Each stage is a task under
    the one retry policy. The outcome is left as an artifact for the submitter; a failed source fails the run."""
    from warehouse.db import Warehouse

    logger = get_run_logger()
    where = {"name": os.environ.get("PREFECT__WORKER_NAME"), "host": socket.gethostname(), "pid": os.getpid()}
    with tempfile.TemporaryDirectory(prefix="wardwatch-registry-") as folder:
        if registry is not None:
            sources_file = str(Path(folder) / "sources.toml")
            Path(sources_file).write_text(registry, encoding="utf-8")
        try:
            lake = Warehouse(warehouse, data_path=data_path)
            db = Path(lake)  # this machine's pointer file for the lake: what crawl children get as --db
            opts = RunOptions(Path(sources_file), db, [source_id], lock_timeout=lock_timeout)
            await asyncio.to_thread(runner.prepare, opts)
            result = {"status": "ok", **await asyncio.to_thread(
                runner.run_source, opts, source_id, prefect_step,
                lambda path: logger.info("waiting for another run of %s on this machine (%s)", source_id, path))}
        except Exception as exc:  # the source failed; the outcome says why, the flow run ends Failed
            result = runner.failure(source_id, exc)
    result["worker"] = where
    await acreate_table_artifact(table=[outcome_row(source_id, result)], key=OUTCOME_KEY,
                                 description=f"wardwatch: {source_id} {result['status']}")
    logger.info("%s: %s", source_id, result["status"] if result["status"] == "ok" else result.get("reason"))
    if result["status"] != "ok":
        raise SourceFailed(f"{source_id}: {result.get('reason')}")
    return result


def registry_entries(sources_file: str | Path, source_ids: list[str]) -> dict[str, str]:
    """Each source's registry entry as a TOML text of its own (the file was validated by the caller): what a
    flow run crawls from, so workers need no copy of the registry. Strings are written as JSON strings, which
    are valid TOML basic strings (escapes included)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v), ensure_ascii=False)

    raw = tomllib.loads(Path(sources_file).read_text(encoding="utf-8"))
    wanted = set(source_ids)
    return {e["id"]: "[[source]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in e.items())
            for e in raw.get("source", []) if e.get("id") in wanted}


def outcome_row(source_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """The artifact's one row: the figures people look for in the UI, and the whole outcome as JSON."""
    crawl = result.get("crawl") or {}
    row = next((r for r in crawl.get("sources") or [] if r.get("source_id") == source_id), {})
    diff = result.get("diff") or {}
    return {"source_id": source_id, "status": result["status"], "fetched": row.get("fetched"),
            "new_versions": row.get("new_versions"), "errors": row.get("errors"), "changes": diff.get("changes"),
            "flags_opened": diff.get("flags_opened"), "reason": result.get("reason"),
            "outcome": json.dumps(result, ensure_ascii=False, default=str)}


# --- the submitter ----------------------------------------------------------------------------------------


@dataclass
class Submission:
    """What one source's flow runs did: every flow run id, in order, and its final state."""

    source_id: str
    flow_runs: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    outcome: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "flow_runs": [{"id": fid, "state": state} for fid, state in
                                                            zip(self.flow_runs, self.states + [None] * len(self.flow_runs))],
                "resubmitted": max(0, len(self.flow_runs) - 1)}


@dataclass
class PoolRun:
    """:func:`submit`'s answer: each source's outcome (as ``runner.outcome`` shapes them) and flow runs."""

    pool: str
    deployment_id: str
    sources: dict[str, dict[str, Any]]
    submissions: dict[str, Submission]
    elapsed_s: float

    def to_json(self) -> dict[str, Any]:
        return {"pool": self.pool, "deployment_id": self.deployment_id, "elapsed_s": round(self.elapsed_s, 1),
                "sources": {sid: s.to_json() for sid, s in self.submissions.items()}}


def submit(pool: str, source_ids: list[str], sources_file: str | Path, warehouse: str, data_path: str | None = None,
           *, timeout: float = DEFAULT_TIMEOUT_S, tries: int = DEFAULT_TRIES,
           on_resubmit: Callable[[str, str, str], None] | None = None) -> PoolRun:
    """Run ``source_ids`` on the work pool ``pool`` and wait (up to ``timeout`` seconds) for every one.

    Sets up the pool, the deployment and the crash automation when missing, creates one flow run per
    source, and collects each outcome as its flow run ends (telling ``runner.source_done``, so `wardwatch
    run` prints a line per source). A flow run that ends Crashed is submitted again while the source has
    tries left (``on_resubmit(source_id, old_flow_run_id, message)`` is told). Flow runs still unfinished at
    the deadline are cancelled and reported failed. Raises PoolError when the API cannot be used."""
    return asyncio.run(asubmit(pool, source_ids, sources_file, warehouse, data_path, timeout=timeout, tries=tries,
                               on_resubmit=on_resubmit))


async def asubmit(pool: str, source_ids: list[str], sources_file: str | Path, warehouse: str,
                  data_path: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S, tries: int = DEFAULT_TRIES,
                  on_resubmit: Callable[[str, str, str], None] | None = None) -> PoolRun:
    from prefect.client.orchestration import get_client

    started = time.monotonic()
    ids = list(dict.fromkeys(source_ids))
    subs = {sid: Submission(sid) for sid in ids}
    entries = registry_entries(sources_file, ids)
    params = {sid: {"source_id": sid, "sources_file": str(Path(sources_file).resolve()), "warehouse": warehouse,
                    "data_path": data_path, "registry": entries.get(sid)} for sid in ids}  # each source's flow run
    token = uuid.uuid4().hex[:8]  # names this submission's flow runs (idempotency keys, a tag)
    async with get_client() as client:
        try:
            deployment_id = await ensure_pool(client, pool)
            outcomes: dict[str, dict[str, Any]] = {}
            for sid in ids:
                await _create_run(client, deployment_id, subs[sid], params[sid], token)
            await _watch(client, subs, outcomes, params, deployment_id, token, started + timeout, tries, on_resubmit)
        except PoolError:
            raise
        except Exception as exc:
            raise PoolError(f"Prefect API {_api_url()}: {type(exc).__name__}: {_first_line(exc)}") from None
        except BaseException:  # Ctrl-C / SIGTERM: the flow runs this submission started stop too
            await _cancel_unfinished(client, subs, "the submitter was interrupted")
            raise
    return PoolRun(pool, str(deployment_id), {sid: outcomes[sid] for sid in ids}, subs, time.monotonic() - started)


async def ensure_pool(client: Any, pool: str) -> Any:
    """The work pool (type process), the deployment and the crash automation; returns the deployment id.
    Each is created when missing and left alone otherwise (several submitters may race: all converge)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        found = await client.read_work_pool(pool)
    except ObjectNotFound:
        try:
            found = await client.create_work_pool(WorkPoolCreate(
                name=pool, type=POOL_TYPE, base_job_template=ProcessWorker.get_default_base_job_template(),
                description="wardwatch: one flow run per source (wardwatch run --work-pool; wardwatch worker --pool)"))
        except ObjectAlreadyExists:
            found = await client.read_work_pool(pool)
    if found.type != POOL_TYPE:
        raise PoolError(f"work pool {pool!r} is of type {found.type!r}; wardwatch needs a {POOL_TYPE!r} pool "
                        "(give another name, and a new pool is created)")
    deployment_id = await _deploy(pool)
    await ensure_automation(client, deployment_id)
    return deployment_id


async def _deploy(pool: str) -> Any:
    """Create or update the deployment of :func:`crawl_source_flow` on ``pool`` (no schedule). Through
    ``RunnerDeployment.aapply``: ``Flow.deploy`` would print its own table on stdout."""
    from prefect.deployments.runner import EntrypointType

    deployment = await crawl_source_flow.ato_deployment(
        name=DEPLOYMENT_NAME, work_pool_name=pool, entrypoint_type=EntrypointType.MODULE_PATH, tags=[TAG],
        description="wardwatch: crawl, extract and diff one source into a shared DuckLake warehouse",
        job_variables={"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(heartbeat_seconds())}})
    return await deployment.aapply(work_pool_name=pool)


def automation_spec(deployment_id: Any) -> Any:
    """Prefect's zombie-flow automation (docs: "Detect zombie flows"), limited to this deployment's flow
    runs: after each heartbeat, another heartbeat or a final state is expected within the window."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=AUTOMATION_NAME,
        description="Marks a wardwatch flow run Crashed when its heartbeats stop (its worker died); "
                    "`wardwatch run --work-pool` then submits its source again.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification({"prefect.resource.id": [f"prefect.deployment.{deployment_id}"],
                                                 "prefect.resource.role": "deployment"}),
            for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
            within=timedelta(seconds=zombie_after_seconds())),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message="no heartbeat: its worker stopped answering (marked by wardwatch's automation)")])


async def ensure_automation(client: Any, deployment_id: Any) -> None:
    """Create the crash automation, or bring an existing one (same name) up to date."""
    wanted = automation_spec(deployment_id)
    found = await client.read_automations_by_name(AUTOMATION_NAME)
    if not found:
        await client.create_automation(wanted)
        return
    current = found[0]
    same = (current.trigger.model_dump(mode="json", exclude={"id"}) == wanted.trigger.model_dump(mode="json", exclude={"id"})
            and [a.model_dump(mode="json") for a in current.actions] == [a.model_dump(mode="json") for a in wanted.actions]
            and current.enabled)
    if not same:
        await client.update_automation(current.id, wanted)


async def _create_run(client: Any, deployment_id: Any, sub: Submission, params: dict[str, Any], token: str) -> None:
    from prefect.deployments import arun_deployment

    attempt = len(sub.flow_runs) + 1
    run = await arun_deployment(
        deployment_id, client=client, parameters=params, timeout=0,
        flow_run_name=f"source-{sub.source_id}" + (f"-try{attempt}" if attempt > 1 else ""), as_subflow=False,
        tags=[TAG, f"submission-{token}"], idempotency_key=f"wardwatch-{token}-{sub.source_id}-{attempt}")
    sub.flow_runs.append(str(run.id))


async def _watch(client: Any, subs: dict[str, Submission], outcomes: dict[str, dict[str, Any]],
                 params: dict[str, dict[str, Any]],
                 deployment_id: Any, token: str, deadline: float, tries: int,
                 on_resubmit: Callable[[str, str, str], None] | None) -> None:
    """Poll the flow runs until every source has an outcome or the deadline passes."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    while len(outcomes) < len(subs):
        current = {s.flow_runs[-1]: s for s in subs.values() if s.source_id not in outcomes}
        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(current))),
                                           limit=len(current))
        for run in runs:
            sub = current[str(run.id)]
            state = run.state
            if state is None or not state.is_final():
                continue
            kind = state.type.value
            sub.states.append(state.name or kind)
            outcome = await _read_outcome(client, run) if kind in FINAL_OK else None
            # a worker that died (Crashed), or was stopped while it crawled (its crawl: interrupted): again
            gone = kind == "CRASHED" or (outcome or {}).get("status") == "interrupted"
            if gone and len(sub.flow_runs) < tries:
                if on_resubmit is not None:
                    on_resubmit(sub.source_id, str(run.id), _first_line_text(
                        state.message if outcome is None else outcome.get("reason")) or "crashed")
                await _create_run(client, deployment_id, sub, params[sub.source_id], token)
                continue
            if outcome is not None:
                if outcome.get("status") == "interrupted":  # on its worker; this run was not: a failure here
                    outcome = {**{k: v for k, v in outcome.items() if k != "signal"}, "status": "failed",
                               "reason": f"interrupted on its worker {len(sub.flow_runs)} times: {outcome.get('reason')}"}
                outcomes[sub.source_id] = outcome
            else:
                why = "crashed" if kind == "CRASHED" else kind.lower()
                outcomes[sub.source_id] = {
                    "status": "failed", "error": f"FlowRun{kind.title()}",
                    "reason": f"flow run {run.name} {why} ({_first_line_text(state.message) or 'no message'})"
                              + (f" after {len(sub.flow_runs)} tries" if kind == "CRASHED" else "")}
            if sub.source_id in outcomes:
                sub.outcome = runner.source_done(sub.source_id, outcomes[sub.source_id])
        if len(outcomes) == len(subs):
            break
        if time.monotonic() > deadline:
            late = [s for s in subs.values() if s.source_id not in outcomes]
            await _cancel_unfinished(client, {s.source_id: s for s in late}, "the submitter's --timeout passed")
            for sub in late:
                outcomes[sub.source_id] = runner.source_done(sub.source_id, {
                    "status": "failed", "error": "Timeout",
                    "reason": f"flow run {sub.flow_runs[-1]} did not finish in time (cancelled; "
                              "are workers running on the pool?)"})
            break
        await asyncio.sleep(POLL_S)


async def _read_outcome(client: Any, run: Any) -> dict[str, Any]:
    """The outcome the flow run left as its artifact; failed (with the state's message) when it left none."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    arts = await client.read_artifacts(artifact_filter=ArtifactFilter(
        key=ArtifactFilterKey(any_=[OUTCOME_KEY]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])), limit=1)
    for art in arts:
        try:
            data = json.loads(art.data) if isinstance(art.data, str) else art.data
            outcome = json.loads(data[0]["outcome"])
        except (ValueError, TypeError, KeyError, IndexError):
            continue
        outcome["flow_run"] = {"id": str(run.id), "name": run.name}
        return outcome
    message = _first_line_text(run.state.message) if run.state else None
    return {"status": "failed", "error": f"FlowRun{run.state.type.value.title()}" if run.state else "FlowRun",
            "reason": f"flow run {run.name} ended {run.state.name if run.state else '?'} without an outcome "
                      f"({message or 'no message'})", "flow_run": {"id": str(run.id), "name": run.name}}


async def _cancel_unfinished(client: Any, subs: dict[str, Submission], why: str) -> None:
    """Cancel the latest flow run of each of ``subs`` that has not ended (best effort, bounded)."""
    from prefect.states import Cancelled, Cancelling

    async def one(flow_run_id: str) -> None:
        try:
            run = await client.read_flow_run(flow_run_id)
            if run.state is None or run.state.is_final():
                return
            new = Cancelled(message=why) if run.state.is_scheduled() or run.state.is_pending() else Cancelling(message=why)
            await client.set_flow_run_state(flow_run_id, new, force=True)
        except Exception:
            pass

    ids = [s.flow_runs[-1] for s in subs.values() if s.flow_runs]
    if ids:
        try:
            await asyncio.wait_for(asyncio.gather(*(one(fid) for fid in ids)), timeout=5.0)
        except (TimeoutError, Exception):
            pass


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or "(PREFECT_API_URL unset)"


def _first_line(exc: BaseException) -> str:
    return _first_line_text(str(exc)) or type(exc).__name__


def _first_line_text(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
