# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security of OCPP 1.6J stations with the Security Extension ("Improved security for OCPP 1.6-J", edition 3):
the rules and messages that differ from OCPP 2.0.1. The 2.0.1 logic (identity.py, security_profile.py,
basic_auth.py) dispatches here on the station's OCPP version and keeps everything the two share.

What the Security Extension says, and what follows from it here:

- The charge point certificate's subject CN is the charge point's unique serial number (A00.FR.511; the Central
  System checks it, A00.FR.405), never a URL or IP address; its O is the CPO name (A00.FR.404/509), which the station
  takes from its ``CpoName`` key (A02.FR.13), so CpoName is set before a CSR is asked for (A02 prerequisite).
- Enrolment: ExtendedTriggerMessage(SignChargePointCertificate) -> SignCertificate(csr) -> CertificateSigned
  (``certificateChain`` only). Trust anchors: InstallCertificate / GetInstalledCertificateIds (one
  ``certificateType``, answer ``certificateHashData``) / DeleteCertificate with the 2.0.1 hash data (RFC 6960 CertID,
  serial in hex without leading zeros); types CentralSystemRootCertificate and ManufacturerRootCertificate only. The
  charge point certificate itself cannot be deleted over OCPP (M04.FR.05).
- AuthorizationKey (A00.FR.205/304, key 7.2): the basic-auth password, 16 to 20 bytes, written as its hexadecimal
  representation (32 to 40 hex digits); write-only; randomly generated binary advised. The station sends the password
  itself (the decoded bytes) in the Basic authorization header (OCTT TC_085_CS). The collection generates 20 random
  bytes and keeps their hexadecimal form, the AuthorizationKey, in Vault KV and in the CSMS (the credential calls of
  the 2.0.1 BasicAuthPassword): a CSMS compares the hexadecimal form of the bytes it received with it.
- SecurityProfile (key 7.6, A05): only raised, never lowered over OCPP (A00.FR.005, A05.FR.01: a value lower than or
  equal to the current one is Rejected); the station checks the prerequisites itself (AuthorizationKey for 1/2, a
  CentralSystemRootCertificate for 2/3, a charge point certificate for 3; A05.FR.02-04), answers Accepted (A05.FR.05),
  disconnects and reconnects with the new profile by itself (A05.FR.06/07), and SHOULD fall back to its previous profile
  settings when it cannot connect (A05.FR.08). Stations in the field also take the new profile only at a reboot (OCTT's
  TC_083_CSMS sends Reset Hard after the Accepted): a station that keeps its connection for
  ``SELF_RECONNECT_SECONDS`` gets one Reset (Hard). There are no configuration slots: the Central System URL is a
  vendor key the station model names.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure

VERSION = '1.6'
CPO_NAME = 'CpoName'
SECURITY_PROFILE = 'SecurityProfile'
AUTHORIZATION_KEY = 'AuthorizationKey'
#: the certificate types of the 2.0.1 vocabulary the collection uses -> the Security Extension's CertificateUseEnumType
ROOT_TYPES = {
    'CSMSRootCertificate': 'CentralSystemRootCertificate',
    'ManufacturerRootCertificate': 'ManufacturerRootCertificate',
}
#: the basic-auth password behind an AuthorizationKey: 16 to 20 bytes (A00.FR.205)
PASSWORD_BYTES = (16, 20)
#: the password length the collection generates (the most the key allows)
DEFAULT_PASSWORD_BYTES = 20
_HEX = re.compile(r'^[0-9A-Fa-f]*$')
#: what a serial number may not contain to be a certificate CN the Vault policy signs (no host name, path, URI or
#: e-mail address: docs/SECURITY.md) and that A00.FR.511 allows (not a URL or IP address)
_CN_FORBIDDEN = ('.', '/', ':', '@', ' ')
#: OCPP 1.6 BootNotification chargePointSerialNumber is CiString25
SERIAL_MAX_LENGTH = 25
#: seconds a station that keeps its connection after an Accepted SecurityProfile gets before the collection sends it
#: one Reset (Hard); a station that disconnects in that time (A05.FR.06) is left to reconnect by itself (A05.FR.07)
SELF_RECONNECT_SECONDS = 15


def is_16(version):
    return str(version) == VERSION


# -- AuthorizationKey --------------------------------------------------------------------------------------------
def password_problem(password):
    """Why ``password`` cannot be a 1.6 station's basic-auth password (16 to 20 bytes), or None."""
    size = len(str(password).encode('utf-8'))
    if not PASSWORD_BYTES[0] <= size <= PASSWORD_BYTES[1]:
        return ('is %d bytes long; the Security Extension allows %d to %d bytes (AuthorizationKey: up to 40 hexadecimal '
                'digits, A00.FR.205)' % (size, PASSWORD_BYTES[0], PASSWORD_BYTES[1]))
    return None


def length_problem(length):
    """Why a generated password of ``length`` bytes does not fit the AuthorizationKey, or None."""
    if not PASSWORD_BYTES[0] <= int(length) <= PASSWORD_BYTES[1]:
        return ('%d bytes is outside what the Security Extension allows for the AuthorizationKey of an OCPP 1.6 station '
                '(%d to %d bytes, 32 to 40 hexadecimal digits, A00.FR.205)' % (int(length), PASSWORD_BYTES[0],
                                                                               PASSWORD_BYTES[1]))
    return None


def authorization_key_problem(value):
    """Why ``value`` is not a valid AuthorizationKey (the hexadecimal representation of a 16 to 20 byte password:
    an even number of 32 to 40 hex digits), or None. Never repeats the value."""
    text = str(value)
    if not _HEX.match(text) or len(text) % 2:
        return 'is not a hexadecimal representation (an even number of the digits 0-9, A-F)'
    if not 2 * PASSWORD_BYTES[0] <= len(text) <= 2 * PASSWORD_BYTES[1]:
        return ('has %d hexadecimal digits (%d bytes); the Security Extension allows %d to %d digits (%d to %d bytes, '
                'A00.FR.205)' % (len(text), len(text) // 2, 2 * PASSWORD_BYTES[0], 2 * PASSWORD_BYTES[1],
                                 PASSWORD_BYTES[0], PASSWORD_BYTES[1]))
    return None


def authorization_key(password):
    """The AuthorizationKey value of ``password``: its UTF-8 bytes in hexadecimal (upper case, as OCTT writes it)."""
    problem = password_problem(password)
    if problem:
        raise ModuleFailure('the basic-auth password %s: it cannot be an AuthorizationKey' % problem)
    return str(password).encode('utf-8').hex().upper()


def new_password(length=DEFAULT_PASSWORD_BYTES):
    """A random printable password of ``length`` bytes (URL-safe ASCII) whose AuthorizationKey is ``2 * length`` hex
    digits."""
    problem = length_problem(length)
    if problem:
        raise ModuleFailure('length %s' % problem)
    return secrets.token_urlsafe(length)[:length]


def new_authorization_key(length=DEFAULT_PASSWORD_BYTES):
    """A new AuthorizationKey: ``length`` random bytes in upper-case hexadecimal. The bytes are URL-safe ASCII (6 bits
    of randomness each, 120 bits for 20): a CSMS that reads the Basic-auth password as text (CitrineOS 1.8.3 decodes it
    as UTF-8) can store and compare it, so a station that took a new key is never locked out by its CSMS."""
    return hex_of(new_password(length))


def hex_of(password):
    """The hexadecimal form of a password given as text (the staging password a factory station's key stands for)."""
    return str(password).encode('utf-8').hex().upper()


# -- the certificate's subject -----------------------------------------------------------------------------------
def serial_cn_problem(serial):
    """Why ``serial`` cannot be the CN of a 1.6 station's certificate (A00.FR.511), or None."""
    if not serial:
        return 'is missing: a 1.6 station\'s certificate CN is its serial number (A00.FR.405/511)'
    text = str(serial)
    if len(text) > SERIAL_MAX_LENGTH:
        return 'is longer than the %d characters of a 1.6 chargePointSerialNumber' % SERIAL_MAX_LENGTH
    if any(char in text for char in _CN_FORBIDDEN):
        return ('contains one of %s: a certificate CN that looks like a host name, path, URL or address is refused by '
                'the Vault policy and by A00.FR.511' % ' '.join(repr(char) for char in _CN_FORBIDDEN))
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return None
    return 'is an IP address, which A00.FR.511 forbids as a charge point certificate CN'


def reported_serial(connection):
    """The serial number the station reported in its last BootNotification, as the CSMS keeps it (None: none)."""
    boot = (connection or {}).get('boot') or {}
    reported = boot.get('charge_point') or boot
    return reported.get('chargePointSerialNumber') or None


def certificate_common_name(station_id, serial, connection=None):
    """The CN of a 1.6 station's certificate: its serial number (A00.FR.405), the one the inventory declares, which
    must be the one the station reports at boot (the Central System compares the CN with that one)."""
    reported = reported_serial(connection)
    if serial and reported and str(serial) != str(reported):
        raise ModuleFailure('station %s: evcs_station.serial_number is %r but the station reports serial %r in its '
                            'BootNotification; an OCPP 1.6 station certificate names the serial (CN, A00.FR.405) and '
                            'the CSMS compares it with the reported one: fix evcs_station.serial_number from the type '
                            'plate' % (station_id, serial, reported), field='serial_number', value=serial)
    common_name = serial or reported
    problem = serial_cn_problem(common_name)
    if problem:
        raise ModuleFailure('station %s: serial number %r %s: fix evcs_station.serial_number (the CN of its '
                            'certificate)' % (station_id, common_name, problem), field='serial_number',
                            value=common_name)
    return str(common_name)


def inventory_problems(station):
    """``[(path, value, what, fix)]`` of a desired-state station (desired_state) that a 1.6 station's security cannot
    work with: on profile 3 its certificate's CN is its serial number, which must be usable as one."""
    if not is_16(station.get('ocpp_version')) or station.get('security_profile') != 3:
        return []
    problem = serial_cn_problem(station.get('serial_number'))
    if problem is None:
        return []
    return [('evcs_station.serial_number', station.get('serial_number'),
             'is the CN of this OCPP 1.6 station\'s profile-3 certificate (Security Extension A00.FR.405/511) and %s'
             % problem, 'use the serial number from the type plate exactly as the station reports it at boot; a serial '
             'that cannot be a certificate CN leaves the station on security profile 2')]


# -- messages ----------------------------------------------------------------------------------------------------
def root_type(certificate_type, station_id):
    """The Security Extension's name of a trust anchor type; fails for types 1.6 does not have (V2G, MO)."""
    if certificate_type in ROOT_TYPES:
        return ROOT_TYPES[certificate_type]
    if certificate_type in ROOT_TYPES.values():
        return certificate_type
    raise ModuleFailure('station %s speaks OCPP 1.6, whose Security Extension installs only %s: %s cannot be '
                        'installed on it' % (station_id, ', '.join(sorted(ROOT_TYPES)), certificate_type),
                        field='certificate_type', value=certificate_type)


def csr_trigger():
    """The request that makes a 1.6 station make a key pair and send its CSR (A02)."""
    return 'ExtendedTriggerMessage', {'requestedMessage': 'SignChargePointCertificate'}


def certificate_signed(chain_pem):
    """CertificateSigned of 1.6: the chain only (there is no certificateType)."""
    return 'CertificateSigned', {'certificateChain': chain_pem}


def installed_request(certificate_type):
    return 'GetInstalledCertificateIds', {'certificateType': certificate_type}


def installed_hash_data(answer):
    """The hash data of a 1.6 GetInstalledCertificateIds answer (NotFound: none)."""
    if (answer or {}).get('status') != 'Accepted':
        return []
    return list(answer.get('certificateHashData') or [])


# -- security profile rules --------------------------------------------------------------------------------------
def profile_refusal(station_id, current, wanted):
    """Why a 1.6 station's profile cannot go from ``current`` to ``wanted`` over OCPP, or None (a raise)."""
    if current is None or wanted > current:
        return None
    if wanted < current:
        return ('station %s (OCPP 1.6) runs security profile %d: lowering it to %d is not possible over OCPP (Security '
                'Extension A00.FR.005, A05.FR.01: the station rejects it; it must be done on site, never by '
                'ChangeConfiguration), and allow_downgrade cannot override that: keep security_profile at %d'
                % (station_id, current, wanted, current))
    return None


def integer(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def reconnected(before, now):
    """Whether ``now`` is a newer connection than ``before`` (a 1.6 station reconnects after a SecurityProfile change
    without a BootNotification: A05.FR.06/07)."""
    if not now.get('online'):
        return False
    if before.get('connections_total') is not None and now.get('connections_total') is not None:
        return now['connections_total'] > before['connections_total']
    return bool(now.get('connected_at')) and now.get('connected_at') != before.get('connected_at')
