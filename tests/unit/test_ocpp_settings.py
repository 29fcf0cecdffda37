# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of OCPP settings drives validation, what the ocpp role sends and the docs."""

from __future__ import annotations

import json
import pathlib
import re
import textwrap

import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_DEFAULTS, OCPP_SETTINGS
from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import OCPP_FIELDS, load_station
from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import OCPP_VARIABLES, ocpp_variables

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOOD = yaml.safe_load((pathlib.Path(__file__).parent / 'data' / 'good_charger.yml').read_text())


def _documented_ocpp_block():
    """The ``ocpp:`` mapping of the charger example in docs/INVENTORY.md."""
    text = (ROOT / 'docs' / 'INVENTORY.md').read_text()
    block = re.search(r'^  ocpp:\n((?:    .*\n)+)', text, re.MULTILINE)
    assert block, 'docs/INVENTORY.md has no evcs_station.ocpp example'
    return yaml.safe_load(textwrap.dedent(block.group(1)))


def test_the_docs_show_exactly_the_defaults_of_the_table():
    assert _documented_ocpp_block() == OCPP_DEFAULTS


def test_the_docs_list_every_setting_of_the_table_as_it_is():
    lines = (ROOT / 'docs' / 'INVENTORY.md').read_text().splitlines()
    for setting in OCPP_SETTINGS:
        variable = ('%s.%s%s' % (setting.component, setting.variable, '[%s]' % setting.instance if setting.instance else '')
                    if setting.component else 'connection profile messageTimeout')
        default = json.dumps(setting.default).replace('"', '') if setting.default is not None else '(not sent unless declared)'
        row = '| `%s` | `%s` | %s | %s |' % (setting.key, variable, default, setting.description)
        assert row in lines, 'docs/INVENTORY.md lacks or differs from: %s' % row


def test_validation_rendering_and_the_table_know_the_same_settings():
    keys = [setting.key for setting in OCPP_SETTINGS]
    assert list(OCPP_FIELDS) == keys
    # the message timeout is the connection profile's (security role), not a device-model write
    assert [row[0] for row in OCPP_VARIABLES] == [setting.key for setting in OCPP_SETTINGS if setting.component]


def test_every_setting_the_table_knows_is_accepted_and_reaches_the_station():
    host_vars = dict(GOOD)
    host_vars['evcs_station'] = dict(GOOD['evcs_station'], ocpp={'ended_interval': 0, 'local_pre_authorize': True,
                                                                  'ended_measurands': ['Energy.Active.Import.Register'],
                                                                  'aligned_measurands': ['Voltage'], 'aligned_interval': 900})
    station, problems = load_station('charger-1', host_vars)
    assert problems == []
    sent = dict((item['variable']['name'], item['value']) for item in ocpp_variables(station['ocpp']))
    assert sent['TxEndedInterval'] == 0 and sent['LocalPreAuthorize'] is True and sent['Interval'] == 900
    assert sent['HeartbeatInterval'] == 600          # the site's evcs_ocpp over the default
    assert sent['OfflineThreshold'] == OCPP_DEFAULTS['offline_threshold']


def test_the_defaults_reach_the_station_when_nothing_is_declared():
    sent = dict((item['variable']['name'], item['value']) for item in ocpp_variables({}))
    by_variable = dict((setting.variable, setting.default) for setting in OCPP_SETTINGS
                       if setting.default is not None and setting.component)
    assert sent == by_variable
