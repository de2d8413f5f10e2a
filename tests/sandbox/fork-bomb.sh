#!/usr/bin/env bash
# fork-bomb.sh: a session forks in a loop, and tries the other ways to
# make a process: subprocess, os.posix_spawn, and the fork, vfork and
# clone system calls themselves. seccomp allows clone only for threads
# (CLONE_THREAD, no namespace flags), so no process is ever made. Python
# makes processes with all signals blocked, where the filter cannot trap
# (a trap would kill the worker), so these fail with EPERM without a line
# in the daemon's log; the session's log has the PermissionError, and the
# raw fork(2), which glibc never uses, is logged. A session is one Python process:
# threads work (the normal session at the end starts one).
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
import subprocess


def bomb():
    n = 0
    while n < 1000:
        if os.fork() == 0:
            os._exit(0)
        n += 1
    return "forked %d times" % n


def attempt(event):
    probe("os.fork() in a loop", bomb)
    probe("subprocess.run", subprocess.run, ["/bin/true"])
    probe("os.posix_spawn", os.posix_spawn, "/bin/true", ["true"], {})
    probe("fork(2)", syscall, 57)
    probe("vfork(2)", syscall, 58)
    probe("clone(SIGCHLD)", syscall, 56, signal.SIGCHLD, 0, 0, 0, 0)
    # A thread's flags plus a new PID namespace: refused as well.
    probe("clone(CLONE_THREAD|CLONE_NEWPID)", syscall, 56,
          0x10000 | 0x800 | 0x100 | 0x20000000, 0, 0, 0, 0)
    return verdict()
EOF2
escape_deploy
attempt
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
for p in "subprocess.run" "os.posix_spawn" "fork\(2\)" "vfork\(2\)" \
    "clone\(SIGCHLD\)" "clone\(CLONE_THREAD\|CLONE_NEWPID\)"; do
	assert_probe "$p" "PermissionError: \[Errno 1\]"
done
assert_seccomp_logged fork
escape_finish
