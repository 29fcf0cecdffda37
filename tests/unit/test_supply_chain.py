"""Supply chain (issue 17, item 9): the runtime requirements are hash-pinned, the execution environment's base image is
pinned by digest."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pins(text):
    return dict((name.lower().replace('_', '-'), version) for name, version in
                re.findall(r'^([A-Za-z0-9_.-]+)==([^\s;\\]+)', text, re.MULTILINE))


def test_every_runtime_requirement_is_in_the_lock_at_its_version_with_hashes():
    lock = (ROOT / 'requirements.lock').read_text()
    locked = _pins(lock)
    for name, version in _pins((ROOT / 'requirements.txt').read_text()).items():
        assert locked.get(name) == version, (name, version, locked.get(name))
    entries = re.split(r'\n(?=[A-Za-z0-9])', lock.split('\n', 6)[-1])
    for entry in entries:
        if '==' in entry:
            assert '--hash=sha256:' in entry, entry.splitlines()[0]


def test_the_lock_agrees_with_the_constraints():
    constraints = _pins((ROOT / 'constraints.txt').read_text())
    for name, version in _pins((ROOT / 'requirements.lock').read_text()).items():
        assert constraints.get(name, version) == version, (name, version, constraints.get(name))


def test_the_execution_environment_base_image_is_pinned_by_digest():
    ee = yaml.safe_load((ROOT / 'examples' / 'execution-environment.yml').read_text())
    assert re.search(r'@sha256:[0-9a-f]{64}$', ee['images']['base_image']['name'])
