"""Prefect's environment for wardwatch, and a local Prefect server that `wardwatch schedule` supervises.

Nothing here imports prefect: these run before it is imported, so the settings they put in the
environment take effect. Prefect's automatic local mode runs flows but not schedules, so
`wardwatch schedule` starts `prefect server start` itself when PREFECT_API_URL is unset.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STATE_FILE = "wardwatch-server.json"  # in PREFECT_HOME while a supervised server runs


class ServerError(RuntimeError):
    """The local Prefect server could not be started."""


def configure_env(db_path: str | Path) -> Path:
    """PREFECT_HOME under the warehouse's directory (unless the user set it); no telemetry. Returns it."""
    os.environ.setdefault("PREFECT_HOME", str(Path(db_path).resolve().parent / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
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


def _die_with_parent() -> None:
    """In the server's child process (Linux): get SIGTERM if wardwatch dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except (OSError, AttributeError):
        pass  # not Linux: wardwatch still stops the server on every normal exit


class LocalServer:
    """``prefect server start`` in a child process, on loopback, with its log in PREFECT_HOME."""

    def __init__(self, home: Path, port: int = 4200, host: str = "127.0.0.1"):
        self.home, self.host = Path(home), host
        self.port = port if port and port_free(host, port) else free_port(host)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.home / "server.log"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 180.0) -> LocalServer:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(PREFECT_HOME=str(self.home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(self.port)]
        with open(self.log_path, "ab") as log:  # the child keeps its own handle
            # its own session: a Ctrl-C in the terminal reaches wardwatch, which stops the server last
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         env=env, start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while not healthy(self.api_url, timeout=1.0):
            if self.proc.poll() is not None:
                raise ServerError(f"prefect server exited with code {self.proc.returncode}: {self._last_log_line()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"prefect server did not answer on {self.api_url} within {timeout:.0f}s "
                                  f"(log: {self.log_path})")
            time.sleep(0.5)
        (self.home / STATE_FILE).write_text(json.dumps({"api_url": self.api_url, "pid": self.proc.pid}), encoding="utf-8")
        return self

    def stop(self, timeout: float = 20.0) -> None:
        (self.home / STATE_FILE).unlink(missing_ok=True)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def _last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1] if lines else "no output"
