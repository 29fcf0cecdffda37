"""The station's OCPP version: the CSMS connection's word wins, a contradicting inventory fails with the fix."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import (
    DEFAULT_OCPP_VERSION, OCPP_VERSIONS, ocpp_version_of,
)


def test_the_negotiated_version_wins_over_nothing_declared():
    assert ocpp_version_of({'ocpp_version': '1.6'}) == '1.6'


def test_without_a_connection_the_declared_version_then_the_default():
    assert ocpp_version_of(None, '1.6') == '1.6'
    assert ocpp_version_of({}, None) == DEFAULT_OCPP_VERSION == '2.0.1'


def test_a_contradicting_inventory_names_station_field_value_and_fix():
    with pytest.raises(ModuleFailure) as failure:
        ocpp_version_of({'ocpp_version': '1.6'}, '2.0.1', 'CP-1')
    message = str(failure.value)
    assert 'CP-1' in message and 'ocpp_version' in message and "'2.0.1'" in message and "ocpp_version: '1.6'" in message


def test_each_version_has_its_websocket_subprotocol():
    assert OCPP_VERSIONS == {'2.0.1': 'ocpp2.0.1', '1.6': 'ocpp1.6'}
