# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The C(citrineos) CSMS backend: CitrineOS 1.8.x.

    C(csms_url) is CitrineOS's HTTP API (C(centralSystem), for example C(https://citrineos.example.net:8080)),
    C(csms_token) an OIDC bearer token where CitrineOS requires one (none with its local bypass), C(csms_options) the
    settings below (inventory: C(evcs_csms.options)). docs/BACKENDS.md explains each capability and what CitrineOS 1.8.3
    cannot do. An OCPP 1.6 station (CitrineOS records the subprotocol it negotiated) is sent its calls through
    CitrineOS's C(/ocpp/1.6/) routes; a 1.6 action without one (SendLocalList, the Security Extension's calls) is
    reported as not verifiable.
    """

    # the keys of csms_options this backend takes; a unit test keeps this equal to CitrineosCsms.OPTIONS
    DOCUMENTATION = r'''
options:
  tenant_id:
    description:
      - The CitrineOS tenant the stations belong to (C(tenantId) of every API call and database row).
    type: int
    default: 1
  reply_mode:
    description:
      - How the backend gets a station's reply, which CitrineOS's HTTP API does not return.
      - C(message_store) reads it from CitrineOS's message store (table C(OCPPMessages)) over a read-only database
        connection from the controller. It needs no way back from CitrineOS to the controller, so it works from an
        AWX job or a CI runner that CitrineOS cannot reach; it is the default and the only mode of this version.
    type: str
    default: message_store
    choices: [message_store]
  message_store:
    description:
      - The PostgreSQL connection to CitrineOS's database that replies, station messages, boot and connector status
        and records are read through. A role with C(SELECT) on CitrineOS's tables is enough (and all it should have).
    type: dict
    required: true
    suboptions:
      host:
        description: Database host.
        type: str
        required: true
      port:
        description: Database port.
        type: int
        default: 5432
      database:
        description: Database name.
        type: str
        default: citrine
      user:
        description: Database role.
        type: str
        required: true
      password:
        description: Password of the role. Never logged.
        type: str
      ssl:
        description: Connect with TLS (verified against O(csms_options.message_store.ca_path) or the system CAs).
        type: bool
        default: false
      ca_path:
        description: CA bundle that verifies the database's TLS certificate.
        type: path
  registrar:
    description:
      - A PostgreSQL connection with a role that may also write CitrineOS's station, location and authorization
        tables (C(INSERT), C(UPDATE), C(DELETE) on C(ChargingStations), C(Locations), C(Authorizations)).
      - CitrineOS 1.8 has no API route that creates these records. Without this setting the backend lacks the
        capabilities C(prestage), C(sites) and C(id_tokens), and every stage that needs them reports "not verifiable
        with backend citrineos".
    type: dict
    suboptions:
      host:
        description: Database host.
        type: str
        required: true
      port:
        description: Database port.
        type: int
        default: 5432
      database:
        description: Database name.
        type: str
        default: citrine
      user:
        description: Database role.
        type: str
        required: true
      password:
        description: Password of the role. Never logged.
        type: str
      ssl:
        description: Connect with TLS (verified against O(csms_options.registrar.ca_path) or the system CAs).
        type: bool
        default: false
      ca_path:
        description: CA bundle that verifies the database's TLS certificate.
        type: path
  endpoints:
    description:
      - The URL stations use for each of CitrineOS's websocket servers, by security profile (keys C(1), C(2), C(3),
        values such as C(wss://csms.example.net:8443) without the station id).
      - CitrineOS 1.8 keeps no record of the server a station is connected to; the backend asks the station for its
        security profile (an OCPP 2.0.1 station's C(SecurityCtrlr.SecurityProfile) variable, an OCPP 1.6 station's
        C(SecurityProfile) configuration key) and reports the URL given here for it; without it, CitrineOS's own server
        list (host and port as CitrineOS binds them).
    type: dict
    default: {}
  poll_interval:
    description:
      - The longest pause in seconds between two looks into the message store while waiting for a reply.
    type: float
    default: 0.3
'''
