# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: fleet_report
short_description: One self-contained HTML page on the fleet after a provision or verify run
version_added: 0.1.0
description:
  - Collects per station what the run found (result, security profile, certificate expiry, every drifted or changed
    field with before and after, failures and failed commissioning items with their message and fix) and renders one
    HTML page per run, grouped by site, with inline styles and no script or external resource.
  - Every value is HTML-escaped, above all the values stations and the CSMS report (device-model variables, messages),
    so a station that reports markup cannot put it on the page.
  - Reads the variables C(provision.yml) and C(verify.yml) set (C(evcs_provision_outcome), C(evcs_drift),
    C(evcs_verify_failure)) and the registered C(commission_result) and C(identity_certificate).
positional: hosts, title, generated
options:
  _input:
    description: C(hostvars), or the C(stations) of a registered M(evcs.provisioning.fleet_verify) result (each
      station's part carries the same variables; verify.yml's fleet mode makes its report from it, once).
    type: raw
    required: true
  hosts:
    description: The hosts of the run, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  title:
    description: The page title, for example C(Fleet report - verify).
    type: str
    default: Fleet report
  generated:
    description: When the report was made (shown on the page).
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Write the HTML fleet report
  ansible.builtin.copy:
    content: "{{ hostvars | evcs.provisioning.fleet_report(ansible_play_hosts_all, 'Fleet report - verify', now(utc=true)) }}"
    dest: reports/fleet-verify.html
    mode: "0644"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
_value:
  description: The HTML page.
  type: str
'''

import html
import json

from ansible_collections.evcs.provisioning.plugins.filter.result_changes import host_var

_STYLE = '''
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1d2329;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.6em 0 .4em}
.meta{color:#5b6670;margin-bottom:1em}
.counts span{display:inline-block;margin-right:1.2em;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #d5dbe0;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f2f5f7}
td:first-child{white-space:nowrap}
.result{font-weight:700;white-space:nowrap}
.ok{color:#17692e}.changed{color:#1d4f91}.drifted{color:#8a5a00}.failed{color:#a3171c}.pending{color:#5b6670}
ul{margin:0;padding-left:1.1em}li{margin:.1em 0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.95em;word-break:break-all}
'''


def _text(value):
    """A value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def _e(value):
    return html.escape(_text(value), quote=True)


def _entries(items):
    return [item for item in items or () if isinstance(item, dict)]


def station_record(host, host_vars):
    """What the report shows about one host."""
    station = host_var(host_vars, 'evcs_station') or {}
    site = host_var(host_vars, 'evcs_site') or {}
    outcome = host_var(host_vars, 'evcs_provision_outcome') or {}
    drift = host_var(host_vars, 'evcs_drift')
    verify_failure = host_var(host_vars, 'evcs_verify_failure')
    commission = host_var(host_vars, 'commission_result') or {}
    certificate = host_var(host_vars, 'identity_certificate') or {}
    failures = []
    if outcome.get('status') == 'failed':
        failures.append('%s: %s' % (outcome.get('task'), outcome.get('msg')))
    if verify_failure:
        failures.append(verify_failure)
    checklist = commission.get('checklist') or []
    changes = _entries(drift if drift is not None else outcome.get('changes'))
    # a failed item verify.yml already lists as a drifted field is not repeated
    listed = set(str(c.get('field')).split(':', maxsplit=1)[0] for c in changes if c.get('source') == 'commission_result')
    for item in _entries(checklist):
        if item.get('status') == 'fail' and item.get('required', True) and item.get('name') not in listed:
            failures.append('commissioning item %s: %s' % (item.get('name'), _text(item.get('evidence'))))
    online = next((item.get('evidence') for item in _entries(checklist) if item.get('name') == 'station_online'), None)
    if failures or any(c.get('source') == 'commission_result' for c in changes):
        result = 'failed'
    elif drift is not None:
        result = 'drifted' if changes else 'ok'
    elif outcome:
        result = 'changed' if changes else 'ok'
    else:
        result = 'not reached'
    return {
        'host': host,
        'station_id': station.get('id') or host,
        'site_id': site.get('id') or '(no site)',
        'site_name': site.get('name') or site.get('id') or '(no site)',
        'environment': host_var(host_vars, 'evcs_environment'),
        'result': result,
        'security_profile': station.get('security_profile'),
        'connected_profile': online.get('security_profile') if isinstance(online, dict) else None,
        'certificate_not_after': certificate.get('not_after'),
        'certificate_days_left': certificate.get('days_left'),
        'changes': [dict(field=c.get('field'), before=c.get('before'), after=c.get('after'), source=c.get('source'))
                    for c in changes],
        'failures': failures,
        'pending': list(outcome.get('pending') or commission.get('pending_items') or []),
    }


def _profile_cell(record):
    wanted, connected = record['security_profile'], record['connected_profile']
    if connected is None or connected == wanted:
        return _e(wanted if wanted is not None else '-')
    return '%s (connected on %s)' % (_e(wanted), _e(connected))


def _certificate_cell(record):
    if not record['certificate_not_after']:
        return '-'
    days = record['certificate_days_left']
    return '%s%s' % (_e(record['certificate_not_after']), (' (%s days left)' % _e(days)) if days is not None else '')


def _details_cell(record):
    parts = []
    if record['changes']:
        parts.append('<ul class="changes">%s</ul>' % ''.join(
            '<li><code>%s</code>: <code>%s</code> &rarr; <code>%s</code>%s</li>'
            % (_e(c['field']), _e(c['before']), _e(c['after']), (' <small>(%s)</small>' % _e(c['source'])) if c['source'] else '')
            for c in record['changes']))
    if record['failures']:
        parts.append('<ul class="failures">%s</ul>' % ''.join('<li class="failed">%s</li>' % _e(f) for f in record['failures']))
    if record['pending']:
        parts.append('<p class="pending">checked after the apply: %s</p>' % _e(', '.join(record['pending'])))
    return ''.join(parts) or '-'


def render(records, title='Fleet report', generated=''):
    """The HTML page of ``records`` (``station_record`` objects)."""
    counts = {}
    for record in records:
        counts[record['result']] = counts.get(record['result'], 0) + 1
    environments = sorted(set(_text(r['environment']) for r in records if r['environment']))
    sites = {}
    for record in sorted(records, key=lambda r: (str(r['site_id']), str(r['station_id']))):
        sites.setdefault((record['site_id'], record['site_name']), []).append(record)
    body = ['<h1>%s</h1>' % _e(title),
            '<p class="meta">environment %s &middot; generated %s &middot; %d station(s)</p>'
            % (_e(', '.join(environments) or '-'), _e(generated or '-'), len(records)),
            '<p class="counts">%s</p>' % ''.join('<span class="%s">%s: %d</span>' % (_e(k.replace(' ', '-')), _e(k), v)
                                                 for k, v in sorted(counts.items()))]
    for (site_id, site_name), members in sites.items():
        body.append('<h2>%s <small>(%s)</small></h2>' % (_e(site_name), _e(site_id)))
        body.append('<table><thead><tr><th>station</th><th>result</th><th>security profile</th>'
                    '<th>certificate expires</th><th>drifted or changed fields, failures and their fix</th></tr></thead><tbody>')
        for record in members:
            body.append('<tr id="%s"><td><code>%s</code></td><td class="result %s">%s</td><td>%s</td><td>%s</td><td>%s</td></tr>'
                        % (_e(record['station_id']), _e(record['station_id']), _e(record['result'].replace(' ', '-')),
                           _e(record['result']), _profile_cell(record), _certificate_cell(record), _details_cell(record)))
        body.append('</tbody></table>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            '<title>%s</title><style>%s</style></head><body>\n%s\n</body></html>\n'
            % (_e(title), _STYLE, '\n'.join(body)))


def fleet_report(hostvars, hosts, title='Fleet report', generated=''):
    records = [station_record(host, hostvars[host]) for host in hosts]
    return render(records, title=title, generated=_text(generated))


class FilterModule(object):
    """evcs.provisioning.fleet_report"""

    def filters(self):
        return {'fleet_report': fleet_report}
