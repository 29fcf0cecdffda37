"""Sum the cProfile files of one benchmark run (``bench/fleet.py --profile``) and print the top costs.

    .venv/bin/python bench/profile_report.py bench/results/fleet-<stamp>/20-rerun.profile [--top 40] [--sort tottime]

The main process (``main.prof``: the strategy, variable manager, callbacks, result processing) and the forked workers
(``worker-*.prof``: each task's templating, argument validation and action) are reported apart, both in CPU seconds
as cProfile counts them (profiling itself slows the run down; compare shares, not absolute times).
"""

from __future__ import annotations

import argparse
import io
import pstats
import sys
from pathlib import Path


def load(paths: list[Path]) -> pstats.Stats | None:
    stats = None
    for path in paths:
        if stats is None:
            stats = pstats.Stats(str(path), stream=io.StringIO())
        else:
            stats.add(str(path))
    return stats


def top(stats: pstats.Stats, sort: str, count: int, restrict: str = "") -> str:
    output = io.StringIO()
    stats.stream = output
    stats.files = []  # no header line per file summed
    stats.sort_stats(sort).print_stats(*([restrict, count] if restrict else [count]))
    return output.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/profile_report.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key: cumulative, tottime, ...")
    parser.add_argument("--restrict", default="", help="a regular expression the printed functions must match")
    args = parser.parse_args(argv)
    workers = sorted(args.directory.glob("worker-*.prof"))
    main_file = args.directory / "main.prof"
    if main_file.exists():
        print(f"== main process ({main_file})")
        print(top(load([main_file]), args.sort, args.top, args.restrict))
    if workers:
        stats = load(workers)
        print(f"== {len(workers)} worker tasks, total {stats.total_tt:.1f} s")
        print(top(stats, args.sort, args.top, args.restrict))
    if not workers and not main_file.exists():
        print(f"no profile in {args.directory}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
