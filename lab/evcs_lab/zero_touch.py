"""Zero-touch in the lab: an inventory of stations to be, the rulebook runner (ansible-rulebook) and the timeline of a
station from its first BootNotification to commissioned. Used by `make demo-zero-touch` and the integration tests.

The product is the collection's event source and rulebook (extensions/eda/); this module only starts them against a
lab, as an operator's EDA controller would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULEBOOK = 'extensions/eda/rulebooks/zero_touch.yml'
EDA_BIN = REPO_ROOT / '.venv-eda' / 'bin'
VENV_BIN = REPO_ROOT / '.venv' / 'bin'
ACTOR_PREFIX = 'ansible-rulebook evcs.provisioning zero_touch'
SITE = {
    'id': 'zero-touch-depot', 'name': 'Zero-touch depot',
    'address': {'street': 'Hauptstr. 2', 'city': 'Berlin', 'postal_code': '10115', 'country': 'DE'},
    'coordinates': {'latitude': 52.52, 'longitude': 13.40}, 'timezone': 'Europe/Berlin',
    'operator': {'name': 'EVCS Lab Operator', 'organization': 'EVCS Lab Operator'},
    'grid_connection': {'max_current_a': 1000, 'phases': 3, 'voltage_v': 230},
    'tariff': {'id': 'lab-standard', 'currency': 'EUR', 'price_per_kwh': 0.39, 'price_per_minute': 0.0,
               'session_fee': 0.0},
    'access': 'public',
}


def station_vars(station_id: str, serial_number: str, security_profile: int = 3) -> dict:
    """What an installer's work order declares for one simulated charger."""
    return {
        'id': station_id, 'serial_number': serial_number, 'vendor': 'EVCS Sim', 'model': 'SimCharger AC22',
        'firmware_version': '1.0.0', 'security_profile': security_profile,
        'evses': [{'id': 1, 'max_current_a': 32, 'phases': 3, 'voltage_v': 230,
                   'connectors': [{'id': 1, 'type': 'cType2', 'format': 'Socket', 'max_current_a': 32}]}],
        'network': {'mode': 'ethernet', 'addressing': 'dhcp'},
        'load_management': {'max_current_a': 32, 'priority': 1},
        'state': 'present',
    }


def write_inventory(directory: Path, stations: dict[str, dict]) -> Path:
    """An inventory of ``stations`` ({id: evcs_station}) in one site, with inventories/lab's group_vars/all."""
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(REPO_ROOT / 'inventories' / 'lab' / 'group_vars' / 'all', directory / 'group_vars' / 'all')
    (directory / 'group_vars' / 'zero_touch.yml').write_text(yaml.safe_dump({
        'evcs_site': SITE, 'evcs_ocpp': {'heartbeat_interval': 300}}))
    hosts = {'all': {'vars': {'ansible_connection': 'local'}, 'children': {'zero_touch': {'hosts': {
        station_id: {'evcs_station': station} for station_id, station in stations.items()}}}}}
    (directory / 'hosts.yml').write_text(yaml.safe_dump(hosts, sort_keys=False))
    return directory


def rulebook_env(lab_home: Path, inventory: Path, work: Path) -> dict:
    """The environment an EDA controller gives the rulebook: the CSMS credential, the inventory, where the audit
    trail, the reports and the cursor go; ansible-rulebook's venv first, then the collection's (ansible-playbook)."""
    state = json.loads((Path(lab_home) / 'state.json').read_text())
    env = dict(os.environ)
    env.update({
        'PATH': os.pathsep.join([str(EDA_BIN), str(VENV_BIN), env.get('PATH', '')]),
        'ANSIBLE_CONFIG': str(REPO_ROOT / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / 'collections'),
        'ANSIBLE_INVENTORY': str(inventory),
        'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORCE_COLOR': '0',
        'EVCS_LAB_HOME': str(lab_home),
        'EVCS_AUDIT_FILE': str(Path(work) / 'audit.jsonl'),
        'EVCS_REPORT_DIR': str(Path(work) / 'reports'),
        'EVCS_ZERO_TOUCH_CURSOR_FILE': str(Path(work) / 'station-events.cursor'),
        'EVCS_CSMS_BACKEND': 'reference',
        'EVCS_CSMS_URL': state['csms']['api_url'],
        'EVCS_CSMS_TOKEN': state['csms']['api_token'],
        'EVCS_CSMS_CA_PATH': state['csms']['ca_cert'],
    })
    env.pop('ANSIBLE_CALLBACKS_ENABLED', None)
    return env


class Rulebook:
    """ansible-rulebook running extensions/eda/rulebooks/zero_touch.yml in the background; its output in a file."""

    def __init__(self, lab_home: Path, inventory: Path, work: Path):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = self.work / 'rulebook.log'
        self.env = rulebook_env(lab_home, inventory, self.work)
        self.process = None

    def start(self, timeout: float = 60.0) -> 'Rulebook':
        if not (EDA_BIN / 'ansible-rulebook').exists():
            raise RuntimeError('ansible-rulebook is not installed: run `make eda`')
        with open(self.log, 'ab') as output:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                [str(EDA_BIN / 'ansible-rulebook'), '-r', RULEBOOK, '-v'], cwd=REPO_ROOT, env=self.env,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while 'following the station events' not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError('ansible-rulebook ended (%s):\n%s' % (self.process.returncode, self.output()[-4000:]))
            if time.monotonic() > deadline:
                raise RuntimeError('ansible-rulebook did not start within %ss:\n%s' % (timeout, self.output()[-4000:]))
            time.sleep(0.2)
        return self

    def output(self) -> str:
        return self.log.read_text(errors='replace') if self.log.exists() else ''

    def alerts(self) -> list[str]:
        return [line.strip() for line in self.output().splitlines() if line.startswith('EVCS ALERT ')]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()


def audit_runs(audit_file: Path) -> list[dict]:
    """The run_start lines of the audit trail."""
    if not Path(audit_file).exists():
        return []
    lines = [json.loads(line) for line in Path(audit_file).read_text().splitlines() if line.strip()]
    return [line for line in lines if line.get('event') == 'run_start']


def commissioned(reports: Path) -> dict[str, dict]:
    """{station_id: report entry} of every station a commissioning report says passed."""
    passed = {}
    for path in sorted(Path(reports).glob('commissioning-*.json')):
        for station in json.loads(path.read_text()):
            if station.get('passed'):
                passed[station['station_id']] = dict(station, report_file=path.name)
    return passed


def timeline(events: list[dict], station_id: str) -> list[tuple[str, str]]:
    """(time, what) of one station's events from the CSMS stream."""
    lines = []
    for event in events:
        if event['station_id'] != station_id:
            continue
        data = event['data']
        if event['type'] == 'boot':
            what = 'BootNotification (%s, serial %s) -> %s' % (data.get('reason'), data.get('serial_number'),
                                                               data.get('status'))
        elif event['type'] == 'connected':
            what = 'connected on security profile %s%s' % (data.get('security_profile'),
                                                         ' (reconnect)' if data.get('reconnect') else '')
        elif event['type'] == 'connector_status':
            what = 'connector %s/%s %s' % (data.get('evse_id'), data.get('connector_id'), data.get('status'))
        elif event['type'] == 'security_event':
            what = 'SecurityEventNotification %s' % data.get('event_type')
        else:
            what = event['type']
        lines.append((event['at'], what))
    return lines


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace('Z', '+00:00'))
