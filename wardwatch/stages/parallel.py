"""Pure work on Dask: the extraction calls of ``wardwatch reextract --workers N`` / ``--dask ADDRESS``.

:class:`Cluster` is either a ``distributed.LocalCluster`` of N worker *processes* with one thread each
(Sudachi and the PDF layout code are CPU-bound and hold the GIL, so threads would not help), started and
closed here, or an existing Dask scheduler at ``tcp://host:port`` (``Client(address)``; its workers must
run the same wardwatch: the caller checks with :meth:`Cluster.expect_same`). :meth:`Cluster.map_batches`
runs one function call per item on the workers and hands back each batch's results in order, while the
caller keeps doing the warehouse writes in its own process — so the stored rows are those of a serial run.

Memory stays bounded: a batch's arguments (raw bytes) are read only when the batch is submitted, and at
most ``in_flight`` batches are submitted and not yet handed back; they are scattered straight to the
workers, and each task (one large call, or a few small ones) runs where its bytes are. A stop signal (see
:mod:`wardwatch.stages.interrupt`) is seen within :data:`POLL_S` while waiting; leaving the ``with``
block closes the client and the local cluster (bounded, also from the interrupt watchdog). A worker
that dies (kill -9, out of memory) is replaced by its nanny; the calls whose bytes or results it took
with it are scattered and run again (:data:`RESUBMITS`, counted in :attr:`Cluster.retried`). A task that
kills every worker trying it (Dask's ``allowed-failures``), work lost again and again, or an existing
cluster left without workers raise :class:`ClusterError` (one line) — nothing of the batch concerned
was handed back, so nothing of it is stored.

No Prefect here (the stage layer does not know it); plain ``dask.distributed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from wardwatch.stages import interrupt
from wardwatch.stages.errors import StageError

T = TypeVar("T")

IN_FLIGHT = 2  # batches submitted and not yet handed back: one running, one queued behind it
RESUBMITS = 3  # a batch's lost tasks are run again this many times at most
TASK_BYTES = 1024 * 1024  # a call with this many bytes of arguments (a PDF) is a task of its own ...
TASK_CALLS = 10  # ... smaller ones (pages) go together, this many at most
POLL_S = 0.5  # how often a wait looks at stop signals and at the cluster's workers
CONNECT_TIMEOUT_S = 10.0  # reaching an existing scheduler, and its first worker
NO_WORKERS_S = 60.0  # an existing cluster with no worker for this long: the work cannot go on
CLOSE_S = 10.0  # closing the client and the local cluster
LOCAL_HOST = "127.0.0.1"  # a local cluster listens on loopback only
# A local cluster's workers only run CPU-bound tasks, one at a time: Dask's statistical profiler (a thread
# sampling the task's stack every 10 ms) and its frequent housekeeping on the worker's event loop take the GIL
# from the extraction again and again, for a dashboard nobody sees (measured: the workers' other threads used
# about half the CPU with these settings).
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "5s", "distributed.worker.memory.monitor-interval": "1s"}


class ClusterError(StageError):
    """The Dask cluster could not be used or lost the work; the message is one line naming it."""


def check_workers(workers: int) -> int:
    """``workers`` if it is a usable number of local worker processes (>= 1), else ValueError."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"--workers {workers}: must be a whole number of worker processes, at least 1")
    return workers


def check_address(address: str) -> str:
    """A Dask scheduler address as ``tcp://host:port`` (``host:port`` gets ``tcp://``), else ValueError."""
    text = (address or "").strip()
    if "://" not in text:
        text = f"tcp://{text}"
    scheme, _, rest = text.partition("://")
    if scheme != "tcp":  # (tls:// would need certificates wardwatch has no option for)
        raise ValueError(f"--dask {address}: not a Dask scheduler address (expected tcp://HOST:PORT)")
    host, port = _host_port(rest, address)
    return f"tcp://{'[' + host + ']' if ':' in host else host}:{port}"


def _host_port(rest: str, shown: str) -> tuple[str, int]:
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in rest:
        raise ValueError(f"--dask {shown}: not a Dask scheduler address (expected tcp://HOST:PORT)")
    return host, int(port)


def dask_setup(worker: Any) -> None:
    """Runs in each local worker process as it starts (Dask preload): Ctrl-C in a terminal goes to the whole
    process group, and it is the calling process that stops the work and closes the cluster — a worker
    that died of the SIGINT first would only print a traceback (and be restarted by its nanny)."""
    import signal

    with contextlib.suppress(ValueError):  # not the main thread: leave the handler alone
        signal.signal(signal.SIGINT, signal.SIG_IGN)


async def _identity(address: str, timeout: float) -> dict[str, Any]:
    """The scheduler's answer to Dask's ``identity`` message, every step bounded by ``timeout``; TimeoutError
    when nothing answers (a port that accepts connections but is no Dask scheduler), ValueError when what
    answers is not a scheduler."""
    from distributed.comm import connect

    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    try:
        await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
        reply = await asyncio.wait_for(comm.read(), timeout)
    finally:
        comm.abort()
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("what answers there is not a Dask scheduler")
    return reply


def _call_all(fn: Callable[..., Any], arguments: list[tuple]) -> list[Any]:
    """``[fn(*args) for args in arguments]`` (runs on the workers: one task's calls)."""
    return [fn(*args) for args in arguments]


def _worker_value(module: str, name: str) -> Any:
    """``module.name`` as a worker sees it (runs on the workers)."""
    import importlib

    return getattr(importlib.import_module(module), name)


class Cluster:
    """Dask workers for pure calls: ``Cluster(workers=N)`` starts a local cluster, ``Cluster(address=…)``
    uses an existing one. A context manager; :attr:`workers` is how many workers it had at the start."""

    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        self.address = check_address(address) if address is not None else None
        self.requested = check_workers(workers) if address is None else None
        self.workers = 0
        self.client: Any = None
        self._local: Any = None
        self._unregister: Callable[[], None] | None = None
        self._no_workers_since: float | None = None
        self.retried = 0  # calls run again because a worker died with their data or result
        self._direct = address is None  # data straight to the workers: sure to work on a local cluster only

    @property
    def label(self) -> str:
        """How the cluster is named in messages: its address, or 'the local Dask cluster (N workers)'."""
        return f"the Dask cluster at {self.address}" if self.address else f"the local Dask cluster ({self.requested} workers)"

    # ------------------------------------------------------------------ start and close

    def __enter__(self) -> Cluster:
        self._unregister = interrupt.on_exit(self.close)  # the watchdog closes it too, should a stop hang
        try:
            if self.address:
                self._connect()
            else:
                self._start_local()
        except ClusterError:
            self.close()
            raise
        except Exception as exc:  # e.g. no worker process could be started
            self.close()
            raise ClusterError(f"{self.label}: cannot start it: {type(exc).__name__}: {_first_line(exc)}") from None
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_local(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        with dask.config.set(LOCAL_CONFIG):  # the nannies hand it to their worker processes, restarts included
            self._local = LocalCluster(n_workers=self.requested, threads_per_worker=1, processes=True,
                                       host=LOCAL_HOST,
                                       dashboard_address=None, silence_logs=logging.CRITICAL,
                                       # no dashboard; the scheduler's own HTTP endpoints on a free loopback port
                                       scheduler_kwargs={"dashboard_address": f"{LOCAL_HOST}:0"},
                                       preload=["wardwatch.stages.parallel"])
        self.client = Client(self._local, set_as_default=False)
        self.workers = len(self.client.scheduler_info()["workers"])

    def _connect(self) -> None:
        from distributed import Client

        assert self.address is not None
        host, port = _host_port(self.address.removeprefix("tcp://"), self.address)
        try:  # a refused or unroutable port is one line at once, not Dask's retries until its timeout
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise ClusterError(f"{self.address}: cannot reach the Dask scheduler: {exc.strerror or exc}") from None
        try:  # distributed's Client waits forever on a port that accepts but never answers: ask first
            asyncio.run(_identity(self.address, CONNECT_TIMEOUT_S))
        except TimeoutError:
            raise ClusterError(f"{self.address}: no Dask scheduler answers there "
                               f"(nothing within {CONNECT_TIMEOUT_S:g} s)") from None
        except Exception as exc:
            raise ClusterError(f"{self.address}: cannot reach the Dask scheduler: {_first_line(exc)}") from None
        try:
            self.client = Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"{self.address}: cannot reach the Dask scheduler: {_first_line(exc)}") from None
        try:
            self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise ClusterError(f"{self.address}: the Dask cluster has no workers "
                               f"(none joined within {CONNECT_TIMEOUT_S:g} s)") from None
        self.workers = len(self.client.scheduler_info()["workers"])

    def close(self) -> None:
        """Close the client and the local cluster (each bounded by CLOSE_S); idempotent, never raises."""
        client, local, self.client, self._local = self.client, self._local, None, None
        if self._unregister:
            self._unregister()
            self._unregister = None
        if client is not None:
            interrupt.bounded(client.close, CLOSE_S)
        if local is not None:
            interrupt.bounded(local.close, CLOSE_S)

    # ------------------------------------------------------------------ the work

    def expect_same(self, module: str, name: str, expected: Any) -> None:
        """Fail unless every worker has ``module.name == expected`` (e.g. the extractor version: facts computed
        by other code must not be stored under this version); also fails when a worker cannot import it."""
        try:
            seen = self.client.run(_worker_value, module, name)
        except Exception as exc:
            raise ClusterError(f"{self.label}: its workers cannot run wardwatch: {_first_line(exc)}") from None
        wrong = {w: v for w, v in seen.items() if v != expected}
        if wrong:
            worker, value = sorted(wrong.items())[0]
            raise ClusterError(f"{self.label}: worker {worker} has {module}.{name} = {value!r}, this process "
                               f"{expected!r} (run the same wardwatch on every worker)")

    def map_batches(self, fn: Callable[..., Any], batches: Iterable[tuple[T, list[tuple[str, tuple]]]],
                    *, in_flight: int = IN_FLIGHT) -> Iterator[tuple[T, list[Any]]]:
        """``(tag, [fn(*args) for name, args in calls])`` for each ``(tag, calls)`` of ``batches``, in order,
        the calls run on the workers (``name`` is what an error message names). ``batches`` is read lazily:
        a batch is taken (its arguments built) only when fewer than ``in_flight`` are submitted and not yet
        handed back.

        A batch's calls become tasks (:meth:`_group`: one per call with large arguments, a few small calls
        together), whose arguments are scattered to the workers first — a local cluster's straight from this
        process to each worker, not through the scheduler (shipping raw bytes inside the tasks cost three
        times the CPU) — and each task runs where its arguments are (Dask moves it when a worker runs out of
        work)."""
        source = iter(batches)
        queue: deque[tuple[T, list[tuple[str, list[tuple]]], list[Any], list[Any]]] = deque()
        exhausted = False
        try:
            while True:
                while not exhausted and len(queue) < max(1, in_flight):
                    batch = next(source, None)
                    if batch is None:
                        exhausted = True
                        break
                    tag, calls = batch
                    del batch
                    tasks = self._group(calls)
                    del calls
                    queue.append((tag, tasks, *self._submit(fn, [args for _, args in tasks])))
                if not queue:
                    return
                tag, tasks, futures, data = queue.popleft()
                results = self._results(fn, tasks, futures, data)
                del tasks, futures, data  # released here and on the workers
                yield tag, [result for part in results for result in part]
        finally:
            for _, _, futures, data in queue:  # an error or a stop: drop what is still queued
                with contextlib.suppress(Exception):
                    self.client.cancel([*futures, *data])

    def _group(self, calls: list[tuple[str, tuple]]) -> list[tuple[str, list[tuple]]]:
        """Consecutive calls put together into tasks, ``(name, [args, …])``: a call whose byte arguments reach
        TASK_BYTES alone (a PDF: its own task, for an even spread), small ones up to TASK_CALLS per task (a task
        costs a few milliseconds of Dask bookkeeping, as much as extracting a short page), fewer when the batch
        is short so that every worker gets some."""
        most = max(1, min(TASK_CALLS, -(-len(calls) // (2 * max(1, self.workers)))))
        groups: list[list[tuple[str, tuple]]] = []
        size = 0
        for name, args in calls:
            n = sum(len(a) for a in args if isinstance(a, (bytes, bytearray, memoryview)))
            if not groups or len(groups[-1]) >= most or size + n > TASK_BYTES:
                groups.append([])
                size = 0
            groups[-1].append((name, args))
            size += n
        return [(g[0][0] if len(g) == 1 else f"{g[0][0]} (in a task with {len(g) - 1} more)", [a for _, a in g])
                for g in groups]

    def _submit(self, fn: Callable[..., Any], arguments: list[list[tuple]]) -> tuple[list[Any], list[Any]]:
        """Scatter each task's ``arguments`` and submit it: (task futures, data futures)."""
        data = self.client.scatter(arguments, hash=False, direct=self._direct)
        return [self.client.submit(_call_all, fn, args, pure=False) for args in data], data

    def _results(self, fn: Callable[..., Any], tasks: list[tuple[str, list[tuple]]], futures: list[Any],
                 data: list[Any]) -> list[list[Any]]:
        """Each task's results, in order. Tasks whose data or result a dead worker took with it (their futures
        come back cancelled) are scattered and run again, up to RESUBMITS times; errors raise ClusterError."""
        losses: Counter[int] = Counter()
        for attempt in range(RESUBMITS + 1):
            lost = self._wait(futures, [name for name, _ in tasks])
            if not lost:
                try:
                    return self.client.gather(futures, direct=self._direct)
                except Exception as exc:  # a worker died after finishing: the results it held are gone too
                    lost = [i for i, future in enumerate(futures) if future.status != "finished"]
                    if not lost:
                        raise ClusterError(f"{self.label}: lost the results of a batch: {_first_line(exc)}; "
                                           "nothing of this batch was stored") from None
            losses.update(lost)
            if attempt == RESUBMITS:  # name the task lost every time: likely the one that kills its workers
                worst = [tasks[i][0] for i in lost if losses[i] == attempt + 1] or [tasks[lost[0]][0]]
                more = f" (and {len(worst) - 1} more)" if len(worst) > 1 else ""
                raise ClusterError(f"{worst[0]}{more}: {self.label} lost the work on it {attempt + 1} times (a worker "
                                   "died, or the scheduler went away); nothing of its batch was stored")
            self.retried += sum(len(tasks[i][1]) for i in lost)
            again, again_data = self._submit(fn, [tasks[i][1] for i in lost])
            for i, future, held in zip(lost, again, again_data):
                futures[i], data[i] = future, held
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, futures: list[Any], names: list[str]) -> list[int]:
        """Wait until every future is done (stop signals and the cluster's workers looked at every POLL_S); the
        indexes of those that came back cancelled. A task that failed raises ClusterError naming its call."""
        from distributed import wait
        from distributed.client import FuturesCancelledError

        while True:
            interrupt.check()
            try:
                with self.client.as_current():  # this client, not a process-wide default one
                    wait(futures, timeout=POLL_S)
                break
            except TimeoutError:
                self._check_alive()
            except FuturesCancelledError:  # all done, some of them cancelled
                break
        for future, name in zip(futures, names):
            if future.status == "error":
                raise ClusterError(self._explain(future.exception(), name)) from None
        return [i for i, future in enumerate(futures) if future.status == "cancelled"]

    def _check_alive(self) -> None:
        """An existing cluster with no worker left for NO_WORKERS_S cannot finish: fail instead of waiting forever
        (a local cluster's nannies restart dead workers themselves)."""
        if self.address is None:
            return
        try:
            n = len(self.client.scheduler_info()["workers"])
        except Exception:
            n = 0
        if n:
            self._no_workers_since = None
            return
        now = time.monotonic()
        self._no_workers_since = self._no_workers_since or now
        if now - self._no_workers_since > NO_WORKERS_S:
            raise ClusterError(f"{self.label}: no worker left for {NO_WORKERS_S:g} s; nothing of this batch was stored")

    def _explain(self, exc: BaseException | None, name: str) -> str:
        from distributed.scheduler import KilledWorker

        if isinstance(exc, KilledWorker):
            return (f"{name}: every Dask worker that tried to extract it died ({self.label}); "
                    "nothing of its batch was stored")
        return f"{name}: the task failed on {self.label}: {type(exc).__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip() if exc is not None else ""
    return (text.splitlines() or [type(exc).__name__])[0][:300]
