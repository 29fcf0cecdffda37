"""Vault tokens are managed (issue 17, item 8): one login per run, the run's token revoked at its end.

Measured on the lab's four stations (provision.yml, second run): before, 6 AppRole logins per run, each leaving a token
valid for an hour; now 1 login and no token left behind.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hvac
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import ansible_playbook, running_lab  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab of this module only: the login counts are of provision.yml on the lab inventory, whatever earlier test
    modules did to the session lab's stations (one factory-reset them and left their Vault records behind)."""
    with running_lab(tmp_path_factory.mktemp("vault-tokens-lab")) as state:
        yield state


@pytest.fixture(scope="module")
def run_playbook(lab):
    def _run(playbook, **options):
        return ansible_playbook(lab.home, playbook, **options)
    return _run


def _approle_tokens(lab) -> set:
    """Accessors of the live tokens made by an AppRole login (read with the lab's root token)."""
    root = hvac.Client(url=lab["vault"]["addr"], verify=lab["vault"]["ca_cert"],
                       token=(Path(lab.home) / "vault" / "root-token").read_text().strip())
    found = set()
    for accessor in root.list("auth/token/accessors")["data"]["keys"]:
        info = root.auth.token.lookup_accessor(accessor)["data"]
        if info.get("path", "").startswith("auth/approle/login"):
            found.add(accessor)
    return found


def test_one_login_per_run_and_no_token_left_behind(lab, run_playbook):
    before = _approle_tokens(lab)
    rc, output, _recap = run_playbook("playbooks/provision.yml", verbosity=1)
    assert rc == 0, output[-4000:]
    logins = [int(count) for count in re.findall(r"\blogin: (\d+)", output)]
    assert len(logins) >= 4 and sum(logins) == 1, logins
    assert _approle_tokens(lab) == before


def test_without_the_callback_every_task_logs_in(lab, run_playbook):
    """The control: with vault_tokens switched off the same run logs in per task (what it did before issue 17)."""
    callbacks = "evcs.provisioning.audit,evcs.provisioning.preload"
    rc, output, _recap = run_playbook("playbooks/provision.yml", verbosity=1,
                                      env={"ANSIBLE_CALLBACKS_ENABLED": callbacks})
    assert rc == 0, output[-4000:]
    logins = [int(count) for count in re.findall(r"\blogin: (\d+)", output)]
    assert sum(logins) == len(logins) >= 4
