# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCPP defaults docs/INVENTORY.md promises are what a lab station holds after the ocpp role, when the inventory
declares none: first every setting is moved away from its default, then a run with nothing declared brings them back."""

from __future__ import annotations

import pathlib
import re
import shutil
import textwrap
import time

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATION = "LAB-CP-0002"
PLAYBOOK = """---
- name: Validate, then apply the OCPP settings
  hosts: "{{ evcs_test_targets }}"
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
    - role: evcs.provisioning.ocpp
"""
#: inventory key -> (component, variable, instance) of the device model; the ocpp role's mapping, written out here so
#: the test does not read the code it checks
DEVICE_MODEL = {
    "heartbeat_interval": ("OCPPCommCtrlr", "HeartbeatInterval", None),
    "offline_threshold": ("OCPPCommCtrlr", "OfflineThreshold", None),
    "sampled_measurands": ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    "sampled_interval": ("SampledDataCtrlr", "TxUpdatedInterval", None),
    "authorize_remote_start": ("AuthCtrlr", "AuthorizeRemoteStart", None),
    "local_authorize_offline": ("AuthCtrlr", "LocalAuthorizeOffline", None),
}
#: a value other than the documented default for each
NOT_DEFAULT = {
    "heartbeat_interval": 450, "offline_threshold": 90,
    "sampled_measurands": ["Energy.Active.Import.Register"], "sampled_interval": 120,
    "authorize_remote_start": False, "local_authorize_offline": False,
}


def _documented_defaults():
    text = (ROOT / "docs" / "INVENTORY.md").read_text()
    block = re.search(r"^  ocpp:\n((?:    .*\n)+)", text, re.MULTILINE)
    return yaml.safe_load(textwrap.dedent(block.group(1)))


def _as_device_model_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def _station_values(lab):
    found = {}
    for item in lab.sim.station(STATION)["device_model"]:
        key = (item["component"]["name"], item["variable"]["name"], item["variable"].get("instance"))
        found[key] = item["attributes"].get("value")
    return dict((name, found.get(where)) for name, where in DEVICE_MODEL.items())


@pytest.fixture()
def inventory(tmp_path):
    """inventories/lab with no OCPP setting declared for the station or its site."""
    target = tmp_path / "lab"
    shutil.copytree(ROOT / "inventories" / "lab", target)
    for path in [target / "host_vars" / f"{STATION}.yml", *sorted((target / "group_vars").glob("*.yml"))]:
        data = yaml.safe_load(path.read_text())
        data.pop("evcs_ocpp", None)
        (data.get("evcs_station") or {}).pop("ocpp", None)
        path.write_text(yaml.safe_dump(data))
    playbook = tmp_path / "ocpp.yml"
    playbook.write_text(PLAYBOOK)
    return str(target), str(playbook)


def test_the_documented_defaults_reach_the_station(lab, run_playbook, inventory):
    target, playbook = inventory
    defaults = _documented_defaults()
    # message_timeout is the connection profile's messageTimeout (the security stage sends it), not a device-model write
    defaults.pop("message_timeout")
    assert set(defaults) == set(DEVICE_MODEL), "docs/INVENTORY.md and this test disagree on the defaulted settings"
    assert all(NOT_DEFAULT[name] != defaults[name] for name in defaults)

    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_ocpp": NOT_DEFAULT, "evcs_reboot": "never",
                                                                       "evcs_test_targets": STATION})
    assert rc == 0, output[-3000:]
    moved = _station_values(lab)
    assert moved == dict((name, _as_device_model_text(value)) for name, value in NOT_DEFAULT.items()), moved

    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_reboot": "never", "evcs_test_targets": STATION})
    assert rc == 0, output[-3000:]
    assert recap[STATION]["changed"] >= 1
    assert _station_values(lab) == dict((name, _as_device_model_text(value)) for name, value in defaults.items())

    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_reboot": "never", "evcs_test_targets": STATION})
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-3000:]


BACKEND_PLAYBOOK = """---
- name: Validate, register the station in the CSMS, then apply the OCPP settings
  hosts: "{{ evcs_test_targets }}"
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
    - role: evcs.provisioning.backend
    - role: evcs.provisioning.ocpp
"""


def test_an_undeclared_heartbeat_interval_survives_the_next_boot(lab, run_playbook, inventory, tmp_path):
    """The CSMS gives its record's heartbeat interval in every BootNotification answer and the station takes it: with
    no interval declared, the record must carry the same default the ocpp role sets on the station, or the station's
    HeartbeatInterval falls to the CSMS's own default at its next boot (and commissioning fails on it)."""
    target, _ = inventory
    playbook = tmp_path / "backend_ocpp.yml"
    playbook.write_text(BACKEND_PLAYBOOK)
    default = _documented_defaults()["heartbeat_interval"]
    extra = {"evcs_reboot": "never", "evcs_test_targets": STATION}
    rc, output, _ = run_playbook(str(playbook), inventory=target, extra_vars=extra)
    assert rc == 0, output[-3000:]
    assert lab.csms.record("stations", STATION)["heartbeat_interval"] == default

    booted_at = lab.csms.connection(STATION)["boot"]["at"]
    # a station whose last boot was Accepted rejects a triggered BootNotification (F06.FR.17): it boots at a Reset
    answer = lab.csms.call(STATION, "Reset", {"type": "Immediate"})
    assert answer["status"] == "Accepted", answer
    deadline = time.monotonic() + 60
    while ((lab.csms.connection(STATION) or {}).get("boot") or {}).get("at") == booted_at:
        assert time.monotonic() < deadline, "the station sent no BootNotification after the Reset"
        time.sleep(0.2)
    time.sleep(1)  # the station takes the interval when the answer arrives, just after the CSMS recorded the boot
    assert _station_values(lab)["heartbeat_interval"] == str(default)

    rc, output, recap = run_playbook(str(playbook), inventory=target, extra_vars=extra)
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-3000:]
