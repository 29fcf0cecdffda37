# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Station models: what OCPP 2.0.1 does not standardize, per vendor and model, read from model files.

A model file (YAML, one per vendor/model, ``station_models/<name>.yml`` in this collection or in a directory of
``evcs_station_model_dirs``) says:

- ``match``: the vendor, model and firmware range (``{min, max}``) of the stations it describes; a station whose
  inventory names no model (``evcs_station.station_model``, else the site's ``evcs_site.station_model``) gets the
  first file that matches its ``vendor``/``model``/``firmware_version``, else ``generic`` (standard components only);
- ``slots``: its configuration slots (else the valuesList of ``NetworkConfigurationPriority`` it reports);
- ``ocpp_interfaces``: the OCPP interface (``ocppInterface`` of SetNetworkProfile) per network mode;
- ``ntp``: whether ``ClockCtrlr.NtpServerUri`` has instances (priorities 1, 2, ...) or is one variable;
- ``network``: the vendor component (per network mode) and variables of the settings OCPP leaves to the vendor
  (``enabled``, ``addressing``, ``ipv4_address``, ``ipv4_gateway``, ``dns``, ``wifi_ssid``, ``wifi_passphrase``,
  ``apn``, ``apn_username``, ``apn_password``, ``vpn_enabled``, ``iccid``); a setting the model does not map is
  refused by validate, naming the host, the field, the model and the fix;
- quirks: ``rate_units``, ``charging_station_max_profile`` (false: not supported), ``items_per_message`` and
  ``bytes_per_message`` (the station's DeviceDataCtrlr message limits per message type),
  ``reboot_required`` (variable keys that need a reboot);
- ``logging``: ``level`` (component, variable and the station's value of each of debug, info, warning, error) where
  the station has a log level the inventory may set (``evcs_station.logging.level``); OCPP standardizes none;
- ``variables``: known capabilities (component, variable, instance, mutability, data_type, values_list, min_limit,
  max_limit), used with (and overridden by) what capability discovery reads from the station;
- ``ocpp_version``: the OCPP version the model's stations speak (``2.0.1`` unless it says ``"1.6"``); a 1.6 model has
  ``configuration_keys`` instead of a device model: ``keys`` (each ``key``, ``type``, ``readonly``, ``write_only``,
  ``reboot_required``), ``unknown_keys`` (``refuse``: extra keys must be listed; ``allow``), ``settings`` (an OCPP
  setting whose key is not the standard 1.6 one: inventory key -> the model's key, or null where it has none) and
  ``central_system_url`` (the vendor key that holds the Central System URL; 1.6 standardizes none).

The loader only reads data; nothing in plugins/ or roles/ names a vendor component outside these files.
"""

from __future__ import annotations

import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

#: the collection's own model files
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                           'station_models')
GENERIC = 'generic'
#: the model of a 1.6 station no file matches: the standard 1.6 configuration keys only
GENERIC_16 = 'generic-16'
#: the configuration key types a 1.6 model may give (compared as the 2.0.1 device model's value types)
KEY_TYPES = ('string', 'boolean', 'integer', 'decimal', 'list', 'set')
DEFAULT_INTERFACES = {'ethernet': 'Wired0', 'wifi': 'Wireless0', 'cellular': 'Wireless1'}
#: the declarative settings a model may map, and the inventory field each comes from
NETWORK_SETTINGS = {
    'enabled': 'network.mode',
    'addressing': 'network.addressing',
    'ipv4_address': 'network.ipv4.address',
    'ipv4_gateway': 'network.ipv4.gateway',
    'dns': 'network.dns',
    'wifi_ssid': 'network.wifi.ssid',
    'wifi_passphrase': 'network.wifi.passphrase',
    'apn': 'network.cellular.apn',
    'apn_username': 'network.cellular.username',
    'apn_password': 'network.cellular.password',
    'vpn_enabled': 'network.vpn.enabled',
    'iccid': 'network.cellular.iccid',
}
#: the logging levels an inventory may declare (``evcs_station.logging.level``); a model maps each to its value
LOGGING_LEVELS = ('debug', 'info', 'warning', 'error')
_NAME = re.compile(r'^[a-z0-9][a-z0-9_.-]{0,63}$')


class ModelError(ValueError):
    """A model file is missing or malformed, or the inventory names a model that does not exist."""


# -- loading -------------------------------------------------------------------------------------------------------
def model_dirs(extra_dirs=None):
    """Where model files are looked up: the inventory's directories first, then the collection's."""
    dirs = [str(path) for path in (extra_dirs or []) if path]
    return dirs + [SHIPPED_DIR]


def _read(path):
    if not HAS_YAML:
        raise ModelError('PyYAML is needed on the controller to read station model files')
    try:
        with open(path) as handle:
            data = yaml.load(handle, Loader=_SAFE_LOADER)  # nosec B506 - a safe loader
    except (IOError, OSError, yaml.YAMLError) as error:
        raise ModelError('station model file %s cannot be read: %s' % (path, error))
    if not isinstance(data, dict) or not data.get('name'):
        raise ModelError('station model file %s is not a mapping with a name' % path)
    return data


_FOUND = {}
#: libyaml's safe loader where PyYAML was built with it (several times faster than the pure-Python one, same result)
_SAFE_LOADER = (getattr(yaml, 'CSafeLoader', None) or yaml.SafeLoader) if HAS_YAML else None


def available_models(extra_dirs=None):
    """{name: path} of every model file, the first directory winning (listed once per process and directories)."""
    dirs = tuple(model_dirs(extra_dirs))
    if dirs not in _FOUND:
        _FOUND[dirs] = _list_models(dirs)
    return dict(_FOUND[dirs])


def _list_models(dirs):
    found = {}
    for directory in dirs:
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            if entry.endswith(('.yml', '.yaml')) and not entry.startswith('.'):
                found.setdefault(entry.rsplit('.', 1)[0], os.path.join(directory, entry))
    return found


_CACHE = {}


def load_model(name, extra_dirs=None):
    """The model called ``name`` (the file name without .yml) with its defaults filled; ModelError if unknown."""
    paths = available_models(extra_dirs)
    if name not in paths:
        raise ModelError('station model %s does not exist (known: %s)' % (name, ', '.join(sorted(paths)) or 'none'))
    path = paths[name]
    if path not in _CACHE:
        _CACHE[path] = normalise_model(_read(path), path)
    return _CACHE[path]


def preload_models(extra_dirs=None):
    """Read and normalise every model file once, in this process (the controller, before it forks its workers: each
    task's worker then finds them in ``_CACHE`` instead of parsing the files again, about 50 ms a task). A file that
    cannot be read is left for the task that uses it to report. The names loaded."""
    loaded = []
    for name in sorted(available_models(extra_dirs)):
        try:
            load_model(name, extra_dirs)
        except ModelError:
            continue
        loaded.append(name)
    return loaded


def normalise_model(data, where='model'):
    """A model with every key present (empty where the file says nothing)."""
    if not _NAME.match(str(data.get('name', ''))):
        raise ModelError('%s: name %r is not a model name (lowercase letters, digits, . _ -)' % (where, data.get('name')))
    network = data.get('network') or {}
    model = {
        'name': data['name'],
        'description': data.get('description', ''),
        'match': list(data.get('match') or []),
        'slots': [int(slot) for slot in data['slots']] if data.get('slots') else None,
        'ocpp_interfaces': dict(DEFAULT_INTERFACES, **(data.get('ocpp_interfaces') or {})),
        'ntp': dict({'instances': True}, **(data.get('ntp') or {})),
        'network': {'component': dict(network.get('component') or {}),
                    'settings': dict(network.get('settings') or {})},
        'rate_units': list(data.get('rate_units') or ['A', 'W']),
        'charging_station_max_profile': bool(data.get('charging_station_max_profile', True)),
        'items_per_message': dict(data.get('items_per_message') or {}),
        'bytes_per_message': dict(data.get('bytes_per_message') or {}),
        'reboot_required': list(data.get('reboot_required') or []),
        'variables': list(data.get('variables') or []),
        'logging': _logging_map(data.get('logging') or {}, where),
        'source': data.get('source', ''),
        'ocpp_version': str(data.get('ocpp_version') or '2.0.1'),
        'configuration_keys': _configuration_keys(data.get('configuration_keys'), where),
    }
    if model['ocpp_version'] not in ('1.6', '2.0.1'):
        raise ModelError('%s: ocpp_version %r is not "1.6" or "2.0.1"' % (where, data.get('ocpp_version')))
    unknown = sorted(set(model['network']['settings']) - set(NETWORK_SETTINGS))
    if unknown:
        raise ModelError('%s: network.settings %s are not settings the collection knows (%s)'
                         % (where, ', '.join(unknown), ', '.join(sorted(NETWORK_SETTINGS))))
    return model


def _configuration_keys(data, where):
    """``{'keys': {key: {type, readonly, write_only, reboot_required}}, 'unknown_keys', 'settings',
    'central_system_url'}`` of a 1.6 model (empty for a 2.0.1 one)."""
    data = data or {}
    unknown = sorted(set(data) - {'keys', 'unknown_keys', 'settings', 'central_system_url'})
    if unknown:
        raise ModelError('%s: configuration_keys.%s is not a setting the collection knows (keys, unknown_keys, settings, '
                         'central_system_url)' % (where, ', '.join(unknown)))
    keys = {}
    for entry in data.get('keys') or []:
        if not isinstance(entry, dict) or not entry.get('key'):
            raise ModelError('%s: configuration_keys.keys entry %r has no key' % (where, entry))
        kind = entry.get('type', 'string')
        if kind not in KEY_TYPES:
            raise ModelError('%s: configuration key %s has type %r, not one of %s'
                             % (where, entry['key'], kind, ', '.join(KEY_TYPES)))
        keys[str(entry['key'])] = {'type': kind, 'readonly': bool(entry.get('readonly', False)),
                                   'write_only': bool(entry.get('write_only', False)),
                                   'reboot_required': bool(entry.get('reboot_required', False))}
    policy = data.get('unknown_keys', 'refuse')
    if policy not in ('refuse', 'allow'):
        raise ModelError('%s: configuration_keys.unknown_keys %r is not refuse or allow' % (where, policy))
    url_key = data.get('central_system_url')
    if url_key and url_key not in keys:
        raise ModelError('%s: configuration_keys.central_system_url %s is not one of its keys' % (where, url_key))
    return {'keys': keys, 'unknown_keys': policy, 'settings': dict(data.get('settings') or {}),
            'central_system_url': url_key}


def _logging_map(logging, where):
    """``{'level': {'component', 'variable', 'values': {level: station value}}}`` or ``{}`` (the model maps none)."""
    unknown = sorted(set(logging) - {'level'})
    if unknown:
        raise ModelError('%s: logging.%s is not a setting the collection knows (level)' % (where, ', '.join(unknown)))
    level = logging.get('level')
    if not level:
        return {}
    if not isinstance(level, dict) or not (level.get('component') or {}).get('name') or not level.get('variable'):
        raise ModelError('%s: logging.level needs component.name and variable' % where)
    values = dict(level.get('values') or dict((name, name) for name in LOGGING_LEVELS))
    missing = [name for name in LOGGING_LEVELS if name not in values]
    if missing:
        raise ModelError('%s: logging.level.values lacks %s (give the station\'s value of each level)' % (where, ', '.join(missing)))
    return {'level': {'component': dict(level['component']), 'variable': level['variable'], 'values': values}}


# -- selection -----------------------------------------------------------------------------------------------------
def _version(text):
    return tuple(int(part) for part in re.findall(r'\d+', str(text or '')))


def _matches(rule, vendor, model, firmware):
    if rule.get('vendor') and str(rule['vendor']).lower() != str(vendor or '').lower():
        return False
    if rule.get('model') and str(rule['model']).lower() != str(model or '').lower():
        return False
    bounds = rule.get('firmware') or {}
    if bounds and firmware:
        version = _version(firmware)
        if bounds.get('min') and version < _version(bounds['min']):
            return False
        if bounds.get('max') and version > _version(bounds['max']):
            return False
    return bool(rule.get('vendor') or rule.get('model'))


#: the model file's message-limit quirks, by the DeviceDataCtrlr variable each gives per message type
MESSAGE_LIMITS = (('ItemsPerMessage', 'items_per_message'), ('BytesPerMessage', 'bytes_per_message'))


def message_limits(model):
    """{DeviceDataCtrlr variable: {message type: number}}: the message limits the station model declares."""
    return dict((name, dict(model.get(key) or {})) for name, key in MESSAGE_LIMITS if model.get(key))


def model_name(station, site=None, extra_dirs=None):
    """The name of the station's model: named in the inventory (station, then site), else the first file that
    matches the station's vendor/model/firmware, else ``generic`` (``generic-16`` for an OCPP 1.6 station)."""
    named = (station or {}).get('station_model') or (site or {}).get('station_model')
    if named:
        return named
    for name in sorted(available_models(extra_dirs)):
        model = load_model(name, extra_dirs)
        if any(_matches(rule, station.get('vendor'), station.get('model'), station.get('firmware_version'))
               for rule in model['match']):
            return name
    version = (station or {}).get('ocpp_version') or (site or {}).get('ocpp_version')
    return GENERIC_16 if str(version) == '1.6' else GENERIC


def station_model(station, site=None, extra_dirs=None):
    """The station's model (see ``model_name``)."""
    return load_model(model_name(station, site, extra_dirs), extra_dirs)


# -- what the model maps -------------------------------------------------------------------------------------------
def _setting_item(model, mode, setting):
    """``(component, variable spec)`` of a mapped setting for the interface of ``mode``, or None."""
    spec = model['network']['settings'].get(setting)
    if not spec:
        return None
    component = spec.get('component') or model['network']['component'].get(mode)
    if not component:
        return None
    return dict(component), spec


def _section(mapping, key):
    value = (mapping or {}).get(key)
    return value if isinstance(value, dict) else {}


def declared_settings(settings):
    """{setting: value} of the non-standard network settings the inventory declares (None: not declared)."""
    mode = settings.get('mode', 'ethernet')
    static = settings.get('addressing', 'dhcp') == 'static'
    ipv4, wifi, cellular = _section(settings, 'ipv4'), _section(settings, 'wifi'), _section(settings, 'cellular')
    declared = {
        'addressing': 'static' if static else None,
        'ipv4_address': ipv4.get('address') if static else None,
        'ipv4_gateway': ipv4.get('gateway') if static else None,
        'dns': list(settings['dns']) if settings.get('dns') else None,
        'wifi_ssid': wifi.get('ssid') if mode == 'wifi' else None,
        'wifi_passphrase': wifi.get('passphrase') if mode == 'wifi' else None,
    }
    return dict((key, value) for key, value in declared.items() if value is not None)


def unmapped_settings(settings, model):
    """``[(inventory field, value, why)]`` of declared non-standard settings the model cannot set."""
    mode = settings.get('mode', 'ethernet')
    problems = []
    for setting, value in sorted(declared_settings(settings).items()):
        if _setting_item(model, mode, setting) is None:
            problems.append((NETWORK_SETTINGS[setting], value,
                             'is not standardized by OCPP 2.0.1 and station model %s maps no variable for it (network mode %s)'
                             % (model['name'], mode)))
    if settings.get('ntp') and len(settings['ntp']) > 1 and not model['ntp']['instances']:
        problems.append(('network.ntp', list(settings['ntp']),
                         'lists %d servers; station model %s holds one ClockCtrlr.NtpServerUri'
                         % (len(settings['ntp']), model['name'])))
    return problems


def network_variables(settings, model):
    """Device-model variables of the station's network settings, as its model maps them: the vendor variables it
    has (interface enabled, addressing, DNS, Wi-Fi, APN, VPN flag) and the standard time source and NTP servers.
    Write-only secrets carry ``write_only: true``."""
    mode = settings.get('mode', 'ethernet')
    static = settings.get('addressing', 'dhcp') == 'static'
    ipv4, wifi, cellular = _section(settings, 'ipv4'), _section(settings, 'wifi'), _section(settings, 'cellular')
    wanted = [('enabled', True), ('addressing', 'static' if static else 'dhcp')]
    if static:
        wanted += [('ipv4_address', ipv4.get('address')), ('ipv4_gateway', ipv4.get('gateway'))]
    if settings.get('dns'):
        wanted.append(('dns', list(settings['dns'])))
    if mode == 'wifi':
        wanted += [('wifi_ssid', wifi.get('ssid')), ('wifi_passphrase', wifi.get('passphrase'))]
    if mode == 'cellular':
        wanted += [('apn', cellular.get('apn')), ('apn_username', cellular.get('username')),
                   ('apn_password', cellular.get('password'))]
    wanted.append(('vpn_enabled', bool(_section(settings, 'vpn').get('enabled', False))))
    items = []
    for setting, value in wanted:
        mapped = _setting_item(model, mode, setting)
        if mapped is None or value is None or mapped[1].get('read_only'):
            continue
        component, spec = mapped
        if isinstance(value, str):
            value = (spec.get('values') or {}).get(value, value)
        item = {'component': component, 'variable': {'name': spec['variable']}, 'value': value}
        if isinstance(value, list):
            item['value_type'] = 'list'
        if spec.get('write_only'):
            item['write_only'] = True
        items.append(item)
    if settings.get('ntp'):
        items.append({'component': {'name': 'ClockCtrlr'}, 'variable': {'name': 'TimeSource'},
                      'value': ['NTP', 'Heartbeat'], 'value_type': 'list'})
        if model['ntp']['instances']:
            items += [{'component': {'name': 'ClockCtrlr'}, 'variable': {'name': 'NtpServerUri', 'instance': str(index)},
                       'value': server} for index, server in enumerate(settings['ntp'][:2], 1)]
        else:
            items.append({'component': {'name': 'ClockCtrlr'}, 'variable': {'name': 'NtpServerUri'},
                          'value': settings['ntp'][0]})
    return items


def unmapped_logging(logging, model):
    """``[(inventory field, value, why)]`` when the inventory declares a logging level the model cannot set."""
    level = (logging or {}).get('level')
    if level is None or model['logging'].get('level'):
        return []
    return [('logging.level', level, 'is not standardized by OCPP 2.0.1 and station model %s maps no logging level '
             'variable' % model['name'])]


def logging_variables(logging, model):
    """The device-model variable of the declared logging level, as the model maps it (none when nothing is declared
    or the model maps no level)."""
    level = (logging or {}).get('level')
    mapped = model['logging'].get('level')
    if level is None or not mapped:
        return []
    return [{'component': dict(mapped['component']), 'variable': {'name': mapped['variable']},
             'value': mapped['values'][level]}]
