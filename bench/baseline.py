"""The baseline a user writes without this collection (issue 22, item 4): the idempotent re-run as the plain playbook
``bench/plain_uri_rerun.yml``, one ``ansible.builtin.uri`` call per declared device-model variable against the
reference CSMS REST API (``POST /api/stations/<id>/ocpp/GetVariables``), each value compared with the inventory's.

This module generates that playbook's inventory for the stations of a bench inventory: the same hosts, and per
station the variables the bench inventory declares (OCPP settings, network settings, EVSEs and connectors, security
profile, organization) with the values a station reports once provisioned, computed once here with the collection's
own mapping (so both runs compare the same variables); the playbook itself uses nothing of the collection. It also
holds the pure helpers of the report: the ratio of the collection's re-run to the baseline.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = Path(__file__).resolve().parent / "plain_uri_rerun.yml"
DEFAULT_COUNT = 100
#: Ansible as it runs without the collection: only the bench's own task timer as callback, only the standard vars plugin
PLAIN_ANSIBLE = {"ANSIBLE_CALLBACKS_ENABLED": "bench_tasks", "ANSIBLE_VARS_ENABLED": "host_group_vars"}

if str(REPO_ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "collections"))


# -- what the inventory declares ----------------------------------------------------------------------------------
def _merged(site_level: dict | None, station_level: dict | None) -> dict:
    return dict(site_level or {}, **(station_level or {}))


def reported_text(value, value_type: str = "auto") -> str:
    """The text a station reports for ``value`` (OCPP attributeValue): booleans lower case, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(reported_text(part) for part in value)
    return str(value)


def _is_set(item: dict) -> bool:
    """MemberList variables (the measurands) are compared as sets, as the collection compares them."""
    if item.get("value_type", "auto") != "auto":
        return item["value_type"] == "set"
    return isinstance(item.get("value"), (list, tuple)) and item["variable"]["name"].endswith("Measurands")


def _request(item: dict) -> dict:
    """The getVariableData entry of ``item`` (OCPP 2.0.1 spelling, optional fields only where given)."""
    component = {"name": item["component"]["name"]}
    if item["component"].get("instance"):
        component["instance"] = item["component"]["instance"]
    if item["component"].get("evse") is not None:
        component["evse"] = {"id": item["component"]["evse"]}
        if item["component"].get("connector") is not None:
            component["evse"]["connectorId"] = item["component"]["connector"]
    variable = {"name": item["variable"]["name"]}
    if item["variable"].get("instance"):
        variable["instance"] = item["variable"]["instance"]
    return {"component": component, "variable": variable}


def _label(item: dict) -> str:
    request = _request(item)
    component, variable = request["component"], request["variable"]
    where = component["name"] + (f"[{component['instance']}]" if "instance" in component else "")
    if "evse" in component:
        where += f"@{component['evse']['id']}" + (f".{component['evse']['connectorId']}"
                                                  if "connectorId" in component["evse"] else "")
    return f"{where}.{variable['name']}" + (f"[{variable['instance']}]" if "instance" in variable else "")


def declared_variables(station: dict, site_vars: dict) -> list[dict]:
    """The device-model variables the inventory declares for ``station`` (its ``evcs_station``) on a site whose
    group variables are ``site_vars``, as the plain playbook reads them: ``{label, request, value, set}``.

    Write-only secrets (Wi-Fi passphrase, APN password) are left out: a station never reports them back. An OCPP 1.6
    station has none (configuration keys instead of a device model: not part of the baseline yet).
    """
    from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import station_model
    from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import (
        hardware_variables, network_variables, ocpp_variables)

    site = site_vars.get("evcs_site") or {}
    if str(station.get("ocpp_version", site.get("ocpp_version", "2.0.1"))) == "1.6":
        return []  # no device model: a plain playbook would read configuration keys (not written yet)
    model = station_model(station, site, [])
    items = (ocpp_variables(_merged(site_vars.get("evcs_ocpp"), station.get("ocpp")))
             + network_variables(_merged(site_vars.get("evcs_network"), station.get("network")), model)
             + hardware_variables(station))
    items.append({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"},
                  "value": station.get("security_profile", 1)})
    organization = (site.get("operator") or {}).get("organization")
    if organization:
        items.append({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "OrganizationName"},
                      "value": organization})
    return [{"label": _label(item), "request": _request(item), "value": reported_text(item["value"]),
             "set": _is_set(item)}
            for item in items if item.get("value") is not None and not item.get("write_only")]


# -- the baseline's inventory --------------------------------------------------------------------------------------
def _read_yaml(path: Path) -> dict:
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _write_yaml(path: Path, document: dict, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is not None:
        path.touch(mode=mode)
    path.write_text("---\n" + yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=160))


def write_baseline_inventory(bench_inventory: Path, directory: Path, csms: dict) -> Path:
    """The plain playbook's inventory for the stations of ``bench_inventory`` (a ``bench/inventory.py`` inventory):
    the same hosts, ``bench_csms`` (``url``, ``token``, ``ca_path`` of the running lab's CSMS API; the file is 0600)
    and per station ``bench_variables``. Returns ``directory``."""
    hosts = _read_yaml(bench_inventory / "hosts.yml")
    _write_yaml(directory / "hosts.yml", hosts)
    _write_yaml(directory / "group_vars" / "all.yml",
                {"bench_csms": {"url": csms["api_url"], "token": csms["api_token"], "ca_path": csms["ca_cert"]},
                 # modules run on the controller (connection local) with the Python that runs Ansible
                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                mode=0o600)
    for group, members in (hosts.get("all", {}).get("children") or {}).items():
        site_vars = _read_yaml(bench_inventory / "group_vars" / f"{group}.yml")
        for host in members.get("hosts") or {}:
            station = _read_yaml(bench_inventory / "host_vars" / f"{host}.yml").get("evcs_station") or {}
            _write_yaml(directory / "host_vars" / f"{host}.yml",
                        {"bench_variables": declared_variables(station, site_vars)})
    return directory


# -- the report ----------------------------------------------------------------------------------------------------
def comparison(rerun: dict | None, baseline: dict | None, stations: int) -> dict | None:
    """The collection's re-run against the plain playbook at the same N: seconds, controller CPU, their ratios and
    the plain playbook's uri calls per station; None when either run is missing."""
    if not rerun or not baseline or not baseline.get("seconds"):
        return None

    def _ratio(numerator, denominator):
        return round(numerator / denominator, 2) if numerator is not None and denominator else None

    return {
        "stations": stations,
        "rerun_s": rerun.get("seconds"), "baseline_s": baseline.get("seconds"),
        "rerun_over_baseline": _ratio(rerun.get("seconds"), baseline.get("seconds")),
        "rerun_cpu_s": rerun.get("controller_cpu_s"), "baseline_cpu_s": baseline.get("controller_cpu_s"),
        "rerun_over_baseline_cpu": _ratio(rerun.get("controller_cpu_s"), baseline.get("controller_cpu_s")),
        "baseline_calls_per_station": baseline.get("calls_per_station"),
        "baseline_changed": baseline.get("changed"), "baseline_rc": baseline.get("rc"),
    }


def render_comparison(found: dict | None, wanted_count: int | None = None) -> list[str]:
    """The report's lines about the baseline."""
    if found is None:
        if not wanted_count:
            return []
        return ["", f"baseline (plain uri playbook): not measured (N={wanted_count} is not among the sizes run)"]
    lines = ["", f"baseline at N={found['stations']}: the same idempotent re-run as a plain playbook of "
                 f"ansible.builtin.uri calls ({found['baseline_calls_per_station']} GetVariables calls per station, "
                 "one per declared variable):",
             f"  collection re-run {found['rerun_s']:.1f} s, plain uri playbook {found['baseline_s']:.1f} s: "
             f"ratio {found['rerun_over_baseline']:.2f}"]
    if found.get("rerun_over_baseline_cpu") is not None:
        lines.append(f"  controller CPU {found['rerun_cpu_s']:.1f} s / {found['baseline_cpu_s']:.1f} s: "
                     f"ratio {found['rerun_over_baseline_cpu']:.2f}")
    if found.get("baseline_rc") or found.get("baseline_changed"):
        lines.append(f"  attention: the plain playbook exited {found['baseline_rc']} and reported "
                     f"{found['baseline_changed']} changed (drift or a failed read: see its log)")
    return lines
