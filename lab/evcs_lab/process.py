"""Background processes of the lab: start detached, find again by pid file, stop without orphans."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

STOP_GRACE_SECONDS = 10.0


#: ports handed out by this process (one ``evcs-lab up`` picks several before its components bind them)
_HANDED_OUT: set = set()
_LISTEN_PORTS_LOW = 20000


def _ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (outgoing connections take their local ports from it)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free on ``host`` right now, chosen below the kernel's ephemeral range: a port the kernel picks
    for ``bind(0)`` comes from the range outgoing connections use too, so another process (two test shards, each
    with busy labs) could take it before the component binds it."""
    high = _ephemeral_start() - 1
    rng = random.SystemRandom()
    for _attempt in range(200):
        port = rng.randint(_LISTEN_PORTS_LOW, high) if high > _LISTEN_PORTS_LOW else 0
        if port and port not in _HANDED_OUT and port_is_free(port, host):
            _HANDED_OUT.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens on ``port`` (a closed connection lingering in TIME_WAIT does not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child (tests start OpenBao in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


@dataclass
class ManagedProcess:
    """One lab component: its command line, log file and pid file.

    The pid file holds the pid and a marker (the component's config path) that must appear in the process's
    command line: a recycled pid of an unrelated process is never mistaken for the component.
    """

    name: str
    argv: Sequence[str]
    pid_file: Path
    log_file: Path
    marker: str

    def pid(self) -> int | None:
        """The pid of the running component, or None when it is not running."""
        try:
            recorded = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = recorded.get("pid")
        if not isinstance(pid, int):
            return None
        _reap(pid)
        if _is_zombie(pid) or recorded.get("marker") not in _cmdline(pid):
            return None
        return pid

    def start(self, env: dict[str, str] | None = None) -> int:
        """Start detached (own session, output to the log file) and record the pid."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n--- {self.name} started at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
            log.flush()
            child = subprocess.Popen(  # noqa: S603 - argv built by the lab, no shell
                list(self.argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env=env,
            )
        self.pid_file.write_text(json.dumps({"pid": child.pid, "marker": self.marker}))
        # Between fork and exec the child still shows the parent's command line, without the marker: wait for the
        # exec (or an early exit), so that pid() never mistakes a component that is starting for one that died.
        wait_until(lambda: child.poll() is not None or self.marker in _cmdline(child.pid), 10.0, interval=0.02)
        return child.pid

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> bool:
        """SIGTERM the component's process group, SIGKILL it after ``grace`` seconds. True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        if not wait_until(lambda: self.pid() is None, grace):
            _signal_group(pid, signal.SIGKILL)
            wait_until(lambda: self.pid() is None, 5.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the whole process group (the component was started as a session leader), else the pid."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
