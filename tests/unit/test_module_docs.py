# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One execution path: every module file is documentation only and its action plugin runs it on the controller.

ansible-test's validate-modules cannot compare a documentation-only module with an argument spec, so this test does:
each module's documented options (fragments included, as ansible-doc renders them) against its action plugin's
ARGUMENT_SPEC: names, types, required, defaults, choices, list elements, nested options; and every secret is no_log.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted(path.stem for path in (ROOT / 'plugins' / 'modules').glob('*.py'))
_DOC_NAMES = {'DOCUMENTATION', 'EXAMPLES', 'RETURN'}
#: option names that carry a secret value (a path to a key file, an RFID token list are not secrets)
_SECRET_ENDINGS = ('password', '_token', 'secret_id', 'passphrase')


@pytest.fixture(scope='module')
def documented():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'))
    done = subprocess.run([str(ROOT / '.venv' / 'bin' / 'ansible-doc'), '-t', 'module', '--json']
                          + ['evcs.provisioning.%s' % name for name in MODULES],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return dict((name.split('.')[-1], entry['doc']) for name, entry in json.loads(done.stdout).items())


def _argument_spec(name):
    action = importlib.import_module('ansible_collections.evcs.provisioning.plugins.action.%s' % name)
    return action.ActionModule.ARGUMENT_SPEC


@pytest.mark.parametrize('name', MODULES)
def test_the_module_file_is_documentation_only(name):
    tree = ast.parse((ROOT / 'plugins' / 'modules' / ('%s.py' % name)).read_text())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == '__future__':
            continue
        assert isinstance(node, ast.Assign) and [t.id for t in node.targets] in ([n] for n in _DOC_NAMES), (
            '%s: only DOCUMENTATION, EXAMPLES and RETURN belong in a module file; the logic runs in '
            'plugins/action/%s.py through module_utils (found %s on line %d)' % (name, name, type(node).__name__, node.lineno))


def _compare(path, documented, spec, problems):
    for option in sorted(set(documented) | set(spec)):
        where = '%s.%s' % (path, option)
        if option not in spec:
            problems.append('%s is documented but not in the argument spec' % where)
            continue
        if option not in documented:
            problems.append('%s is in the argument spec but not documented' % where)
            continue
        doc, arg = documented[option], spec[option]
        if doc.get('type', 'str') != arg.get('type', 'str'):
            problems.append('%s: documented type %s, argument spec %s' % (where, doc.get('type', 'str'), arg.get('type', 'str')))
        if bool(doc.get('required')) != bool(arg.get('required')):
            problems.append('%s: documented required=%s, argument spec %s' % (where, doc.get('required'), arg.get('required')))
        if doc.get('default') != arg.get('default') and not (doc.get('default') in (None, [], {}) and arg.get('default') in (None, [], {})):
            problems.append('%s: documented default %r, argument spec %r' % (where, doc.get('default'), arg.get('default')))
        if doc.get('choices') is not None or arg.get('choices') is not None:
            if list(doc.get('choices') or []) != list(arg.get('choices') or []):
                problems.append('%s: documented choices %r, argument spec %r' % (where, doc.get('choices'), arg.get('choices')))
        if arg.get('type') == 'list' and doc.get('elements') != arg.get('elements'):
            problems.append('%s: documented elements %r, argument spec %r' % (where, doc.get('elements'), arg.get('elements')))
        if arg.get('type', 'str') == 'str' and option.endswith(_SECRET_ENDINGS) and 'no_log' not in arg:
            problems.append('%s carries a secret and says nothing about no_log' % where)
        if doc.get('suboptions') or arg.get('options'):
            _compare(where, doc.get('suboptions') or {}, arg.get('options') or {}, problems)


@pytest.mark.parametrize('name', MODULES)
def test_documented_options_are_the_argument_spec(name, documented):
    problems = []
    _compare(name, documented[name].get('options') or {}, _argument_spec(name), problems)
    assert not problems, '\n'.join(problems)
