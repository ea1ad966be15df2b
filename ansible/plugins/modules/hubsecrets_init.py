#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubsecrets maintainers
# SPDX-License-Identifier: MPL-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: hubsecrets_init
short_description: Set up a host's JupyterHub secrets directory with hubsecrets init
version_added: 1.0.0
description:
  - Runs C(hubsecrets init) on the target, which creates the secrets directory,
    writes nginx's DH parameters and the host's parameters file, keeps valid
    secrets and makes the missing or invalid ones (atomically, mode 0600 from
    the first byte), then checks the result.
  - Idempotent. C(changed) is true only when init changed something (it says
    "nothing to change" otherwise), so a second run reports C(changed=0).
  - In check mode it runs C(hubsecrets init --dry-run), which changes nothing,
    and predicts C(changed) from the files the dry run would write and from the
    secrets a check finds missing or invalid.
  - No secret value is ever printed by init, so none can be returned.
options:
  binary:
    description: The hubsecrets binary on the target.
    type: path
    default: /usr/local/bin/hubsecrets
  root:
    description: The root file system to set up (C(/) for the host itself).
    type: path
    default: /
  dir:
    description: The secrets directory inside I(root); the binary's default (C(/srv/jupyterhub)) when unset.
    type: str
  hub_unit:
    description: The hub's systemd unit; the binary's default when unset.
    type: str
  owner:
    description: The user who owns the secrets (the hub's user); the parameters in force (root) when unset.
    type: str
  group:
    description: The secrets' group; the parameters in force when unset.
    type: str
  data:
    description: JSON or YAML data files on the target (C(--data)) that set policy parameters.
    type: list
    elements: path
    default: []
  dhparam_group:
    description: The RFC 7919 group for nginx's DH parameters when the file there does not pass.
    type: str
    choices: [ffdhe2048, ffdhe3072, ffdhe4096]
  install_unit:
    description: Also install and enable C(jupyterhub-secrets.service) (C(--install-unit)).
    type: bool
    default: false
  install_timer:
    description: Also install the hourly C(hubsecrets-check.timer) (C(--install-timer)), for a binary that has it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Runs C(init --dry-run); nothing is changed.
  diff_mode:
    support: none
notes:
  - Needs root on the target (C(become)).
requirements:
  - the hubsecrets binary on the target
author:
  - hubsecrets maintainers
'''

EXAMPLES = r'''
- name: Set up the secrets directory
  become: true
  hubsecrets.jupyterhub.hubsecrets_init:
    install_unit: true
'''

RETURN = r'''
actions:
  description: What init did (or, in check mode, would do), one line each, as it printed them.
  returned: always
  type: list
  elements: str
  sample:
    - created /srv/jupyterhub (0755 root:root)
    - wrote /srv/jupyterhub/dhparam.pem (RFC 7919 ffdhe2048, root:root, 0600) there was none
passed:
  description: Whether the check of the result passed (true whenever the task succeeds; null in check mode, where nothing is checked after a dry run).
  returned: always
  type: bool
exit_status:
  description: The exit status of hubsecrets init (0 done and passing, 1 the check found a problem, 2 could not be done).
  returned: always
  type: int
'''

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hubsecrets.jupyterhub.plugins.module_utils.hubsecrets import (
    EXIT_DENY, EXIT_OK, common_args, parse_report, tool_error)

PREFIX = 'hubsecrets init: '
# init prints this when it changed nothing (pinned by its tests).
UNCHANGED = PREFIX + 'nothing to change'
# Dry-run lines that announce a change; "would keep" ones do not.
WOULD_CHANGE = re.compile(r'^would (create|write|generate|install|enable|make a new)\b')
# The files the first-boot script makes or replaces.
SECRET_FILES = ('jupyterhub_cookie_secret', 'proxy_auth_token')


def actions(stdout):
    return [ln[len(PREFIX):] for ln in stdout.splitlines() if ln.startswith(PREFIX)]


def secrets_would_change(module, p):
    """Whether the first-boot script would make a secret: a check finds one
    missing or invalid (a dry run cannot ask the script)."""
    rc, stdout, dummy = module.run_command(
        [p['binary'], 'check', '--format', 'json'] + common_args(p))
    rep = parse_report(stdout)
    if rep is None:
        return True
    return any(os.path.basename(f.get('path', '')) in SECRET_FILES and f.get('severity') == 'deny'
               for f in rep['findings'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type='path', default='/usr/local/bin/hubsecrets'),
            root=dict(type='path', default='/'),
            dir=dict(type='str'),
            hub_unit=dict(type='str'),
            owner=dict(type='str'),
            group=dict(type='str'),
            data=dict(type='list', elements='path', default=[]),
            dhparam_group=dict(type='str', choices=['ffdhe2048', 'ffdhe3072', 'ffdhe4096']),
            install_unit=dict(type='bool', default=False),
            install_timer=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    cmd = [p['binary'], 'init'] + common_args(p)
    for flag in ('owner', 'group'):
        if p[flag]:
            cmd += ['--' + flag, p[flag]]
    if p['dhparam_group']:
        cmd += ['--dhparam-group', p['dhparam_group']]
    if p['install_unit']:
        cmd.append('--install-unit')
    if p['install_timer']:
        cmd.append('--install-timer')
    if module.check_mode:
        cmd.append('--dry-run')

    rc, stdout, stderr = module.run_command(cmd)
    done = actions(stdout)
    result = dict(changed=False, exit_status=rc, actions=done, passed=rc == EXIT_OK)
    if rc not in (EXIT_OK, EXIT_DENY):
        module.fail_json(msg='hubsecrets init could not be done (nothing was changed): %s'
                         % tool_error(stderr, 'exit status %d' % rc), **result)
    if module.check_mode:
        result['changed'] = (any(WOULD_CHANGE.match(a) for a in done)
                             or secrets_would_change(module, p))
        result['passed'] = None
        module.exit_json(**result)
    result['changed'] = UNCHANGED not in stdout
    if rc == EXIT_DENY:
        module.fail_json(msg='hubsecrets init finished, but the check of the result found a problem: '
                         'run hubsecrets_check (or hubsecrets check on the host) for the findings', **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
