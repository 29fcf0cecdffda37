# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event source of Event-Driven Ansible: the events of all charging stations, as the CSMS publishes them.

Used in a rulebook as ``evcs.provisioning.station_events`` (extensions/eda/rulebooks/zero_touch.yml). It follows the
CSMS backend's event stream (capability ``station_events`` of ``plugins/module_utils/csms``), so it works with every
backend that has it, and tells each boot whether the inventory declares the station and the serial it reported.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: station_events
short_description: Events of all charging stations from the CSMS (boots, reconnects, security events, connectors)
description:
  - Follows the event stream of the CSMS through the collection's backend interface (capability C(station_events)),
    resuming from the cursor it kept in O(cursor_file) after a restart, and puts one event per station event on the
    queue. Events carry no secret.
  - Each event is C({"evcs": {...}, "meta": {"hosts": <inventory host>}}) where C(evcs) holds C(station_id),
    C(type) (boot, connected, disconnected, security_event, connector_status), C(at), C(cursor) and C(data) (for a
    boot the reported C(serial_number), C(vendor), C(model), C(firmware_version), the C(status) the CSMS answered
    (Pending means not registered, that is not yet provisioned), C(reason), C(first_boot)).
  - Every event also holds C(inventory) (C(declared), C(host), C(serial_number) declared, C(serial_matches)) read
    from the Ansible inventory with C(ansible-inventory --list), and C(lock), the name of the provisioning slot of the
    station (C(evcs-provision-<n>), n from a hash of the id): a rulebook that locks its runs on it never runs two
    provisions of one station at once and at most O(provision_slots) at a time. C(meta.hosts) is set for declared
    stations only, so C(run_playbook) is limited to that station.
options:
  csms_backend:
    description: The CSMS backend (C(evcs_csms.backend)); it must have the capability C(station_events). Default from
      E(EVCS_CSMS_BACKEND).
    default: reference
  csms_url:
    description: The CSMS API URL. Default from E(EVCS_CSMS_URL).
  csms_token:
    description: The CSMS API token. Default from E(EVCS_CSMS_TOKEN) (give it as an EDA credential, never in the rulebook).
  csms_ca_path:
    description: CA bundle of the CSMS API. Default from E(EVCS_CSMS_CA_PATH).
  csms_validate_certs:
    description: Verify the CSMS's TLS certificate.
    default: true
  csms_options:
    description: The backend's own settings (C(evcs_csms.options)).
  inventory:
    description: Inventory source(s) for C(ansible-inventory); default E(ANSIBLE_INVENTORY), else ansible.cfg's.
  inventory_refresh:
    description: Seconds after which the inventory is read again (also read again when an unknown station boots).
    default: 60
  cursor_file:
    description: File that keeps the cursor of the last delivered event, so a restarted source resumes there. Default
      from E(EVCS_ZERO_TOUCH_CURSOR_FILE).
  start:
    description: Where to start without a kept cursor, C(now) (later events only) or C(beginning). Default from
      E(EVCS_ZERO_TOUCH_START).
    default: now
  poll_timeout:
    description: Seconds of one long poll of the stream.
    default: 20
  provision_slots:
    description: Number of provisioning slots (locks) the events name; the most provisions at one time.
    default: 4
'''

EXAMPLES = r'''
- name: Zero-touch provisioning
  hosts: all
  sources:
    - evcs.provisioning.station_events:
        inventory: inventories/production
        cursor_file: /var/lib/eda/evcs-station-events.cursor
  rules:
    - name: Show boots
      condition: event.evcs.type == "boot"
      action:
        debug:
'''

import asyncio
import json
import os
import subprocess
import sys
import time
import zlib

_GENERIC = ('csms_url', 'csms_token', 'csms_ca_path', 'csms_validate_certs', 'csms_timeout', 'csms_retries')
_ENV = {'csms_url': 'EVCS_CSMS_URL', 'csms_token': 'EVCS_CSMS_TOKEN', 'csms_ca_path': 'EVCS_CSMS_CA_PATH',
        'csms_backend': 'EVCS_CSMS_BACKEND', 'cursor_file': 'EVCS_ZERO_TOUCH_CURSOR_FILE', 'start': 'EVCS_ZERO_TOUCH_START'}
_UNKNOWN_REFRESH = 5.0


def _import_backends():
    """The collection's backend registry; the collection's root is put on sys.path when it is not importable yet
    (ansible-rulebook runs this file by its path)."""
    try:
        from ansible_collections.evcs.provisioning.plugins.module_utils.csms import registry
    except ImportError:
        here = os.path.abspath(__file__)
        parts = here.split(os.sep)
        if 'ansible_collections' not in parts:
            raise
        root = os.sep.join(parts[:len(parts) - 1 - parts[::-1].index('ansible_collections')])
        sys.path.insert(0, root or os.sep)
        from ansible_collections.evcs.provisioning.plugins.module_utils.csms import registry
    return registry


def connect(args):
    """The backend named by ``args`` (the source's arguments), checked for the capability ``station_events``."""
    registry = _import_backends()
    name = args.get('csms_backend') or os.environ.get(_ENV['csms_backend']) or 'reference'
    params = {'csms_backend': name, 'csms_validate_certs': args.get('csms_validate_certs', True),
              'csms_timeout': int(args.get('csms_timeout') or 30), 'csms_retries': int(args.get('csms_retries', 3))}
    for key in _GENERIC:
        if args.get(key) is not None:
            params[key] = args[key]
        elif key in _ENV and os.environ.get(_ENV[key]):
            params[key] = os.environ[_ENV[key]]
    backend_class = registry.backend_class(name)
    missing = [key for key in getattr(backend_class, 'REQUIRES', ()) if not params.get(key)]
    if missing:
        raise ValueError('evcs.provisioning.station_events: backend %s needs %s (argument or environment %s)'
                         % (name, ', '.join(missing), ', '.join(_ENV.get(key, key) for key in missing)))
    backend = backend_class.from_params(params, args.get('csms_options') or {})
    backend.require('station_events', 'zero-touch events')
    return backend


class Inventory(object):
    """Which stations the inventory declares, and their serials: ``{station_id: {'host', 'serial_number'}}``."""

    def __init__(self, sources=None, refresh=60.0, reader=None):
        if isinstance(sources, str):
            sources = [sources]
        self.sources = list(sources or [])
        self.refresh = float(refresh)
        self._reader = reader or self._ansible_inventory
        self._stations = {}
        self._read_at = None

    def _ansible_inventory(self):
        argv = ['ansible-inventory', '--list']
        for source in self.sources:
            argv += ['-i', source]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)
        if done.returncode != 0:
            raise RuntimeError('ansible-inventory failed (%d): %s' % (done.returncode, done.stderr.strip()[-2000:]))
        return json.loads(done.stdout)

    def read(self):
        listing = self._reader()
        stations = {}
        for host, variables in ((listing.get('_meta') or {}).get('hostvars') or {}).items():
            station = variables.get('evcs_station')
            if not isinstance(station, dict) or station.get('state', 'present') == 'absent':
                continue
            station_id = str(station.get('id') or host)
            stations[station_id] = {'host': host, 'serial_number': station.get('serial_number')}
        self._stations = stations
        self._read_at = time.monotonic()

    @property
    def stations(self):
        return dict(self._stations)

    def _age(self):
        return float('inf') if self._read_at is None else time.monotonic() - self._read_at

    def lookup(self, station_id, reported_serial=None, check_serial=False):
        """``{'declared', 'host', 'serial_number', 'serial_matches'}`` of a station, reading the inventory again when
        it is old, or when the station is unknown or its serial differs and the last read is a few seconds old.
        ``serial_matches`` is None unless ``check_serial`` (a boot: a station that reports no serial matches none)."""
        entry = self._stations.get(station_id)
        stale = self._age() > self.refresh
        doubtful = entry is None or (check_serial and entry['serial_number'] != reported_serial)
        if stale or (doubtful and self._age() > _UNKNOWN_REFRESH):
            self.read()
            entry = self._stations.get(station_id)
        if entry is None:
            return {'declared': False, 'host': None, 'serial_number': None, 'serial_matches': False if check_serial else None}
        declared_serial = entry['serial_number']
        matches = bool(reported_serial) and declared_serial == reported_serial
        return {'declared': True, 'host': entry['host'], 'serial_number': declared_serial,
                'serial_matches': matches if check_serial else None}


def provision_lock(station_id, slots):
    """The provisioning slot of a station: always the same one for the same id."""
    return 'evcs-provision-%d' % (zlib.crc32(station_id.encode('utf-8')) % max(1, int(slots)))


def enrich(event, inventory, slots):
    """The queue's event for one stream event."""
    station_id = event['station_id']
    data = event.get('data') or {}
    boot = event.get('type') == 'boot'
    found = inventory.lookup(station_id, data.get('serial_number') if boot else None, check_serial=boot)
    evcs = dict(event, inventory=found, lock=provision_lock(station_id, slots))
    queued = {'evcs': evcs}
    if found['declared']:
        queued['meta'] = {'hosts': found['host']}
    return queued


def _load_cursor(path, start):
    if path and os.path.exists(path):
        with open(path) as handle:
            kept = handle.read().strip()
        if kept:
            return kept
    return '0' if start == 'beginning' else 'now'


def _save_cursor(path, cursor):
    if not path:
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = path + '.tmp'
    with open(temporary, 'w') as handle:
        handle.write(str(cursor))
    os.replace(temporary, path)


async def main(queue, args):
    """Put the station events on ``queue`` for ever (ansible-rulebook's event source entry point)."""
    backend = connect(args)
    sources = args.get('inventory') or [part for part in os.environ.get('ANSIBLE_INVENTORY', '').split(',') if part]
    inventory = Inventory(sources, args.get('inventory_refresh', 60))
    await asyncio.to_thread(inventory.read)
    slots = int(args.get('provision_slots', 4))
    cursor_file = args.get('cursor_file') or os.environ.get(_ENV['cursor_file'])
    cursor = _load_cursor(cursor_file, args.get('start') or os.environ.get(_ENV['start']) or 'now')
    poll = float(args.get('poll_timeout', 20))
    print('evcs.provisioning.station_events: following the station events of backend %s from cursor %s, %d '
          'station(s) declared' % (backend.NAME, cursor, len(inventory.stations)), file=sys.stderr, flush=True)
    failures = 0
    while True:
        try:
            events, cursor_next = await asyncio.to_thread(backend.events, cursor, poll)
            failures = 0
        except Exception as exc:  # pylint: disable=broad-except  # a CSMS outage must not end the source
            failures += 1
            print('evcs.provisioning.station_events: %s (retrying)' % exc, file=sys.stderr, flush=True)
            await asyncio.sleep(min(30.0, 0.5 * 2 ** failures))
            continue
        for event in events:
            queued = await asyncio.to_thread(enrich, event, inventory, slots)
            await queue.put(queued)
            cursor = event['cursor']
            _save_cursor(cursor_file, cursor)
        if cursor_next is not None and cursor_next != cursor:
            cursor = cursor_next
            _save_cursor(cursor_file, cursor)


if __name__ == '__main__':
    class _PrintQueue(object):
        async def put(self, event):
            print(json.dumps(event), flush=True)

    asyncio.run(main(_PrintQueue(), json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
