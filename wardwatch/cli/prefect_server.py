"""Prefect's environment for wardwatch, and the local Prefect servers wardwatch starts itself.

Nothing here imports prefect: these run before it is imported, so the settings they put in the
environment take effect. Prefect's automatic local mode runs flows but not schedules, so
`wardwatch schedule` starts `prefect server start` itself when PREFECT_API_URL is unset; and
`wardwatch run` starts its own temporary one (API only) rather than Prefect's ephemeral server,
whose 20 s start-up limit a fresh PREFECT_HOME on a small machine overruns and which stays behind
when the parent dies. Either server:

* gets a start-up budget sized for a small machine (``WARDWATCH_PREFECT_START_TIMEOUT``, default
  120 s) and is health-checked on ``/api/health``; if it does not answer in time it is stopped and a
  one-line ServerError says why (its log is ``PREFECT_HOME/server.log``);
* runs in its own session (a Ctrl-C in the terminal reaches wardwatch, which stops the server last)
  and, on Linux, gets SIGTERM from the kernel when wardwatch dies — even by SIGKILL
  (PR_SET_PDEATHSIG, set by a tiny launcher before it execs the server);
* is stopped (SIGTERM to its process group, SIGKILL after 20 s) on every way out.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STATE_FILE = "wardwatch-server.json"  # in PREFECT_HOME while a supervised server runs
START_TIMEOUT_ENV = "WARDWATCH_PREFECT_START_TIMEOUT"
DEFAULT_START_TIMEOUT_S = 120.0  # a fresh PREFECT_HOME migrates its SQLite database first (~10-40 s on 2 cores)

# Run by the server's child process before it becomes the server: parent-death signal (Linux), then exec.
_LAUNCHER = (
    "import os, sys\n"
    "try:\n"
    "    import ctypes\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, 15, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGTERM\n"
    "except Exception:\n"
    "    pass\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(143)  # the parent died before prctl\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class ServerError(RuntimeError):
    """The local Prefect server could not be started."""


def start_timeout() -> float:
    """The start-up budget of a local Prefect server, in seconds (``$WARDWATCH_PREFECT_START_TIMEOUT``)."""
    raw = os.environ.get(START_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_START_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 < value < 86400):
        raise ServerError(f"${START_TIMEOUT_ENV}={raw!r}: not a number of seconds between 0 and 86400")
    return value


def configure_env(db_path: str | Path) -> Path:
    """PREFECT_HOME under the warehouse's directory (unless the user set it); no telemetry; should
    Prefect's own ephemeral server ever be used, the same start-up budget. Returns the home."""
    os.environ.setdefault("PREFECT_HOME", str(Path(db_path).resolve().parent / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(int(DEFAULT_START_TIMEOUT_S)))
    home = Path(os.environ["PREFECT_HOME"]).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except Exception:
        return False


def running_server(home: Path) -> str | None:
    """The API URL of a server that `wardwatch schedule` keeps for this PREFECT_HOME, if it answers."""
    try:
        api_url = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))["api_url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return api_url if healthy(api_url, timeout=1.0) else None


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LocalServer:
    """``prefect server start`` in a child process, on loopback, with its log in PREFECT_HOME.

    ``api_only`` (what `wardwatch run` uses): no UI, no background services — a flow run needs
    neither, and they slow a small machine down. ``advertise``: write ``STATE_FILE`` so that
    `wardwatch run` uses this server while it runs (`wardwatch schedule`'s)."""

    def __init__(self, home: Path, port: int = 4200, host: str = "127.0.0.1", *, api_only: bool = False,
                 advertise: bool = True):
        self.home, self.host = Path(home), host
        self.port = port if port and port_free(host, port) else free_port(host)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.home / "server.log"
        self.api_only, self.advertise = api_only, advertise
        self.started_in: float | None = None  # seconds until it answered

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(self.port)]
        if self.api_only:
            cmd += ["--no-services", "--no-ui"]
        return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *cmd]

    def start(self, timeout: float | None = None) -> LocalServer:
        """Start it and wait until ``/api/health`` answers (``timeout``: :func:`start_timeout`). On any
        failure — it exits, does not answer in time, or we are interrupted — it is stopped again."""
        timeout = start_timeout() if timeout is None else timeout
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(PREFECT_HOME=str(self.home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        # the UI asks /ui-settings where its API is: by default http://<PREFECT_SERVER_API_HOST>:
        # <PREFECT_SERVER_API_PORT>/api, i.e. 127.0.0.1:4200 whatever --port said. Name this server's own.
        # (a URL the user set — behind a proxy — is kept)
        env.update(PREFECT_SERVER_API_HOST=self.host, PREFECT_SERVER_API_PORT=str(self.port))
        for name, value in (("PREFECT_UI_API_URL", self.api_url), ("PREFECT_UI_URL", self.ui_url)):
            if not os.environ.get(name):
                env[name] = value
        if self.api_only:
            env["PREFECT_UI_ENABLED"] = "false"
        self.home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(self.log_path, "ab") as log:  # the child keeps its own handle
            # its own session: a Ctrl-C in the terminal reaches wardwatch, which stops the server last
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True)
        try:
            deadline = started + timeout
            while not healthy(self.api_url, timeout=1.0):
                if self.proc.poll() is not None:
                    raise ServerError(f"prefect server exited with code {self.proc.returncode}: {self._last_log_line()} "
                                      f"(log: {self.log_path})")
                if time.monotonic() > deadline:
                    raise ServerError(f"prefect server did not answer on {self.api_url} within {timeout:.0f}s "
                                      f"(log: {self.log_path}; ${START_TIMEOUT_ENV} sets the budget)")
                time.sleep(0.25)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - started
        if self.advertise:
            (self.home / STATE_FILE).write_text(json.dumps({"api_url": self.api_url, "pid": self.proc.pid}),
                                                encoding="utf-8")
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's process group, SIGKILL if it is still there after ``timeout``. Never raises."""
        if self.advertise:
            (self.home / STATE_FILE).unlink(missing_ok=True)
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except OSError:
            self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def _last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "no output"


def drain_prefect() -> None:
    """Send Prefect's pending run logs and events to its server now, before that server stops (left to the
    interpreter's exit, they go to a stopped server and retry with back-off, keeping the process alive)."""
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        for result in (APILogWorker.instance().drain(), EventsWorker.drain_all()):
            if inspect.isawaitable(result):
                await result

    run_coro_as_sync(drain())
