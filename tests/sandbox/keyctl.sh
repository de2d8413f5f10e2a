#!/usr/bin/env bash
# keyctl.sh: a session reads and adds to the kernel's keyrings (keyctl,
# add_key, request_key: other processes of the same uid keep credentials
# there, and the key code has had its share of bugs). seccomp denies all
# three (logged in the daemon's log).
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 0, -3
KEY_SPEC_USER_KEYRING = -4


def attempt(event):
    user = ctypes.create_string_buffer(b"user")
    desc = ctypes.create_string_buffer(b"escape")
    data = ctypes.create_string_buffer(b"x")
    probe("keyctl: the session keyring", syscall, 250, KEYCTL_GET_KEYRING_ID,
          KEY_SPEC_SESSION_KEYRING, 0)
    probe("add_key", syscall, 248, ctypes.addressof(user),
          ctypes.addressof(desc), ctypes.addressof(data), 1,
          KEY_SPEC_USER_KEYRING)
    probe("request_key", syscall, 249, ctypes.addressof(user),
          ctypes.addressof(desc), 0, 0)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe add_key "PermissionError: \[Errno 1\]"
assert_probe request_key "PermissionError: \[Errno 1\]"
assert_seccomp_logged keyctl
assert_seccomp_logged add_key
assert_seccomp_logged request_key
escape_finish
