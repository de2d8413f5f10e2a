#!/usr/bin/env bash
# thread-bomb.sh: a session starts threads until something gives (seccomp
# allows threads, which automations use). [workers] pids_max caps the
# processes and threads of a session (cgroup pids.max, RLIMIT_NPROC in its
# user namespace), so Python's Thread.start() fails long before the host
# runs out of tasks.
# Needs [workers] pids_max (the sbx-ns branch).
. "$top_srcdir/tests/sandbox/lib.sh"

CONF_EXTRA='[workers]
pids_max = 32'
need_config "[workers] pids_max"

attempt_code <<'EOF2'
import ctypes
import threading


def bomb():
    # Small stacks and one malloc arena, so that the address-space limit
    # is not what stops it: pids_max must.
    ctypes.CDLL(None).mallopt(-8, 1)    # M_ARENA_MAX
    threading.stack_size(256 << 10)
    stop = threading.Event()
    n = 0
    try:
        while n < 10000:
            threading.Thread(target=stop.wait, daemon=True).start()
            n += 1
    finally:
        print("started %d threads" % n)
        stop.set()
    return "started %d threads" % n


def attempt(event):
    probe("start threads until it fails", bomb)
    return verdict()
EOF2
escape_deploy
attempt "" 60
assert_blocked "RuntimeError: can't start new thread"
started=$(printf '%s\n' "$SLOG" | sed -n 's/.*PRINT  *started \([0-9]*\) threads.*/\1/p' | head -n1)
[ -n "$started" ] && [ "$started" -lt 32 ] ||
    fail "the session started ${started:-?} threads, pids_max is 32"
[ "$started" -ge 16 ] ||
    fail "the session stopped at $started threads: something other than pids_max = 32 stopped it"
ok "the session started $started threads, stopped by pids_max"
escape_finish
