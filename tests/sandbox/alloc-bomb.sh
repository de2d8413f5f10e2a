#!/usr/bin/env bash
# alloc-bomb.sh: a session allocates memory until something gives. The
# worker's address space is capped (RLIMIT_AS, workers.memory_limit), so
# Python raises MemoryError in the session rather than the kernel's OOM
# killer picking a victim on the host.
. "$top_srcdir/tests/sandbox/lib.sh"

worker_is_asan && skip "an ASan worker has no RLIMIT_AS (sandbox-rlimit.c)"
CONF_EXTRA='[workers]
memory_limit = 256MiB'
attempt_code <<'EOF2'
def attempt(event):
    hog = []
    while True:
        hog.append(bytearray(16 << 20))
EOF2
escape_deploy
attempt
assert_eq error "$STATE" "the attempt's session ended in error"
assert_match "$SLOG" "STATE +error: MemoryError" "the session log says MemoryError"
escape_finish
