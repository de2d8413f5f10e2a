#!/usr/bin/env bash
# tiocsti.sh: a session pushes characters into a terminal's input queue
# (TIOCSTI) or drives the console (TIOCLINUX): with fcntl.ioctl, and by
# number with high bits set in the request (the kernel looks at the low 32
# bits only, so a filter that compares all 64 would let them through). It
# also opens a pseudo-terminal of its own. seccomp allows only the ioctl
# requests Python uses, compared on their low 32 bits; the denials are
# logged in the daemon's log. Without the filter these would fail with
# ENOTTY on /dev/null: EPERM is the filter's answer.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
import fcntl
import termios

TIOCSTI, TIOCLINUX = 0x5412, 0x541C


def attempt(event):
    c = ctypes.create_string_buffer(b"x")
    probe("TIOCSTI", fcntl.ioctl, 0, termios.TIOCSTI, b"x")
    probe("TIOCSTI with high bits", syscall, 16, 0,
          (1 << 32) | TIOCSTI, ctypes.addressof(c))
    probe("TIOCLINUX with high bits", syscall, 16, 0,
          (0xffffffff << 32) | TIOCLINUX, ctypes.addressof(c))
    probe("open a pty", os.openpty)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe "TIOCSTI with high bits" "PermissionError: \[Errno 1\]"
assert_probe "TIOCLINUX with high bits" "PermissionError: \[Errno 1\]"
assert_probe "open a pty" "PermissionError: \[Errno 1\]"
assert_match "$(cat "$LOG")" "seccomp: denied ioctl\(0x0, 0x5412\)" \
    "the daemon's log has the denied TIOCSTI"
assert_match "$(cat "$LOG")" "seccomp: denied ioctl\(0x0, 0x100005412\)" \
    "the daemon's log has the denied TIOCSTI with high bits"
assert_match "$(cat "$LOG")" "seccomp: denied ioctl\(0x0, 0xffffffff0000541c\)" \
    "the daemon's log has the denied TIOCLINUX with high bits"
escape_finish
