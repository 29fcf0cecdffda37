"""The action base takes the connection options a task leaves out from the inventory (evcs_csms, evcs_vault)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.identity import station_certificate_argument_spec
from ansible_collections.evcs.provisioning.plugins.module_utils.local_list import id_tokens_argument_spec
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase

TASK_VARS = {
    "inventory_hostname": "host-1",
    "evcs_environment": "test",
    "evcs_station": {"id": "CP-1"},
    "evcs_csms": {"url": "https://csms.example", "token": "csms-secret", "ca_path": "/ca.pem"},
    "evcs_vault": {"url": "https://vault.example", "auth_method": "approle", "approle_mount": "ar", "role_id": "r",
                   "secret_id": "vault-secret", "pki_mount": "pki_test", "station_role": "cs", "kv_mount": "kv"},
}


class _Templar(object):
    def __init__(self):
        self.calls = 0

    def template(self, value):
        self.calls += 1
        return value


def _action(spec):
    cls = type("Action", (StationActionBase,), {"ARGUMENT_SPEC": spec})
    action = cls.__new__(cls)  # no task, connection or loader: only the option lookup is exercised
    action._templar = _Templar()
    return action


def test_left_out_options_come_from_the_inventory():
    found = _action(station_certificate_argument_spec())._with_inventory_options({"organization": "O"}, TASK_VARS)
    assert found["station_id"] == "CP-1" and found["organization"] == "O"
    assert (found["csms_url"], found["csms_token"], found["csms_ca_path"]) == ("https://csms.example", "csms-secret", "/ca.pem")
    assert (found["vault_auth_method"], found["vault_auth_mount"], found["vault_secret_id"]) == ("approle", "ar", "vault-secret")
    assert (found["vault_pki_mount"], found["vault_pki_role"], found["vault_kv_mount"]) == ("pki_test", "cs", "kv")
    assert found["environment"] == "test"
    assert "vault_namespace" not in found and "csms_validate_certs" not in found  # not in the inventory: the defaults


def test_what_the_task_gives_wins():
    given = {"station_id": "OTHER", "csms_url": "https://test-csms.example", "vault_auth_method": "token",
             "vault_pki_role": "charging-station-partner"}
    found = _action(station_certificate_argument_spec())._with_inventory_options(given, TASK_VARS)
    assert found["station_id"] == "OTHER" and found["csms_url"] == "https://test-csms.example"
    assert found["vault_pki_role"] == "charging-station-partner"
    assert "vault_auth_mount" not in found  # the AppRole mount only for an AppRole login


def test_station_id_falls_back_to_the_hostname_and_an_optional_one_stays_a_choice():
    without_id = dict(TASK_VARS, evcs_station={})
    assert _action(station_certificate_argument_spec())._with_inventory_options({}, without_id)["station_id"] == "host-1"
    # id_tokens works on records without a station unless one is named: nothing is filled in
    assert "station_id" not in _action(id_tokens_argument_spec())._with_inventory_options({}, TASK_VARS)


def test_the_backend_and_its_options_come_from_evcs_csms():
    """evcs_csms.backend (validated by the validate role) reaches every module, with evcs_csms.options."""
    task_vars = dict(TASK_VARS, evcs_csms=dict(TASK_VARS["evcs_csms"], backend="reference", options={"k": "v"}))
    found = _action(id_tokens_argument_spec())._with_inventory_options({"group": "g"}, task_vars)
    assert (found["csms_backend"], found["csms_options"]) == ("reference", {"k": "v"})
    given = _action(id_tokens_argument_spec())._with_inventory_options({"group": "g", "csms_backend": "other"}, task_vars)
    assert given["csms_backend"] == "other"


def test_the_ocpp_version_comes_from_the_station_else_its_site():
    """evcs_station.ocpp_version, else evcs_site.ocpp_version, reaches every station-plane module (an unquoted 1.6
    in YAML is a float: it arrives as text); without either nothing is filled (the connection's version decides)."""
    spec = station_certificate_argument_spec()
    assert "ocpp_version" not in _action(spec)._with_inventory_options({}, TASK_VARS)
    site = dict(TASK_VARS, evcs_site={"id": "depot", "ocpp_version": 1.6})
    assert _action(spec)._with_inventory_options({}, site)["ocpp_version"] == "1.6"
    station = dict(site, evcs_station={"id": "CP-1", "ocpp_version": "2.0.1"})
    assert _action(spec)._with_inventory_options({}, station)["ocpp_version"] == "2.0.1"
    assert _action(spec)._with_inventory_options({"ocpp_version": "1.6"}, station)["ocpp_version"] == "1.6"
