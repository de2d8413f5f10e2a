#!/usr/bin/env bash
# perf-event-open.sh: a session opens performance counters on itself and
# on every process of the CPU (perf_event_open(2): side channels and a
# long record of kernel bugs). seccomp denies it (logged in the daemon's
# log).
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK = 1, 0


def perf(pid, cpu):
    attr = (ctypes.c_uint32 * 32)()         # struct perf_event_attr
    attr[0] = PERF_TYPE_SOFTWARE
    attr[1] = 112                            # its size
    attr[2] = PERF_COUNT_SW_CPU_CLOCK
    return syscall(298, ctypes.addressof(attr), pid, cpu, -1, 0)


def attempt(event):
    probe("perf_event_open on itself", perf, 0, -1)
    probe("perf_event_open on CPU 0", perf, -1, 0)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
assert_probe "perf_event_open on CPU 0" "PermissionError: \[Errno 1\]"
assert_seccomp_logged perf_event_open
escape_finish
