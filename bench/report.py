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


VERIFY_COLUMNS = (
    ("N", "stations", "{}"),
    ("forks", "forks", "{}"),
    ("known state", ("known_state", "known_state_s"), "{} {:.0f} s"),
    ("per-host verify s", "verify_host_s", "{:.1f}"),
    ("fleet verify s", "verify_fleet_s", "{:.1f}"),
    ("per-host/fleet", "host_over_fleet", "{:.2f}"),
    ("ctrl CPU s host", "verify_host_cpu_s", "{:.0f}"),
    ("ctrl CPU s fleet", "verify_fleet_cpu_s", "{:.0f}"),
    ("OCPP reads per st host", "verify_host_ocpp_reads_per_station", "{:g}"),
    ("OCPP reads per st fleet", "verify_fleet_ocpp_reads_per_station", "{:g}"),
    ("rc host/fleet", ("verify_host_rc", "verify_fleet_rc"), "{}/{}"),
    ("rc fleet", "verify_fleet_rc", "{}"),
    ("peak MB ctrl fleet", "verify_fleet_peak_mb", "{:g}"),
    ("peak MB ctrl+workers fleet", "verify_fleet_peak_tree_mb", "{:g}"),
    ("idle lab CPU %", "lab_idle_cpu_percent", "{:g}"),
)
#: the fleet size the verify target names (issue 22): figures for it are a projection unless it was measured
TARGET_STATIONS = 10000


def projection(rows: list[dict], slopes: dict, key: str, target: int = TARGET_STATIONS) -> float | None:
    """``key`` at ``target`` stations, extrapolated linearly from the largest N measured with its slope (a projection,
    not a measurement)."""
    measured = [row for row in rows if row.get(key) is not None]
    gradient = (slopes.get(key) or {}).get("seconds_per_station")
    if not measured or gradient is None:
        return None
    largest = max(measured, key=lambda row: row["stations"])
    return round(largest[key] + gradient * (target - largest["stations"]), 1)


def render_verify(report: dict) -> str:
    """The verify benchmark: per-host against fleet mode, the per-station slope and the projection to 10,000."""
    rows = [size["row"] for size in report["sizes"]]
    table = _table([title for title, _, _ in VERIFY_COLUMNS],
                   [[_cell(row, key, pattern) for _, key, pattern in VERIFY_COLUMNS] for row in rows])
    lines = [f"verify.yml on {report.get('cpus')} CPUs (load average at start {report.get('load_start')}, at end "
             f"{report.get('load_end')}: the machine may be shared): fleet mode, and per host up to "
             "--host-verify-max stations, on the same stations in a known state (provision.yml per host, or above "
             "--host-verify-max seeded through the fleet verify's stage calls in apply mode: bench/seed.py); every "
             "verify run must exit 0: no drift", "", table, ""]
    slopes = report.get("slope") or {}
    for key, label in (("verify_host_s", "per-host verify"), ("verify_fleet_s", "fleet verify"),
                       ("verify_host_cpu_s", "per-host verify, controller CPU"),
                       ("verify_fleet_cpu_s", "fleet verify, controller CPU")):
        gradient = slopes.get(key)
        if gradient:
            projected = projection(rows, slopes, key)
            measured = any(row.get("stations") == TARGET_STATIONS and row.get(key) is not None for row in rows)
            lines.append(f"slope {label}: {gradient['seconds_per_station']} s per extra station "
                         f"(N={gradient['from']}..{gradient['to']})" + (
                             f"; N={TARGET_STATIONS} MEASURED (the table)" if measured else
                             f"; PROJECTION to N={TARGET_STATIONS}: {projected} s (not measured)"))
    for row in rows:
        if row.get("error") or not row.get("all_ok"):
            lines.append(f"attention: N={row['stations']}: {row.get('error') or 'a run failed or found drift'}")
    return "\n".join(lines)
