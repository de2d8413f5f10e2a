#!/usr/bin/env bash
# cpu-spin.sh: a session spins on the CPU forever, in three threads. The
# worker's CPU time is capped (RLIMIT_CPU, workers.cpu_limit): the kernel
# kills it with SIGXCPU and the session ends in ERROR saying so.
# (workers.session_timeout bounds the wall-clock time of one that sleeps.)
. "$top_srcdir/tests/sandbox/lib.sh"

CONF_EXTRA='[workers]
cpu_limit = 1s'
attempt_code <<'EOF2'
import threading


def spin():
    while True:
        pass


def attempt(event):
    for _ in range(2):
        threading.Thread(target=spin, daemon=True).start()
    spin()
EOF2
escape_deploy
attempt "" 30
assert_eq error "$STATE" "the attempt's session ended in error"
assert_match "$SLOG" "STATE +error: the worker was killed by signal 24 \(SIGXCPU\)" \
    "the session log says the CPU limit killed it"
escape_finish
