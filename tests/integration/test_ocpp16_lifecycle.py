"""The lifecycle playbooks with OCPP 1.6J charge points (issue 20 item 8), in a lab of this module only:

- move.yml takes a profile-3 charge point to a site of another operator: the station record's location follows, the
  new site's configuration keys reach it, the certificate is re-enrolled with O = the new CpoName, both sites' load
  plans (ChargePointMaxProfile on connector 0) are re-planned, a second run changes nothing;
- change_owner.yml re-enrolls a profile-3 charge point under a new organization: CpoName, the certificate it presents
  (O = the new organization, CN = its serial number, A00.FR.405/511) without a Reset (it reconnects with its new
  certificate by itself, Security Extension A02 / OCTT TC_074), the previous owner's certificate revoked in Vault,
  check mode and a second run change nothing;
- decommission.yml with -e decommission_record=delete is re-runnable (the second run succeeds with changed=0), for a
  1.6 and a 2.0.1 station alike;
- every run is in the audit trail for the 1.6 charge point like for a 2.0.1 one, and no secret (AuthorizationKey,
  the charge point's private key) is in any output or audit file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import hvac
import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ansible_collections.evcs.provisioning.plugins.module_utils.x509 import vault_serial  # noqa: E402
from conftest import (PLAYBOOK_TIMEOUT, REPO_ROOT, VENV_BIN, ansible_playbook, lab_env, parse_recap,  # noqa: E402
                      running_lab)
from security_helpers import SITE, add_stations, ocpp_writes, wait_for, write_inventory  # noqa: E402

pytestmark = pytest.mark.integration

LAB_O, PARTNER_O = "EVCS Lab Operator", "EVCS Partner Operator"
MOVER, NORTH_STAY, SOUTH_STAY = "L16-CP-0001", "L16-CP-0002", "L16-CP-0003"
OWNER, DECOM16, DECOM20 = "L16-CP-0004", "L16-CP-0005", "L20-CP-0006"
STATIONS16 = [MOVER, NORTH_STAY, SOUTH_STAY, OWNER, DECOM16]
LOAD = {"max_current_a": 16, "priority": 1}
STATION16 = {"vendor": "EVCS Sim", "model": "SimCharger AC11-16", "ocpp_version": "1.6", "load_management": LOAD,
             "evses": [{"id": 1, "max_current_a": 16, "phases": 3, "voltage_v": 230,
                        "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}]}
#: the sites of the test inventory: two that share a 24 A cap in a load-management group (two stations get 12 A
#: each, one alone its 16 A), of two operators with different OCPP defaults, and a depot for the other stations
SITES = {
    "l16_north": {"evcs_site": {**SITE, "id": "l16-north", "name": "North car park", "load_management_group": "north",
                                "operator": {"name": LAB_O, "organization": LAB_O},
                                "grid_connection": {"max_current_a": 24, "phases": 3, "voltage_v": 230}},
                  "evcs_ocpp": {"heartbeat_interval": 300, "sampled_interval": 60}},
    "l16_south": {"evcs_site": {**SITE, "id": "l16-south", "name": "South car park", "load_management_group": "south",
                                "address": {"street": "Suedweg 2", "city": "Berlin", "postal_code": "12099",
                                            "country": "DE"},
                                "operator": {"name": PARTNER_O, "organization": PARTNER_O},
                                "grid_connection": {"max_current_a": 24, "phases": 3, "voltage_v": 230}},
                  "evcs_ocpp": {"heartbeat_interval": 600, "sampled_interval": 30}},
    "l16_depot": {"evcs_site": {**SITE, "id": "l16-depot", "name": "Lifecycle depot"},
                  "evcs_ocpp": {"heartbeat_interval": 300}},
}
MEMBERS = {"l16_north": [MOVER, NORTH_STAY], "l16_south": [SOUTH_STAY], "l16_depot": [OWNER, DECOM16, DECOM20]}
PROFILES = {MOVER: 3, NORTH_STAY: 2, SOUTH_STAY: 1, OWNER: 3, DECOM16: 3, DECOM20: 1}


def serial(station_id: str) -> str:
    """The serial number the lab's simulator gives a station it adds (``SN-<id>``)."""
    return f"SN-{station_id}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab of this module only: these tests move, re-own and delete stations, and count changes on every host."""
    with running_lab(tmp_path_factory.mktemp("lifecycle16-lab")) as state:
        yield state


def _run(lab, playbook: str, inventory: str, audit: Path, limit: str | None = None, **options):
    """ansible-playbook against this module's lab, its audit trail in ``audit``: ``(rc, output, recap)``."""
    env = {"EVCS_AUDIT_FILE": str(audit), "EVCS_REPORT_DIR": str(audit.parent / "reports")}
    if limit is None:
        return ansible_playbook(lab.home, playbook, inventory=inventory, env=env, **options)
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, playbook, "--limit", limit,
            "-e", json.dumps(options.pop("extra_vars", {}))]
    argv += ["--check"] if options.get("check") else []
    argv += ["--diff"] if options.get("diff") else []
    done = subprocess.run(argv, env=lab_env(lab.home, env), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, parse_recap(done.stdout)


def _inventory(directory: Path) -> str:
    """security_helpers.write_inventory's stations (the lab's group_vars/all), grouped into this module's sites."""
    stations = {station_id: {**STATION16, "serial_number": serial(station_id),
                             "security_profile": PROFILES[station_id]}
                for station_id in STATIONS16}
    stations[DECOM20] = {"serial_number": serial(DECOM20), "security_profile": PROFILES[DECOM20],
                         "load_management": LOAD}
    inventory = write_inventory(directory, stations)
    hosts = yaml.safe_load((Path(inventory) / "hosts.yml").read_text())
    declared = hosts["all"].pop("hosts")
    hosts["all"]["vars"].pop("evcs_site")
    hosts["all"]["children"] = {group: {"vars": SITES[group], "hosts": {station_id: declared[station_id]
                                                                         for station_id in members}}
                                for group, members in MEMBERS.items()}
    (Path(inventory) / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return inventory


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    """The stations, factory-fresh, provisioned from the test inventory (1.6 ones on their declared profile)."""
    directory = tmp_path_factory.mktemp("lifecycle16")
    for station_id in STATIONS16:
        lab.csms.put_record("stations", station_id, {"status": "active", "serial_number": serial(station_id)})
    lab.sim.add(STATIONS16, ocpp_version="1.6")
    add_stations(lab, [DECOM20])
    wait_for(lambda: all((lab.csms.connection(station_id) or {}).get("online") for station_id in STATIONS16),
             "1.6 charge points online", 30)
    inventory = _inventory(directory / "inventory")
    rc, output, recap = _run(lab, "playbooks/provision.yml", inventory, directory / "provision.jsonl",
                             extra_vars={"security_timeout": 60})
    assert rc == 0 and all(recap[station_id]["failed"] == 0 for station_id in PROFILES), output[-6000:]
    for station_id, profile in PROFILES.items():
        connection = lab.csms.connection(station_id)
        assert connection["online"] and connection["security_profile"] == profile, (station_id, connection)
    return {"inventory": inventory, "directory": directory}


# -- what the tests look at --------------------------------------------------------------------------------------------
def _keys(lab, station_id: str, *names: str) -> dict:
    """Configuration keys as the charge point answers GetConfiguration through the CSMS."""
    answer = lab.csms.call(station_id, "GetConfiguration", {"key": list(names)})
    return {item["key"]: item.get("value") for item in answer.get("configurationKey") or []}


def _max_profile_limit(lab, station_id: str) -> float:
    """The limit of the charge point's ChargePointMaxProfile (connector 0)."""
    profiles = [stored for stored in lab.sim.station(station_id)["charging_profiles"]
                if stored["profile"]["chargingProfilePurpose"] == "ChargePointMaxProfile"]
    assert len(profiles) == 1 and profiles[0]["connector_id"] == 0, profiles
    return float(profiles[0]["profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])


def _enforced(lab, station_id: str) -> float:
    """The limit the charge point enforces on connector 0 (GetCompositeSchedule: 1.6 has no GetChargingProfiles)."""
    answer = lab.csms.call(station_id, "GetCompositeSchedule", {"connectorId": 0, "duration": 60})
    assert answer["status"] == "Accepted" and answer["chargingSchedule"]["chargingRateUnit"] == "A", answer
    return float(answer["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])


def _presented(lab, station_id: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(lab.csms.connection(station_id)["client_certificate"].encode())


def _subject(certificate: x509.Certificate) -> tuple[list, list]:
    return ([a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)],
            [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)])


def _vault(lab) -> hvac.Client:
    vault = lab["vault"]
    return hvac.Client(url=vault["addr"], token=vault["token"], verify=vault["ca_cert"])


def _revoked(lab, certificate: x509.Certificate) -> bool:
    data = _vault(lab).secrets.pki.read_certificate(vault_serial(certificate.serial_number),
                                                    mount_point=lab["vault"]["pki_mount"])["data"]
    return bool(data.get("revocation_time"))


def _secrets(lab, station_id: str) -> list[str]:
    """The station's secrets as they could be spelled in an output: its AuthorizationKey from Vault KV (hex, both
    cases; a station taken to profile 3 from the factory has none there and keeps the factory key, the staging
    password's hex) and the body of the private key the simulator keeps for it."""
    staging = lab["csms"]["staging_password"]
    found = [staging, staging.encode().hex().upper(), staging.encode().hex()]
    try:
        data = _vault(lab).secrets.kv.v2.read_secret_version(path=f"evcs/lab/stations/{station_id}",
                                                             mount_point="secret", raise_on_deleted_version=False)
    except hvac.exceptions.InvalidPath:
        data = {"data": {"data": {}}}
    key = data["data"]["data"].get("basic_auth_password")
    if key:
        found += [key, key.lower(), key.upper()]
    key_file = lab.home / "simulator" / "stations" / f"{station_id}.key"
    if key_file.exists():
        body = [line for line in key_file.read_text().splitlines() if line and not line.startswith("-----")]
        found += body
    return found


def _audit(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _audited(lines: list[dict], station_id: str, playbook: str) -> list[dict]:
    """The task lines of ``station_id`` in runs of ``playbook``."""
    return [line for line in lines if line["event"] == "task" and line.get("host") == station_id
            and Path(line.get("playbook") or "").name == playbook]


def _assert_no_secret(lab, station_ids, *texts: str) -> None:
    for station_id in station_ids:
        secrets = _secrets(lab, station_id)
        assert len(secrets) > 4, f"{station_id}: no private key to look for"
        for secret in secrets:
            for text in texts:
                assert secret not in text, f"a secret of {station_id} shows"


def _changed(recap: dict) -> dict:
    return {host: counts["changed"] for host, counts in recap.items() if host != "localhost"}


# -- move.yml ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moved(lab, fleet):
    """MOVER (profile 3, north, EVCS Lab Operator) moved to the south site (EVCS Partner Operator): before, the move,
    its second run."""
    directory = fleet["directory"]
    steps = {"before": {"certificate": _presented(lab, MOVER),
                        "limits": {station_id: _enforced(lab, station_id)
                                   for station_id in (MOVER, NORTH_STAY, SOUTH_STAY)}}}
    arguments = {"evcs_move_stations": MOVER, "evcs_move_to_site": "l16_south", "security_timeout": 60}
    steps["move"] = _run(lab, "playbooks/move.yml", fleet["inventory"], directory / "move.jsonl", diff=True,
                         extra_vars=arguments)
    lab.csms.reset_stats()
    steps["again"] = _run(lab, "playbooks/move.yml", fleet["inventory"], directory / "move.jsonl", extra_vars=arguments)
    steps["again_writes"] = {station_id: ocpp_writes(lab.csms.stats(), station_id)
                             for station_id in (MOVER, NORTH_STAY, SOUTH_STAY)}
    steps["audit"] = directory / "move.jsonl"
    return steps


def test_move_takes_the_new_sites_location_and_configuration_keys(lab, moved):
    rc, output, recap = moved["move"]
    assert rc == 0 and all(counts["failed"] == 0 for counts in recap.values()), output[-6000:]
    assert recap[MOVER]["changed"] > 0
    assert lab.csms.record("stations", MOVER)["location_id"] == "l16-south"
    assert lab.csms.record("stations", NORTH_STAY)["location_id"] == "l16-north"
    # the south site's evcs_ocpp defaults, as the charge point answers GetConfiguration
    assert _keys(lab, MOVER, "HeartbeatInterval", "MeterValueSampleInterval") == {"HeartbeatInterval": "600",
                                                                                 "MeterValueSampleInterval": "30"}
    assert _keys(lab, NORTH_STAY, "HeartbeatInterval") == {"HeartbeatInterval": "300"}
    connection = lab.csms.connection(MOVER)
    assert connection["online"] and connection["ocpp_version"] == "1.6" and connection["security_profile"] == 3


def test_move_re_enrolls_the_certificate_with_the_new_cpo_name(lab, moved):
    assert _keys(lab, MOVER, "CpoName") == {"CpoName": PARTNER_O}
    presented = _presented(lab, MOVER)
    assert _subject(presented) == ([serial(MOVER)], [PARTNER_O])
    assert presented.serial_number != moved["before"]["certificate"].serial_number
    assert _subject(moved["before"]["certificate"]) == ([serial(MOVER)], [LAB_O])


def test_move_re_plans_the_load_of_both_sites(lab, moved):
    # before: two stations share each 24 A group cap of the north site (12 A each), the south one has its 16 A alone
    assert moved["before"]["limits"] == {MOVER: 12.0, NORTH_STAY: 12.0, SOUTH_STAY: 16.0}
    # after: the ChargePointMaxProfile of each station of both sites is the new plan's share, and enforced
    after = {station_id: _max_profile_limit(lab, station_id) for station_id in (MOVER, NORTH_STAY, SOUTH_STAY)}
    assert after == {MOVER: 12.0, NORTH_STAY: 16.0, SOUTH_STAY: 12.0}
    assert {station_id: _enforced(lab, station_id) for station_id in after} == after


def test_move_a_second_time_changes_nothing(moved):
    rc, output, recap = moved["again"]
    assert rc == 0 and set(recap) >= {MOVER, NORTH_STAY, SOUTH_STAY}, output[-6000:]
    assert all(changed == 0 for changed in _changed(recap).values()), (_changed(recap), output[-6000:])
    assert moved["again_writes"] == {MOVER: {}, NORTH_STAY: {}, SOUTH_STAY: {}}


def test_move_is_audited_without_secrets(lab, moved):
    lines = _audit(moved["audit"])
    tasks = _audited(lines, MOVER, "move.yml")
    assert {line["task"] for line in tasks if line["changed"]} >= {
        "Write the station record", "Enroll or renew the station certificate"}, sorted(
        {line["task"] for line in tasks if line["changed"]})
    assert all(line["environment"] == "lab" for line in tasks)
    ends = [line for line in lines if line["event"] == "run_end"]
    assert len(ends) == 2 and ends[0]["stats"][MOVER]["changed"] > 0 and ends[1]["stats"][MOVER]["changed"] == 0
    _assert_no_secret(lab, [MOVER, NORTH_STAY, SOUTH_STAY], moved["move"][1], moved["again"][1],
                      moved["audit"].read_text())


# -- change_owner.yml --------------------------------------------------------------------------------------------------
def _owner_state(lab) -> dict:
    """What an ownership change may change: the certificate presented, CpoName, the station record's operator."""
    return {"serial": _presented(lab, OWNER).serial_number, "cpo_name": _keys(lab, OWNER, "CpoName")["CpoName"],
            "operator": (lab.csms.record("stations", OWNER) or {}).get("operator"),
            "resets": lab.sim.station(OWNER)["resets"]}


@pytest.fixture(scope="module")
def owner_change(lab, fleet):
    """OWNER (profile 3) passes to EVCS Partner Operator (-e evcs_new_operator): the plan (check mode), the change,
    a second run."""
    directory = fleet["directory"]
    steps = {"before": _owner_state(lab), "certificate": _presented(lab, OWNER)}
    arguments = {"evcs_owner_stations": OWNER, "evcs_new_operator": {"name": PARTNER_O, "organization": PARTNER_O}}
    for name, options in (("plan", {"check": True, "diff": True}), ("changed", {"diff": True}), ("again", {})):
        lab.csms.reset_stats()
        steps[name] = _run(lab, "playbooks/change_owner.yml", fleet["inventory"], directory / "owner.jsonl",
                           extra_vars=arguments, **options)
        steps[name + "_state"] = _owner_state(lab)
        steps[name + "_writes"] = ocpp_writes(lab.csms.stats(), OWNER)
    steps["audit"] = directory / "owner.jsonl"
    return steps


def test_change_owner_check_mode_changes_nothing(owner_change):
    rc, output, recap = owner_change["plan"]
    assert rc == 0 and recap[OWNER]["failed"] == 0 and recap[OWNER]["changed"] > 0, output[-6000:]
    # the plan names the CpoName key (the 1.6 fact), not SecurityCtrlr.OrganizationName, and no Reset
    assert f"-    cpo_name: {LAB_O}" in output and f"+    cpo_name: {PARTNER_O}" in output, output[-6000:]
    assert "organization_name" not in output and "reset: false" in output, output[-6000:]
    assert owner_change["plan_state"] == owner_change["before"] and owner_change["plan_writes"] == {}


def test_change_owner_presents_a_certificate_of_the_new_owner(lab, owner_change):
    rc, output, recap = owner_change["changed"]
    assert rc == 0 and recap[OWNER]["failed"] == 0, output[-6000:]
    presented = _presented(lab, OWNER)
    # CN stays the serial number (A00.FR.405/511), O is the new CpoName
    assert _subject(presented) == ([serial(OWNER)], [PARTNER_O])
    assert presented.serial_number != owner_change["before"]["serial"]
    state = owner_change["changed_state"]
    assert state["cpo_name"] == PARTNER_O and state["operator"]["organization"] == PARTNER_O, state
    connection = lab.csms.connection(OWNER)
    assert connection["online"] and connection["security_profile"] == 3 and connection["ocpp_version"] == "1.6"
    # it reconnected with its new certificate by itself (A02, TC_074): no Reset, no 2.0.1 call
    assert state["resets"] == owner_change["before"]["resets"], output[-6000:]
    writes = owner_change["changed_writes"]
    assert "Reset" not in writes and "SetVariables" not in writes and writes.get("CertificateSigned") == 1, writes


def test_change_owner_revokes_the_previous_owners_certificate(lab, owner_change):
    assert _revoked(lab, owner_change["certificate"])
    assert not _revoked(lab, _presented(lab, OWNER))


def test_change_owner_a_second_time_changes_nothing(owner_change):
    rc, output, recap = owner_change["again"]
    assert rc == 0 and recap[OWNER]["changed"] == 0, output[-6000:]
    assert owner_change["again_state"] == owner_change["changed_state"] and owner_change["again_writes"] == {}


def test_change_owner_is_audited_without_secrets(lab, owner_change):
    lines = _audit(owner_change["audit"])
    tasks = _audited(lines, OWNER, "change_owner.yml")
    changed = {line["task"] for line in tasks if line["changed"] and not line.get("check_mode")}
    assert "Re-enroll the certificate under the new organization and revoke the previous owner's" in changed or \
        "Enroll or renew the station certificate" in changed, sorted(changed)
    assert [line["stats"][OWNER]["changed"] > 0 for line in lines if line["event"] == "run_end"] == [True, True, False]
    _assert_no_secret(lab, [OWNER], *(owner_change[name][1] for name in ("plan", "changed", "again")),
                      owner_change["audit"].read_text())


# -- decommission.yml with the record deleted --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deleted(lab, fleet):
    """DECOM16 (1.6, profile 3) and DECOM20 (2.0.1) decommissioned with -e decommission_record=delete, twice."""
    directory = fleet["directory"]
    limit = f"{DECOM16},{DECOM20}"
    arguments = {"evcs_decommission_confirmed": True, "decommission_record": "delete"}
    steps = {"certificates": {DECOM16: _presented(lab, DECOM16)}}
    steps["first"] = _run(lab, "playbooks/decommission.yml", fleet["inventory"], directory / "decommission.jsonl",
                          limit=limit, extra_vars=arguments)
    steps["records"] = {station_id: lab.csms.record("stations", station_id) for station_id in (DECOM16, DECOM20)}
    steps["second"] = _run(lab, "playbooks/decommission.yml", fleet["inventory"], directory / "decommission.jsonl",
                           limit=limit, extra_vars=arguments)
    steps["audit"] = directory / "decommission.jsonl"
    return steps


def test_decommission_deletes_the_records(lab, deleted):
    rc, output, recap = deleted["first"]
    assert rc == 0 and recap[DECOM16]["failed"] == 0 and recap[DECOM20]["failed"] == 0, output[-6000:]
    assert deleted["records"] == {DECOM16: None, DECOM20: None}
    assert _revoked(lab, deleted["certificates"][DECOM16])


def test_decommission_with_the_record_deleted_runs_again_with_nothing_changed(deleted):
    rc, output, recap = deleted["second"]
    assert rc == 0, output[-6000:]
    assert recap[DECOM16]["changed"] == 0 and recap[DECOM20]["changed"] == 0, output[-6000:]


def test_decommission_is_audited_for_the_16_station_like_for_a_201_one(lab, deleted):
    lines = _audit(deleted["audit"])
    changed = {station_id: {line["task"] for line in _audited(lines, station_id, "decommission.yml")
                            if line["changed"]}
               for station_id in (DECOM16, DECOM20)}
    for station_id in (DECOM16, DECOM20):
        assert {"Revoke the station certificate", "Delete the station record"} <= changed[station_id], changed
    fields = {station_id: sorted(_audited(lines, station_id, "decommission.yml")[0])
              for station_id in (DECOM16, DECOM20)}
    assert fields[DECOM16] == fields[DECOM20]
    _assert_no_secret(lab, [DECOM16, DECOM20], deleted["first"][1], deleted["second"][1], deleted["audit"].read_text())
