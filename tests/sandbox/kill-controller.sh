#!/usr/bin/env bash
# kill-controller.sh: a session kills the controller, stops it, kills the
# zygote, a sibling session, the controller's process group, and every
# process it may signal (kill(-1)). seccomp lets a worker signal only
# itself (logged in the daemon's log); with a daemon started as root the
# worker's own uid would also refuse, but a daemon started as another user
# shares its uid with its workers, so the filter is what counts.
. "$top_srcdir/tests/sandbox/lib.sh"
need_x86_64

attempt_code <<'EOF2'
def attempt(event):
    ctl = int(os.environ["DAEMON_PID"])
    sibling = args(event)["sibling"]
    probe("kill the controller", os.kill, ctl, signal.SIGKILL)
    probe("stop the controller", os.kill, ctl, signal.SIGSTOP)
    probe("tgkill the controller", syscall, 234, ctl, ctl, signal.SIGKILL)
    probe("kill the controller's group",
          lambda: os.killpg(os.getpgid(ctl), signal.SIGKILL))
    probe("pidfd_open the controller", syscall, 434, ctl, 0)
    probe("kill the zygote", os.kill, args(event)["zygote"], signal.SIGKILL)
    probe("kill a sibling", os.kill, sibling, signal.SIGKILL)
    probe("kill(-1)", os.kill, -1, signal.SIGKILL)
    return verdict()
EOF2
escape_deploy
start_holder
zygote=$(zygote_pid)
attempt "{\"sibling\": $HOLDER_PID, \"zygote\": $zygote}"
assert_blocked "PermissionError: \[Errno 1\] Operation not permitted"
for p in "stop the controller" "tgkill the controller" \
    "pidfd_open the controller" "kill the zygote" "kill a sibling" \
    "kill\(-1\)"; do
	assert_probe "$p" "PermissionError: \[Errno 1\]"
done
# getpgid: no such process in a PID namespace of its own.
assert_probe "kill the controller's group" "(PermissionError: \[Errno 1\]|ProcessLookupError)"
assert_seccomp_logged kill
assert_seccomp_logged tgkill
assert_seccomp_logged pidfd_open
kill -0 "$DAEMON_PID" || fail "the controller is gone"
grep -q '^State:[[:space:]]*[RS]' "/proc/$DAEMON_PID/status" ||
    fail "the controller is not running: $(grep ^State "/proc/$DAEMON_PID/status")"
ok "the controller is alive and running"
kill -0 "$zygote" || fail "the zygote $zygote is gone"
ok "the zygote is alive"
release_holder
escape_finish
