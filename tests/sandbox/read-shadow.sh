#!/usr/bin/env bash
# read-shadow.sh: a session reads /etc/shadow (password hashes). The
# system's /etc is readable (Landlock lets Python read its configuration),
# so what stops it is the worker's own unprivileged uid (DAC: the file is
# root:shadow 0640).
. "$top_srcdir/tests/sandbox/lib.sh"

[ -e /etc/shadow ] || skip "this system has no /etc/shadow"
attempt_code <<'EOF2'
def attempt(event):
    probe("read /etc/shadow", read, "/etc/shadow")
    probe("read /etc/gshadow", read, "/etc/gshadow")
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 13\] Permission denied: '/etc/shadow'"
assert_probe "read /etc/shadow" "PermissionError: \[Errno 13\] Permission denied"
escape_finish
