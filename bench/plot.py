"""The fleet benchmark's figure (issue 22, item 7): wall time and controller CPU against N for every run the benchmark
measured (provision, re-run, verify, the set_fact floor, the plain uri baseline), drawn as a PNG beside the JSON.

``figure_series`` is pure (what is drawn, from the report); ``draw_report`` needs matplotlib, which the benchmark's
own requirements pin (requirements-bench.txt, installed by ``make bench``), not the collection's.
"""

from __future__ import annotations

from pathlib import Path

#: the runs drawn, in this order: (key in a size's ``runs``, legend label)
SERIES = (
    ("provision", "provision"),
    ("rerun", "re-run"),
    ("verify", "verify"),
    ("floor", "set_fact floor"),
    ("baseline", "plain uri playbook"),
)
#: (figure panel, run figure, axis label)
PANELS = (("wall", "seconds", "wall time, s"), ("cpu", "controller_cpu_s", "controller CPU, s"))
#: from this ratio of the largest to the smallest N on, both axes are logarithmic (linear growth stays a straight line)
LOG_SPAN = 10


def figure_series(report: dict) -> dict:
    """``{panel: {label: [(N, value), ...]}}`` for the panels ``wall`` and ``cpu``: every run measured at each N,
    sorted by N; sizes that failed, runs that failed (exit status not 0: their time says nothing) and runs without the
    figure are left out, and so are series without a point."""
    series: dict = {panel: {label: [] for _key, label in SERIES} for panel, _figure, _axis in PANELS}
    for size in report.get("sizes") or []:
        count = (size.get("row") or {}).get("stations")
        runs = size.get("runs") or {}
        if count is None:
            continue
        for key, label in SERIES:
            run = runs.get(key) or {}
            if run.get("rc"):
                continue
            for panel, figure, _axis in PANELS:
                if run.get(figure) is not None:
                    series[panel][label].append((count, run[figure]))
    return {panel: {label: sorted(points) for label, points in by_label.items() if points}
            for panel, by_label in series.items()}


def logarithmic(series: dict) -> bool:
    """Whether the N measured span at least ``LOG_SPAN`` times (then both axes are logarithmic)."""
    counts = [count for by_label in series.values() for points in by_label.values() for count, _value in points]
    return bool(counts) and min(counts) > 0 and max(counts) / min(counts) >= LOG_SPAN


def title(report: dict) -> str:
    return (f"fleet benchmark {report.get('started_at', '')[:16].replace('T', ' ')} UTC: {report.get('playbook')}, "
            f"{report.get('cpus')} CPUs (lab and controller on the same machine)")


def draw_report(report: dict, path: Path) -> str:
    """Draw the figure of ``report`` to ``path`` (PNG); returns what was done, for the benchmark's output."""
    series = figure_series(report)
    if not any(series.values()):
        return "figure: nothing measured, no PNG drawn"
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return ("figure: not drawn, matplotlib is not installed (make bench installs requirements-bench.txt: "
                ".venv/bin/pip install -r requirements-bench.txt -c constraints.txt)")
    log = logarithmic(series)
    counts = sorted({count for by_label in series.values() for points in by_label.values() for count, _value in points})
    figure, axes = pyplot.subplots(1, len(PANELS), figsize=(12, 5))
    for axis, (panel, _figure, label) in zip(axes, PANELS):
        for name, points in series[panel].items():
            axis.plot([count for count, _value in points], [value for _count, value in points], marker="o", label=name)
        if log:
            axis.set_xscale("log")
            axis.set_yscale("log")
        axis.set_xticks(counts)
        axis.set_xticklabels([str(count) for count in counts])
        axis.minorticks_off()
        axis.set_xlabel("stations (N)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.suptitle(title(report), fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return f"figure: {path}"
