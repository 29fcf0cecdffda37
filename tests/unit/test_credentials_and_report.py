"""The staging password item of the commissioning checklist and the Markdown report's escaping (issue 17)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.filter.commissioning_report import markdown_code, markdown_text
from ansible_collections.evcs.provisioning.plugins.module_utils import commissioning
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError


class _Backend(object):
    NAME = 'fake'

    def __init__(self, accepts, capabilities=('password_check',)):
        self.accepts = accepts
        self.capabilities = capabilities

    def has(self, capability):
        return capability in self.capabilities

    def verify_station_password(self, station_id, password):
        if isinstance(self.accepts, Exception):
            raise self.accepts
        return self.accepts


def _item(staging):
    observations = {} if staging is None else {'staging': staging}
    return commissioning._check_staging({'station_id': 'CP-1'}, observations)


def test_the_staging_password_must_be_refused():
    assert _item(commissioning._staging_admitted(_Backend(False), 'CP-1', 'x'))[0] == commissioning.PASS
    status, evidence = _item(commissioning._staging_admitted(_Backend(True), 'CP-1', 'x'))
    assert status == commissioning.FAIL and 'still admits the shared staging password' in evidence['error']
    assert _item(commissioning._staging_admitted(_Backend(CsmsError('down')), 'CP-1', 'x'))[0] == commissioning.FAIL
    unsupported = commissioning._staging_admitted(_Backend(True, capabilities=()), 'CP-1', 'x')
    assert unsupported == {'unsupported': 'not verifiable with backend fake: the CSMS password of station CP-1: '
                                          'backend fake cannot tell whether it accepts a given BasicAuth password for a '
                                          'station'}
    assert _item(unsupported)[0] == commissioning.SKIP
    assert _item(None)[0] == commissioning.SKIP
    assert 'staging_password_refused' in commissioning.CHECKS


def test_a_station_reported_value_cannot_forge_a_table_row_or_markup():
    forged = '300 | PASS |\n| EVIL-CP | PASS | ok <img src=x> [link](http://x) **bold**'
    text = markdown_text(forged)
    assert '\n' not in text and '|' not in text.replace('\\|', '')
    assert '<' not in text.replace('\\<', '') and '[' not in text.replace('\\[', '') and '**' not in text
    assert markdown_text('LAB-CP-0001') == 'LAB-CP-0001'
    code = markdown_code('a ` b\nc')
    assert code.startswith('``') and code.endswith('``') and '\n' not in code
