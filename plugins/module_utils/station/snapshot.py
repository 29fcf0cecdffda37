# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One snapshot of an OCPP 2.0.1 station per run: what the stages compare is read once and handed on.

The first task of a run that reads from a station reads, in as few GetVariables as the station's message limits allow,
every device-model variable any stage declares for it (:func:`declared_variables`, the one place that lists them), and
keeps the station's answers in a snapshot; later reads of the run (device-model variables, GetLocalListVersion, the
installed certificate ids, the ChargingStationMaxProfiles the station reports) are answered from the snapshot.
Across Ansible tasks the only carrier is a host fact, :data:`SNAPSHOT_FACT`: the action base passes it from the task's
variables into the module's context and returns the updated one. Write-only variables are never read, so no secret
value is ever in it.

A snapshot is valid only within one run and one connection of the station: it is stamped with the run (the
ansible-playbook process) and the station's connection as the CSMS knows it (``connected_at``, ``connections_total``);
a task that finds either changed (another run, a reconnect, a Reset) reads again. Writes keep it true: a SetVariables is
followed by a read-back of what it changed (which commissioning then relies on), every other write drops what it may
have changed (SendLocalList the list version, InstallCertificate the certificate ids, SetChargingProfile the
profiles, Reset everything).

:class:`SnapshotBackend` does this below the modules: it wraps the task's CSMS backend (``task_backend``), so every
stage shares the snapshot without knowing it. OCPP 1.6 stations pass through untouched (they keep their own reads).
"""

from __future__ import annotations

import copy
import json
import os

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
from ansible_collections.evcs.provisioning.plugins.module_utils import station_settings

#: the host fact that carries a station's snapshot from one task of the run to the next
SNAPSHOT_FACT = 'evcs_station_snapshot'
#: version of the fact's layout (a fact of another layout is ignored)
LAYOUT = 1
_LIMIT_ACTIONS = ('GetVariables', 'SetVariables')
_LIMIT_NAMES = ('ItemsPerMessage', 'BytesPerMessage')
_FRAME_OVERHEAD = 64

#: variables the stages compare besides the inventory's settings (the security profile, the slots, the downgrade
#: switch, the organization of the certificate, smart charging's switch and rate units): one table, so the first read of
#: a run holds them (what only a write needs, such as the local list's message limits, is read by that write)
STAGE_VARIABLES = (
    ('SecurityCtrlr', 'SecurityProfile'),
    ('SecurityCtrlr', 'OrganizationName'),
    ('SecurityCtrlr', 'AllowSecurityProfileDowngrade'),
    ('OCPPCommCtrlr', 'NetworkConfigurationPriority'),
    ('SmartChargingCtrlr', 'Enabled'),
    ('SmartChargingCtrlr', 'RateUnit'),
)

#: writes that change something a cached read holds: action -> the reads it makes stale (None: every read)
_STALE_AFTER = {
    'SendLocalList': ('GetLocalListVersion',),
    'InstallCertificate': ('GetInstalledCertificateIds',),
    'DeleteCertificate': ('GetInstalledCertificateIds',),
    'CertificateSigned': ('GetInstalledCertificateIds',),
    'SetChargingProfile': ('GetChargingProfiles',),
    'ClearChargingProfile': ('GetChargingProfiles',),
    'TriggerMessage': (),
    'SetNetworkProfile': (),
    'SetVariableMonitoring': (),
    'ClearVariableMonitoring': (),
    'SetMonitoringBase': (),
    'SetMonitoringLevel': (),
}
#: reads answered from the snapshot besides GetVariables
_CACHED_READS = ('GetLocalListVersion', 'GetInstalledCertificateIds', 'GetChargingProfiles')


# -- what a run reads -------------------------------------------------------------------------------------------------
def _variable(component, variable, instance=None):
    return {'component': {'name': component}, 'variable': dict({'name': variable}, **({'instance': instance} if instance else {}))}


def limit_entries():
    """The four ``DeviceDataCtrlr`` message limits of GetVariables and SetVariables, as GetVariables entries."""
    return [_variable('DeviceDataCtrlr', name, action) for action in _LIMIT_ACTIONS for name in _LIMIT_NAMES]


def declared_variables(inventory):
    """Every device-model variable the stages of a run compare for one station, from its inventory variables
    (``evcs_station``, ``evcs_site``, ``evcs_ocpp``, ``evcs_network``, ``evcs_station_model_dirs``, templated): the
    ocpp role's settings, logging level and hardware, the network role's variables, then :data:`STAGE_VARIABLES`.
    Write-only variables are left out. A variable a role adds beyond these (its ``*_extra_variables``) is read by that
    stage itself, so this list only saves reads, it never decides what is compared."""
    station = inventory.get('evcs_station') or {}
    site = inventory.get('evcs_site') or {}
    model = models.station_model(station, site, inventory.get('evcs_station_model_dirs') or [])
    ocpp = _merged(inventory.get('evcs_ocpp'), station.get('ocpp'))
    network = _merged(inventory.get('evcs_network'), station.get('network'))
    items = station_settings.ocpp_variables(ocpp, models.logging_variables(station.get('logging') or {}, model))
    items += station_settings.hardware_variables(station)
    items += models.network_variables(network, model)
    items += [_variable(component, variable) for component, variable in STAGE_VARIABLES]
    entries, seen = [], set()
    for item in items:
        if item.get('write_only'):
            continue
        entry = _entry(item)
        key = entry_key(entry)
        if key not in seen:
            seen.add(key)
            entries.append(entry)
    return entries


def _merged(base, override):
    merged = copy.deepcopy(base) if isinstance(base, dict) else {}
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _entry(item):
    """A GetVariables entry (schema spelling) of a variable in the collection's form."""
    component = item['component']
    payload = {'name': component['name']}
    if component.get('instance'):
        payload['instance'] = component['instance']
    if component.get('evse') is not None:
        payload['evse'] = {'id': component['evse']}
        if component.get('connector') is not None:
            payload['evse']['connectorId'] = component['connector']
    variable = {'name': item['variable']['name']}
    if item['variable'].get('instance'):
        variable['instance'] = item['variable']['instance']
    entry = {'component': payload, 'variable': variable}
    if item.get('attribute_type', 'Actual') != 'Actual':
        entry['attributeType'] = item['attribute_type']
    return entry


def entry_key(entry):
    """One key for a GetVariables entry, a SetVariables entry or a result: component, EVSE/connector, variable,
    attribute type (Actual when not given)."""
    component = entry.get('component') or {}
    evse = component.get('evse') or {}
    variable = entry.get('variable') or {}
    return '|'.join(str(part) for part in (
        component.get('name'), component.get('instance') or '', evse.get('id', ''), evse.get('connectorId', ''),
        variable.get('name'), variable.get('instance') or '', entry.get('attributeType') or 'Actual'))


# -- the run and the connection ---------------------------------------------------------------------------------------
def run_id():
    """The ansible-playbook process that runs this task (action plugins run in workers it forks): its pid and start
    time, so a reused pid is another run."""
    parent = os.getppid()
    try:
        with open('/proc/%d/stat' % parent) as stat:
            started = stat.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError, ValueError):
        started = '0'
    return '%d-%s' % (parent, started)


def connection_stamp(connection):
    """What says the station is still on the connection a snapshot was read on; None when the CSMS knows none."""
    if not connection or not connection.get('online'):
        return None
    return {'connected_at': connection.get('connected_at'), 'connections_total': connection.get('connections_total')}


class Snapshot(object):
    """The station's answers of this run: ``variables`` {entry_key: result}, ``reads`` {action: answer},
    ``reports`` {action: messages} and ``limits`` {action: {name: number}}."""

    def __init__(self, station_id, run, connection, data=None):
        data = data or {}
        self.station_id = station_id
        self.run = run
        self.connection = connection
        self.variables = dict(data.get('variables') or {})
        self.reads = dict(data.get('reads') or {})
        self.reports = dict(data.get('reports') or {})
        self.planned = bool(data.get('planned'))
        self.valid = True
        self.changed = False

    @classmethod
    def restore(cls, fact, station_id, run, connection):
        """The snapshot ``fact`` holds when it is this station's, of this run and this connection; else an empty one
        (which reads the declared variables again only in a new run: after a reconnect or Reset within the run, each
        stage reads what it compares)."""
        ours = (isinstance(fact, dict) and fact.get('layout') == LAYOUT and fact.get('station_id') == station_id
                and fact.get('run') == run)
        if ours and connection is not None and fact.get('connection') == connection:
            return cls(station_id, run, connection, fact)
        return cls(station_id, run, connection, {'planned': True} if ours else None)

    def limit(self, action, name):
        result = self.variables.get(entry_key(_variable('DeviceDataCtrlr', name, action)))
        if not result or result.get('attributeStatus') != 'Accepted':
            return None
        try:
            number = int(result.get('attributeValue'))
        except (TypeError, ValueError):
            return None
        return number if number > 0 else None

    def limits_known(self):
        return entry_key(limit_entries()[0]) in self.variables

    def record(self, results):
        for result in results:
            self.variables[entry_key(result)] = _stored(result)
        self.changed = True

    def forget(self, keys):
        for key in keys:
            self.variables.pop(key, None)
        self.changed = True

    def drop(self, actions=None):
        """Forget the cached answers of ``actions`` (None: everything, and the snapshot is no longer valid)."""
        if actions is None:
            self.variables, self.reads, self.reports, self.valid = {}, {}, {}, False
        for action in actions or ():
            self.reads.pop(action, None)
            self.reports.pop(action, None)
        self.changed = True

    def fact(self):
        """The host fact (without answers and connection when the snapshot was invalidated: the next task reads again)."""
        if not self.valid or self.connection is None:
            return {'layout': LAYOUT, 'station_id': self.station_id, 'run': self.run, 'connection': None, 'planned': True}
        return {'layout': LAYOUT, 'station_id': self.station_id, 'run': self.run, 'connection': self.connection,
                'planned': self.planned, 'variables': self.variables, 'reads': self.reads, 'reports': self.reports}


def _stored(result):
    """A result as the snapshot keeps it: what the station answered, nothing the CSMS added."""
    return dict((key, value) for key, value in result.items()
                if key in ('component', 'variable', 'attributeType', 'attributeStatus', 'attributeValue',
                           'attributeStatusInfo'))


def _batches(entries, items_limit, bytes_limit):
    batches, current = [], []
    for entry in entries:
        candidate = current + [entry]
        size = len(json.dumps({'getVariableData': candidate}, separators=(',', ':'))) + len('GetVariables') + _FRAME_OVERHEAD
        if current and ((items_limit and len(candidate) > items_limit) or (bytes_limit and size > bytes_limit)):
            batches.append(current)
            current = [entry]
        else:
            current = candidate
    if current:
        batches.append(current)
    return batches


# -- the backend every stage talks through ----------------------------------------------------------------------------
class SnapshotBackend(object):
    """The task's CSMS backend, answering the reads of ``station_id`` from its snapshot where it can.

    ``plan`` (a callable returning GetVariables entries, see :func:`declared_variables`) is read with the first
    GetVariables of a run that misses; ``fact`` is the :data:`SNAPSHOT_FACT` the task's variables hold."""

    def __init__(self, backend, station_id, fact=None, plan=None, run=None, csms=None):
        #: which CSMS this is (a second backend of the same CSMS in the same task shares the snapshot)
        self.csms = csms
        self._backend = backend
        self._station_id = station_id
        self._fact = fact
        self._plan = plan
        self._run = run if run is not None else run_id()
        self._snapshot = None
        self._owner = None
        self._request_ids = {}

    def __getattr__(self, name):
        return getattr(self._backend, name)

    @property
    def wrapped(self):
        return self._backend

    def sharing(self, backend):
        """Another backend object of the same CSMS, talking through this one's snapshot."""
        other = SnapshotBackend(backend, self._station_id, fact=self._fact, plan=self._plan, run=self._run, csms=self.csms)
        other._owner, other._request_ids = self, self._request_ids  # pylint: disable=protected-access
        return other

    def snapshot(self):
        """The station's snapshot (restored from the fact, or empty), or None unless the CSMS has the station online on
        OCPP 2.0.1."""
        if self._owner is not None:
            return self._owner.snapshot()
        if self._snapshot is None:
            try:
                connection = self._backend.connection(self._station_id)
            except CsmsError:
                connection = None
            if (connection or {}).get('ocpp_version') != '2.0.1':
                # OCPP 1.6, or a station the CSMS does not know to be online on 2.0.1: asked directly
                self._snapshot = False
            else:
                self._snapshot = Snapshot.restore(self._fact, self._station_id, self._run, connection_stamp(connection))
        return self._snapshot or None

    def fact(self):
        """``{SNAPSHOT_FACT: ...}`` when this task used or changed the snapshot, else {}."""
        if not self._snapshot:
            return {}
        return {SNAPSHOT_FACT: self._snapshot.fact()}

    # -- the station channel ------------------------------------------------------------------------------------
    def call(self, station_id, action, payload, *args, **kwargs):
        snapshot = self.snapshot() if station_id == self._station_id else None
        if snapshot is None or not snapshot.valid:
            # another station, OCPP 1.6, or after a Reset in this task: the station is asked directly
            return self._backend.call(station_id, action, payload, *args, **kwargs)
        if action == 'GetVariables':
            return self._get_variables(snapshot, payload, args, kwargs)
        if action in _CACHED_READS:
            return self._cached_read(snapshot, action, payload, args, kwargs)
        if action.startswith('Get'):
            return self._backend.call(station_id, action, payload, *args, **kwargs)
        return self._write(snapshot, action, payload, args, kwargs)

    def wait_for_message(self, station_id, action, since, timeout, *args, **kwargs):
        request_id = kwargs.get('request_id')
        snapshot = self.snapshot() if station_id == self._station_id else None
        if snapshot is None or not snapshot.valid or action != 'ReportChargingProfiles' or request_id not in self._request_ids:
            return self._backend.wait_for_message(station_id, action, since, timeout, *args, **kwargs)
        key = self._request_ids[request_id]
        cached = snapshot.reports.get('GetChargingProfiles', {}).get(key)
        if cached is None:
            messages = self._backend.wait_for_message(station_id, action, since, timeout, *args, **kwargs)
            snapshot.reports.setdefault('GetChargingProfiles', {})[key] = [
                dict(message, payload=dict(message.get('payload') or {}, requestId=None)) for message in messages]
            snapshot.changed = True
            return messages
        return [dict(message, payload=dict(message.get('payload') or {}, requestId=request_id)) for message in cached]

    def _get_variables(self, snapshot, payload, args, kwargs):
        entries = list(payload.get('getVariableData') or [])
        keys = [entry_key(entry) for entry in entries]
        missing = [entry for entry, key in zip(entries, keys) if key not in snapshot.variables]
        if missing:
            self._read(snapshot, missing, args, kwargs)
        found = [snapshot.variables.get(key) for key in keys]
        if any(result is None for result in found):
            # the station left an entry out of its answer: ask again as it was asked
            return self._backend.call(self._station_id, 'GetVariables', payload, *args, **kwargs)
        return {'getVariableResult': [copy.deepcopy(result) for result in found]}

    def _read(self, snapshot, missing, args, kwargs):
        """Read ``missing`` (with the run's declared variables on the first miss), split at the station's limits."""
        wanted = list(missing)
        limit_keys = set(entry_key(entry) for entry in limit_entries())
        if not snapshot.planned and self._plan is not None:
            if not snapshot.limits_known() and not limit_keys & set(entry_key(entry) for entry in wanted):
                self._send(snapshot, [limit_entries()], args, kwargs)
            if snapshot.limits_known():
                wanted = self._with_plan(snapshot, wanted)
        if snapshot.limits_known():
            batches = _batches(wanted, snapshot.limit('GetVariables', 'ItemsPerMessage'),
                               snapshot.limit('GetVariables', 'BytesPerMessage'))
        else:
            batches = [wanted]
        self._send(snapshot, batches, args, kwargs)

    def _with_plan(self, snapshot, wanted):
        """``wanted`` plus as many declared variables not read yet as fit in the requests ``wanted`` needs anyway (all
        of them on a station with roomy message limits: the snapshot is then complete), so that a run never makes more
        GetVariables than its stages would alone, whichever stages run."""
        items = snapshot.limit('GetVariables', 'ItemsPerMessage')
        size = snapshot.limit('GetVariables', 'BytesPerMessage')
        known = set(entry_key(entry) for entry in wanted) | set(snapshot.variables)
        rest = [entry for entry in self._planned() if entry_key(entry) not in known]
        alone = len(_batches(wanted, items, size))
        if len(_batches(wanted + rest, items, size)) <= alone:
            snapshot.planned = True
            return wanted + rest
        filled = list(wanted)
        for entry in rest:
            if len(_batches(filled + [entry], items, size)) > alone:
                break
            filled.append(entry)
        return filled

    def _planned(self):
        try:
            return list(self._plan() or [])
        except Exception:  # pylint: disable=broad-except
            # the plan only saves reads: a station whose inventory it cannot read is read stage by stage
            return []

    def _send(self, snapshot, batches, args, kwargs):
        for batch in batches:
            answer = self._backend.call(self._station_id, 'GetVariables', {'getVariableData': batch}, *args, **kwargs)
            snapshot.record(answer.get('getVariableResult') or [])

    def _cached_read(self, snapshot, action, payload, args, kwargs):
        if action == 'GetInstalledCertificateIds':
            if action not in snapshot.reads:
                snapshot.reads[action] = self._backend.call(self._station_id, action, {}, *args, **kwargs)
                snapshot.changed = True
            return _certificates_of(snapshot.reads[action], payload.get('certificateType'))
        if action == 'GetChargingProfiles':
            key = json.dumps(dict((name, value) for name, value in payload.items() if name != 'requestId'), sort_keys=True)
            self._request_ids[payload.get('requestId')] = key
            cached = snapshot.reads.setdefault(action, {})
            reported = key in snapshot.reports.get(action, {})
            if key not in cached or (cached[key].get('status') == 'Accepted' and not reported):
                cached[key] = self._backend.call(self._station_id, action, payload, *args, **kwargs)
                snapshot.reports.get(action, {}).pop(key, None)
                snapshot.changed = True
            return copy.deepcopy(cached[key])
        key = json.dumps(payload, sort_keys=True)
        cached = snapshot.reads.setdefault(action, {})
        if key not in cached:
            cached[key] = self._backend.call(self._station_id, action, payload, *args, **kwargs)
            snapshot.changed = True
        return copy.deepcopy(cached[key])

    def _write(self, snapshot, action, payload, args, kwargs):
        answer = self._backend.call(self._station_id, action, payload, *args, **kwargs)
        if action == 'SetVariables':
            self._read_back(snapshot, payload, answer, args, kwargs)
        elif action in _STALE_AFTER:
            snapshot.drop(_STALE_AFTER[action])
        else:
            # Reset and whatever else the table does not know: read everything again
            snapshot.drop()
        return answer

    def _read_back(self, snapshot, payload, answer, args, kwargs):
        """Re-read what the station accepted and a read of this run had seen (commissioning relies on it; a variable no
        one read, such as a write-only password, is never read); forget what needs a reboot or was refused."""
        accepted = set(entry_key(result) for result in answer.get('setVariableResult') or []
                       if result.get('attributeStatus') == 'Accepted')
        written = [dict((name, value) for name, value in entry.items() if name != 'attributeValue')
                   for entry in payload.get('setVariableData') or []]
        readable = [entry for entry in written if entry_key(entry) in accepted
                    and (snapshot.variables.get(entry_key(entry)) or {}).get('attributeStatus') == 'Accepted']
        snapshot.forget(entry_key(entry) for entry in written)
        if readable:
            batches = _batches(readable, snapshot.limit('GetVariables', 'ItemsPerMessage'),
                               snapshot.limit('GetVariables', 'BytesPerMessage'))
            self._send(snapshot, batches, args, kwargs)


def _certificates_of(answer, certificate_types):
    """The GetInstalledCertificateIds answer for ``certificate_types`` (None: all), from the answer for all types."""
    if not certificate_types:
        return copy.deepcopy(answer)
    chains = [chain for chain in answer.get('certificateHashDataChain') or []
              if chain.get('certificateType') in certificate_types]
    if not chains:
        return {'status': 'NotFound'}
    return {'status': 'Accepted', 'certificateHashDataChain': copy.deepcopy(chains)}
