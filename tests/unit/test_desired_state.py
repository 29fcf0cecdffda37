# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state model: good inventories pass, every case of the bad-input corpus is refused clearly."""

from __future__ import annotations

import copy
import pathlib
import re

import pytest
import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import (
    UnreadableVariable, check_inventory, load_station, public_station, run_inventory_check, station_from_vars,
)

DATA = pathlib.Path(__file__).parent / 'data'
CORPUS = yaml.safe_load((DATA / 'bad_inputs.yml').read_text())
GOOD = yaml.safe_load((DATA / 'good_charger.yml').read_text())
SECRETS = ('csms-token-S3CRET', 'vault-role-id-S3CRET', 'vault-secret-id-S3CRET', 'wifi-pass-S3CRET', 'apn-pw-S3CRET')
HOST = 'charger-1'
_STEP = re.compile(r'([^.\[\]]+)|\[(\d+)\]')


def good_vars():
    """The variables of one valid charger (tests/unit/data/good_charger.yml)."""
    return copy.deepcopy(GOOD)


def good_fleet(count=2):
    """``count`` valid chargers of one site, with distinct ids and serials."""
    fleet = {}
    for number in range(1, count + 1):
        host_vars = good_vars()
        host_vars['evcs_station']['id'] = 'TEST-CP-%04d' % number
        host_vars['evcs_station']['serial_number'] = 'SN-%04d' % number
        fleet['charger-%d' % number] = host_vars
    return fleet


def _walk(data, path):
    steps = [int(name) if name.isdigit() else name if name else int(index) for name, index in _STEP.findall(path)]
    for step in steps[:-1]:
        data = data[step]
    return data, steps[-1]


def patched(host_vars, case):
    """A copy of ``host_vars`` with a corpus case's ``set`` (field path -> value) and ``delete`` applied."""
    data = copy.deepcopy(host_vars)
    for path, value in (case.get('set') or {}).items():
        target, key = _walk(data, path)
        target[key] = value
    for path in case.get('delete') or ():
        target, key = _walk(data, path)
        del target[key]
    return data


def _problems(case):
    if case.get('fleet'):
        fleet = good_fleet(2)
        fleet['charger-1'] = patched(fleet['charger-1'], case)
        return 'charger-1', check_inventory(fleet)['problems']
    return HOST, check_inventory({HOST: patched(good_vars(), case)})['problems']


def test_good_charger_builds_its_desired_state():
    station, problems = load_station(HOST, good_vars())
    assert problems == []
    assert station['station_id'] == 'TEST-CP-0001'
    assert station['ocpp_endpoint'] == 'wss://csms.test.example.net:9443/ocpp'
    assert station['network']['dns'] == ['192.168.10.1']            # site default merged under the station
    assert station['ocpp']['heartbeat_interval'] == 600              # site default over the built-in default
    assert station['ocpp']['sampled_interval'] == 30                 # the station's own value wins
    assert station['ocpp']['message_timeout'] == 30                  # built-in default
    assert station['tariff_id'] == 'test-standard' and station['access'] == 'public'
    assert station['load_management'] == {'max_current_a': 32, 'priority': 1}
    assert station['network']['wifi']['passphrase'] == 'wifi-pass-S3CRET'   # the full model keeps secrets


def test_station_id_defaults_to_the_host_name():
    host_vars = good_vars()
    del host_vars['evcs_station']['id']
    station, problems = load_station('LAB-CP-0009', host_vars)
    assert problems == [] and station['station_id'] == 'LAB-CP-0009'


def test_public_station_and_result_carry_no_secret():
    outcome = run_inventory_check({'data': good_fleet(3), 'hosts': None}, RunContext())
    text = repr(outcome)
    assert outcome['problems'] == [] and sorted(outcome['stations']) == ['charger-1', 'charger-2', 'charger-3']
    assert not [secret for secret in SECRETS if secret in text]
    assert outcome['summary']['sites']['test-depot']['stations'] == 3
    assert outcome['summary']['sites']['test-depot']['max_current_a'] == 96
    assert 'csms' not in outcome['stations']['charger-1']
    assert outcome['stations']['charger-1']['asset']['installation_date'] == '2026-01-15'
    assert outcome['msg'].startswith('inventory ok: 3 charger(s) in 1 site(s), environment test')


def test_site_with_a_load_management_group_may_exceed_the_cap():
    fleet = good_fleet(4)
    for host_vars in fleet.values():
        host_vars['evcs_site']['load_management_group'] = 'depot-dlm'
    assert check_inventory(fleet)['problems'] == []
    for host_vars in fleet.values():
        host_vars['evcs_site']['load_management_group'] = None
    assert any('may draw 128 A together' in p for p in check_inventory(fleet)['problems'])


def test_decommissioned_station_does_not_count_against_the_cap():
    fleet = good_fleet(4)
    fleet['charger-4']['evcs_station']['state'] = 'absent'
    assert check_inventory(fleet)['problems'] == []


def test_every_problem_is_collected_not_only_the_first():
    host_vars = patched(good_vars(), {'set': {'evcs_station.security_profile': 7, 'evcs_station.network.mode': 'x',
                                              'evcs_site.address.country': 'de', 'evcs_csms.url': 'ftp://x'}})
    problems = check_inventory({HOST: host_vars})['problems']
    assert len(problems) == 4, problems


def test_mixed_environments_are_refused():
    fleet = good_fleet(2)
    fleet['charger-2']['evcs_vault']['pki_mount'] = 'pki_test2'
    fleet['charger-2']['evcs_environment_rules']['vault_pki_mounts'] = ['pki_test2']
    problems = check_inventory(fleet)['problems']
    assert any('mixes environments or endpoints' in p for p in problems), problems


def test_unreadable_variable_is_a_problem_naming_the_variable():
    host_vars = good_vars()
    host_vars['evcs_csms'] = UnreadableVariable("'evcs_lab_state' is undefined")
    problems = check_inventory({HOST: host_vars})['problems']
    assert problems == [HOST + ": evcs_csms = '<template>': cannot be read: 'evcs_lab_state' is undefined; define the "
                        'variables it refers to (for the lab: run "evcs-lab up" or point EVCS_LAB_HOME at the lab)']


def test_station_from_vars_refuses_with_all_problems():
    host_vars = patched(good_vars(), {'set': {'evcs_station.serial_number': 'bad serial', 'evcs_station.vendor': 7}})
    with pytest.raises(ModuleFailure) as failure:
        station_from_vars(HOST, host_vars)
    assert len(failure.value.details['problems']) == 2


def test_run_refuses_and_lists_every_problem():
    fleet = good_fleet(2)
    fleet['charger-2']['evcs_station']['evses'][0]['connectors'][0]['type'] = 'Type2'
    with pytest.raises(ModuleFailure) as failure:
        run_inventory_check({'data': fleet, 'hosts': None}, RunContext())
    assert str(failure.value).startswith('1 problem(s) in the inventory, nothing was changed:\ncharger-2: ')


def test_public_station_drops_secret_keys():
    station, _problems = load_station(HOST, good_vars())
    view = public_station(station)
    assert 'passphrase' not in view['network']['wifi'] and 'password' not in view['network']['cellular']


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize('case', CORPUS, ids=[case['name'] for case in CORPUS])
def test_bad_input_is_refused_with_host_field_value_and_fix(case):
    host, problems = _problems(case)
    assert problems, 'accepted: %s' % case['name']
    prefix = '%s: %s = ' % (host, case['field'])
    matching = [p for p in problems if p.startswith(prefix)]
    assert matching, 'no problem at %s in %s' % (case['field'], problems)
    message = next((p for p in matching if case['fragment'] in p), None)
    assert message, 'fragment %r missing in %s' % (case['fragment'], matching)
    value, _sep, rest = message[len(prefix):].partition(': ')
    assert value, message                                    # the value (or its mask) is shown
    assert '; ' in rest and rest.split('; ', 1)[1].strip(), message   # a fix follows what is wrong
    hidden = tuple(SECRETS) + tuple(case.get('hidden') or ())
    leaked = [secret for secret in hidden for problem in problems if secret in problem]
    assert not leaked, 'secret shown: %s' % leaked


def test_a_setting_the_station_model_cannot_set_is_refused_naming_host_field_model_and_fix():
    host_vars = good_vars()
    host_vars['evcs_station'] = dict(host_vars['evcs_station'], station_model='generic')
    problems = check_inventory({HOST: host_vars})['problems']
    dns = [problem for problem in problems if 'evcs_station.network.dns' in problem]
    assert dns and dns[0].startswith(HOST + ': evcs_station.network.dns = ')
    assert 'station model generic maps no variable for it' in dns[0] and 'select a station model that maps it' in dns[0]
    assert any('evcs_station.network.addressing' in problem for problem in problems)


def test_an_unknown_station_model_is_refused():
    host_vars = good_vars()
    host_vars['evcs_station'] = dict(host_vars['evcs_station'], station_model='no-such-model')
    problems = check_inventory({HOST: host_vars})['problems']
    assert any(problem.startswith(HOST + ": evcs_station.station_model = 'no-such-model': station model no-such-model "
                                         "does not exist") for problem in problems), problems
