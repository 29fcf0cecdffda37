"""What the roles send to a station, from its inventory variables (the filter plugins' functions; no lab)."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.load_plan import plan_load
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import load_model
from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import (
    connection_settings, hardware_variables, merged, network_problems, network_variables, ocpp_variables,
    site_load_plans, site_stations, station_connectors,
)

VENDOR = load_model("evcs-sim-q")      # a model with a vendor network component (station_models/evcs-sim-q.yml)
GENERIC = load_model("generic")
CSMS = {"ws_urls": {"1": "ws://csms.example:80/ocpp", "2": "wss://csms.example:443/ocpp",
                    "3": "wss://csms.example:8443/ocpp"}}


def _by_name(items):
    return {(item["component"].get("instance"), item["variable"]["name"], item["variable"].get("instance")): item
            for item in items}


def test_merged_overrides_recursively_and_leaves_the_inputs_alone():
    site = {"dns": ["10.0.0.1"], "wifi": {"ssid": "site", "passphrase": "sitepass1"}}
    station = {"wifi": {"ssid": "own"}}
    assert merged(site, station) == {"dns": ["10.0.0.1"], "wifi": {"ssid": "own", "passphrase": "sitepass1"}}
    assert site["wifi"]["ssid"] == "site"


def test_connection_settings_of_a_cellular_station_carry_its_apn():
    station = {"network": {"mode": "cellular", "cellular": {"apn": "iot.example", "username": "u", "password": "p"}},
               "ocpp": {"message_timeout": 45}}
    assert connection_settings(station, {"dns": []}, {"message_timeout": 30}) == {
        "interface": "Wireless1", "message_timeout": 45,
        "apn": {"apn": "iot.example", "apn_user_name": "u", "apn_password": "p"}}
    assert connection_settings({}, {}, {}) == {"interface": "Wired0", "message_timeout": 30}


def test_connection_settings_carry_every_standardized_apn_and_vpn_field():
    network = {"mode": "cellular", "cellular": {"apn": "iot.example", "pin": "1234", "preferred_network": "26201",
                                                "use_only_preferred_network": True, "authentication": "PAP"},
               "vpn": {"enabled": True, "server": "vpn.example", "username": "u", "group": "g", "password": "p",
                       "key": "k", "type": "IKEv2"}}
    settings = connection_settings({"network": network}, {}, {})
    assert settings["apn"] == {"apn": "iot.example", "sim_pin": 1234, "preferred_network": "26201",
                               "use_only_preferred_network": True, "apn_authentication": "PAP"}
    assert settings["vpn"] == {"server": "vpn.example", "user": "u", "group": "g", "password": "p", "key": "k",
                               "type": "IKEv2"}
    assert "vpn" not in connection_settings({"network": dict(network, vpn={"enabled": False})}, {}, {})


def test_connection_settings_take_the_interface_from_the_station_model():
    model = dict(GENERIC, ocpp_interfaces={"ethernet": "Wired1"})
    assert connection_settings({}, {}, {}, model)["interface"] == "Wired1"


def test_network_variables_of_a_static_wifi_station():
    settings = {"mode": "wifi", "addressing": "static", "ipv4": {"address": "10.0.0.5/24", "gateway": "10.0.0.1"},
                "dns": ["10.0.0.1"], "wifi": {"ssid": "depot", "passphrase": "secret-pass"}, "ntp": ["a", "b", "c"],
                "vpn": {"enabled": "yes"}}
    items = _by_name(network_variables(settings, VENDOR))
    assert items[("Wireless0", "AddressMode", None)]["value"] == "Static"
    assert items[("Wireless0", "Ipv4Address", None)]["value"] == "10.0.0.5/24"
    assert items[("Wireless0", "DnsServers", None)]["value_type"] == "list"
    assert items[("Wireless0", "WifiPassphrase", None)]["write_only"] is True
    assert items[("Wireless0", "VpnEnabled", None)]["value"] is True
    assert [items[(None, "NtpServerUri", str(index))]["value"] for index in (1, 2)] == ["a", "b"]
    assert (None, "NtpServerUri", "3") not in items


def test_network_variables_of_a_dhcp_ethernet_station_are_the_minimum():
    items = network_variables({}, VENDOR)
    assert [item["variable"]["name"] for item in items] == ["Enabled", "AddressMode", "VpnEnabled"]
    assert items[1]["value"] == "DHCP" and items[2]["value"] is False


def test_a_generic_station_gets_standard_variables_only():
    items = network_variables({"mode": "cellular", "cellular": {"apn": "iot.example"}, "ntp": ["a"]}, GENERIC)
    assert [(item["component"]["name"], item["variable"]["name"]) for item in items] == [
        ("ClockCtrlr", "TimeSource"), ("ClockCtrlr", "NtpServerUri")]


def test_a_model_with_one_ntp_server_variable_gets_the_first_server_only():
    items = network_variables({"ntp": ["a"]}, load_model("everest"))
    assert items[-1] == {"component": {"name": "ClockCtrlr"}, "variable": {"name": "NtpServerUri"}, "value": "a"}


def test_network_problems_refuse_what_the_model_cannot_set():
    problems = network_problems({"addressing": "static", "ipv4": {"address": "10.0.0.5/24", "gateway": "10.0.0.1"},
                                 "dns": ["10.0.0.1"]}, GENERIC, {}, CSMS)
    assert any("network.dns" in problem and "station model generic" in problem for problem in problems), problems
    assert any("network.addressing" in problem for problem in problems), problems


@pytest.mark.parametrize("settings, station, fragment", [
    ({"mode": "lte"}, {}, "network.mode lte is not one of ethernet, wifi, cellular"),
    ({"addressing": "static", "ipv4": {"address": "10.0.0.5", "gateway": "10.0.0.1"}}, {}, "prefix length"),
    ({"dns": ["dns.example"]}, {}, "network.dns entry dns.example is not an IPv4 address"),
    ({"mode": "wifi", "wifi": {"ssid": "x", "passphrase": "short"}}, {}, "8 to 63 characters"),
    ({"mode": "cellular", "cellular": {"apn": "bad_apn!"}}, {}, "network.cellular.apn bad_apn! is not"),
    ({}, {"security_profile": 3}, None),
])
def test_network_problems_name_the_field(settings, station, fragment):
    problems = network_problems(settings, VENDOR, station, CSMS)
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in problem for problem in problems), problems


def test_network_problems_check_every_profile_url_up_to_the_station_and_the_environment_hosts():
    csms = {"ws_urls": {"1": "ws://csms.example/ocpp", "2": "ws://csms.example/ocpp"}}
    problems = network_problems({}, VENDOR, {"security_profile": 3}, csms, {"csms_hosts": ["other.example"]})
    assert any("points at csms.example, not a CSMS host of this environment" in p for p in problems)
    assert any("ws_urls[2] ws://csms.example/ocpp does not fit security profile 2" in p for p in problems)
    assert any("no URL for security profile 3" in p for p in problems)


def test_ocpp_variables_send_the_defaults_leave_out_what_has_none_and_append_the_extra_ones():
    extra = [{"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"}, "value": 60}]
    items = ocpp_variables({"heartbeat_interval": 120, "message_timeout": 40, "offline_threshold": None,
                            "local_pre_authorize": False}, extra)
    # the message timeout travels in the network connection profile (OCPPCommCtrlr.MessageTimeout is ReadOnly)
    assert [(item["variable"]["name"], item["value"]) for item in items] == [
        ("HeartbeatInterval", 120), ("OfflineThreshold", 60),
        ("TxUpdatedMeasurands", ["Energy.Active.Import.Register", "Power.Active.Import"]), ("TxUpdatedInterval", 60),
        ("AuthorizeRemoteStart", True), ("LocalAuthorizeOffline", True), ("LocalPreAuthorize", False),
        ("EVConnectionTimeOut", 60)]


def test_hardware_variables_and_connectors_of_two_evses():
    station = {"evses": [{"id": 1, "phases": 1, "connectors": [{"id": 1, "type": "cType2"}]},
                         {"id": 2, "connectors": [{"id": 1, "type": "cCCS2"}, {"id": 2, "type": "cType2"}]}]}
    values = [(item["component"], item["value"]) for item in hardware_variables(station)]
    assert values[0] == ({"name": "EVSE", "evse": 1}, 1)
    assert values[2] == ({"name": "EVSE", "evse": 2}, 3)
    assert values[3] == ({"name": "Connector", "evse": 2, "connector": 1}, "cCCS2")
    assert station_connectors(station) == [{"evse_id": 1, "connector_id": 1}, {"evse_id": 2, "connector_id": 1},
                                           {"evse_id": 2, "connector_id": 2}]


class _HostVars(dict):
    """hostvars as a filter sees it; counts the reads of each host's variables."""

    def __init__(self, data):
        super().__init__(data)
        self.reads = 0

    def __getitem__(self, host):
        self.reads += 1
        return dict.__getitem__(self, host)


def _fleet():
    site_a = {"id": "site-a", "grid_connection": {"max_current_a": 64, "phases": 3, "voltage_v": 230}}
    site_b = {"id": "site-b", "grid_connection": {"max_current_a": 16, "phases": 3, "voltage_v": 230}}
    evse = [{"id": 1, "max_current_a": 32, "phases": 3}]
    return _HostVars({
        "a1": {"evcs_site": site_a, "evcs_station": {"id": "A1", "evses": evse}},
        "a2": {"evcs_site": site_a, "evcs_station": {"id": "A2", "evses": evse, "load_management": {"max_current_a": 16, "weight": 2}}},
        "a3": {"evcs_site": site_a, "evcs_station": {"id": "A3", "evses": evse, "state": "absent"}},
        "b1": {"evcs_site": site_b, "evcs_station": {"id": "B1", "evses": evse}},
        "other": {},
    })


def test_site_stations_of_one_site():
    assert site_stations(_fleet(), ["a1", "a2", "a3", "b1", "other"], "site-a") == [
        {"id": "A1", "max_current_a": 32, "phases": 3, "priority": 1},
        {"id": "A2", "max_current_a": 16, "phases": 3, "priority": 1, "weight": 2}]


def test_site_load_plans_read_each_host_once_and_keep_an_impossible_site_to_itself():
    hostvars = _fleet()
    plans = site_load_plans(hostvars, list(hostvars), plan_load)
    assert hostvars.reads == len(hostvars)
    assert sorted(plans["site-a"]["stations"]) == ["A1", "A2"]
    assert "above the site cap of 16" in plans["site-b"]["error"]
