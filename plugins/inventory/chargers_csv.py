# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: chargers_csv
short_description: Chargers from a spreadsheet export (CSV), one row per charger
version_added: 0.1.0
description:
  - Reads a CSV file (a file whose name ends with C(.csv), or a YAML file with O(plugin=evcs.provisioning.chargers_csv)
    and O(path)) with one row per charger and adds each charger as a host whose C(evcs_station) follows the
    collection's inventory schema (docs/INVENTORY.md).
  - Hosts are grouped by site (the group name is the site id with C(-) replaced by C(_); its C(evcs_site) defaults
    to C({id, name}) and is replaced by the inventory's C(group_vars/<group>.yml)) and by environment
    (C(env_<environment>)).
  - "Validation is strict and happens before any host is added: unknown or missing columns, empty required cells,
    duplicate station ids, bad connector specifications and out-of-range values fail the whole file, and every error
    names the file, the row number (the header is row 1) and the column."
  - "Columns: required C(station_id), C(serial_number), C(site), C(vendor), C(model), C(connectors); optional
    C(environment), C(firmware_version), C(phases), C(max_current_a), C(voltage_v), C(security_profile), C(network_mode),
    C(iccid), C(apn), C(tariff_id), C(access), C(firmware_channel), C(installer), C(installation_date),
    C(warranty_start), C(state)."
  - "C(connectors) lists the EVSEs separated by C(;), each C(<evse id>:<ConnectorEnumType>:<Socket|Cable>:<max A>),
    for example C(1:cType2:Socket:32;2:cType2:Socket:32); each EVSE gets one connector with id 1."
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin, to use a YAML configuration file.
    type: str
    required: true
    choices: [evcs.provisioning.chargers_csv]
  path:
    description: The CSV file, relative to the YAML configuration file or absolute.
    type: str
    required: true
  environment:
    description: The environment of every charger; overrides the C(environment) column.
    type: str
  delimiter:
    description: Column delimiter.
    type: str
    default: ","
'''

EXAMPLES = r'''
# inventories/test/chargers.yml
plugin: evcs.provisioning.chargers_csv
path: chargers.csv
environment: test
keyed_groups:
  - key: evcs_station.vendor
    prefix: vendor
compose:
  ansible_host: evcs_station.id

# or point ansible at the CSV itself:  ansible-inventory -i fleet/chargers.csv --graph
'''

import csv
import os
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseFileInventoryPlugin, Constructable

from ansible_collections.evcs.provisioning.plugins.module_utils.desired.connector_types import CONNECTOR_TYPES

REQUIRED_COLUMNS = ('station_id', 'serial_number', 'site', 'vendor', 'model', 'connectors')
OPTIONAL_COLUMNS = ('environment', 'firmware_version', 'phases', 'max_current_a', 'voltage_v', 'security_profile',
                    'network_mode', 'iccid', 'apn', 'tariff_id', 'access', 'firmware_channel', 'installer',
                    'installation_date', 'warranty_start', 'state')
_STATION_ID = re.compile(r'^(?!\.)(?!.*\.\.)[A-Za-z0-9._-]{1,36}$')
_SITE_ID = re.compile(r'^[a-z0-9][a-z0-9-]*$')
_ISO_DATE = re.compile(r'^\d{4}-\d{2}-\d{2}$')
_CHOICES = {
    'phases': ('1', '3'),
    'security_profile': ('1', '2', '3'),
    'network_mode': ('ethernet', 'wifi', 'cellular'),
    'access': ('public', 'private', 'free'),
    'state': ('present', 'absent'),
}


class CsvError(Exception):
    """One problem in the file, located by row and column."""

    def __init__(self, row, column, message):
        super().__init__(message)
        self.row = row
        self.column = column


def parse_connectors(spec):
    """``1:cType2:Socket:32;2:...`` -> EVSE dicts with one connector each; raises ValueError naming the fault."""
    evses = []
    for part in [item.strip() for item in spec.split(';') if item.strip()]:
        fields = part.split(':')
        if len(fields) != 4:
            raise ValueError('%r is not <evse id>:<type>:<Socket|Cable>:<max A>' % part)
        evse_id, connector_type, connector_format, max_current = fields
        if not evse_id.isdigit() or int(evse_id) < 1:
            raise ValueError('EVSE id %r in %r is not a positive integer' % (evse_id, part))
        if connector_type not in CONNECTOR_TYPES:
            raise ValueError('%r in %r is not an OCPP connector type (ConnectorEnumType): use one of %s'
                             % (connector_type, part, ', '.join(CONNECTOR_TYPES)))
        if connector_format not in ('Socket', 'Cable'):
            raise ValueError('format %r in %r must be Socket or Cable' % (connector_format, part))
        connector = {'id': 1, 'type': connector_type, 'format': connector_format,
                     'max_current_a': _number(max_current, 'max current in %r' % part)}
        evses.append({'id': int(evse_id), 'connectors': [connector]})
    if not evses:
        raise ValueError('no connector given')
    ids = [evse['id'] for evse in evses]
    if len(set(ids)) != len(ids):
        raise ValueError('EVSE ids repeat in %r' % spec)
    return evses


def _number(text, what):
    try:
        value = float(text)
    except ValueError:
        raise ValueError('%s is %r, not a number' % (what, text))
    if value <= 0:
        raise ValueError('%s must be greater than 0, not %s' % (what, text))
    return int(value) if value.is_integer() else value


def read_chargers(lines, delimiter=','):
    """Rows of a chargers CSV as ``(row number, station dict, site id, environment)``; raises a list of CsvError."""
    reader = csv.DictReader(lines, delimiter=delimiter)
    errors = _header_errors(reader.fieldnames)
    if errors:
        raise CsvErrors(errors)
    chargers, seen = [], {}
    for row_number, row in enumerate(reader, start=2):
        row = dict((key, (value or '').strip()) for key, value in row.items() if key is not None)
        try:
            charger = _charger(row_number, row)
        except CsvError as exc:
            errors.append(exc)
            continue
        station_id = charger[0]['id']
        if station_id in seen:
            errors.append(CsvError(row_number, 'station_id', 'station id %s repeats row %d: station ids must be unique'
                                   % (station_id, seen[station_id])))
            continue
        seen[station_id] = row_number
        chargers.append((row_number,) + charger)
    if errors:
        raise CsvErrors(errors)
    return chargers


class CsvErrors(Exception):
    def __init__(self, errors):
        super().__init__('; '.join(str(error) for error in errors))
        self.errors = errors

    def describe(self, path):
        return '\n'.join('%s: %s%s' % (path, _where(error), error) for error in self.errors)


def _where(error):
    parts = []
    if error.row:
        parts.append('row %d' % error.row)
    if error.column:
        parts.append('column %s' % error.column)
    return ', '.join(parts) + ': ' if parts else ''


def _header_errors(fieldnames):
    if not fieldnames:
        return [CsvError(1, None, 'the file is empty: the first row must name the columns')]
    names = [name.strip() for name in fieldnames]
    errors = [CsvError(1, name, 'unknown column %r: known columns are %s' % (name, ', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)))
              for name in names if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    errors.extend(CsvError(1, name, 'required column %s is missing' % name) for name in REQUIRED_COLUMNS if name not in names)
    return errors


def _charger(row_number, row):
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            raise CsvError(row_number, column, 'the cell is empty: %s is required' % column)
    _check(row_number, 'station_id', _STATION_ID.match(row['station_id']),
           '%r is not a station id: use 1 to 36 of A-Z a-z 0-9 . _ -, not starting with "." and without ".."' % row['station_id'])
    _check(row_number, 'site', _SITE_ID.match(row['site']),
           '%r is not a site id: use lowercase letters, digits and -' % row['site'])
    for column, choices in _CHOICES.items():
        _check(row_number, column, not row.get(column) or row[column] in choices,
               '%r is not one of %s' % (row.get(column), ', '.join(choices)))
    for column in ('installation_date', 'warranty_start'):
        _check(row_number, column, not row.get(column) or _ISO_DATE.match(row[column]),
               '%r is not an ISO date (YYYY-MM-DD)' % row.get(column))
    _check(row_number, 'apn', row.get('network_mode') != 'cellular' or row.get('apn'),
           'network_mode is cellular, so an apn is required')
    try:
        evses = parse_connectors(row['connectors'])
        max_current = _number(row['max_current_a'], 'max_current_a') if row.get('max_current_a') else None
    except ValueError as exc:
        raise CsvError(row_number, 'max_current_a' if str(exc).startswith('max_current_a') else 'connectors', str(exc))
    return _station(row, evses, max_current), row['site'], row.get('environment') or None


def _check(row_number, column, condition, message):
    if not condition:
        raise CsvError(row_number, column, message)


def _station(row, evses, max_current):
    phases = int(row['phases']) if row.get('phases') else None
    voltage = int(row['voltage_v']) if row.get('voltage_v', '').isdigit() else None
    for evse in evses:
        evse.update(_present(phases=phases, voltage_v=voltage,
                             max_current_a=max_current or evse['connectors'][0]['max_current_a']))
    station = _present(
        id=row['station_id'], serial_number=row['serial_number'], vendor=row['vendor'], model=row['model'],
        firmware_version=row.get('firmware_version'), evses=evses, tariff_id=row.get('tariff_id'),
        access=row.get('access'), firmware_channel=row.get('firmware_channel'), state=row.get('state') or 'present',
        security_profile=int(row['security_profile']) if row.get('security_profile') else None,
        network=_network(row),
        asset=_present(installer=row.get('installer'), installation_date=row.get('installation_date'),
                       warranty_start=row.get('warranty_start')) or None,
    )
    return station


def _network(row):
    if not row.get('network_mode'):
        return None
    network = {'mode': row['network_mode']}
    if row['network_mode'] == 'cellular':
        network['cellular'] = _present(apn=row.get('apn'), iccid=row.get('iccid'))
    return network


def _present(**fields):
    return dict((key, value) for key, value in fields.items() if value not in (None, ''))


def site_group(site_id):
    """The inventory group of a site: its id with ``-`` replaced by ``_`` (a valid Ansible group name)."""
    return site_id.replace('-', '_')


class InventoryModule(BaseFileInventoryPlugin, Constructable):

    NAME = 'evcs.provisioning.chargers_csv'

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith('.csv'):
            return True
        if path.endswith(('.yml', '.yaml')):
            with open(path, 'rb') as handle:
                return b'evcs.provisioning.chargers_csv' in handle.read(4096)
        return False

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        if path.endswith('.csv'):
            self.set_options(direct={'plugin': self.NAME, 'path': path})
            csv_path = path
        else:
            self._read_config_data(path)
            csv_path = os.path.join(os.path.dirname(path), os.path.expanduser(self.get_option('path')))
        try:
            with open(csv_path, newline='', encoding='utf-8-sig') as handle:
                chargers = read_chargers(handle, self.get_option('delimiter'))
        except CsvErrors as exc:
            raise AnsibleParserError('invalid chargers file\n%s' % exc.describe(csv_path))
        except (IOError, OSError) as exc:
            raise AnsibleParserError('cannot read chargers file %s: %s' % (csv_path, to_native(exc)))
        for dummy, station, site, environment in chargers:
            self._add_charger(station, site, self.get_option('environment') or environment)

    def _add_charger(self, station, site, environment):
        host = station['id']
        group = self.inventory.add_group(site_group(site))
        self.inventory.set_variable(group, 'evcs_site', {'id': site, 'name': site})
        self.inventory.add_host(host, group=group)
        if environment:
            self.inventory.add_host(host, group=self.inventory.add_group('env_%s' % environment))
        self.inventory.set_variable(host, 'evcs_station', station)
        strict = self.get_option('strict')
        variables = self.inventory.get_host(host).get_vars()
        self._set_composite_vars(self.get_option('compose'), variables, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option('groups'), variables, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, host, strict=strict)
