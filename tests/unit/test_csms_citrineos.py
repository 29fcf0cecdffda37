"""The citrineos backend's own logic, without a CitrineOS: password hashes, reply matching and merging, CitrineOS's
write collisions, refusals of what CitrineOS 1.8.3 cannot send, and its options."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.csms import citrineos
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CallError, CapabilityMissing, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import backend_options

OPTIONS = {"message_store": {"host": "db", "user": "evcs_reader", "password": "s3cret"}}


def _backend(**options):
    merged = backend_options(citrineos.CitrineosCsms, dict(OPTIONS, **options))
    return citrineos.CitrineosCsms("http://127.0.0.1:8080", merged)


def _stored(password, salt="00ff", iterations=1000, length=64, digest="sha512"):
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), iterations, length).hex()
    return "PBKDF2:%d:%d:%s:%s:%s" % (iterations, length, digest, salt, derived)


def test_the_stored_pbkdf2_hash_is_checked_as_citrineos_writes_it():
    stored = _stored("correct horse battery")
    assert citrineos.password_matches(stored, "correct horse battery")
    assert not citrineos.password_matches(stored, "correct horse battery!")
    assert not citrineos.password_matches("plain", "plain")
    assert not citrineos.password_matches(None, "x")


def test_a_reply_matches_what_was_sent_even_with_defaults_citrineos_added():
    assert citrineos._subset({"type": "OnIdle"}, {"type": "OnIdle", "evseId": 0})
    assert not citrineos._subset({"type": "OnIdle"}, {"type": "Immediate"})
    assert citrineos._subset({"a": [{"b": 1}]}, {"a": [{"b": 1, "c": 2}]})
    assert not citrineos._subset({"a": [{"b": 1}]}, {"a": [{"b": 1}, {"b": 2}]})


def test_batches_are_merged_and_a_callerror_is_a_call_error():
    merged = citrineos.CitrineosCsms._merge([[3, "a", {"getVariableResult": [1]}], [3, "b", {"getVariableResult": [2]}]],
                                            "CP-1", "GetVariables")
    assert merged == {"getVariableResult": [1, 2]}
    with pytest.raises(CallError) as raised:
        citrineos.CitrineosCsms._merge([[4, "a", "NotSupported", "no", {}]], "CP-1", "Reset")
    assert raised.value.details["code"] == "NotSupported"


class _Response:
    def __init__(self, status):
        self.status_code = status


def test_only_citrineos_write_collisions_are_sent_again():
    assert citrineos._write_conflict(_Response(500), {"statusCode": 500, "message": "Validation error"})
    assert citrineos._write_conflict(_Response(200), [{"success": False, "payload": "Validation error"}])
    assert not citrineos._write_conflict(_Response(500), {"message": "stationId cannot be an array or an object"})
    assert not citrineos._write_conflict(_Response(200), [{"success": True}])


def test_what_citrineos_183_cannot_send_is_a_capability_refusal_before_anything_is_sent():
    backend = _backend()
    with pytest.raises(CapabilityMissing, match="not verifiable with backend citrineos: SendLocalList to station CP-1"):
        backend.call("CP-1", "SendLocalList", {"versionNumber": 1, "updateType": "Full"})
    with pytest.raises(CsmsError) as raised:
        backend.call("CP-1", "NoSuchAction", {})
    assert raised.value.kind == "unknown_action"
    assert backend.requests_made["ocpp"] == 0


def test_capabilities_follow_the_options():
    assert not _backend().has("prestage") and not _backend().has("sites")
    with_registrar = _backend(registrar={"host": "db", "user": "evcs_registrar"})
    assert with_registrar.has("prestage") and with_registrar.has("id_tokens")
    assert _backend().has("set_network_profile")
    assert not _backend(tenant_id=2).has("set_network_profile")
    assert not _backend().has("tariffs") and not _backend().has("local_list")


def test_a_missing_message_store_or_a_wrong_key_is_a_configuration_error_that_names_the_fix():
    with pytest.raises(CsmsError, match="message_store"):
        backend_options(citrineos.CitrineosCsms, {})
    with pytest.raises(CsmsError, match="evcs.provisioning.csms_citrineos"):
        backend_options(citrineos.CitrineosCsms, dict(OPTIONS, surprise=1))
    secrets = []
    backend_options(citrineos.CitrineosCsms, OPTIONS, secret=secrets.append)
    assert "s3cret" in secrets
