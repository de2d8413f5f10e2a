#!/usr/bin/env bash
# bpf.sh: a session loads a BPF program and creates a map (bpf(2): the
# verifier and the JIT are a large kernel attack surface, and unprivileged
# BPF is a common way into the kernel). seccomp denies it (logged in the
# daemon's log).
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5


def attempt(event):
    attr = ctypes.create_string_buffer(128)
    probe("BPF_PROG_LOAD", syscall, 321, BPF_PROG_LOAD, ctypes.addressof(attr),
          128)
    probe("BPF_MAP_CREATE", syscall, 321, BPF_MAP_CREATE,
          ctypes.addressof(attr), 128)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe BPF_MAP_CREATE "PermissionError: \[Errno 1\]"
assert_seccomp_logged bpf
escape_finish
