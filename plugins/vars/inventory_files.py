# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: inventory_files
short_description: Refuse inventory variable files with duplicate keys or YAML errors, naming file, line and column
version_added: 0.2.0
description:
  - Reads the same C(host_vars/) and C(group_vars/) files as C(ansible.builtin.host_group_vars), before it does, and
    fails the run on the first file that is not clean YAML, with the file, the line, the column and the fix.
  - A key given twice in one mapping is an error (with C(duplicate_dict_key = error) Ansible refuses it too, but names no
    file); so are YAML syntax errors such as a tab used for indentation.
  - It returns no variables itself; C(ansible.builtin.host_group_vars) still loads them. Enable it before that plugin
    (C(vars_plugins_enabled = evcs.provisioning.inventory_files, host_group_vars)).
  - Files encrypted with ansible-vault are skipped (Ansible decrypts and checks them when it loads them).
author:
  - evcs.provisioning contributors (@evcs)
options:
  stage:
    ini:
      - key: stage
        section: vars_evcs_inventory_files
    env:
      - name: EVCS_INVENTORY_FILES_STAGE
extends_documentation_fragment:
  - ansible.builtin.vars_plugin_staging
'''

import os

import yaml

from ansible.errors import AnsibleParserError
from ansible.inventory.group import InventoryObjectType
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.vars import BaseVarsPlugin
from ansible.utils.path import basedir

#: files already found clean: path -> (mtime_ns, size)
_CLEAN = {}


class _StrictLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """A YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                'while reading a mapping', node.start_mark,
                'the key %r is given twice (first on line %d); the later value would silently win'
                % (key, seen[key].line + 1), key_node.start_mark)
        seen[key] = key_node.start_mark
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Ansible's own tags (!unsafe, !vault) are values, not errors, here
_StrictLoader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))
_StrictLoader.add_constructor('!vault', lambda loader, node: loader.construct_scalar(node))


def check_file(path):
    """Raise AnsibleParserError naming ``path``, the line and the column when the file is not clean YAML."""
    with open(path, 'rb') as handle:
        data = handle.read()
    text = to_text(data, errors='surrogate_or_strict')
    if text.lstrip().startswith('$ANSIBLE_VAULT'):
        return
    try:
        yaml.load(text, Loader=_StrictLoader)  # nosec B506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = '%s:%d:%d' % (path, mark.line + 1, mark.column + 1) if mark else path
        problem = error.problem or error.context or str(error)
        fix = ('remove one of the two entries' if 'given twice' in problem else
               'indent with spaces, never tabs' if '\\t' in problem or 'tab' in problem else
               'fix the YAML at that place (quote values that contain ": " or start with special characters)')
        raise AnsibleParserError('%s: %s; %s' % (where, problem, fix))
    except yaml.YAMLError as error:
        raise AnsibleParserError('%s: not valid YAML (%s)' % (path, error))


class VarsModule(BaseVarsPlugin):

    is_stateless = True

    def get_vars(self, loader, path, entities, cache=True):
        if not isinstance(entities, list):
            entities = [entities]
        base = os.path.realpath(basedir(path))
        for entity in entities:
            name = getattr(entity, 'name', None)
            kind = getattr(entity, 'base_type', None)
            if not name or name.startswith(os.path.sep) or kind not in (InventoryObjectType.HOST, InventoryObjectType.GROUP):
                continue
            folder = os.path.join(base, 'host_vars' if kind is InventoryObjectType.HOST else 'group_vars')
            if not os.path.isdir(folder):
                continue
            for found in loader.find_vars_files(folder, name):
                found = to_text(found)
                stat = os.stat(found)
                if cache and _CLEAN.get(found) == (stat.st_mtime_ns, stat.st_size):
                    continue
                check_file(found)
                _CLEAN[found] = (stat.st_mtime_ns, stat.st_size)
        return {}
