"""The fleet benchmark's printed report: the main table, where the time goes, the per-station slope."""

from __future__ import annotations

from baseline import render_comparison

COLUMNS = (
    ("N", "stations", "{}"),
    ("forks", "forks", "{}"),
    ("provision s", "provision_s", "{:.1f}"),
    ("re-run s", "rerun_s", "{:.1f}"),
    ("floor s", "floor_s", "{:.1f}"),
    ("re-run/floor", "rerun_over_floor", "{:.2f}"),
    ("re-run changed", "rerun_changed", "{}"),
    ("ctrl CPU s prov/re-run/floor", ("provision_cpu_s", "rerun_cpu_s", "floor_cpu_s"), "{:.0f}/{:.0f}/{:.0f}"),
    ("OCPP r/w per st (prov)", ("provision_ocpp_reads_per_station", "provision_ocpp_writes_per_station"), "{:g}/{:g}"),
    ("OCPP r/w per st (re-run)", ("rerun_ocpp_reads_per_station", "rerun_ocpp_writes_per_station"), "{:g}/{:g}"),
    ("Vault req/wr per st (prov)", ("provision_vault_requests_per_station", "provision_vault_writes_per_station"),
     "{:g}/{:g}"),
    ("Vault req/wr per st (re-run)", ("rerun_vault_requests_per_station", "rerun_vault_writes_per_station"), "{:g}/{:g}"),
    ("peak MB ctrl/lab", ("controller_peak_mb", "lab_peak_mb"), "{:g}/{:g}"),
)


def _cell(row: dict, key, pattern: str) -> str:
    keys = key if isinstance(key, tuple) else (key,)
    values = [row.get(name) for name in keys]
    if any(value is None for value in values):
        return "-"
    return pattern.format(*values)


def _table(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *lines)]

    def _line(cells):
        first, *rest = zip(cells, widths)
        return "| " + " | ".join([first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)]) + " |"

    rule = "|" + "|".join(["-" * (widths[0] + 2), *("-" * (width + 1) + ":" for width in widths[1:])]) + "|"
    return "\n".join([_line(header), rule, *(_line(cells) for cells in lines)])


def main_table(rows: list[dict]) -> str:
    header = [title for title, _, _ in COLUMNS]
    return _table(header, [[_cell(row, key, pattern) for _, key, pattern in COLUMNS] for row in rows])


def stage_table(sizes: list[dict]) -> str:
    """Seconds per role (stage) of the provision and re-run, per N."""
    header, lines = ["stage"], {}
    for size in sizes:
        runs = size.get("runs")
        if not runs:
            continue
        count = size["row"]["stations"]
        header += [f"N={count} provision s", f"N={count} re-run s"]
        column = len(header) - 3
        for index, name in enumerate(("provision", "rerun")):
            for role, seconds in runs[name]["seconds_by_role"].items():
                lines.setdefault(role, {})[column + index] = f"{seconds:.1f}"
    if len(header) == 1:
        return ""
    body = [[role] + [cells.get(index, "-") for index in range(len(header) - 1)] for role, cells in lines.items()]
    return _table(header, body)


def _slope_line(name: str, value: dict | None) -> str:
    if not value:
        return f"  {name}: needs two fleet sizes"
    return f"  {name}: {value['seconds_per_station']:.3f} s per extra station (N={value['from']} -> N={value['to']})"


def render(report: dict) -> str:
    sizes = report.get("sizes") or []
    rows = [size["row"] for size in sizes]
    parts = ["", f"fleet benchmark: {report.get('playbook')}, OCPP {report.get('ocpp_version', '2.0.1')} stations, "
                 f"{report.get('cpus')} CPUs", main_table(rows)]
    errors = [f"  N={row['stations']}: {row['error']}" for row in rows if row.get("error")]
    if errors:
        parts += ["failed sizes:", *errors]
    warnings = [f"  N={row['stations']}: re-run changed {row['rerun_changed']} (not idempotent) or a run failed"
                for row in rows if "all_ok" in row and not row["all_ok"]]
    if warnings:
        parts += ["attention:", *warnings]
    stages = stage_table(sizes)
    if stages:
        parts += ["", "where the time goes (seconds per stage, from task start to the next task's start):", stages]
    slopes = report.get("slope") or {}
    parts += ["", "per-station slope:", *(_slope_line(name, slopes.get(key)) for name, key in
                                        (("provision", "provision_s"), ("re-run", "rerun_s"), ("floor", "floor_s")))]
    parts += _baseline_lines(report)
    return "\n".join(parts)


def _baseline_lines(report: dict) -> list[str]:
    """The collection's re-run against the plain uri playbook (bench/baseline.py), where it was measured."""
    found = [size["baseline"] for size in report.get("sizes") or [] if size.get("baseline")]
    if found:
        return [line for comparison in found for line in render_comparison(comparison)]
    return render_comparison(None, report.get("baseline_count"))
