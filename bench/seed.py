"""Bring a large bench fleet into the state its inventory declares, through the collection's own stage code.

``provision.yml`` per host costs about 1.6 s of controller time a station (issue 22): hours at 10,000 stations, so the
verify benchmark at that size cannot provision its stations per host. It seeds them instead with **the same stage
calls the fleet verify makes** (``plugins/action/fleet_verify.py`` ``fleet_calls``: the inventory read through
Ansible's own ``HostVars``, ``fleet_verify.station_steps`` mirroring the roles), run **in apply mode** (check mode off)
through each stage's own action (``run_module``: the same argument spec, ``run(params, context)`` and masking as a role
task), plus the security stage's BasicAuthPassword from Vault (the staging password retired, which commissioning
checks), from a thread pool of this process. The commissioning check runs last for every station, as a check.

What the seed leaves out is what the fleet verify does not check either (docs/VERIFY.md): the identity stage's
certificates (profile-1 stations need none), the sites' tariff and id-token records and the local list. The verify that
follows must then find every station as its inventory declares it (exit 0, no drift): the bench prints the seed's
failures and the verify's drift, so a seed that left a station wrong shows.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _ansible_imports():
    """Ansible's inventory API and the collection from the working tree (``collections/`` links the repository)."""
    os.environ.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
    collections = str(REPO_ROOT / "collections")
    if collections not in sys.path:
        sys.path.insert(0, collections)


def inventory_hostvars(inventory: Path):
    """``(hostvars, hosts)``: Ansible's ``HostVars`` of ``inventory`` (templated on access, as in a play) and its hosts."""
    _ansible_imports()
    # pylint: disable=import-outside-toplevel
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(inventory)])
    variables = VariableManager(loader=loader, inventory=manager)
    hosts = [host.name for host in manager.get_hosts()]
    return HostVars(inventory=manager, variable_manager=variables, loader=loader), hosts


def _password_step(host_vars: dict):
    """What the security role's "BasicAuthPassword from Vault" task leaves in the CSMS for a profile 1-2 station: the
    station's own password registered, so the CSMS refuses the shared staging password (commissioning's
    ``staging_password_refused``, the only part of the security stage the fleet verify checks)."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.evcs.provisioning.plugins.plugin_utils.fleet_verify import Step

    station = host_vars.get("evcs_station") or {}
    if str(station.get("ocpp_version", "2.0.1")) == "1.6" or int(station.get("security_profile", 1)) >= 3:
        return None
    return Step("Retire the staging password in the CSMS (the station's own password registered)", "password", {})


def _retire_staging(arguments: dict) -> dict:
    """The CSMS half of the security stage's password task, through the collection's CSMS backend (the call
    ``basic_auth_password`` ends with): the station's password set to a new random one. The station keeps its
    connection: the seed leaves out that task's SetVariables, Reset and reconnect, which take seconds a station and
    which the fleet verify does not check (docs/VERIFY.md)."""
    # pylint: disable=import-outside-toplevel
    import secrets

    from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend

    backend = csms_backend(arguments)
    backend.set_station_password(arguments["station_id"], secrets.token_urlsafe(24))
    return {"changed": True}


def seed(inventory: Path, workers: int = 32, log=print) -> dict:
    """Apply every station's stage calls (and its BasicAuthPassword) from a thread pool; return the figures and the
    stations that failed (``{"seconds", "stations", "failed": {host: why}, "templating_s"}``)."""
    _ansible_imports()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.evcs.provisioning.plugins.action.station import ActionModule as _Station
    from ansible_collections.evcs.provisioning.plugins.action.station_reset import ActionModule as _Reset
    from ansible_collections.evcs.provisioning.plugins.action.fleet_verify import _options, fleet_calls
    from ansible_collections.evcs.provisioning.plugins.plugin_utils import fleet_verify
    from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import run_module

    started = time.monotonic()
    hostvars, hosts = inventory_hostvars(inventory)
    stations = fleet_calls(hostvars, hosts, hosts)
    for entry in stations.values():
        if "calls" not in entry:
            continue
        # the roles' one reset at the end when a setting answered RebootRequired (evcs_reboot_pending), before
        # commissioning; run only for a station whose writes asked for it
        reset = fleet_verify.Step("Reset the station once for the settings that need a reboot", "station_reset",
                                  {"wait_timeout": 180})
        entry["calls"].insert(len(entry["calls"]) - 1, (reset, _options(_Reset, reset.args, entry["task_vars"])))
        password = _password_step(entry["task_vars"])
        if password is not None:
            # after the reset (the station reconnects with the password it holds: the staging one) and before
            # commissioning (the last call), as the security role runs before the commission role
            entry["calls"].insert(len(entry["calls"]) - 1,
                                  (password, _options(_Station, password.args, entry["task_vars"])))
    templating = time.monotonic() - started
    log(f"seed: the stage calls of {len(stations)} stations built in {templating:.1f}s; applying with {workers} workers")

    actions = dict(fleet_verify.ACTIONS, station_reset=_Reset)

    def _apply(step, arguments, task_vars):
        if step.module == "password":
            return _retire_staging(arguments)
        if step.module == "station_reset" and not task_vars.get("_seed_reboot_pending"):
            return {"changed": False, "skipped": True}
        result = run_module(actions[step.module], arguments,
                            fleet_verify.step_context(step, arguments, task_vars, check_mode=False))
        if result.get("reboot_required"):
            task_vars["_seed_reboot_pending"] = True  # run_station hands the station's calls one dict of facts
        return result

    reports = fleet_verify.run_fleet(stations, [], workers=workers, run=_apply)
    failed = {host: report.get("evcs_verify_failure") or "commissioning: %s" % (
        (report.get("commission_result") or {}).get("failed_items"))
        for host, report in reports.items()
        if report.get("evcs_verify_failure") or not (report.get("commission_result") or {}).get("passed", False)}
    seconds = round(time.monotonic() - started, 1)
    log(f"seed: {len(reports)} stations applied in {seconds}s, {len(failed)} failed"
        + "".join(f"\n  {host}: {why}" for host, why in list(failed.items())[:5]))
    return {"seconds": seconds, "templating_s": round(templating, 1), "stations": len(reports), "failed": failed,
            "workers": workers}


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    _parser.add_argument("inventory", type=Path)
    _parser.add_argument("--workers", type=int, default=32)
    _args = _parser.parse_args()
    sys.exit(1 if seed(_args.inventory, _args.workers)["failed"] else 0)
