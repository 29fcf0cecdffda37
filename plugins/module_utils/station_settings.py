# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles send to a station, computed from its inventory variables: the device-model variables of its
network and OCPP settings, what it must report about its EVSEs and connectors, its CSMS connection settings, and the
stations of its site that the load plan shares the grid connection among.

The roles call these through the filter plugins of the same names. They are plain functions (no Jinja template
files rendered with ``lookup('template')``, which copies every variable of the host on each use), so a role
computes them in microseconds however large the inventory is.
"""

from __future__ import annotations

import re

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS, with_defaults

#: OCPP 2.0.1 names interfaces Wired0..3 and Wireless0..3: Wi-Fi is the first wireless one, the modem the second
#: (a station model may say otherwise: ``ocpp_interfaces`` of its model file)
INTERFACE_OF_MODE = models.DEFAULT_INTERFACES

#: inventory key of the OCPP settings -> (component, variable, instance, value type) of the device model, from the one
#: table of OCPP settings
OCPP_VARIABLES = tuple((setting.key, setting.component, setting.variable, setting.instance, setting.value_type)
                       for setting in OCPP_SETTINGS if setting.component)

_OCTET = r'(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
_IPV4 = re.compile(r'^(' + _OCTET + r'\.){3}' + _OCTET + r'$')
_CIDR = re.compile(r'^(' + _OCTET + r'\.){3}' + _OCTET + r'/(3[0-2]|[12]?[0-9])$')
_APN = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$')


def merged(base, override):
    """``override`` over ``base``, mappings recursively (Ansible's ``combine(recursive=true)``); shares, never
    changes, the inputs."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    result = dict(base)
    for key, value in override.items():
        result[key] = merged(result[key], value) if isinstance(result.get(key), dict) else value
    return result


def _section(mapping, key):
    value = (mapping or {}).get(key)
    return value if isinstance(value, dict) else {}


# -- CSMS connection -----------------------------------------------------------------------------------------------
#: inventory key of network.cellular -> option of the connection profile's ``apn`` (SetNetworkProfile apn)
_APN_OPTIONS = (('apn', 'apn'), ('username', 'apn_user_name'), ('password', 'apn_password'), ('pin', 'sim_pin'),
                ('preferred_network', 'preferred_network'), ('use_only_preferred_network', 'use_only_preferred_network'),
                ('authentication', 'apn_authentication'))
#: inventory key of network.vpn -> option of the connection profile's ``vpn`` (SetNetworkProfile vpn)
_VPN_OPTIONS = (('server', 'server'), ('username', 'user'), ('group', 'group'), ('password', 'password'),
                ('key', 'key'), ('type', 'type'))


def connection_settings(station, network=None, ocpp=None, model=None):
    """OCPP interface, message timeout, APN and VPN of the station's CSMS connection profile (``evcs_station.network``
    over the site's ``evcs_network``, ``evcs_station.ocpp`` over ``evcs_ocpp``), every field SetNetworkProfile
    standardizes. The security role sends it to the slot a station runs on (a change goes to a free slot first); the
    interface per network mode is the station model's (``model``, default OCPP's usual naming)."""
    settings = merged(network or {}, _section(station, 'network'))
    ocpp_settings = merged(ocpp or {}, _section(station, 'ocpp'))
    mode = settings.get('mode', 'ethernet')
    interfaces = (model or {}).get('ocpp_interfaces') or INTERFACE_OF_MODE
    result = {'interface': interfaces.get(mode, 'Wired0'),
              'message_timeout': int(ocpp_settings.get('message_timeout', 30))}
    if mode == 'cellular':
        cellular = _section(settings, 'cellular')
        apn = dict((option, cellular[key]) for key, option in _APN_OPTIONS if cellular.get(key) not in (None, ''))
        apn.setdefault('apn', '')
        if 'sim_pin' in apn:
            apn['sim_pin'] = int(apn['sim_pin'])
        result['apn'] = apn
    vpn = _section(settings, 'vpn')
    if boolean(vpn.get('enabled', False), strict=False):
        result['vpn'] = dict((option, vpn[key]) for key, option in _VPN_OPTIONS if vpn.get(key) not in (None, ''))
    return result


# -- network -------------------------------------------------------------------------------------------------------
def network_variables(settings, model):
    """Device-model variables of the station's network settings as its station model maps them (vendor components only
    where the model file names them; the standard ClockCtrlr time source and NTP servers), for one batched
    device_model call. Write-only secrets (Wi-Fi passphrase, APN password) carry ``write_only: true``."""
    return models.network_variables(settings, model)


def _ws_url(csms, profile):
    urls = (csms or {}).get('ws_urls') or {}
    return urls.get(str(profile)) or urls.get(profile) or ''


def network_problems(settings, model, station, csms, rules=None):
    """One line per bad field of the station's network settings (and each setting its station model cannot set) and
    of the CSMS URLs of every profile up to the declared one: checked before any station is touched."""
    problems = []
    mode = settings.get('mode', 'ethernet')
    addressing = settings.get('addressing', 'dhcp')
    if mode not in model['ocpp_interfaces']:
        problems.append('network.mode %s is not one of %s' % (mode, ', '.join(model['ocpp_interfaces'])))
    problems += ['%s %s station model %s: set it on the station or select a model that maps it'
                 % (field, why, model['name']) for field, _value, why in models.unmapped_settings(settings, model)]
    if addressing not in ('dhcp', 'static'):
        problems.append('network.addressing %s is not dhcp or static' % addressing)
    if addressing == 'static':
        ipv4 = _section(settings, 'ipv4')
        if not _CIDR.match(str(ipv4.get('address', ''))):
            problems.append('network.ipv4.address %s is not an IPv4 address with prefix length, for example '
                            '192.168.10.21/24' % ipv4.get('address', '(missing)'))
        if not _IPV4.match(str(ipv4.get('gateway', ''))):
            problems.append('network.ipv4.gateway %s is not an IPv4 address' % ipv4.get('gateway', '(missing)'))
    problems += ['network.dns entry %s is not an IPv4 address' % server
                 for server in settings.get('dns') or [] if not _IPV4.match(str(server))]
    wifi, cellular = _section(settings, 'wifi'), _section(settings, 'cellular')
    wifi_managed = 'wifi_ssid' in model['network']['settings']
    if mode == 'wifi' and wifi_managed and not wifi.get('ssid'):
        problems.append('network.wifi.ssid is missing for mode wifi')
    if mode == 'wifi' and wifi_managed and not 8 <= len(wifi.get('passphrase') or '') <= 63:
        problems.append('network.wifi.passphrase must have 8 to 63 characters (WPA2)')
    apn = str(cellular.get('apn', ''))
    if mode == 'cellular' and (not _APN.match(apn) or len(apn) > 100):
        problems.append('network.cellular.apn %s is not an access point name (labels of letters, digits and hyphens '
                        'separated by dots, at most 100 characters)' % cellular.get('apn', '(missing)'))
    allowed = (rules or {}).get('csms_hosts')
    for profile in range(1, int((station or {}).get('security_profile', 1)) + 1):
        url = _ws_url(csms, profile)
        parts = urlsplit(url) if url else None
        if not url:
            problems.append('evcs_csms.ws_urls has no URL for security profile %d' % profile)
        elif parts.scheme != ('ws' if profile == 1 else 'wss'):
            problems.append('evcs_csms.ws_urls[%d] %s does not fit security profile %d (ws:// for 1, wss:// for 2 '
                            'and 3)' % (profile, url, profile))
        elif allowed is not None and parts.hostname not in allowed:
            problems.append('evcs_csms.ws_urls[%d] %s points at %s, not a CSMS host of this environment (%s)'
                            % (profile, url, parts.hostname, ', '.join(allowed)))
    return problems


# -- OCPP and hardware ---------------------------------------------------------------------------------------------
def ocpp_variables(settings, extra_variables=None):
    """Device-model variables of the station's OCPP settings (the keys given and not null, over the defaults of the
    table of OCPP settings), then ``extra_variables`` as they are: one list, applied in one batched device_model call."""
    settings = with_defaults(settings)
    items = []
    for key, component, variable, instance, kind in OCPP_VARIABLES:
        if settings.get(key) is None:
            continue
        name = {'name': variable, 'instance': instance} if instance else {'name': variable}
        items.append({'component': {'name': component}, 'variable': name, 'value': settings[key], 'value_type': kind})
    return items + list(extra_variables or [])


def hardware_variables(station):
    """What the inventory says about the station's EVSEs and connectors, as read-only device-model variables: each
    EVSE's SupplyPhases and each connector's ConnectorType."""
    items = []
    for evse in (station or {}).get('evses') or []:
        items.append({'component': {'name': 'EVSE', 'evse': evse['id']}, 'variable': {'name': 'SupplyPhases'},
                      'value': evse.get('phases', 3)})
        items += [{'component': {'name': 'Connector', 'evse': evse['id'], 'connector': connector['id']},
                   'variable': {'name': 'ConnectorType'}, 'value': connector.get('type')}
                  for connector in evse.get('connectors') or []]
    return items


def station_connectors(station):
    """The connectors of the station's EVSEs, as commissioning_check takes them."""
    return [{'evse_id': int(evse['id']), 'connector_id': int(connector['id'])}
            for evse in (station or {}).get('evses') or [] for connector in evse.get('connectors') or []]


# -- load plan -----------------------------------------------------------------------------------------------------
def _planner_entry(host, station):
    """A station as the load planner takes it: its request in A per phase (``load_management.max_current_a``, else
    the sum of its EVSEs'), phases (the most of its EVSEs), priority and optional weight."""
    evses = station.get('evses') or []
    load = station.get('load_management') or {}
    entry = {
        'id': station.get('id', host),
        'max_current_a': load['max_current_a'] if 'max_current_a' in load
        else sum(evse.get('max_current_a', 0) for evse in evses),
        'phases': max(evse.get('phases', 3) for evse in evses) if evses else 3,
        'priority': load.get('priority', 1),
    }
    if 'weight' in load:
        entry['weight'] = load['weight']
    return entry


def stations_by_site(hostvars, hosts):
    """One pass over ``hosts``: ``({site id: site}, {site id: [planner entry, ...]})`` of the present stations."""
    sites, stations = {}, {}
    for host in hosts:
        host_vars = hostvars[host]
        site = host_vars.get('evcs_site') or {}
        station = host_vars.get('evcs_station') or {}
        if not site.get('id') or station.get('state', 'present') != 'present':
            continue
        sites.setdefault(site['id'], site)
        stations.setdefault(site['id'], []).append(_planner_entry(host, station))
    return sites, stations


def site_stations(hostvars, hosts, site_id):
    """The load planner's input: every host of ``hosts`` whose ``evcs_site.id`` is ``site_id`` and whose station is
    present."""
    return stations_by_site(hostvars, hosts)[1].get(site_id, [])


def site_load_plans(hostvars, hosts, plan):
    """``{site id: plan}`` of every site in ``hosts``, from one pass over them (each host's variables are read once,
    however many stations a site has); a site whose plan is impossible maps to ``{'error': why}``. ``plan`` is
    ``callable(site, stations)`` raising ValueError subclasses on an impossible plan."""
    sites, stations = stations_by_site(hostvars, hosts)
    plans = {}
    for site_id, site in sites.items():
        try:
            plans[site_id] = plan(site, stations[site_id])
        except ValueError as error:
            plans[site_id] = {'error': str(error)}
    return plans
