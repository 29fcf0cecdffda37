# -*- coding: utf-8 -*-
"""docs/OCPP16.md lists every setting of the one table with its 1.6 key, as the table has it."""

from __future__ import annotations

import pathlib

from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_16_docs_list_every_setting_of_the_table_as_it_is():
    lines = (ROOT / 'docs' / 'OCPP16.md').read_text().splitlines()
    rows = [line for line in lines if line.startswith('| `') and line.count('|') == 4]
    for setting in OCPP_SETTINGS:
        key16 = '`%s`' % setting.key16 if setting.key16 else '(none)'
        variable = ('`%s.%s`' % (setting.component, setting.variable) if setting.component
                    else 'connection profile messageTimeout')
        row = '| `%s` | %s | %s |' % (setting.key, key16, variable)
        assert row in lines, 'docs/OCPP16.md lacks or differs from: %s' % row
    assert len(rows) == len(OCPP_SETTINGS)
