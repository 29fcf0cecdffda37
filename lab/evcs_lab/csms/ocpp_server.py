"""The three OCPP endpoints (security profiles 1, 2 and 3) and the checks made before the websocket upgrade."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from urllib.parse import unquote
from weakref import WeakKeyDictionary

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from evcs_lab.csms.auth import (
    AuthenticationFailed, BasicAuthenticator, CertificateAuthenticator, peer_certificate, server_tls_context,
)
from evcs_lab.csms.config import CsmsConfig
from evcs_lab.csms.hub import StationHub
from evcs_lab.csms.station import ConnectionInfo, StationSession
from evcs_lab.csms.station16 import StationSession16

LOG = logging.getLogger('evcs_lab.csms.ocpp')
#: the subprotocols every endpoint accepts, preferred first, and the OCPP version each one is
SUBPROTOCOLS = {'ocpp2.0.1': '2.0.1', 'ocpp1.6': '1.6'}
SESSIONS = {'2.0.1': StationSession, '1.6': StationSession16}
_STATION_PATH = re.compile(r'^/ocpp/([^/?#]{1,48})$')


class OcppEndpoint:
    """One websockets server for one security profile."""

    def __init__(self, profile: int, config: CsmsConfig, hub: StationHub, basic: BasicAuthenticator,
                 certificates: CertificateAuthenticator):
        self.profile = profile
        self._config = config
        self._hub = hub
        self._basic = basic
        self._certificates = certificates
        self._admitted: WeakKeyDictionary[ServerConnection, ConnectionInfo] = WeakKeyDictionary()
        self._server = None

    @property
    def base_url(self) -> str:
        scheme = 'ws' if self.profile == 1 else 'wss'
        return '%s://%s:%d/ocpp' % (scheme, self._config.host, self._config.ws_ports[self.profile])

    async def start(self) -> None:
        tls = None if self.profile == 1 else server_tls_context(self._config, self.profile == 3)
        self._server = await serve(self._serve_station, self._config.host, self._config.ws_ports[self.profile],
                                   ssl=tls, subprotocols=list(SUBPROTOCOLS), process_request=self._admit,
                                   ping_interval=None)
        LOG.info('security profile %d listening at %s', self.profile, self.base_url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _admit(self, connection: ServerConnection, request):
        """process_request: refuse with an HTTP status before the upgrade, or remember who connects."""
        match = _STATION_PATH.match(request.path)
        if match is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND, None, 'path %r is not /ocpp/<station id>' % request.path)
        station_id = unquote(match.group(1))
        offered = [item.strip() for value in request.headers.get_all('Sec-WebSocket-Protocol') for item in value.split(',')]
        # the version websockets will negotiate: the first of ours the station offers
        version = next((SUBPROTOCOLS[name] for name in SUBPROTOCOLS if name in offered), None)
        if version is None:
            return self._refuse(connection, HTTPStatus.BAD_REQUEST, station_id, 'none of the subprotocols %s offered '
                                '(offered: %s)' % (', '.join(SUBPROTOCOLS), offered or 'none'))
        certificate = peer_certificate(connection.transport)
        try:
            if self.profile == 3:
                await self._certificates.authenticate(station_id, certificate, **self._expected_name(station_id, version))
            else:
                await self._basic.authenticate(station_id, request.headers.get('Authorization'), version)
        except AuthenticationFailed as failure:
            return self._refuse(connection, failure.status, station_id, failure.reason)
        self._admitted[connection] = ConnectionInfo(
            station_id=station_id, security_profile=self.profile, endpoint='%s/%s' % (self.base_url, station_id),
            client_certificate=certificate.pem if certificate else None, ocpp_version=version)
        return None

    def _expected_name(self, station_id: str, version: str) -> dict:
        """The CN a profile-3 certificate must have: the station id for 2.0.1; for a 1.6 charge point its serial
        number (Security Extension A00.FR.405) as it reported it in its last BootNotification."""
        if version != '1.6':
            return {}
        boot = (self._hub.store.station_state(station_id) or {}).get('boot') or {}
        serial = (boot.get('charge_point') or {}).get('chargePointSerialNumber')
        if not serial:
            raise AuthenticationFailed(403, 'no chargePointSerialNumber known for 1.6 charge point %s (no '
                                            'BootNotification with one yet): the certificate CN cannot be checked'
                                       % station_id)
        return {'common_name': serial, 'name_of': 'the serial number %r the charge point reported in its '
                                                  'BootNotification' % serial}

    def _refuse(self, connection: ServerConnection, status: int, station_id: str | None, reason: str):
        LOG.warning('refused %s on security profile %d (HTTP %d): %s', station_id or 'connection', self.profile,
                    status, reason)
        response = connection.respond(status, '%s\n' % HTTPStatus(status).phrase)
        if status == HTTPStatus.UNAUTHORIZED and self.profile != 3:
            response.headers['WWW-Authenticate'] = 'Basic realm="OCPP", charset="UTF-8"'
        return response

    async def _serve_station(self, connection: ServerConnection) -> None:
        info = self._admitted.pop(connection)
        session = SESSIONS[info.ocpp_version](info, connection, self._hub, response_timeout=self._config.call_timeout)
        self._hub.attach(session)
        try:
            await session.start()
        except ConnectionClosed as closed:
            LOG.info('%s: connection closed (%s)', info.station_id, closed.rcvd.code if closed.rcvd else 'no close frame')
        finally:
            self._hub.detach(session)
