#!/usr/bin/env bash
# io-uring.sh: a session sets up an io_uring (whose operations the kernel
# performs without passing them through seccomp) and calls its other two
# system calls. seccomp denies all three (logged in the daemon's log).
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
def attempt(event):
    params = ctypes.create_string_buffer(120)   # struct io_uring_params
    probe("io_uring_setup", syscall, 425, 8, ctypes.addressof(params))
    probe("io_uring_enter", syscall, 426, 0, 1, 1, 0, 0, 0)
    probe("io_uring_register", syscall, 427, 0, 0, 0, 0)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe io_uring_enter "PermissionError: \[Errno 1\]"
assert_probe io_uring_register "PermissionError: \[Errno 1\]"
assert_seccomp_logged io_uring_setup
assert_seccomp_logged io_uring_enter
assert_seccomp_logged io_uring_register
escape_finish
