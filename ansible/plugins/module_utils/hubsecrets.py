# -*- coding: utf-8 -*-
# Copyright: hubsecrets maintainers
# SPDX-License-Identifier: MPL-2.0
"""What the hubsecrets modules share: the command line and the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# The CLI's exit status contract (docs: hubsecrets check --help).
EXIT_OK = 0
EXIT_DENY = 1
EXIT_FAILED = 2

# The fields of a finding the modules return; "waived" when the binary
# supports waivers. Nothing else of the report is passed on.
FINDING_KEYS = ('id', 'severity', 'path', 'title', 'msg', 'fix', 'waived')

# An error message is the tool's own words (it never prints a secret),
# capped so a runaway output cannot flood the task result.
MAX_ERROR = 2000


def common_args(params):
    """The options check and init share, as hubsecrets flags."""
    args = ['--root', params['root']]
    if params.get('dir'):
        args += ['--dir', params['dir']]
    if params.get('hub_unit'):
        args += ['--hub-unit', params['hub_unit']]
    for d in params.get('data') or []:
        args += ['--data', d]
    return args


def tool_error(stderr, fallback):
    """The tool's error lines, or fallback when it printed none."""
    lines = [ln.strip() for ln in (stderr or '').splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith('Run with --help')]
    msg = '; '.join(lines) or fallback
    if len(msg) > MAX_ERROR:
        msg = msg[:MAX_ERROR] + '...'
    return msg


def parse_report(stdout):
    """The findings and summary of one JSON report, or None if stdout holds
    none. Only the known fields of a finding are kept."""
    text = (stdout or '').strip()
    if not text:
        return None
    try:
        rep = json.loads(text)
    except ValueError:
        return None
    if not isinstance(rep, dict) or not isinstance(rep.get('findings'), list):
        return None
    findings = []
    for f in rep['findings']:
        if isinstance(f, dict):
            findings.append(dict((k, f[k]) for k in FINDING_KEYS if k in f))
    summary = rep.get('summary') if isinstance(rep.get('summary'), dict) else {}
    return {
        'profile': rep.get('profile', ''),
        'findings': findings,
        'summary': {'deny': int(summary.get('deny', 0)), 'warn': int(summary.get('warn', 0))},
    }
