#!/usr/bin/env bash
# inherited-fds.sh: a session walks /proc/self/fd for descriptors it
# should not have: the database, listening sockets, another worker's
# socket, the zygote's signalfd. The worker closes everything but stdin
# (/dev/null), stdout and stderr (the daemon's log) and its own socket to
# the controller (fd 3) before user code runs.
. "$top_srcdir/tests/sandbox/lib.sh"

attempt_code <<'EOF2'
import fcntl


def attempt(event):
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            fds[fd] = "closed"      # listdir's own descriptor
    for fd, what in sorted(fds.items(), key=lambda x: int(x[0])):
        print("fd %s -> %s" % (fd, what))
    for fd in (1, 2):
        st = os.fstat(fd)
        fds["stdio%d" % fd] = "%d:%d" % (st.st_dev, st.st_ino)
    for fd in list(fds):
        if fds[fd].startswith("pipe:"):     # which way does it go?
            mode = fcntl.fcntl(int(fd), fcntl.F_GETFL) & os.O_ACCMODE
            fds[fd] += " write-only" if mode == os.O_WRONLY else " readable"
    return fds
EOF2
escape_deploy
attempt
assert_eq completed "$STATE" "the walk completed"
# A worker that is pid 1 of a PID namespace also holds the write end of
# a pipe to the process waiting for it outside (sandbox-namespace.c tells
# it about SIGXCPU that way); nothing else is expected.
fds=$(printf '%s' "$RESULT" | jq -r 'to_entries | map(select((.key | test("^[0-9]+$")) and (.value | test("^pipe:\\[[0-9]+\\] write-only$") | not)) | .key | tonumber) | sort | map(tostring) | join(" ")')
assert_eq "0 1 2 3 4" "$fds" "the worker holds descriptors 0-3 (4 was listdir's)"
npipes=$(printf '%s' "$RESULT" | jq -r '[.[] | select(test("^pipe:"))] | length')
[ "$npipes" -le 1 ] || fail "the worker holds $npipes pipes: $RESULT"
ok "at most one write-only pipe (to a PID namespace's waiter)"
assert_eq /dev/null "$(jget "$RESULT" '."0"')" "fd 0 is /dev/null"
assert_match "$(jget "$RESULT" '."3"')" '^socket:\[[0-9]+\]$' "fd 3 is the worker's socket"
assert_eq closed "$(jget "$RESULT" '."4"')" "fd 4 was listdir's own, closed"
log_file=$(stat -L -c '%d:%i' "/proc/$DAEMON_PID/fd/2")
assert_eq "$log_file" "$(jget "$RESULT" .stdio1)" "fd 1 is the daemon's stderr (its log)"
assert_eq "$log_file" "$(jget "$RESULT" .stdio2)" "fd 2 is the daemon's stderr (its log)"
escape_finish
