#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hubsecrets maintainers
# SPDX-License-Identifier: MPL-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: hubsecrets_check
short_description: Check a host's JupyterHub secrets against the hubsecrets policy
version_added: 1.0.0
description:
  - Runs C(hubsecrets check --format json) on the target and returns its findings
    (id, severity, path, title, msg, fix) and their summary as task data.
  - Fails the task when the policy denies something (exit status 1), unless
    I(fail_on_deny=false), and always when the check could not be done (exit
    status 2), with the tool's error.
  - The report never holds a secret's value (only rule ids, paths, messages and
    fixes), and the module returns nothing of the tool's raw output beyond the
    parsed report.
  - The check only reads, so it runs in check mode too.
options:
  binary:
    description: The hubsecrets binary on the target.
    type: path
    default: /usr/local/bin/hubsecrets
  root:
    description: The root file system to check (C(/) for the host itself).
    type: path
    default: /
  dir:
    description: The secrets directory inside I(root); the binary's default (C(/srv/jupyterhub)) when unset.
    type: str
  hub_unit:
    description: The hub's systemd unit the first-boot unit must run before; the binary's default when unset.
    type: str
  profile:
    description: What the root is.
    type: str
    choices: [instance, image]
    default: instance
  policy:
    description: Directories of site Rego policies on the target (C(--policy)); their rules join the report.
    type: list
    elements: path
    default: []
  data:
    description: JSON or YAML data files on the target (C(--data)), e.g. to set C(hubsecrets.params).
    type: list
    elements: path
    default: []
  waivers:
    description: A waivers file on the target (C(--waivers)), for a binary that supports waivers.
    type: path
  strict:
    description: Count warnings as failures too (C(--strict)).
    type: bool
    default: false
  fail_on_deny:
    description: Fail the task when the policy denies something; with C(false) the findings are only returned.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: The check only reads; it runs the same in check mode.
  diff_mode:
    support: none
notes:
  - Secret files are mode 0600 and owned by root or the hub's user, so connect as
    root or use C(become).
requirements:
  - the hubsecrets binary on the target (the C(hubsecrets.jupyterhub.hubsecrets) role installs it)
author:
  - hubsecrets maintainers
'''

EXAMPLES = r'''
- name: Check the secrets
  become: true
  hubsecrets.jupyterhub.hubsecrets_check:
  register: secrets

- name: Collect the findings without failing
  become: true
  hubsecrets.jupyterhub.hubsecrets_check:
    data: [/etc/hubsecrets/site.yaml]
    fail_on_deny: false
  register: secrets
'''

RETURN = r'''
passed:
  description: Whether the check passed (exit status 0).
  returned: always
  type: bool
findings:
  description: What the policy found, deny first (none when the check passed).
  returned: always
  type: list
  elements: dict
  contains:
    id: {description: The rule id, e.g. HUB012., type: str}
    severity: {description: deny or warn., type: str}
    path: {description: The affected path inside the root., type: str}
    title: {description: The rule's title., type: str}
    msg: {description: What is wrong, never a secret's value., type: str}
    fix: {description: The command that repairs it., type: str}
  sample:
    - id: HUB012
      severity: deny
      path: /srv/jupyterhub/jupyterhub_cookie_secret
      title: secret file mode
      msg: jupyterhub_cookie_secret has mode 0644 ...
      fix: sudo chmod 0600 /srv/jupyterhub/jupyterhub_cookie_secret
summary:
  description: Counts of findings by severity.
  returned: always
  type: dict
  sample: {deny: 1, warn: 0}
profile:
  description: The profile the check used.
  returned: always
  type: str
exit_status:
  description: The exit status of hubsecrets check (0 pass, 1 deny, 2 could not check).
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hubsecrets.jupyterhub.plugins.module_utils.hubsecrets import (
    EXIT_DENY, EXIT_OK, common_args, parse_report, tool_error)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type='path', default='/usr/local/bin/hubsecrets'),
            root=dict(type='path', default='/'),
            dir=dict(type='str'),
            hub_unit=dict(type='str'),
            profile=dict(type='str', default='instance', choices=['instance', 'image']),
            policy=dict(type='list', elements='path', default=[]),
            data=dict(type='list', elements='path', default=[]),
            waivers=dict(type='path'),
            strict=dict(type='bool', default=False),
            fail_on_deny=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    cmd = [p['binary'], 'check', '--format', 'json', '--profile', p['profile']] + common_args(p)
    for d in p['policy']:
        cmd += ['--policy', d]
    if p['waivers']:
        cmd += ['--waivers', p['waivers']]
    if p['strict']:
        cmd.append('--strict')

    rc, stdout, stderr = module.run_command(cmd)
    rep = parse_report(stdout)
    result = dict(changed=False, exit_status=rc, passed=rc == EXIT_OK, findings=[],
                  summary={'deny': 0, 'warn': 0}, profile=p['profile'])
    if rep is not None:
        result.update(findings=rep['findings'], summary=rep['summary'])
    if rc not in (EXIT_OK, EXIT_DENY) or rep is None:
        # Exit 2 (or a report that cannot be read): the host could not be
        # checked, which is never a pass.
        module.fail_json(msg='hubsecrets check could not check this host: %s'
                         % tool_error(stderr, 'exit status %d, no report' % rc), **result)
    if rc == EXIT_DENY and p['fail_on_deny']:
        what = ', '.join('%s %s' % (f.get('id'), f.get('path')) for f in rep['findings'][:10])
        module.fail_json(msg='hubsecrets check: %d denied, %d warnings%s: %s'
                         % (rep['summary']['deny'], rep['summary']['warn'],
                            ' (--strict: warnings count)' if p['strict'] else '', what), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
