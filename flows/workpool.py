"""Distributed runs on a Prefect work pool: one flow run per source (or per shard), run by whichever worker is free.

``wardwatch run --work-pool NAME`` calls :func:`submit`; ``wardwatch worker --pool NAME`` (a wrapper over
``prefect worker start --type process``) runs on each machine. Everything that queues, dispatches and
watches the work is Prefect's; wardwatch only describes it:

* a **work pool** of type ``process`` (created when missing);
* one **deployment** of :func:`crawl_source_flow`, entrypoint ``flows.workpool.crawl_source_flow`` (a
  module path, so every machine with wardwatch installed can run it: no code storage, no shared folder);
* one **flow run per source** (``run_deployment``), picked up by the pool's workers — or, with
  ``wardwatch run --work-pool NAME --pool-shards N``, one flow run per **registry shard** K/N
  (:func:`crawl_shard_flow`, deployment ``wardwatch-shard``): one batch crawl of the shard's sources (one
  crawl process, ``--concurrency`` hosts at once, as ``wardwatch run`` does on one machine), then each
  source's extract and diff as soon as its crawl has ended. A flow run costs ~20-30 s of Prefect overhead;
  N shards pay it N times instead of once per source;
* an **automation** that marks a flow run ``Crashed`` when its heartbeats stop (Prefect's documented
  zombie-flow detection: the flow runs of the deployment emit a heartbeat every
  ``$WARDWATCH_HEARTBEAT_SECONDS``; silence for ``$WARDWATCH_ZOMBIE_AFTER_SECONDS`` is a dead worker).
  A source (or shard) whose flow run ends Crashed (or whose crawl was interrupted on a worker that was being
  stopped) is submitted again (up to ``tries`` flow runs in all), so a live worker picks it up. Nothing else
  is retried here: each stage keeps the one retry policy of ``flows/tasks.py``.

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
import contextvars
import json
import os
import socket
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_table_artifact

from flows.tasks import crawl_batch_task, prefect_step
from spiders.registry import Shard
from spiders.settings import DEFAULT_CONCURRENCY
from wardwatch import runner
from wardwatch.runner import LOCK_TIMEOUT_S, MAX_PARALLEL, RunOptions

FLOW_NAME = "wardwatch-source-on-pool"
DEPLOYMENT_NAME = "wardwatch-source"
ENTRYPOINT = "flows.workpool.crawl_source_flow"
SHARD_FLOW_NAME = "wardwatch-shard-on-pool"
SHARD_DEPLOYMENT_NAME = "wardwatch-shard"
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


@flow(name=SHARD_FLOW_NAME, flow_run_name="shard-{shard}", persist_result=False)
async def crawl_shard_flow(shard: str, source_ids: list[str], sources_file: str, warehouse: str,
                           data_path: str | None = None, registry: str | None = None,
                           concurrency: int = DEFAULT_CONCURRENCY, max_parallel: int = MAX_PARALLEL,
                           lock_timeout: float = LOCK_TIMEOUT_S) -> dict[str, Any]:
    """The sources of registry shard ``shard`` (K/N; ``source_ids``, their entries as TOML in ``registry``)
    into the DuckLake warehouse: one batch crawl (one crawl process, ``concurrency`` hosts at once), each
    source's extract and diff starting as soon as its own crawl has ended (``max_parallel`` at a time), every
    stage a task under the one retry policy — what ``wardwatch run --shard K/N`` does on one machine, without
    its report. Every source's outcome is a row of the outcome artifact; any failed source fails the run."""
    from warehouse.db import Warehouse

    logger = get_run_logger()
    where = {"name": os.environ.get("PREFECT__WORKER_NAME"), "host": socket.gethostname(), "pid": os.getpid()}
    ids = list(dict.fromkeys(source_ids))
    with tempfile.TemporaryDirectory(prefix="wardwatch-registry-") as folder:
        if registry is not None:
            sources_file = str(Path(folder) / "sources.toml")
            Path(sources_file).write_text(registry, encoding="utf-8")
        try:
            lake = Warehouse(warehouse, data_path=data_path)
            opts = RunOptions(Path(sources_file), Path(lake), ids, lock_timeout=lock_timeout,
                              max_parallel=max(1, max_parallel), crawl_concurrency=max(1, concurrency))
            await asyncio.to_thread(runner.prepare, opts)
            results = await asyncio.to_thread(run_shard, opts, ids)
        except Exception as exc:  # nothing of the shard ran (the lake, the registry): every source failed so
            results = {sid: runner.failure(sid, exc) for sid in ids}
    for result in results.values():
        result["worker"] = where
    failed = [sid for sid, r in results.items() if r["status"] != "ok"]
    await acreate_table_artifact(table=[outcome_row(sid, results[sid]) for sid in ids], key=OUTCOME_KEY,
                                 description=f"wardwatch: shard {shard}, {len(ids) - len(failed)} of {len(ids)} ok")
    logger.info("shard %s: %d of %d source(s) ok", shard, len(ids) - len(failed), len(ids))
    if failed:
        first = results[failed[0]]
        raise SourceFailed(f"shard {shard}: {len(failed)} of {len(ids)} sources failed (first: {failed[0]}: "
                           f"{first.get('reason')})")
    return {"shard": shard, "sources": len(ids)}


def run_shard(opts: RunOptions, ids: list[str]) -> dict[str, dict[str, Any]]:
    """``runner.run``'s batch mode without ``runner.finish`` (the submitter runs that once for every shard):
    one crawl child for the sources whose lock is free (the crawl a task of its own), each source's stages as
    soon as its crawl has ended. Each source's outcome, in ``ids`` order. Called in the flow's thread: the
    stages' threads run in copies of its context, so their tasks belong to this flow run."""
    context = contextvars.copy_context()
    pool = ThreadPoolExecutor(max_workers=max(1, opts.max_parallel))
    futures: dict[str, Future[dict[str, Any]]] = {}
    batch = runner.Batch(opts, ids)

    def pipeline(sid: str, of: runner.Batch | None) -> dict[str, Any]:
        return runner.outcome(sid, lambda: runner.run_source(opts, sid, prefect_step, batch=of))

    def start(sid: str, of: runner.Batch | None) -> None:
        futures[sid] = pool.submit(context.copy().run, pipeline, sid, of)

    try:
        for sid in batch.busy:  # another run on this machine holds it: it waits for the lock, and crawls alone
            start(sid, None)
        locked = batch.locked
        if locked:
            context.copy().run(crawl_batch_task, len(locked), batch.concurrency,
                               lambda: batch.crawl(lambda sid: start(sid, batch)))
        return {sid: futures[sid].result() for sid in ids}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        batch.close()


def shard_units(source_ids: list[str], count: int) -> dict[str, list[str]]:
    """``source_ids`` split into ``count`` registry shards (``spiders.registry.Shard``: a CRC-32 of the id, so
    shard K/N of a pool run holds what ``wardwatch run --shard K/N`` would), in the order given; empty shards
    are left out. Keyed by the shard's name, ``K/N``."""
    shards = [Shard(k, count) for k in range(1, count + 1)]
    out = {str(shard): [sid for sid in source_ids if shard.contains(sid)] for shard in shards}
    return {name: ids for name, ids in out.items() if ids}


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
    """What one unit of work's flow runs did — a source, or a shard (``shard`` set, ``sources`` its sources):
    every flow run id, in order, and its final state."""

    source_id: str  # the source; for a shard its name, "shard-K/N"
    flow_runs: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    outcome: dict[str, Any] | None = None
    shard: str | None = None
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sources:
            self.sources = [self.source_id]

    def to_json(self) -> dict[str, Any]:
        return {"source_id": self.source_id, "flow_runs": [{"id": fid, "state": state} for fid, state in
                                                            zip(self.flow_runs, self.states + [None] * len(self.flow_runs))],
                "resubmitted": max(0, len(self.flow_runs) - 1),
                **({"shard": self.shard, "sources": list(self.sources)} if self.shard else {})}


@dataclass
class PoolRun:
    """:func:`submit`'s answer: each source's outcome (as ``runner.outcome`` shapes them), the submission
    (unit of work) each source was part of, and every unit once (``units``: one per source, or per shard)."""

    pool: str
    deployment_id: str
    sources: dict[str, dict[str, Any]]
    submissions: dict[str, Submission]
    elapsed_s: float
    units: list[Submission] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pool": self.pool, "deployment_id": self.deployment_id,
                               "elapsed_s": round(self.elapsed_s, 1),
                               "sources": {sid: s.to_json() for sid, s in self.submissions.items()}}
        if any(u.shard for u in self.units):
            out["shards"] = [u.to_json() for u in self.units]
        return out


def submit(pool: str, source_ids: list[str], sources_file: str | Path, warehouse: str, data_path: str | None = None,
           *, timeout: float = DEFAULT_TIMEOUT_S, tries: int = DEFAULT_TRIES, shards: int | None = None,
           concurrency: int | None = None,
           on_resubmit: Callable[[str, str, str], None] | None = None) -> PoolRun:
    """Run ``source_ids`` on the work pool ``pool`` and wait (up to ``timeout`` seconds) for every one.

    Sets up the pool, the deployments and the crash automation when missing, creates one flow run per
    source — or, with ``shards`` N, one flow run per registry shard K/N (:func:`crawl_shard_flow`, its batch
    crawl ``concurrency`` hosts at once) — and collects each source's outcome as its flow run ends (telling
    ``runner.source_done``, so `wardwatch run` prints a line per source). A flow run that ends Crashed is
    submitted again while its source (shard) has tries left (``on_resubmit(name, old_flow_run_id, message)``
    is told). Flow runs still unfinished at the deadline are cancelled and reported failed. Raises PoolError
    when the API cannot be used."""
    return asyncio.run(asubmit(pool, source_ids, sources_file, warehouse, data_path, timeout=timeout, tries=tries,
                               shards=shards, concurrency=concurrency, on_resubmit=on_resubmit))


async def asubmit(pool: str, source_ids: list[str], sources_file: str | Path, warehouse: str,
                  data_path: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S, tries: int = DEFAULT_TRIES,
                  shards: int | None = None, concurrency: int | None = None,
                  on_resubmit: Callable[[str, str, str], None] | None = None) -> PoolRun:
    from prefect.client.orchestration import get_client

    started = time.monotonic()
    ids = list(dict.fromkeys(source_ids))
    entries = registry_entries(sources_file, ids)
    registry_path = str(Path(sources_file).resolve())
    units: dict[str, Submission] = {}
    params: dict[str, dict[str, Any]] = {}  # each unit's flow run parameters
    if shards is None:
        for sid in ids:
            units[sid] = Submission(sid)
            params[sid] = {"source_id": sid, "sources_file": registry_path, "warehouse": warehouse,
                           "data_path": data_path, "registry": entries.get(sid)}
    else:
        for shard, members in shard_units(ids, shards).items():
            name = f"shard-{shard}"
            units[name] = Submission(name, shard=shard, sources=members)
            params[name] = {"shard": shard, "source_ids": members, "sources_file": registry_path,
                            "warehouse": warehouse, "data_path": data_path,
                            "registry": "".join(entries[sid] for sid in members if sid in entries),
                            "concurrency": concurrency or DEFAULT_CONCURRENCY}
    token = uuid.uuid4().hex[:8]  # names this submission's flow runs (idempotency keys, a tag)
    async with get_client() as client:
        try:
            deployments = await ensure_pool(client, pool)
            deployment_id = deployments[SHARD_DEPLOYMENT_NAME if shards is not None else DEPLOYMENT_NAME]
            outcomes: dict[str, dict[str, Any]] = {}
            for name, unit in units.items():
                await _create_run(client, deployment_id, unit, params[name], token)
            await _watch(client, units, outcomes, params, deployment_id, token, started + timeout, tries, on_resubmit)
        except PoolError:
            raise
        except Exception as exc:
            raise PoolError(f"Prefect API {_api_url()}: {type(exc).__name__}: {_first_line(exc)}") from None
        except BaseException:  # Ctrl-C / SIGTERM: the flow runs this submission started stop too
            await _cancel_unfinished(client, units, "the submitter was interrupted")
            raise
    by_source = {sid: unit for unit in units.values() for sid in unit.sources}
    return PoolRun(pool, str(deployment_id), {sid: outcomes[sid] for sid in ids}, {sid: by_source[sid] for sid in ids},
                   time.monotonic() - started, list(units.values()))


async def ensure_pool(client: Any, pool: str) -> dict[str, Any]:
    """The work pool (type process), both deployments (per source, per shard) and the crash automation;
    returns the deployment ids by deployment name. Each is created when missing and left alone otherwise
    (several submitters may race: all converge)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        found = await client.read_work_pool(pool)
    except ObjectNotFound:
        try:
            found = await client.create_work_pool(WorkPoolCreate(
                name=pool, type=POOL_TYPE, base_job_template=ProcessWorker.get_default_base_job_template(),
                description="wardwatch: one flow run per source or shard (wardwatch run --work-pool; "
                            "wardwatch worker --pool)"))
        except ObjectAlreadyExists:
            found = await client.read_work_pool(pool)
    if found.type != POOL_TYPE:
        raise PoolError(f"work pool {pool!r} is of type {found.type!r}; wardwatch needs a {POOL_TYPE!r} pool "
                        "(give another name, and a new pool is created)")
    deployments = {DEPLOYMENT_NAME: await _deploy(pool, crawl_source_flow, DEPLOYMENT_NAME,
                                                  "wardwatch: crawl, extract and diff one source into a shared "
                                                  "DuckLake warehouse"),
                   SHARD_DEPLOYMENT_NAME: await _deploy(pool, crawl_shard_flow, SHARD_DEPLOYMENT_NAME,
                                                        "wardwatch: one batch crawl of a registry shard, then each "
                                                        "source's extract and diff, into a shared DuckLake warehouse")}
    await ensure_automation(client, *deployments.values())
    return deployments


async def _deploy(pool: str, which: Any, name: str, description: str) -> Any:
    """Create or update the deployment ``name`` of the flow ``which`` on ``pool`` (no schedule). Through
    ``RunnerDeployment.aapply``: ``Flow.deploy`` would print its own table on stdout."""
    from prefect.deployments.runner import EntrypointType

    deployment = await which.ato_deployment(
        name=name, work_pool_name=pool, entrypoint_type=EntrypointType.MODULE_PATH, tags=[TAG],
        description=description,
        job_variables={"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(heartbeat_seconds())}})
    return await deployment.aapply(work_pool_name=pool)


def automation_spec(*deployment_ids: Any) -> Any:
    """Prefect's zombie-flow automation (docs: "Detect zombie flows"), limited to the flow runs of these
    deployments: after each heartbeat, another heartbeat or a final state is expected within the window."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=AUTOMATION_NAME,
        description="Marks a wardwatch flow run Crashed when its heartbeats stop (its worker died); "
                    "`wardwatch run --work-pool` then submits its source (or shard) again.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification({"prefect.resource.id": [f"prefect.deployment.{d}" for d in deployment_ids],
                                                 "prefect.resource.role": "deployment"}),
            for_each={"prefect.resource.id"}, posture=Posture.Proactive, threshold=1,
            within=timedelta(seconds=zombie_after_seconds())),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message="no heartbeat: its worker stopped answering (marked by wardwatch's automation)")])


async def ensure_automation(client: Any, *deployment_ids: Any) -> None:
    """Create the crash automation, or bring an existing one (same name) up to date."""
    wanted = automation_spec(*deployment_ids)
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
    base = f"shard-{sub.shard.replace('/', '-of-')}" if sub.shard else f"source-{sub.source_id}"
    run = await arun_deployment(
        deployment_id, client=client, parameters=params, timeout=0,
        flow_run_name=base + (f"-try{attempt}" if attempt > 1 else ""), as_subflow=False,
        tags=[TAG, f"submission-{token}"], idempotency_key=f"wardwatch-{token}-{base}-{attempt}")
    sub.flow_runs.append(str(run.id))


async def _watch(client: Any, subs: dict[str, Submission], outcomes: dict[str, dict[str, Any]],
                 params: dict[str, dict[str, Any]],
                 deployment_id: Any, token: str, deadline: float, tries: int,
                 on_resubmit: Callable[[str, str, str], None] | None) -> None:
    """Poll the flow runs until every source of every unit has an outcome or the deadline passes."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    def finished(sub: Submission) -> bool:
        return all(sid in outcomes for sid in sub.sources)

    def done(sub: Submission, found: dict[str, dict[str, Any]]) -> None:
        for sid in sub.sources:
            outcomes[sid] = runner.source_done(sid, found[sid])
        sub.outcome = outcomes[sub.sources[0]] if len(sub.sources) == 1 else {
            "status": "ok" if all(outcomes[s]["status"] == "ok" for s in sub.sources) else "failed"}

    while not all(finished(s) for s in subs.values()):
        current = {s.flow_runs[-1]: s for s in subs.values() if not finished(s)}
        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(current))),
                                           limit=len(current))
        for run in runs:
            sub = current[str(run.id)]
            state = run.state
            if state is None or not state.is_final():
                continue
            kind = state.type.value
            sub.states.append(state.name or kind)
            found = await _read_outcomes(client, run, sub.sources) if kind in FINAL_OK else None
            stopped = [o for o in (found or {}).values() if o.get("status") == "interrupted"]
            # a worker that died (Crashed), or was stopped while it crawled (its crawl: interrupted): again
            gone = kind == "CRASHED" or bool(stopped)
            if gone and len(sub.flow_runs) < tries:
                if on_resubmit is not None:
                    on_resubmit(sub.source_id, str(run.id), _first_line_text(
                        state.message if found is None else stopped[0].get("reason")) or "crashed")
                await _create_run(client, deployment_id, sub, params[sub.source_id], token)
                continue
            if found is not None:
                for sid, outcome in list(found.items()):
                    if outcome.get("status") == "interrupted":  # on its worker; this run was not: a failure here
                        found[sid] = {**{k: v for k, v in outcome.items() if k != "signal"}, "status": "failed",
                                      "reason": f"interrupted on its worker {len(sub.flow_runs)} times: "
                                                f"{outcome.get('reason')}"}
            else:
                why = "crashed" if kind == "CRASHED" else kind.lower()
                failed = {"status": "failed", "error": f"FlowRun{kind.title()}",
                          "reason": f"flow run {run.name} {why} ({_first_line_text(state.message) or 'no message'})"
                                    + (f" after {len(sub.flow_runs)} tries" if kind == "CRASHED" else "")}
                found = {sid: dict(failed) for sid in sub.sources}
            done(sub, found)
        if all(finished(s) for s in subs.values()):
            break
        if time.monotonic() > deadline:
            late = {name: s for name, s in subs.items() if not finished(s)}
            await _cancel_unfinished(client, late, "the submitter's --timeout passed")
            for sub in late.values():
                done(sub, {sid: {"status": "failed", "error": "Timeout",
                                 "reason": f"flow run {sub.flow_runs[-1]} did not finish in time (cancelled; "
                                           "are workers running on the pool?)"} for sid in sub.sources})
            break
        await asyncio.sleep(POLL_S)


async def _read_outcomes(client: Any, run: Any, source_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each source's outcome, from the rows of the outcome artifact the flow run left; a source without a row
    failed (with the state's message)."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    arts = await client.read_artifacts(artifact_filter=ArtifactFilter(
        key=ArtifactFilterKey(any_=[OUTCOME_KEY]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])), limit=1)
    found: dict[str, dict[str, Any]] = {}
    for art in arts:
        try:
            data = json.loads(art.data) if isinstance(art.data, str) else art.data
            rows = list(data)
        except (ValueError, TypeError):
            continue
        for row in rows:
            try:
                sid, outcome = row["source_id"], json.loads(row["outcome"])
            except (ValueError, TypeError, KeyError):
                continue
            if sid in source_ids:
                outcome["flow_run"] = {"id": str(run.id), "name": run.name}
                found[sid] = outcome
    message = _first_line_text(run.state.message) if run.state else None
    for sid in source_ids:
        found.setdefault(sid, {
            "status": "failed", "error": f"FlowRun{run.state.type.value.title()}" if run.state else "FlowRun",
            "reason": f"flow run {run.name} ended {run.state.name if run.state else '?'} without an outcome "
                      f"({message or 'no message'})", "flow_run": {"id": str(run.id), "name": run.name}})
    return found


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
