"""Station ids are checked by every module, identifiers quoted as one path segment (issue 17, item 5)."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import basic_auth, identity
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import task_backend
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import (
    checked_station_id, path_segment, station_id_problem,
)


@pytest.mark.parametrize('value', ['LAB-CP-0001', 'a', 'CP_1.2~x', 'X' * 48])
def test_usable_station_ids(value):
    assert station_id_problem(value) is None


@pytest.mark.parametrize('value', ['', '..', '../tariffs/x', '.hidden', 'a..b', 'a/b', 'a b', 'a%2Fb', 'x' * 49,
                                   'CP:1', 'CP\n1', None])
def test_unusable_station_ids(value):
    assert station_id_problem(value)
    with pytest.raises(ModuleFailure, match='not a valid station id'):
        checked_station_id(value)


def test_an_identifier_is_one_path_segment():
    assert path_segment('../tariffs/x') == '..%2Ftariffs%2Fx'
    assert path_segment('a b?c#d') == 'a%20b%3Fc%23d'


def test_modules_check_the_station_id_themselves_before_anything_else():
    params = {'station_id': '../x', 'environment': 'lab', 'csms_backend': 'reference', 'csms_url': 'https://x'}
    with pytest.raises(ModuleFailure, match="station_id '../x' is not a valid station id"):
        task_backend(params, RunContext())
    with pytest.raises(ModuleFailure, match='not a valid station id'):
        identity.record_path(params)
    with pytest.raises(ModuleFailure, match='not a valid station id'):
        basic_auth.kv_path(params)
    with pytest.raises(ModuleFailure, match='not a valid station id'):
        identity.run_station_certificate(dict(params, mode='station', state='present'), RunContext())
