"""decommission.yml against the lab: a provisioned station of its own is taken out of service, once.

The station is added through the simulator control API and provisioned from an inventory of its own (the lab's
group_vars). Decommissioning points it at the staging slot (one Reset, since NetworkConfigurationPriority needs a
reboot), removes its id tokens, revokes its certificate in Vault and retires its record; a second run changes nothing.
The station runs security profile 3, so once the CSMS has refreshed the CRL it refuses the revoked certificate.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import hvac
import pytest
import yaml
from cryptography import x509
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import PLAYBOOK_TIMEOUT, REPO_ROOT, VENV_BIN, lab_env, parse_recap  # noqa: E402
from security_helpers import add_stations, ocpp_writes  # noqa: E402

STATION = "DECOM-CP-0001"
TOKEN = "DEC0A1B2C3D4E5"
SOURCE = REPO_ROOT / "inventories" / "lab"
CONFIRMED = {"evcs_decommission_confirmed": True}
CRL_REFRESH_WAIT = 15
PRESENTED = "presented.crt"  # next to the inventory: the certificate the station presented on profile 3


def _inventory(directory: Path) -> str:
    """The lab's group_vars (all + the depot site) and one host: LAB-CP-0001's hardware under this station's id."""
    shutil.copytree(SOURCE / "group_vars" / "all", directory / "group_vars" / "all")
    shutil.copy(SOURCE / "group_vars" / "lab_depot.yml", directory / "group_vars" / "lab_depot.yml")
    station = yaml.safe_load((SOURCE / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    station.update(id=STATION, serial_number=f"SN-{STATION}", security_profile=3)
    (directory / "host_vars").mkdir()
    (directory / "host_vars" / f"{STATION}.yml").write_text(yaml.safe_dump({"evcs_station": station}))
    hosts = {"all": {"vars": {"ansible_connection": "local"},
                     "children": {"lab_depot": {"hosts": {STATION: None}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(directory)


def _decommission(lab, inventory: str, **extra):
    """decommission.yml --limit STATION (the playbook refuses a run without --limit): ``(rc, output, recap)``."""
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, "playbooks/decommission.yml", "--limit", STATION,
            "-e", yaml.safe_dump(dict(CONFIRMED, **extra), default_flow_style=True).strip()]
    done = subprocess.run(argv, env=lab_env(lab.home), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, parse_recap(done.stdout)


def _vault_certificates(lab) -> list[tuple[str, bool]]:
    """(serial, revoked) of every certificate the lab's issuing mount holds for the station."""
    vault = lab["vault"]
    client = hvac.Client(url=vault["addr"], token=vault["token"], verify=vault["ca_cert"])
    mount = vault["pki_mount"]
    found = []
    for serial in client.secrets.pki.list_certificates(mount_point=mount)["data"]["keys"]:
        data = client.secrets.pki.read_certificate(serial, mount_point=mount)["data"]
        certificate = x509.load_pem_x509_certificate(data["certificate"].encode())
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if names and names[0].value == STATION:
            found.append((serial, bool(data.get("revocation_time"))))
    return found


@pytest.fixture(scope="module")
def provisioned(lab, run_playbook, tmp_path_factory):
    add_stations(lab, [STATION])
    directory = tmp_path_factory.mktemp("decommission")
    inventory = _inventory(directory / "inventory")
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory,
                                     env={"EVCS_REPORT_DIR": str(directory / "reports")})
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    assert _vault_certificates(lab) and not any(revoked for _serial, revoked in _vault_certificates(lab))
    connection = lab.csms.connection(STATION)
    assert connection["online"] and connection["security_profile"] == 3 and connection["client_certificate"]
    (directory / PRESENTED).write_text(connection["client_certificate"])
    # a tag the operator gave the station in the CSMS (the id_tokens module's group = the station id)
    lab.csms.put_record("id-tokens", f"{STATION}.{TOKEN}",
                        {"group": STATION, "id_token": TOKEN, "type": "ISO14443", "status": "Accepted"})
    return inventory


def test_decommission_retires_the_station_once(lab, provisioned):
    resets = lab.sim.station(STATION)["resets"]
    lab.csms.reset_stats()
    rc, output, recap = _decommission(lab, provisioned)
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]

    station = lab.sim.station(STATION)
    assert station["resets"] == resets + 1 and ocpp_writes(lab.csms.stats(), STATION)["Reset"] == 1
    assert station["slot"] == 1, station["connect_history"][-3:]   # its first configuration slot
    certificates = _vault_certificates(lab)
    assert certificates and all(revoked for _serial, revoked in certificates), certificates
    assert lab.csms.record("stations", STATION)["status"] == "retired"
    assert lab.csms.records("id-tokens", group=STATION) == []
    assert not (station["local_list"] or {}).get("entries")

    lab.csms.reset_stats()
    rc, output, recap = _decommission(lab, provisioned)
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-4000:]
    assert ocpp_writes(lab.csms.stats(), STATION) == {}
    assert lab.sim.station(STATION)["resets"] == resets + 1


def _mtls_refusal(lab, certificate: Path) -> int | None:
    """The HTTP status with which the CSMS's profile-3 endpoint refuses a WebSocket upgrade presenting the station's
    certificate and private key (the simulator's key file); None when it admits it."""
    context = ssl.create_default_context(cafile=lab["csms"]["root_ca_pem"])
    context.load_cert_chain(certificate, lab.home / "simulator" / "stations" / f"{STATION}.key")
    try:
        with connect(f"{lab['csms']['ws_urls']['3']}/{STATION}", ssl=context, subprotocols=["ocpp2.0.1"],
                     open_timeout=10):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


def test_csms_refuses_the_revoked_certificate(lab, provisioned):
    """After decommissioning, the station's certificate (revoked in Vault) no longer opens an mTLS connection."""
    certificate = Path(provisioned).parent / PRESENTED
    if lab.csms.record("stations", STATION)["status"] != "retired":
        rc, output, recap = _decommission(lab, provisioned)
        assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    assert all(revoked for _serial, revoked in _vault_certificates(lab))
    serial = "%x" % x509.load_pem_x509_certificate(certificate.read_bytes()).serial_number

    deadline = time.monotonic() + CRL_REFRESH_WAIT
    while (status := _mtls_refusal(lab, certificate)) is None and time.monotonic() < deadline:
        time.sleep(1)
    assert status == 403, f"the CSMS still admits the revoked certificate {serial} after {CRL_REFRESH_WAIT}s"
    log = (lab.home / "csms" / "csms.log").read_text()
    assert f"refused {STATION} on security profile 3 (HTTP 403): client certificate serial {serial} is revoked" in log
