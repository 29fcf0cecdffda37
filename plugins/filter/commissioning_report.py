# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: commissioning_report
short_description: One report object per station from the registered commissioning results
version_added: 0.1.0
description:
  - Collects the registered M(evcs.provisioning.commissioning_check) result of each host into one object per station,
    for a JSON report and a table per site.
  - Hosts without a result (not reached yet, or failed before commissioning) are left out.
positional: hosts
options:
  _input:
    description: C(hostvars).
    type: raw
    required: true
  hosts:
    description: The hosts to report, for example C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  result_var:
    description: The name the role registered the check's result under.
    type: str
    default: commission_result
'''

EXAMPLES = r'''
- name: Write the report
  ansible.builtin.copy:
    content: "{{ hostvars | evcs.provisioning.commissioning_report(ansible_play_hosts_all) | to_nice_json }}"
    dest: reports/commissioning.json
    mode: "0644"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
_value:
  description:
    - A list of C({station_id, host, site_id, site_name, environment, passed, failed_items, error, checklist}) sorted by
      site and station; C(error) holds the task's message when the check could not run at all.
  type: list
  elements: dict
'''

import re

from ansible_collections.evcs.provisioning.plugins.filter.result_changes import host_var

#: characters that start or end Markdown (and inline HTML) syntax: a value that a station reports is shown literally
_MARKDOWN_SPECIAL = re.compile(r'([\\`*_\[\]<>|~&])')


def station_report(host, host_vars, result_var='commission_result'):
    """The report object of one host, or None when the host has no commissioning result."""
    result = host_var(host_vars, result_var)
    if not isinstance(result, dict) or result.get('skipped'):
        return None
    site = host_var(host_vars, 'evcs_site') or {}
    station = host_var(host_vars, 'evcs_station') or {}
    checklist = result.get('checklist') or []
    return {
        'station_id': result.get('station_id') or station.get('id') or host,
        'host': host,
        'site_id': site.get('id'),
        'site_name': site.get('name') or site.get('id'),
        'environment': host_var(host_vars, 'evcs_environment'),
        'passed': bool(result.get('passed')),
        'failed_items': list(result.get('failed_items') or []),
        'error': None if checklist else result.get('msg'),
        'checklist': checklist,
    }


def commissioning_report(hostvars, hosts, result_var='commission_result'):
    reports = [station_report(host, hostvars[host], result_var) for host in hosts]
    return sorted((r for r in reports if r is not None), key=lambda r: (str(r['site_id']), str(r['station_id'])))


def markdown_text(value):
    """``value`` as literal Markdown text on one line: a station-reported value cannot open a row, a heading, a link
    or HTML, nor end a table cell (every Markdown special character escaped, line breaks made spaces)."""
    text = ' '.join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(r'\\\1', text)


def markdown_code(value):
    """``value`` as an inline code span on one line, fenced with more backticks than it contains."""
    text = ' '.join(str(value).splitlines()).replace('|', '\\|')
    longest = max([len(run) for run in re.findall('`+', text)] or [0])
    fence = '`' * (longest + 1)
    return '%s %s %s' % (fence, text, fence) if longest else '`%s`' % text


class FilterModule(object):
    """evcs.provisioning.commissioning_report (with markdown_text and markdown_code for the Markdown report)"""

    def filters(self):
        return {'commissioning_report': commissioning_report, 'markdown_text': markdown_text,
                'markdown_code': markdown_code}
