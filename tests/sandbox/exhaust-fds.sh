#!/usr/bin/env bash
# exhaust-fds.sh: a session opens files and sockets until it runs out of
# descriptors. RLIMIT_NOFILE caps the worker at 1024; the daemon's own
# descriptors are its own, and the worker still reports the error over
# the socket it already holds.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
import socket


def exhaust():
    held = []
    while len(held) < 100000:
        held.append(open("/dev/null"))
        held.append(socket.socket())
    return "opened %d" % len(held)


def attempt(event):
    probe("open until it fails", exhaust)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "OSError: \[Errno 24\] Too many open files"
escape_finish
