"""The lab's state file (``state.json``, the contract read by ``inventories/lab``) and its kept secrets."""

from __future__ import annotations

import json
import secrets

from evcs_lab.paths import LabPaths, write_private


def lab_secrets(paths: LabPaths) -> dict:
    """CSMS API tokens and staging passwords (lab and production CSMS): generated at the first ``up``, the same ever after."""
    try:
        kept = json.loads(paths.secrets_file.read_text())
    except (OSError, ValueError):
        kept = {}
    wanted = {"api_token": lambda: secrets.token_urlsafe(32), "staging_password": lambda: secrets.token_urlsafe(18),
              "production_api_token": lambda: secrets.token_urlsafe(32),
              "production_staging_password": lambda: secrets.token_urlsafe(18)}
    missing = {key: make() for key, make in wanted.items() if not kept.get(key)}
    if missing:
        kept.update(missing)
        write_private(paths.secrets_file, json.dumps(kept, indent=2) + "\n")
    return kept


def write_state(paths: LabPaths, state: dict) -> None:
    write_private(paths.state_file, json.dumps(state, indent=2, sort_keys=True) + "\n")


def read_state(paths: LabPaths) -> dict | None:
    try:
        return json.loads(paths.state_file.read_text())
    except (OSError, ValueError):
        return None


def read_json(path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
