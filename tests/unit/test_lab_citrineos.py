"""The lab's CitrineOS setup (lab/evcs_lab/citrineos.py): config, source discovery and cache key, without running it."""

from __future__ import annotations

import hashlib
import json

import pytest

from evcs_lab import citrineos
from evcs_lab.paths import LabPaths


@pytest.fixture()
def lab_paths(tmp_path):
    return citrineos.CitrinePaths(LabPaths(tmp_path / "home"))


def _settings(lab_paths):
    return citrineos._settings(lab_paths, running=False)


def test_config_binds_loopback_and_never_gives_citrineos_a_ca_key(lab_paths):
    build = citrineos.Build(lab_paths.dir / "build", lab_paths.dir / "node")
    config = citrineos.citrine_config(lab_paths, _settings(lab_paths), build)
    assert config["centralSystem"]["host"] == "127.0.0.1"
    assert config["ocpiServer"]["host"] == "127.0.0.1"
    servers = {server["securityProfile"]: server for server in config["util"]["networkConnection"]["websocketServers"]}
    assert sorted(servers) == [0, 1, 2, 3]
    assert all(server["host"] == "127.0.0.1" for server in servers.values())
    # only the contract tests' profile-0 endpoint takes unknown stations
    assert [profile for profile, server in servers.items() if server["allowUnknownChargingStations"]] == [0]
    tls = lab_paths.lab.csms_tls("lab")
    assert servers[2]["tlsCertificateChainFilePath"] == str(tls.cert)
    assert servers[3]["rootCACertificateFilePath"] == str(tls.client_ca)
    # profile 3 runs with the EMPTY key file: CitrineOS cannot sign a CSR, Vault stays the only signer
    assert servers[3]["mtlsCertificateAuthorityKeyFilePath"] == str(lab_paths.empty_ca_key)
    assert "SignCertificate" in config["modules"]["certificates"]["requests"]


def test_settings_are_kept_across_up_runs(lab_paths):
    first = _settings(lab_paths)
    assert _settings(lab_paths) == first
    assert len(set(first["ports"].values())) == len(first["ports"])
    assert oct(lab_paths.settings.stat().st_mode & 0o777) == "0o600"


def test_source_defaults_and_refuses_a_missing_citrineos_src(monkeypatch, tmp_path):
    monkeypatch.setenv("CITRINEOS_SRC", str(tmp_path / "nowhere.tar.gz"))
    with pytest.raises(citrineos.CitrineError, match="CITRINEOS_SRC=.*does not exist"):
        citrineos.source_path()
    assert "does not exist" in citrineos.unavailable_reason()


def test_unavailable_without_source_says_how_to_enable(monkeypatch):
    monkeypatch.delenv("CITRINEOS_SRC", raising=False)
    monkeypatch.setattr(citrineos, "default_source", lambda: None)
    assert "set CITRINEOS_SRC" in citrineos.unavailable_reason()


def test_cache_key_is_the_sources_sha256(tmp_path):
    tarball = tmp_path / "src.tar.gz"
    tarball.write_bytes(b"citrineos")
    assert citrineos._source_digest(tarball) == hashlib.sha256(b"citrineos").hexdigest()


def test_state_names_the_backend_and_the_read_only_message_store(lab_paths):
    settings = _settings(lab_paths)
    state = citrineos.state(lab_paths, settings, "staging-secret")
    assert state["backend"] == "citrineos"
    assert state["options"]["message_store"]["user"] == citrineos.DB_READER
    assert state["ws_urls"]["1"].startswith("ws://127.0.0.1:")
    assert state["ws_urls"]["3"].startswith("wss://127.0.0.1:")
    json.dumps(state)
