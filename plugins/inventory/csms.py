# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: csms
short_description: The charging stations a CSMS knows, as an inventory
version_added: 0.1.0
description:
  - Lists the station records of a CSMS (through the collection's CSMS backend interface) and adds each station as
    a host, for drift reports and lifecycle playbooks.
  - Groups hosts by location (C(location_<id>)) and status (C(status_<status>)); the record is the host variable
    C(evcs_csms_record).
  - The configuration file name must end with C(csms.yml) or C(csms.yaml).
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin.
    type: str
    required: true
    choices: [evcs.provisioning.csms]
  csms_backend:
    description: Which CSMS backend the records are read from (docs/BACKENDS.md).
    type: str
    default: reference
    choices: [reference, citrineos]
  csms_options:
    description: Settings of the chosen backend, as its doc fragment C(evcs.provisioning.csms_<backend>) documents them.
    type: dict
    default: {}
  csms_url:
    description: Base URL of the CSMS API.
    type: str
    required: true
    env:
      - name: EVCS_CSMS_URL
  csms_token:
    description: Bearer token for the CSMS API (required by the C(reference) backend).
    type: str
    env:
      - name: EVCS_CSMS_TOKEN
  csms_ca_path:
    description: CA bundle that verifies the CSMS's TLS certificate.
    type: path
    env:
      - name: EVCS_CSMS_CA_PATH
  csms_validate_certs:
    description: Verify the CSMS's TLS certificate.
    type: bool
    default: true
  csms_timeout:
    description: Seconds to wait for one CSMS call.
    type: int
    default: 30
  filters:
    description: "Equality filters on record fields, passed to the CSMS list call (for example C({status: active}))."
    type: dict
    default: {}
'''

EXAMPLES = r'''
# inventories/lab/csms.yml
plugin: evcs.provisioning.csms
csms_url: https://127.0.0.1:8443
csms_ca_path: /etc/evcs/csms-ca.pem
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/evcs-inventory
keyed_groups:
  - key: evcs_csms_record.vendor
    prefix: vendor
'''

import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import station_id_problem

_UNSAFE_GROUP_CHARS = re.compile(r'[^A-Za-z0-9_]')


def group_name(prefix, value):
    """``location_lab_depot`` from ``('location', 'lab-depot')``."""
    return '%s_%s' % (prefix, _UNSAFE_GROUP_CHARS.sub('_', str(value)))


def station_groups(record):
    """The groups a station record puts its host in."""
    groups = []
    if record.get('location_id'):
        groups.append(group_name('location', record['location_id']))
    groups.append(group_name('status', record.get('status') or 'unknown'))
    return groups


class InventoryModule(BaseInventoryPlugin, Cacheable, Constructable):

    NAME = 'evcs.provisioning.csms'

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(('csms.yml', 'csms.yaml'))

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        records = None
        if use_cache:
            try:
                records = self._cache[cache_key]
            except KeyError:
                records = None
        if records is None:
            records = self._fetch()
            if self.get_option('cache'):
                self._private_cache_dir()
                self._cache[cache_key] = records
        for record in records:
            problem = station_id_problem(record.get('id'))
            if problem:
                self.display.warning('evcs.provisioning.csms: station record id %r skipped: %s (a station id is the '
                                     'OCPP identity: letters, digits and - _ . ~)' % (record.get('id'), problem))
                continue
            self._add_station(record)

    def _private_cache_dir(self):
        """The cache holds the CSMS's station records: keep its directory private to the operator (0700)."""
        directory = self.get_option('cache_connection')
        if not directory:
            return
        directory = os.path.expanduser(directory)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)

    def _fetch(self):
        params = dict((name, self.get_option(name)) for name in (
            'csms_backend', 'csms_options', 'csms_url', 'csms_token', 'csms_ca_path', 'csms_validate_certs',
            'csms_timeout'))
        params['csms_retries'] = 2
        try:
            return csms_backend(params, warn=self.display.warning).find_records('station', **self.get_option('filters'))
        except CsmsError as exc:
            raise AnsibleParserError('evcs.provisioning.csms: cannot list the stations of %s: %s'
                                     % (self.get_option('csms_url'), exc))

    def _add_station(self, record):
        host = record['id']
        self.inventory.add_host(host)
        for name in station_groups(record):
            self.inventory.add_group(name)
            self.inventory.add_child(name, host)
        self.inventory.set_variable(host, 'evcs_csms_record', record)
        strict = self.get_option('strict')
        variables = self.inventory.get_host(host).get_vars()
        self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)
