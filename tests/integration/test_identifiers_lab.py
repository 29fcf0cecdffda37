"""An identifier can never reach another record (issue 17, item 5): before, ``get_record('stations', '../tariffs/x')``
read the tariff ``x`` from the reference CSMS (now ``read_record('station', ...)``)."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference import ReferenceCsms


@pytest.fixture(scope="module")
def csms(lab):
    state = lab["csms"]
    return ReferenceCsms(state["api_url"], state["api_token"], ca_path=state["ca_cert"])


@pytest.mark.parametrize("record_id", ["../tariffs/ID-TARIFF", "x/../../tariffs/ID-TARIFF", "..%2Ftariffs%2FID-TARIFF"])
def test_dot_dot_in_a_record_id_reads_nothing_else(csms, record_id):
    csms.create_record("tariff", "ID-TARIFF", {"name": "not a station", "currency": "EUR"})
    assert csms.read_record("tariff", "ID-TARIFF")["name"] == "not a station"
    assert csms.read_record("station", record_id) is None


def test_a_module_called_directly_refuses_dot_dot_before_any_request(lab):
    vault = lab["vault"]
    params = {"station_id": "../LAB-CP-0001", "csms_url": lab["csms"]["api_url"], "csms_token": lab["csms"]["api_token"],
              "csms_ca_path": lab["csms"]["ca_cert"], "csms_backend": "reference", "vault_url": vault["addr"],
              "vault_ca_path": vault["ca_cert"], "vault_auth_method": "approle", "vault_role_id": vault["role_id"],
              "vault_secret_id": vault["secret_id"], "environment": "lab", "mode": "station", "state": "absent"}
    with pytest.raises(ModuleFailure, match="'../LAB-CP-0001' is not a valid station id"):
        identity.run_station_certificate(params, RunContext())
    with pytest.raises(ModuleFailure, match="not a valid station id"):
        identity.run_station_certificate_info(params, RunContext())
