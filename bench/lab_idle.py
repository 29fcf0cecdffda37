"""What an idle lab of N stations costs (issue 22 item 2): CPU of its processes while nothing runs against it.

``.venv/bin/python bench/lab_idle.py --count 1000 --seconds 30`` starts a fresh lab of N stations, then samples the
user + system CPU of each lab process (from ``/proc/<pid>/stat``) for ``--seconds``:

1. **unregistered**: right after ``evcs-lab up``, the stations have no CSMS record (a factory fleet the CSMS does not
   know yet: each BootNotification is answered Pending);
2. **registered**: after the bench registered every station in the CSMS (an active record with its serial number, as
   ``bench/fleet.py`` does before it measures), once they booted Accepted.

It prints the CPU share of each process (100 % = one core) per phase and writes nothing else; the lab is always taken
down. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
from fleet import fresh_lab, register_stations  # noqa: E402

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of ``pid`` (and its waited-for children) in seconds, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based, man 5 proc)
    return sum(int(value) for value in fields[11:15]) / _TICKS


def sample(processes: dict, seconds: float) -> dict:
    """CPU share (percent of one core) of each process over ``seconds``."""
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    after = {name: cpu_seconds(pid) for name, pid in processes.items()}
    return {name: round(100 * (after[name] - before[name]) / elapsed, 1)
            for name in processes if before[name] is not None and after[name] is not None}


def _line(phase: str, shares: dict) -> str:
    parts = ", ".join(f"{name} {share:.1f}%" for name, share in sorted(shares.items()))
    return f"{phase:<13} total {sum(shares.values()):6.1f}% of one core ({parts})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/lab_idle.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--count", type=int, default=1000, help="simulated stations (default 1000)")
    parser.add_argument("--seconds", type=float, default=30.0, help="sampling time per phase (default 30)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait before each sample (default 10)")
    args = parser.parse_args(argv)
    with fresh_lab(args.count) as lab:
        processes = dict((name, pid) for name, pid in (lab.get("processes") or {}).items() if pid)
        time.sleep(args.settle)
        print(_line("unregistered", sample(processes, args.seconds)), flush=True)
        with ThreadPoolExecutor(max_workers=8) as pool:
            register_stations(lab, pool)
        time.sleep(args.settle)
        print(_line("registered", sample(processes, args.seconds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
