"""docs/SECURITY.md prescribes exactly the policy the lab builds (issue 17, item 2)."""

from __future__ import annotations

import re
from pathlib import Path

from evcs_lab import vault as lab_vault

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r'path "([^"]+)" \{(.*?)\}\s*$', re.DOTALL | re.MULTILINE)


def _statements(hcl):
    return sorted((path, ' '.join(body.split())) for path, body in _BLOCK.findall(hcl))


def _documented_policy(environment):
    text = (ROOT / 'docs' / 'SECURITY.md').read_text()
    template = re.search(r'## The Vault policy.*?```hcl\n(.*?)```', text, re.DOTALL).group(1)
    mount = lab_vault.ISSUING_CAS[environment][0]
    rendered = []
    for path, body in _BLOCK.findall(template):
        roles = lab_vault.STATION_ROLES.values() if '<station_role>' in path else [None]
        for role in roles:
            concrete = (path.replace('<pki_mount>', mount).replace('<pki_root_mount>', lab_vault.PKI_ROOT_MOUNT)
                        .replace('<kv_mount>', lab_vault.KV_MOUNT).replace('<environment>', environment))
            rendered.append((concrete.replace('<station_role>', role or ''), ' '.join(body.split())))
    return sorted(rendered)


def test_the_lab_builds_exactly_the_documented_policy_for_each_environment():
    for environment in lab_vault.ISSUING_CAS:
        assert _documented_policy(environment) == _statements(lab_vault.policy_hcl(environment)), environment
