#!/usr/bin/env bash
# ptrace.sh: a session attaches to the controller, to the zygote (its
# parent) and to a sibling session's worker with ptrace(2), asks to be
# traced, and opens their /proc/PID/mem. seccomp denies ptrace (logged in
# the daemon's log); /proc/PID/mem needs ptrace access, which Landlock
# (a domain may not reach outside itself) and the uid deny.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206


def opened(path, mode="rb"):
    open(path, mode).close()
    return "opened " + path


def attempt(event):
    targets = [("the controller", int(os.environ["DAEMON_PID"])),
               ("the zygote", args(event)["zygote"]),
               ("a sibling", args(event)["sibling"])]
    for who, pid in targets:
        probe("PTRACE_ATTACH " + who, syscall, 101, PTRACE_ATTACH, pid, 0, 0)
        probe("PTRACE_SEIZE " + who, syscall, 101, PTRACE_SEIZE, pid, 0, 0)
        probe("open the mem of " + who, opened, "/proc/%d/mem" % pid)
    probe("PTRACE_TRACEME", syscall, 101, PTRACE_TRACEME, 0, 0, 0)
    return verdict()
EOF2
escape_deploy
start_holder
attempt "{\"sibling\": $HOLDER_PID, \"zygote\": $(zygote_pid)}"
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
for who in "the controller" "the zygote" "a sibling"; do
	assert_probe "PTRACE_ATTACH $who" "PermissionError: \[Errno 1\]"
	assert_probe "PTRACE_SEIZE $who" "PermissionError: \[Errno 1\]"
	# (FileNotFoundError: a PID namespace where it is not there at all)
	assert_probe "open the mem of $who" "(PermissionError: \[Errno 13\]|FileNotFoundError)"
done
assert_probe PTRACE_TRACEME "PermissionError: \[Errno 1\]"
assert_seccomp_logged ptrace
release_holder
escape_finish
