"""The HTML fleet report: per site and station, every value escaped, no script and no external resource."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.filter.fleet_report import fleet_report

MARKUP = '<img src=x onerror="alert(1)">'


def _hostvars():
    site = {'id': 'depot', 'name': 'Depot <b>North</b>'}
    return {
        'CP-1': {'evcs_station': {'id': 'CP-1', 'security_profile': 3}, 'evcs_site': site, 'evcs_environment': 'pilot',
                 'evcs_drift': [{'field': 'ClockCtrlr.NtpServerUri[1]', 'before': MARKUP, 'after': 'pool.ntp.org',
                                 'source': 'network_variables'}],
                 'identity_certificate': {'not_after': '2027-03-01T00:00:00Z', 'days_left': 84}},
        'CP-2': {'evcs_station': {'id': 'CP-2', 'security_profile': 2}, 'evcs_site': site, 'evcs_drift': [],
                 'evcs_verify_failure': 'Configure: station CP-2 is offline: check its power %s' % MARKUP},
        'CP-3': {'evcs_station': {'id': 'CP-3', 'security_profile': 1}, 'evcs_site': {'id': 'office'},
                 'evcs_drift': []},
    }


def test_every_station_value_is_escaped_and_the_page_has_no_script():
    page = fleet_report(_hostvars(), ['CP-1', 'CP-2', 'CP-3'], 'Fleet report - verify', '2026-12-07')
    assert MARKUP not in page and '<b>North</b>' not in page
    assert '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;' in page and 'Depot &lt;b&gt;North&lt;/b&gt;' in page
    assert '<script' not in page and 'http' not in page.replace('http-equiv', '')


def test_result_profile_expiry_and_drift_per_station():
    page = fleet_report(_hostvars(), ['CP-1', 'CP-2', 'CP-3'])
    row = page[page.index('<tr id="CP-1">'):page.index('</tr>', page.index('<tr id="CP-1">'))]
    assert 'drifted' in row and '2027-03-01T00:00:00Z (84 days left)' in row and 'ClockCtrlr.NtpServerUri[1]' in row
    row = page[page.index('<tr id="CP-2">'):page.index('</tr>', page.index('<tr id="CP-2">'))]
    assert 'failed' in row and 'check its power' in row
    assert page.index('<tr id="CP-3">') > page.index('(office)')
