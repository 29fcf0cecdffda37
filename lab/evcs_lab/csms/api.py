"""The REST API (``/openapi.json`` documents it). Every ``/api/*`` call but ``/api/health`` needs the bearer token."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from datetime import datetime
from importlib import resources

from aiohttp import web

from evcs_lab.csms.auth import BasicAuthenticator
from evcs_lab.csms.clock import now_rfc3339
from evcs_lab.csms.credentials import hash_password
from evcs_lab.csms.hub import CallFailed, StationHub
from evcs_lab.csms.store import COLLECTIONS, RecordNotFound, Store

LOG = logging.getLogger('evcs_lab.csms.api')
_PUBLIC_PATHS = ('/api/health', '/openapi.json')
_COLLECTION = '{collection:%s}' % '|'.join(COLLECTIONS)
_HUB = web.AppKey('hub', StationHub)
_TOKEN = web.AppKey('api_token', str)
_OPENAPI = web.AppKey('openapi', bytes)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _error_response(status: int, code: str, message: str, details: dict | None = None) -> web.Response:
    body = {'error': code, 'message': message}
    if details is not None:
        body['details'] = details
    return web.json_response(body, status=status)


@web.middleware
async def _errors(request: web.Request, handler):
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _error_response(exc.status, exc.code, exc.message, exc.details)
    except CallFailed as exc:
        response = _error_response(exc.status, exc.code, exc.message, exc.details)
    except web.HTTPException as exc:
        response = _error_response(exc.status, exc.reason.lower().replace(' ', '_'), '%s %s: %s'
                                   % (request.method, request.path, exc.reason))
    LOG.info('%s %s -> %d', request.method, request.path, response.status)
    return response


@web.middleware
async def _bearer_token(request: web.Request, handler):
    if request.path.startswith('/api/') and request.path not in _PUBLIC_PATHS:
        scheme, _, token = request.headers.get('Authorization', '').partition(' ')
        expected = request.app[_TOKEN]
        if scheme.lower() != 'bearer' or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            LOG.warning('API %s %s refused: missing or wrong bearer token', request.method, request.path)
            raise ApiError(401, 'unauthorized', 'send Authorization: Bearer <api_token>')
    return await handler(request)


def build_app(hub: StationHub, api_token: str) -> web.Application:
    app = web.Application(middlewares=[_errors, _bearer_token])
    app[_HUB] = hub
    app[_TOKEN] = api_token
    app[_OPENAPI] = resources.files('evcs_lab.csms').joinpath('openapi.json').read_bytes()
    app.add_routes([
        web.get('/openapi.json', _openapi),
        web.get('/api/health', _health),
        web.post('/api/stations/{id}/ocpp/{action}', _ocpp_call),
        web.get('/api/stations/{id}/connection', _connection),
        web.get('/api/stations/{id}/csr', _csr),
        web.get('/api/stations/{id}/messages', _messages),
        web.get('/api/stations/{id}/reports/{request_id:-?[0-9]+}', _report),
        web.get('/api/stations/{id}/charging-profile-reports/{request_id:-?[0-9]+}', _charging_profile_report),
        web.get('/api/stations/{id}/network-profiles', _network_profiles),
        web.delete('/api/stations/{id}/network-profiles', _network_profiles_forget),
        web.get('/api/stations/{id}/events', _events),
        web.get('/api/events', _station_events),
        web.get('/api/stations/{id}/credentials', _credentials_count),
        web.put('/api/stations/{id}/credentials', _credentials_replace),
        web.post('/api/stations/{id}/credentials', _credentials_add),
        web.post('/api/stations/{id}/credentials/verify', _credentials_verify),
        web.get('/api/stats/ocpp', _stats),
        web.delete('/api/stats/ocpp', _stats_reset),
        web.get('/api/%s' % _COLLECTION, _list_records),
        web.get('/api/%s/{id}' % _COLLECTION, _get_record),
        web.put('/api/%s/{id}' % _COLLECTION, _put_record),
        web.patch('/api/%s/{id}' % _COLLECTION, _patch_record),
        web.delete('/api/%s/{id}' % _COLLECTION, _delete_record),
    ])
    return app


def _hub(request: web.Request) -> StationHub:
    return request.app[_HUB]


def _store(request: web.Request) -> Store:
    return request.app[_HUB].store


async def _json_object(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, 'invalid_json', 'the request body must be a JSON object') from None
    if not isinstance(body, dict):
        raise ApiError(400, 'invalid_json', 'the request body must be a JSON object')
    return body


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[_OPENAPI], content_type='application/json')


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({'status': 'ok', 'time': now_rfc3339()})


# -- station plane ------------------------------------------------------------------------------------------
async def _ocpp_call(request: web.Request) -> web.Response:
    hub = _hub(request)
    action = request.match_info['action']
    timeout = _timeout(request, hub.config.call_timeout)
    payload = await _json_object(request) if request.can_read_body else {}
    response = await hub.call(request.match_info['id'], action, payload, timeout)
    return web.json_response({'action': action, 'payload': response})


def _timeout(request: web.Request, default: float) -> float:
    try:
        timeout = float(request.query.get('timeout', default))
    except ValueError:
        raise ApiError(400, 'invalid_timeout', 'timeout must be a number of seconds') from None
    if not 0 < timeout <= 600:
        raise ApiError(400, 'invalid_timeout', 'timeout must be between 0 and 600 seconds')
    return timeout


async def _connection(request: web.Request) -> web.Response:
    station_id = request.match_info['id']
    view = _hub(request).connection_view(station_id)
    if view is None:
        raise ApiError(404, 'not_found', 'station %s never connected' % station_id)
    return web.json_response(view)


async def _csr(request: web.Request) -> web.Response:
    station_id = request.match_info['id']
    csr = _store(request).last_csr(station_id)
    if csr is None:
        raise ApiError(404, 'not_found', 'station %s sent no SignCertificate request' % station_id)
    return web.json_response(csr)


async def _messages(request: web.Request) -> web.Response:
    action = request.query.get('action')
    if not action:
        raise ApiError(400, 'invalid_query', 'give the message type as action=<OCPP action>, e.g. action=SignCertificate')
    since = request.query.get('since')
    if since is not None and not _is_time(since):
        raise ApiError(400, 'invalid_query', 'since must be an RFC 3339 time such as 2026-12-07T12:00:00.000Z')
    request_id = request.query.get('request_id')
    if request_id is not None:
        try:
            request_id = int(request_id)
        except ValueError:
            raise ApiError(400, 'invalid_query', 'request_id must be an integer') from None
    items = _store(request).messages(request.match_info['id'], action, since, request_id)
    return web.json_response({'items': items})


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return False
    return True


async def _report(request: web.Request) -> web.Response:
    view = _hub(request).reports.view(request.match_info['id'], int(request.match_info['request_id']))
    return web.json_response(view)


async def _charging_profile_report(request: web.Request) -> web.Response:
    view = _hub(request).charging_profile_reports.view(request.match_info['id'], int(request.match_info['request_id']))
    return web.json_response(view)


async def _network_profiles(request: web.Request) -> web.Response:
    return web.json_response(_store(request).network_profiles(request.match_info['id']))


async def _network_profiles_forget(request: web.Request) -> web.Response:
    forgotten = _store(request).forget_network_profiles(request.match_info['id'])
    return web.json_response({'forgotten': forgotten})


async def _events(request: web.Request) -> web.Response:
    return web.json_response({'items': _store(request).events(request.match_info['id'])})


async def _station_events(request: web.Request) -> web.Response:
    """The event stream of all stations, a long poll: events after the cursor ``since`` (none: from the first, ``now``:
    from the last), waiting up to ``timeout`` seconds when there are none yet."""
    hub = _hub(request)
    since = request.query.get('since', '0') or '0'
    if since == 'now':
        after = hub.store.last_event_cursor()
    else:
        try:
            after = int(since)
        except ValueError:
            raise ApiError(400, 'invalid_query', 'since must be a cursor of this stream (an integer) or now') from None
    try:
        timeout = float(request.query.get('timeout', '0'))
        limit = int(request.query.get('limit', '500'))
    except ValueError:
        raise ApiError(400, 'invalid_query', 'timeout must be a number of seconds and limit an integer') from None
    if not 0 <= timeout <= 120 or not 1 <= limit <= 1000:
        raise ApiError(400, 'invalid_query', 'timeout must be between 0 and 120 seconds, limit between 1 and 1000')
    items = await hub.events(after, timeout, limit)
    return web.json_response({'items': items, 'cursor': items[-1]['cursor'] if items else str(after)})


# -- credentials (never returned, never logged) -----------------------------------------------------------------
def _password(value, field: str = 'password') -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, 'invalid_password', '%s must be a non-empty string' % field)
    return value


def _count(store: Store, station_id: str) -> web.Response:
    return web.json_response({'count': len(store.password_hashes(station_id))})


async def _credentials_count(request: web.Request) -> web.Response:
    return _count(_store(request), request.match_info['id'])


async def _credentials_replace(request: web.Request) -> web.Response:
    passwords = (await _json_object(request)).get('passwords')
    if not isinstance(passwords, list):
        raise ApiError(400, 'invalid_password', 'passwords must be a list of strings')
    hashes = await asyncio.to_thread(lambda: [hash_password(_password(value, 'passwords[]')) for value in passwords])
    _store(request).replace_password_hashes(request.match_info['id'], hashes)
    return _count(_store(request), request.match_info['id'])


async def _credentials_add(request: web.Request) -> web.Response:
    password = _password((await _json_object(request)).get('password'))
    stored = await asyncio.to_thread(hash_password, password)
    _store(request).add_password_hash(request.match_info['id'], stored)
    return _count(_store(request), request.match_info['id'])


async def _credentials_verify(request: web.Request) -> web.Response:
    """Whether the OCPP endpoints would admit the station with this password now (the same decision: the staging
    password counts only for a station without registered credentials, nothing for one registered at profile 3)."""
    password = _password((await _json_object(request)).get('password'))
    authenticator = BasicAuthenticator(_store(request), _hub(request).config.staging_password)
    return web.json_response({'valid': await authenticator.refusal(request.match_info['id'], password) is None})


# -- statistics ------------------------------------------------------------------------------------------------
async def _stats(request: web.Request) -> web.Response:
    return web.json_response({'stations': _hub(request).call_counts})


async def _stats_reset(request: web.Request) -> web.Response:
    _hub(request).reset_call_counts()
    return web.json_response({'stations': {}})


# -- records ------------------------------------------------------------------------------------------------------
async def _list_records(request: web.Request) -> web.Response:
    items = _store(request).list_records(request.match_info['collection'], dict(request.query))
    return web.json_response({'items': items})


async def _get_record(request: web.Request) -> web.Response:
    collection, record_id = request.match_info['collection'], request.match_info['id']
    record = _store(request).get_record(collection, record_id)
    if record is None:
        raise ApiError(404, 'not_found', '%s/%s does not exist' % (collection, record_id))
    return web.json_response(record)


async def _record_body(request: web.Request) -> dict:
    body = await _json_object(request)
    if body.get('id', request.match_info['id']) != request.match_info['id']:
        raise ApiError(400, 'id_mismatch', 'the body id %r is not the id of the URL' % body['id'])
    return body


async def _put_record(request: web.Request) -> web.Response:
    collection, record_id = request.match_info['collection'], request.match_info['id']
    record, created = _store(request).put_record(collection, record_id, await _record_body(request))
    _record_written(request, collection, record)
    return web.json_response(record, status=201 if created else 200)


async def _patch_record(request: web.Request) -> web.Response:
    collection, record_id = request.match_info['collection'], request.match_info['id']
    try:
        record = _store(request).patch_record(collection, record_id, await _record_body(request))
    except RecordNotFound:
        raise ApiError(404, 'not_found', '%s/%s does not exist: create it with PUT' % (collection, record_id)) from None
    _record_written(request, collection, record)
    return web.json_response(record)


def _record_written(request: web.Request, collection: str, record: dict) -> None:
    LOG.info('record %s/%s written', collection, record['id'])
    if collection == 'stations':
        _hub(request).station_record_changed(record['id'], record)


async def _delete_record(request: web.Request) -> web.Response:
    collection, record_id = request.match_info['collection'], request.match_info['id']
    if not _store(request).delete_record(collection, record_id):
        raise ApiError(404, 'not_found', '%s/%s does not exist' % (collection, record_id))
    LOG.info('record %s/%s deleted', collection, record_id)
    return web.json_response({'deleted': True, 'id': record_id})
