"""``python -m evcs_lab.demo`` (what ``make demo`` runs): the demo as numbered steps.

Each step prints ``[n/N] title ... ok (Xs)``; later stages are appended to ``STEPS``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from evcs_lab.paths import REPO_ROOT


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[], bool]


def command(*argv: str) -> Callable[[], bool]:
    """A step that runs ``argv`` from the repo root with its output shown; succeeds on exit status 0."""
    def _run() -> bool:
        return subprocess.run(list(argv), cwd=REPO_ROOT, check=False).returncode == 0
    return _run


def evcs_lab(*args: str) -> Callable[[], bool]:
    return command(sys.executable, "-m", "evcs_lab.cli", *args)


STEPS: list[Step] = [
    Step("start the lab (OpenBao PKI, reference CSMS, charger simulator)", evcs_lab("up")),
    Step("lab status", evcs_lab("status")),
]


def run_steps(steps: Sequence[Step]) -> int:
    total = len(steps)
    for number, step in enumerate(steps, start=1):
        print(f"[{number}/{total}] {step.title} ...", flush=True)
        start = time.monotonic()
        succeeded = step.run()
        print(f"[{number}/{total}] {step.title} ... {'ok' if succeeded else 'FAILED'} "
              f"({time.monotonic() - start:.1f}s)", flush=True)
        if not succeeded:
            return 1
    return 0


def main() -> int:
    return run_steps(STEPS)


if __name__ == "__main__":
    sys.exit(main())
