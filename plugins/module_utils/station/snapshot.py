# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One snapshot of an OCPP 2.0.1 station per run: what the stages compare is read once and handed on.

The first task of a run that reads from a station reads, in as few GetVariables as the station's message limits allow,
every device-model variable any stage declares for it (:func:`declared_variables`, the one place that lists them), and
keeps the station's answers in a snapshot; later reads of the run (device-model variables, GetLocalListVersion, the
installed certificate ids, the ChargingStationMaxProfiles the station reports) are answered from the snapshot.
The message limits are not read on their own: they come from the validate role's capability fact
(:func:`capability_limits`), else ride along in the first GetVariables, and a station that refuses a request for its
size (OCPP 2.0.1 B06.FR.16/17) is asked for them alone, once. GetLocalListVersion is answered with the version the CSMS
remembers sending while the station's ``LocalAuthListCtrlr.Entries`` counts the entries it sent.
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

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CallError, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils import device_model
from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
from ansible_collections.evcs.provisioning.plugins.module_utils import station_settings

#: the host fact that carries a station's snapshot from one task of the run to the next
SNAPSHOT_FACT = 'evcs_station_snapshot'
#: version of the fact's layout (a fact of another layout is ignored)
LAYOUT = 1
_LIMIT_ACTIONS = ('GetVariables', 'SetVariables')
_LIMIT_NAMES = ('ItemsPerMessage', 'BytesPerMessage')
#: the validate role's host fact (``station_capabilities``): the message limits of the station's vendor/model/firmware
#: from its station model file and the capability cache (``limits``: {name: {action: number}})
CAPABILITIES_FACT = 'evcs_capabilities'
#: the CALLERROR codes a station answers a request larger than its limits with (OCPP 2.0.1 B06.FR.16: more items than
#: ItemsPerMessage, OccurrenceConstraintViolation; B06.FR.17: more bytes than BytesPerMessage, FormatViolation; the
#: OCPP-J 1.6 spellings too, which some 2.0.1 implementations still send)
_TOO_LARGE = ('OccurrenceConstraintViolation', 'OccurenceConstraintViolation', 'FormatViolation', 'FormationViolation')

#: variables the stages compare besides the inventory's settings (the security profile, the slots, the organization of
#: the certificate, smart charging's switch and rate units, the local list's number of entries): one table, so the first
#: read of a run holds them (what only a write or a refusal needs, such as the local list's message limits or the
#: security profile's downgrade switch, is read by that write)
STAGE_VARIABLES = (
    ('SecurityCtrlr', 'SecurityProfile'),
    ('SecurityCtrlr', 'OrganizationName'),
    ('OCPPCommCtrlr', 'NetworkConfigurationPriority'),
    ('SmartChargingCtrlr', 'Enabled'),
    ('SmartChargingCtrlr', 'RateUnit'),
    ('LocalAuthListCtrlr', 'Entries'),
)
#: the number of entries in the station's local authorization list: with the version the CSMS remembers sending, it
#: answers GetLocalListVersion without asking the station (see :meth:`SnapshotBackend._remembered_list_version`)
LOCAL_LIST_ENTRIES = ('LocalAuthListCtrlr', 'Entries')

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


def capability_limits(task_vars, station_id):
    """{(action, name): number}: the message limits the validate role's capability fact holds for ``station_id`` (its
    station model's ``items_per_message``/``bytes_per_message`` and the capability cache of its vendor/model/firmware),
    {} when none."""
    fact = (task_vars or {}).get(CAPABILITIES_FACT)
    if not isinstance(fact, dict) or fact.get('station_id') != station_id:
        return {}
    return _limits_of(fact.get('limits'))


def model_limits(inventory):
    """{(action, name): number}: the message limits the station's model file declares (``items_per_message``,
    ``bytes_per_message``), for a run without the capability fact (a playbook of a few stages); {} when it declares
    none."""
    station = inventory.get('evcs_station') or {}
    try:
        model = models.station_model(station, inventory.get('evcs_site') or {},
                                     inventory.get('evcs_station_model_dirs') or [])
    except models.ModelError:
        return {}
    return _limits_of(models.message_limits(model))


def _limits_of(per_name):
    limits = {}
    for name, per_action in (per_name or {}).items():
        if name not in _LIMIT_NAMES or not isinstance(per_action, dict):
            continue
        for action, number in per_action.items():
            try:
                number = int(number)
            except (TypeError, ValueError):
                continue
            if number > 0:
                limits[(action, name)] = number
    return limits


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
        entry = device_model.variable_entry(item)
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

    def limits_read(self):
        """Whether the station reported its GetVariables limits in this run (then a refusal is not for size)."""
        return all(entry_key(_variable('DeviceDataCtrlr', name, 'GetVariables')) in self.variables for name in _LIMIT_NAMES)

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


# -- the backend every stage talks through ----------------------------------------------------------------------------
class SnapshotBackend(object):
    """The task's CSMS backend, answering the reads of ``station_id`` from its snapshot where it can.

    ``plan`` (a callable returning GetVariables entries, see :func:`declared_variables`) is read with the first
    GetVariables of a run that misses; ``fact`` is the :data:`SNAPSHOT_FACT` the task's variables hold; ``limits``
    ({(action, name): number}, :func:`capability_limits`, or a callable giving them, :func:`model_limits`, called only
    when a limit the station has not reported in this run is needed) the station's message limits where the run knows
    them without asking (what the station reports in this run wins)."""

    def __init__(self, backend, station_id, fact=None, plan=None, run=None, csms=None, limits=None):
        #: which CSMS this is (a second backend of the same CSMS in the same task shares the snapshot)
        self.csms = csms
        self._backend = backend
        self._station_id = station_id
        self._fact = fact
        self._plan = plan
        self._known = limits if callable(limits) else dict(limits or {})
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
        other = SnapshotBackend(backend, self._station_id, fact=self._fact, plan=self._plan, run=self._run, csms=self.csms,
                                limits=self._known)
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

    def message_limits(self):
        """{(action, name): number}: the station's message limits as the run knows them (reported by the station in this
        run, else :func:`capability_limits`); {} for a station this backend does not keep a snapshot of.
        ``device_model.StationSession`` asks this before it reads the limits itself."""
        snapshot = self.snapshot()
        if snapshot is None or not snapshot.valid:
            return {}
        reported = {}
        for action in _LIMIT_ACTIONS:
            for name in _LIMIT_NAMES:
                number = snapshot.limit(action, name)
                if number:
                    reported[(action, name)] = number
        if len(reported) == len(_LIMIT_ACTIONS) * len(_LIMIT_NAMES):
            return reported
        limits = dict(self._known_limits())
        limits.update(reported)
        return limits

    def _known_limits(self):
        """The limits the run knows without asking; a callable given for them is called once, on first need."""
        if callable(self._known):
            self._known = dict(self._known() or {})
        return self._known

    def _limits(self, snapshot):
        """(ItemsPerMessage, BytesPerMessage) of GetVariables, None where not known."""
        return tuple(snapshot.limit('GetVariables', name) or self._known_limits().get(('GetVariables', name))
                     for name in _LIMIT_NAMES)

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
        if snapshot.planned or self._plan is None:
            self._send(snapshot, list(missing), args, kwargs)
            return

        def _replanned():
            # the station refused the request for its size and reported its limits: plan again within them
            snapshot.planned = False
            return self._with_plan(snapshot, [entry for entry in missing if entry_key(entry) not in snapshot.variables])
        self._send(snapshot, self._with_plan(snapshot, list(missing)), args, kwargs, replan=_replanned)

    def _with_plan(self, snapshot, wanted):
        """``wanted`` plus the declared variables not read yet. When the GetVariables limits are not known, the limits
        ride along with all of them (one request; a station that refuses it for its size is answered in
        :meth:`_send`). When they are known, the declared variables fill as much of the room of the requests ``wanted``
        needs anyway (all of them on a station with roomy limits: the snapshot is then complete), so that a run never
        makes more GetVariables than its stages would alone, whichever stages run."""
        items, size = self._limits(snapshot)
        known = set(entry_key(entry) for entry in wanted) | set(snapshot.variables)
        rest = [entry for entry in self._planned() if entry_key(entry) not in known]
        if items is None or size is None:
            snapshot.planned = True
            limits = [entry for entry in limit_entries() if entry_key(entry) not in known]
            return limits + wanted + rest
        alone = len(device_model.split_batches('GetVariables', wanted, items, size))
        if len(device_model.split_batches('GetVariables', wanted + rest, items, size)) <= alone:
            snapshot.planned = True
            return wanted + rest
        filled = list(wanted)
        for entry in rest:
            if len(device_model.split_batches('GetVariables', filled + [entry], items, size)) > alone:
                break
            filled.append(entry)
        return filled

    def _planned(self):
        try:
            return list(self._plan() or [])
        except Exception:  # pylint: disable=broad-except
            # the plan only saves reads: a station whose inventory it cannot read is read stage by stage
            return []

    def _send(self, snapshot, entries, args, kwargs, replan=None):
        """GetVariables of ``entries`` in requests that fit the station's limits as known. A station that refuses a
        request for its size (:data:`_TOO_LARGE`; a limit not known yet, or a capability cache of another firmware) is
        asked for its limits alone, once, and the rest (``replan()`` when given) is split at what it reports."""
        pending, asked = list(entries), False
        while pending:
            items, size = self._limits(snapshot)
            batch = device_model.split_batches('GetVariables', pending, items, size)[0]
            try:
                answer = self._backend.call(self._station_id, 'GetVariables', {'getVariableData': batch}, *args, **kwargs)
            except CallError as error:
                if asked or snapshot.limits_read() or (error.details or {}).get('code') not in _TOO_LARGE:
                    raise
                asked = True
                self._read_limits(snapshot, error, args, kwargs)
                if replan is not None:
                    pending = replan()
                else:
                    pending = [entry for entry in pending if entry_key(entry) not in snapshot.variables]
                continue
            snapshot.record(answer.get('getVariableResult') or [])
            pending = pending[len(batch):]

    def _read_limits(self, snapshot, refusal, args, kwargs):
        limits = [entry for entry in limit_entries() if entry_key(entry) not in snapshot.variables]
        answer = self._backend.call(self._station_id, 'GetVariables', {'getVariableData': limits}, *args, **kwargs)
        snapshot.record(answer.get('getVariableResult') or [])
        if not snapshot.limit('GetVariables', 'ItemsPerMessage') and not snapshot.limit('GetVariables', 'BytesPerMessage'):
            raise CsmsError('station %s refused a GetVariables for its size (%s) and does not report '
                            'DeviceDataCtrlr.ItemsPerMessage/BytesPerMessage[GetVariables]: give the model\'s limits in '
                            'its station model file (items_per_message, bytes_per_message) or check the station\'s '
                            'device model'
                            % (self._station_id, (refusal.details or {}).get('code')), kind='call_error')

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
            remembered = self._remembered_list_version(snapshot, args, kwargs) if action == 'GetLocalListVersion' else None
            cached[key] = remembered or self._backend.call(self._station_id, action, payload, *args, **kwargs)
            snapshot.changed = True
        return copy.deepcopy(cached[key])

    def _remembered_list_version(self, snapshot, args, kwargs):
        """GetLocalListVersion's answer without asking the station, when that is sound: the CSMS remembers the version
        and the entries it last sent the station (capability ``local_list``), and the station's
        ``LocalAuthListCtrlr.Entries`` in this run's GetVariables (the declared variables carry it) counts as many
        entries. A wiped list (0 entries), one another party sent with another number of entries, a station that does
        not report the variable, or no memory: None, and the station is asked. Not seen this way: another party's list
        of exactly as many entries (docs/VERIFY.md)."""
        if not self._backend.has('local_list'):
            return None
        try:
            memory = self._backend.local_list_memory(self._station_id) or {}
        except CsmsError:
            return None
        version, entries = memory.get('version'), memory.get('entries')
        if isinstance(version, bool) or not isinstance(version, int) or version < 1 or not isinstance(entries, dict):
            return None
        key = entry_key(_variable(*LOCAL_LIST_ENTRIES))
        if key not in snapshot.variables and not snapshot.planned and self._plan is not None:
            # the first read of the run: the declared variables (which hold the entries' count) are read now
            self._get_variables(snapshot, {'getVariableData': [_variable(*LOCAL_LIST_ENTRIES)]}, args, kwargs)
        result = snapshot.variables.get(key) or {}
        if result.get('attributeStatus') != 'Accepted' or str(result.get('attributeValue')).strip() != str(len(entries)):
            return None
        return {'versionNumber': version}

    def _write(self, snapshot, action, payload, args, kwargs):
        answer = self._backend.call(self._station_id, action, payload, *args, **kwargs)
        if action == 'SetVariables':
            self._read_back(snapshot, payload, answer, args, kwargs)
        elif action == 'SendLocalList':
            # the next GetLocalListVersion asks the station (a write re-reads what it changed)
            snapshot.drop(_STALE_AFTER[action])
            snapshot.forget([entry_key(_variable(*LOCAL_LIST_ENTRIES))])
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
            self._send(snapshot, readable, args, kwargs)


def _certificates_of(answer, certificate_types):
    """The GetInstalledCertificateIds answer for ``certificate_types`` (None: all), from the answer for all types."""
    if not certificate_types:
        return copy.deepcopy(answer)
    chains = [chain for chain in answer.get('certificateHashDataChain') or []
              if chain.get('certificateType') in certificate_types]
    if not chains:
        return {'status': 'NotFound'}
    return {'status': 'Accepted', 'certificateHashDataChain': copy.deepcopy(chains)}
