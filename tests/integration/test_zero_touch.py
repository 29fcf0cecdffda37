"""Zero-touch (issue 21): the rulebook extensions/eda/rulebooks/zero_touch.yml with the event source
evcs.provisioning.station_events, run by ansible-rulebook against a lab of this module's own. Nobody runs a playbook:
stations are added to the simulator factory-fresh (unknown to the CSMS, they boot Pending) and the test only watches.

- a declared station with the declared serial is commissioned end to end: certificate from its own CSR, on its
  declared security profile, commissioning report passed, audit trail naming the rulebook as the actor;
- an undeclared station and a station reporting another serial stay Pending, unprovisioned, and raise the alert;
- 20 stations booting at once are all provisioned, each by exactly one run.
The times from the first BootNotification to commissioned are printed (pytest -s) and written to the work dir.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from evcs_lab import zero_touch
from evcs_lab.zero_touch import Rulebook, audit_runs, commissioned, moment, station_vars, write_inventory

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import running_lab  # noqa: E402

pytestmark = pytest.mark.integration

SINGLE = 'ZT-0001'
UNDECLARED = 'ZT-STRAY-01'
WRONG_SERIAL = 'ZT-0002'
STORM = ['ZT-S%02d' % number for number in range(1, 21)]
ONE_STATION_TIMEOUT = 300
STORM_TIMEOUT = 900


def _serial(station_id):
    """The serial the lab simulator reports for a station it adds."""
    return 'SN-%s' % station_id


@pytest.fixture(scope='module')
def zt_lab(tmp_path_factory):
    if not (zero_touch.EDA_BIN / 'ansible-rulebook').exists():
        pytest.skip('ansible-rulebook is not installed: run `make eda`')
    with running_lab(tmp_path_factory.mktemp('zero-touch-lab')) as state:
        yield state


@pytest.fixture(scope='module')
def rulebook(zt_lab, tmp_path_factory):
    """The rulebook running against the lab; the inventory declares the single station, the wrong-serial station
    (with a serial it will not report) and the 20 stations of the storm; the stray station is not declared."""
    work = tmp_path_factory.mktemp('zero-touch-work')
    stations = {SINGLE: station_vars(SINGLE, _serial(SINGLE), security_profile=3),
                WRONG_SERIAL: station_vars(WRONG_SERIAL, 'SN-SOMETHING-ELSE', security_profile=2)}
    stations.update({station_id: station_vars(station_id, _serial(station_id), security_profile=2)
                     for station_id in STORM})
    inventory = write_inventory(work / 'inventory', stations)
    with Rulebook(zt_lab.home, inventory, work) as running:
        yield running


def _wait(predicate, what, timeout, rulebook):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if rulebook.process.poll() is not None:
            raise AssertionError('ansible-rulebook ended: %s' % rulebook.output()[-4000:])
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %ss\n%s' % (what, timeout, rulebook.output()[-6000:]))
        time.sleep(1)


def _first_boots(lab, station_ids):
    events = lab.csms.events('0')['items']
    firsts = {}
    for event in events:
        if event['type'] == 'boot' and event['station_id'] in station_ids and event['station_id'] not in firsts:
            firsts[event['station_id']] = moment(event['at'])
    return firsts


def _provision_runs(rulebook, station_ids):
    """{station: [run_start lines]} of provision.yml runs whose actor is the rulebook."""
    runs = {}
    for line in audit_runs(rulebook.work / 'audit.jsonl'):
        if line['playbook'].endswith('provision.yml') and line['actor'].startswith(zero_touch.ACTOR_PREFIX):
            for station_id in (line.get('limit') or '').split(','):
                if station_id in station_ids:
                    runs.setdefault(station_id, []).append(line)
    return runs


def _record(text, work, name):
    print(text)
    with open(work / 'timings.txt', 'a') as handle:
        handle.write('%s: %s\n' % (name, text))


def test_a_declared_station_goes_from_power_on_to_commissioned_with_nobody_running_a_playbook(zt_lab, rulebook):
    zt_lab.sim.add([SINGLE])
    reports = rulebook.work / 'reports'
    report = _wait(lambda: commissioned(reports).get(SINGLE), 'station commissioned', ONE_STATION_TIMEOUT, rulebook)
    done = time.time()

    connection = zt_lab.csms.connection(SINGLE)
    assert connection['online'] and connection['security_profile'] == 3, connection
    assert connection['boot']['status'] == 'Accepted', connection['boot']
    # the certificate it presents is signed for the key of the CSR the station itself sent (the key never left it)
    presented = x509.load_pem_x509_certificate(connection['client_certificate'].encode())
    csr = x509.load_pem_x509_csr(zt_lab.csms.csr(SINGLE)['csr'].encode())
    assert presented.public_key().public_numbers() == csr.public_key().public_numbers()
    assert presented.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == SINGLE
    assert zt_lab.csms.record('stations', SINGLE)['serial_number'] == _serial(SINGLE)
    items = {item['name']: item['status'] for item in report['checklist']}
    assert items['station_mtls'] == 'pass' and items['certificate_validity'] == 'pass', items

    runs = _provision_runs(rulebook, {SINGLE})[SINGLE]
    assert len(runs) == 1, runs
    trail = [json.loads(line) for line in (rulebook.work / 'audit.jsonl').read_text().splitlines()]
    tasks = [line for line in trail if line['run_id'] == runs[0]['run_id'] and line['event'] != 'run_start']
    assert tasks and all(line['actor'].startswith(zero_touch.ACTOR_PREFIX) for line in tasks)
    assert any(line['status'] == 'changed' for line in tasks)

    first_boot = _first_boots(zt_lab, {SINGLE})[SINGLE]
    _record('one station: first BootNotification to commissioned in %.1f s' % (done - first_boot.timestamp()),
            rulebook.work, 'single')


def test_a_security_event_that_needs_action_renews_the_station_certificate(zt_lab, rulebook):
    """InvalidChargingStationCertificate: the rulebook runs renew_certificates.yml (forced) for that station only;
    the station makes a new key pair and CSR and the certificate Vault signs for it reaches the station."""
    before = zt_lab.csms.csr(SINGLE)
    zt_lab.sim.security_event(SINGLE, 'InvalidChargingStationCertificate', tech_info='lab tech info, not published')

    def _renewed():
        runs = [line for line in audit_runs(rulebook.work / 'audit.jsonl')
                if line['playbook'].endswith('renew_certificates.yml') and line.get('limit') == SINGLE]
        ended = [line for line in _trail(rulebook) if line['event'] == 'run_end'
                 and line['run_id'] in set(run['run_id'] for run in runs)]
        return runs if ended else None
    runs = _wait(_renewed, 'renew_certificates.yml run by the rulebook', 300, rulebook)
    assert len(runs) == 1 and runs[0]['actor'].startswith(zero_touch.ACTOR_PREFIX)
    assert 'InvalidChargingStationCertificate' in runs[0]['actor']
    lines = [line for line in _trail(rulebook) if line['run_id'] == runs[0]['run_id'] and 'status' in line]
    assert not [line for line in lines if line['status'] in ('failed', 'unreachable')], lines
    after = zt_lab.csms.csr(SINGLE)
    assert after['received_at'] > before['received_at'] and after['csr'] != before['csr']
    # techInfo is free text: the stream publishes the type and time only
    assert 'lab tech info' not in json.dumps(zt_lab.csms.events('0')['items'])


def _trail(rulebook):
    path = rulebook.work / 'audit.jsonl'
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_undeclared_and_wrong_serial_stations_stay_pending_and_raise_the_alert(zt_lab, rulebook):
    zt_lab.sim.add([UNDECLARED, WRONG_SERIAL])
    expected = ['EVCS ALERT station=%s serial=%s reason=not declared in the inventory' % (UNDECLARED, _serial(UNDECLARED)),
                'EVCS ALERT station=%s serial=%s reason=reports serial %s, the inventory declares SN-SOMETHING-ELSE'
                % (WRONG_SERIAL, _serial(WRONG_SERIAL), _serial(WRONG_SERIAL))]

    def _alerted():
        alerts = rulebook.alerts()
        return all(any(alert.startswith(prefix) for alert in alerts) for prefix in expected)
    _wait(_alerted, 'both alerts', 120, rulebook)
    # they keep booting (Pending stations retry): still nothing may start for them
    time.sleep(15)
    for station_id in (UNDECLARED, WRONG_SERIAL):
        connection = zt_lab.csms.connection(station_id)
        assert connection['boot']['status'] == 'Pending', connection['boot']
        assert zt_lab.csms.record('stations', station_id) is None
        assert zt_lab.csms.csr(station_id) is None
    assert _provision_runs(rulebook, {UNDECLARED, WRONG_SERIAL}) == {}
    # throttled: one alert per station however often it boots
    assert sum(alert.startswith('EVCS ALERT station=%s ' % UNDECLARED) for alert in rulebook.alerts()) == 1


def test_twenty_stations_booting_at_once_are_each_provisioned_exactly_once(zt_lab, rulebook):
    started = time.time()
    zt_lab.sim.add(STORM)
    reports = rulebook.work / 'reports'
    _wait(lambda: set(STORM) <= set(commissioned(reports)), 'all 20 commissioned', STORM_TIMEOUT, rulebook)
    done = time.time()

    runs = _provision_runs(rulebook, set(STORM))
    assert sorted(runs) == sorted(STORM)
    assert {station_id: len(lines) for station_id, lines in runs.items() if len(lines) != 1} == {}
    for station_id in STORM:
        connection = zt_lab.csms.connection(station_id)
        assert connection['security_profile'] == 2 and connection['boot']['status'] == 'Accepted', connection
    # never two provisions of one station at once: each station's run is the only one (above); the slots let at
    # most four run at a time
    firsts = _first_boots(zt_lab, set(STORM))
    _record('20 stations at once: first BootNotification to all commissioned in %.1f s (added %.1f s before the '
            'first boot)' % (done - min(firsts.values()).timestamp(), min(firsts.values()).timestamp() - started),
            rulebook.work, 'storm')


def test_the_event_stream_tells_first_boot_serial_and_reconnects_and_holds_no_secret(zt_lab, rulebook):
    events = zt_lab.csms.events('0')['items']
    single = [event for event in events if event['station_id'] == SINGLE]
    boots = [event for event in single if event['type'] == 'boot']
    assert boots[0]['data']['first_boot'] is True and boots[0]['data']['status'] == 'Pending'
    assert boots[0]['data']['serial_number'] == _serial(SINGLE) and boots[0]['data']['vendor']
    assert all(boot['data']['first_boot'] is False for boot in boots[1:]) and boots[-1]['data']['status'] == 'Accepted'
    connected = [event['data'] for event in single if event['type'] == 'connected']
    assert connected[0]['reconnect'] is False and connected[-1]['reconnect'] is True
    assert connected[-1]['security_profile'] == 3
    assert [int(event['cursor']) for event in events] == sorted(int(event['cursor']) for event in events)
    # the stream holds none of the lab's secrets nor the passwords the stations were given
    text = json.dumps(events)
    for secret in (zt_lab['csms']['api_token'], zt_lab['csms']['staging_password'], zt_lab['vault']['secret_id']):
        assert secret not in text
    assert 'password' not in text.lower() and 'PRIVATE KEY' not in text
    # nor does the rulebook's output (events, alerts, the playbook runs it started) or the audit trail
    logged = rulebook.output() + (rulebook.work / 'audit.jsonl').read_text()
    for secret in (zt_lab['csms']['api_token'], zt_lab['csms']['staging_password'], zt_lab['vault']['secret_id'],
                   zt_lab['vault']['token']):
        assert secret not in logged
    # a long poll from "now" answers only later events (the lab's other Pending stations keep booting) and the
    # cursor to pass next
    later = zt_lab.csms.events('now', timeout=1)
    assert all(int(event['cursor']) > int(events[-1]['cursor']) for event in later['items'])
    assert int(later['cursor']) >= int(events[-1]['cursor'])
