"""Station model files: loading, selection, and that no vendor component is named outside them (no lab)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import (
    ModelError, available_models, load_model, model_name, unmapped_settings,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_collection_ships_the_generic_everest_and_lab_models():
    assert {"generic", "everest", "evcs-sim-ac22", "evcs-sim-q"} <= set(available_models())
    quirky = load_model("evcs-sim-q")
    assert quirky["slots"] == [1, 2] and quirky["rate_units"] == ["W"] and not quirky["charging_station_max_profile"]
    assert quirky["items_per_message"]["GetVariables"] == 4
    everest = load_model("everest")
    assert everest["slots"] == [1, 2] and not everest["ntp"]["instances"]
    rows = {(row["component"], row["variable"], row.get("instance")): row for row in everest["variables"]}
    assert rows[("SecurityCtrlr", "Identity", None)]["mutability"] == "ReadOnly"
    assert rows[("OCPPCommCtrlr", "MessageTimeout", "Default")]["mutability"] == "ReadOnly"


@pytest.mark.parametrize("station, site, expected", [
    ({"vendor": "EVCS Sim", "model": "SimCharger Q", "firmware_version": "3.2.1"}, {}, "evcs-sim-q"),
    ({"vendor": "evcs sim", "model": "simcharger q", "firmware_version": "3.0.0"}, {}, "evcs-sim-q"),
    ({"vendor": "EVCS Sim", "model": "SimCharger Q", "firmware_version": "4.0.0"}, {}, "generic"),   # out of range
    ({"vendor": "ACME", "model": "Box"}, {}, "generic"),
    ({"vendor": "ACME", "model": "Box"}, {"station_model": "everest"}, "everest"),                   # per site
    ({"vendor": "ACME", "model": "Box", "station_model": "evcs-sim-q"}, {"station_model": "everest"}, "evcs-sim-q"),
])
def test_a_station_selects_its_model_per_station_site_or_vendor_model_firmware(station, site, expected):
    assert model_name(station, site) == expected


def test_an_unknown_model_is_an_error_naming_the_known_ones():
    with pytest.raises(ModelError) as error:
        load_model("no-such-model")
    assert "station model no-such-model does not exist" in str(error.value) and "generic" in str(error.value)


def test_own_model_directories_win(tmp_path):
    (tmp_path / "generic.yml").write_text("name: generic\nslots: [1, 2, 3, 4]\n")
    assert load_model("generic", [str(tmp_path)])["slots"] == [1, 2, 3, 4]


def test_a_model_file_with_an_unknown_setting_is_refused(tmp_path):
    (tmp_path / "odd.yml").write_text("name: odd\nnetwork:\n  settings:\n    turbo: {variable: Turbo}\n")
    with pytest.raises(ModelError) as error:
        load_model("odd", [str(tmp_path)])
    assert "network.settings turbo" in str(error.value)


def test_generic_refuses_every_non_standard_setting():
    settings = {"mode": "wifi", "addressing": "static", "ipv4": {"address": "10.0.0.5/24", "gateway": "10.0.0.1"},
                "dns": ["10.0.0.1"], "wifi": {"ssid": "x", "passphrase": "12345678"}}
    fields = [field for field, _value, _why in unmapped_settings(settings, load_model("generic"))]
    assert fields == ["network.addressing", "network.dns", "network.ipv4.address", "network.ipv4.gateway",
                      "network.wifi.passphrase", "network.wifi.ssid"]
    assert unmapped_settings(settings, load_model("evcs-sim-q")) == []


def test_no_vendor_component_is_named_in_plugins_or_roles():
    found = subprocess.run(["grep", "-rn", "NetworkInterface", "plugins", "roles"], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=False)
    assert found.stdout == "", found.stdout


def test_a_logging_level_goes_where_the_model_maps_one_and_nowhere_else():
    from ansible_collections.evcs.provisioning.plugins.module_utils.station import models as station_models
    quirky = station_models.load_model('evcs-sim-q')
    generic = station_models.load_model('generic')
    assert station_models.logging_variables({'level': 'warning'}, quirky) == [
        {'component': {'name': 'VendorDiagnostics'}, 'variable': {'name': 'LogLevel'}, 'value': 'Warn'}]
    assert station_models.logging_variables({'level': 'warning'}, generic) == []
    assert station_models.unmapped_logging({'level': 'warning'}, generic)[0][0] == 'logging.level'
    assert station_models.unmapped_logging({}, generic) == []


def test_a_model_file_with_an_incomplete_logging_map_is_refused():
    import pytest
    from ansible_collections.evcs.provisioning.plugins.module_utils.station import models as station_models
    with pytest.raises(station_models.ModelError, match='logging.level.values lacks warning, error'):
        station_models.normalise_model({'name': 'x', 'logging': {'level': {'component': {'name': 'C'}, 'variable': 'V',
                                                                           'values': {'debug': 'D', 'info': 'I'}}}})


def test_preloaded_models_are_not_read_again_in_a_forked_worker(monkeypatch):
    """The preload callback reads every model file once in the controller; a worker forked afterwards selects and
    loads models from that cache without opening a file (issue 22: each task parsed them all again)."""
    from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
    monkeypatch.setattr(models, "_CACHE", {})
    loaded = models.preload_models()
    assert {"generic", "everest", "evcs-sim-ac22", "evcs-sim-q"} <= set(loaded)

    def _no_read(path):
        raise AssertionError("model file %s read again" % path)
    monkeypatch.setattr(models, "_read", _no_read)
    assert models.station_model({"vendor": "EVCS Sim", "model": "SimCharger Q", "firmware_version": "3.2.1"})["name"] \
        == "evcs-sim-q"


def test_a_model_file_that_cannot_be_read_is_left_to_the_task_that_uses_it(tmp_path, monkeypatch):
    from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
    monkeypatch.setattr(models, "_CACHE", {})
    (tmp_path / "broken.yml").write_text("name: [unclosed\n")
    assert "broken" not in models.preload_models([str(tmp_path)])
    with pytest.raises(ModelError, match="broken.yml cannot be read"):
        load_model("broken", [str(tmp_path)])
