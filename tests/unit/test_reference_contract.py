"""The reference backend calls exactly the operations the published OpenAPI contract marks ``x-evcs-contract``."""

from __future__ import annotations

import json
import pathlib
import re

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference import ReferenceCsms

_OPENAPI = pathlib.Path(__file__).resolve().parents[2] / 'lab' / 'evcs_lab' / 'csms' / 'openapi.json'


class _Response(object):
    status_code = 200
    headers = {}
    content = b'{}'
    text = '{}'

    @staticmethod
    def json():
        return {'payload': {}, 'items': [], 'time': '2026-12-07T12:00:00.000Z', 'valid': True, 'local_list': None}


class _Recorder(object):
    def __init__(self):
        self.headers = {}
        self.requests = []

    def request(self, method, url, **_):
        self.requests.append((method.lower(), url))
        return _Response()


def _operations():
    document = json.loads(_OPENAPI.read_text())
    operations = {}
    for path, methods in document['paths'].items():
        pattern = re.compile('^' + '/'.join('[^/]+' if part.startswith('{') else re.escape(part)
                                            for part in path.split('/')) + '$')
        for method, operation in methods.items():
            operations[(method, path)] = (pattern, operation.get('x-evcs-contract'))
    return operations


def test_every_request_of_the_reference_backend_is_a_contract_operation_and_every_contract_operation_is_used():
    backend = ReferenceCsms('https://csms.example', 'token', retries=0)
    backend._session = _Recorder()
    station = 'CP/1 x'  # a path segment that needs quoting
    backend.call(station, 'GetVariables', {})
    backend.now()
    backend.messages(station, 'SignCertificate', since='2026-12-07T12:00:00Z', request_id=3)
    backend.connection(station)
    backend.events(since='7', timeout=1)
    backend.last_boot(station)
    backend.connector_status(station)
    backend.sent_network_profiles(station)
    for kind in ('station', 'site', 'tariff', 'id_token'):
        backend.read_record(kind, 'r1')
        backend.create_record(kind, 'r1', {'name': 'x'})
        backend.update_record(kind, 'r1', {'name': 'y'})
        backend.delete_record(kind, 'r1')
        backend.find_records(kind, name='y')
    backend.local_list_memory(station)
    backend.remember_local_list(station, {'version': 1, 'hash': 'h', 'entries': {}})
    backend.set_station_password(station, 'p' * 16)
    backend.add_station_password(station, 'p' * 16)
    backend.verify_station_password(station, 'p' * 16)

    operations = _operations()
    used = set()
    for method, url in backend._session.requests:
        path = url[len('https://csms.example'):]
        assert 'CP/1' not in path and ' ' not in path, 'an id must be one quoted path segment: %s' % path
        matches = [key for key, (pattern, _) in operations.items() if key[0] == method and pattern.match(path)]
        assert matches, '%s %s is not in the OpenAPI document' % (method.upper(), path)
        assert all(operations[key][1] is True for key in matches), '%s %s is not marked x-evcs-contract' % (method, path)
        used.update(matches)
    contract = set(key for key, (_, marked) in operations.items() if marked)
    assert contract - used == set(), 'contract operations the backend never calls: %s' % sorted(contract - used)
