# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  csms_backend:
    description:
      - Which CSMS backend the station and its records are reached through (one file per backend in
        C(plugins/module_utils/csms/); docs/BACKENDS.md lists what each can do).
      - C(reference) is a CSMS that offers the synchronous REST API published as OpenAPI (the lab's CSMS implements
        it; an in-house CSMS can implement it or put an adapter in front of it).
      - C(citrineos) is CitrineOS 1.8.x (its REST API, the station replies read from its message store); its own
        settings are in O(csms_options), documented in the doc fragment C(evcs.provisioning.csms_citrineos).
      - Run as the collection's action plugin, a task that leaves it out takes C(evcs_csms.backend) of the host.
    type: str
    default: reference
    choices: [reference, citrineos]
  csms_options:
    description:
      - Settings of the chosen backend that the generic options do not cover, documented per backend in its doc
        fragment C(evcs.provisioning.csms_<backend>) and in docs/BACKENDS.md. Secrets among them are never logged.
      - Run as the collection's action plugin, a task that leaves it out takes C(evcs_csms.options) of the host.
    type: dict
    default: {}
  csms_url:
    description:
      - Base URL of the CSMS API, for example C(https://csms.example.net:8443).
      - Falls back to the environment variable E(EVCS_CSMS_URL).
    type: str
  csms_token:
    description:
      - Bearer token for the CSMS API (required by the C(reference) backend). Never logged.
      - Falls back to the environment variable E(EVCS_CSMS_TOKEN).
    type: str
  csms_ca_path:
    description:
      - CA bundle that verifies the CSMS's TLS certificate. Without it the system trust store is used.
      - Falls back to the environment variable E(EVCS_CSMS_CA_PATH).
    type: path
  csms_validate_certs:
    description:
      - Verify the CSMS's TLS certificate. Switching this off prints a warning.
    type: bool
    default: true
  csms_timeout:
    description:
      - Seconds to wait for one CSMS call, including the station's answer to an OCPP call.
      - Falls back to the environment variable E(EVCS_CSMS_TIMEOUT).
    type: int
    default: 30
  csms_retries:
    description:
      - How often a call that failed for a transient reason (connection refused, 429, 502, 503) is retried, with exponential backoff.
      - Falls back to the environment variable E(EVCS_CSMS_RETRIES).
    type: int
    default: 3
notes:
  - Run as the collection's action plugin (the normal case), an option the task leaves out is taken from the host's
    inventory variable C(evcs_csms) - O(csms_backend) from its C(backend), O(csms_options) from C(options),
    O(csms_url) from C(url), O(csms_token) from C(token), O(csms_ca_path) from C(ca_path), O(csms_validate_certs) from
    C(validate_certs) - before the environment variables. Roles and playbooks
    therefore name only what a task does, and the connection is read once per task.
'''

    STATION = r'''
options:
  station_id:
    description:
      - The charging station's OCPP identity (the last path segment of its CSMS URL).
      - Run as the collection's action plugin (the normal case), a task that leaves it out takes C(evcs_station.id)
        of the host, else the inventory hostname.
    type: str
    required: true
  ocpp_version:
    description:
      - The OCPP version the inventory declares for the station (C(evcs_station.ocpp_version)); the version its CSMS
        connection negotiated wins, and a contradiction fails the task naming the station, the field and the fix.
      - Run as the collection's action plugin, a task that leaves it out takes C(evcs_station.ocpp_version) of the
        host, else C(evcs_site.ocpp_version); without either, the connection's version (else 2.0.1) is used.
    type: str
    choices: ['1.6', '2.0.1']
'''

    ATTRIBUTES = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the station or the CSMS.
  diff_mode:
    description: Will return details on what has changed (or would have changed in check mode), only for what the module manages.
  action:
    description:
      - Runs on the controller as an action plugin; it never runs on a target host.
      - The module file holds its documentation only, as community.crypto does for controller-side work.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change and sends no write.
'''
