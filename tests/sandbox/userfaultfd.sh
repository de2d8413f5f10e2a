#!/usr/bin/env bash
# userfaultfd.sh: a session makes a userfaultfd (it lets code stall the
# kernel in the middle of a copy from user memory, the classic way to win
# a kernel race), by the system call and through /dev/userfaultfd.
# seccomp denies the call (logged in the daemon's log); the device, where
# the kernel has it, is root's.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
O_CLOEXEC = 0o2000000


def device():
    fd = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
    os.close(fd)
    return "opened /dev/userfaultfd"


def attempt(event):
    probe("userfaultfd", syscall, 323, O_CLOEXEC)
    probe("userfaultfd for user faults only", syscall, 323, O_CLOEXEC | 1)
    probe("/dev/userfaultfd", device)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe "userfaultfd for user faults only" "PermissionError: \[Errno 1\]"
assert_probe "/dev/userfaultfd" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
assert_seccomp_logged userfaultfd
escape_finish
