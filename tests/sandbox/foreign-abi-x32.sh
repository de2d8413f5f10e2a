#!/usr/bin/env bash
# foreign-abi-x32.sh: a session makes an x32 system call (the x86_64
# number with bit 30 set: same instruction, another table). libseccomp
# sends x32 numbers to the bad-architecture action, which kills the
# process (SIGSYS). The session ends in ERROR saying so.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
def attempt(event):
    print("calling x32 getpid")
    libc.syscall(ctypes.c_long(0x40000000 | 39))
    return "survived"
EOF2
escape_deploy
attempt
assert_not_contains "$SLOG" "survived" "the x32 call did not return"
assert_match "$SLOG" "PRINT +calling x32 getpid" "the code got as far as the call"
assert_eq error "$STATE" "the attempt's session ended in error"
assert_match "$SLOG" "STATE +error: the worker was killed by signal 31 \(SIGSYS\): the sandbox forbids a system call the session made$" \
    "the session log says the sandbox killed the worker (SIGSYS)"
assert_not_contains "$(cat "$LOG")" "resuming on a new worker" \
    "the session was not retried"
escape_finish
