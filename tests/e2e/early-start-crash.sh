#!/usr/bin/env bash
# early-start-crash.sh: a webhook's session is handed to its worker before
# the batch that saves it commits (RUN with go, docs/DURABILITY.md), and
# its code runs only on GO, which the commit sends. Killed between the two
# at the failpoints of src/failpoint.h, autokittehd must lose nothing and
# run nothing early. The daemon is first frozen there (name:1:stop, so
# SIGSTOP) for a second, during which the worker must not even import the
# project's module, whose first line writes to a ledger; then killed:
#   - early-run-before-commit (RUN{go} sent, batch not committed): the
#     code never runs, the worker dies with the daemon, and after a restart
#     there is no session, since its event was never saved;
#   - after-commit-before-go (committed, GO not sent): the code has not run
#     when the daemon dies, the worker dies with it, and recovery runs the
#     session exactly once.
# Needs a build with failpoints (configure --enable-failpoints, the default
# with --enable-asan as in CI); skips otherwise.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
L=$T/ledger
CONF_EXTRA="[workers]
pool_size = 2
writable_paths = $L"
write_config
start_daemon

# Workers run as other uids when the daemon is root: a world-writable
# ledger in a directory they can reach.
chmod 0711 "$T"
mkdir -p "$L"
chmod 0755 "$L"
: >"$L/ran"
chmod 0666 "$L/ran"

P=$T/early
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: early
  vars:
    - name: LEDGER
      value: "$L/ran"
  triggers:
    - name: hook
      type: webhook
      call: program.py:on_hook
EOF
cat >"$P/program.py" <<'EOF'
import os

# The first of the project's code a worker runs, at import, before any
# round trip to the daemon (the handler's own run waits for an ACK).
if "LEDGER" in os.environ:
    _fd = os.open(os.environ["LEDGER"], os.O_WRONLY | os.O_APPEND)
    os.write(_fd, b"imported\n")
    os.close(_fd)


def on_hook(event):
    # One line per run of the handler, appended.
    n = event.data.body.json["n"]
    fd = os.open(os.environ["LEDGER"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"ran {n}\n".encode())
    finally:
        os.close(fd)
    return n
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
url=$(webhook_url hook)
stop_daemon
: >"$L/ran"	# whatever a build may have run

# descendants PID: every process below PID.
descendants() {
	ps -e -o pid=,ppid= | awk -v top="$1" '
	    { kids[$2] = kids[$2] " " $1 }
	    END {
		todo[1] = top; n = 1
		while (n > 0) {
			p = todo[n--]
			k = split(kids[p], c, " ")
			for (i = 1; i <= k; i++) { print c[i]; todo[++n] = c[i] }
		}
	    }'
}

ready_workers() {
	[ "$(ak status -j | jq -r '.workers.ready // 0')" -ge 1 ]
}

stopped_at() {	# stopped_at FAILPOINT: the daemon froze there
	grep -q "failpoint $1 fired (hit 1): raising SIGSTOP" "$LOG" &&
	    grep -q '^State:[[:space:]]*T' "/proc/$DAEMON_PID/status"
}

# crash_at FAILPOINT N: start the daemon with FAILPOINT armed to stop it,
# wait for a READY worker (the early start needs one), POST {"n": N} to
# the webhook; once the daemon is frozen at the failpoint, check for a
# second that nothing of the project ran, then kill -9 it and check that
# none of its processes outlived it by 2 s.
crash_at() {
	local fp=$1 n=$2 kids p

	export AK_FAILPOINTS="$fp:1:stop"
	start_daemon
	unset AK_FAILPOINTS
	if grep -q "this build has no failpoints" "$LOG"; then
		stop_daemon
		skip "this build has no failpoints (configure --enable-failpoints)"
	fi
	wait_until 20 ready_workers || fail "no worker became READY within 20 s"
	kids=$(descendants "$DAEMON_PID")
	curl -sS -o /dev/null --max-time 30 -H 'Content-Type: application/json' \
	    -d "{\"n\": $n}" "$url" 2>/dev/null &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	wait_until 20 stopped_at "$fp" ||
	    fail "$fp: the POST did not reach the failpoint (no early start?)"
	ok "$fp: the POST reached the failpoint (the early start was taken)"
	sleep 1
	assert_eq "" "$(cat "$L/ran")" \
	    "$fp: frozen there for 1 s, the worker ran none of the project's code"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
	for p in $kids; do
		wait_gone "$p" 2 || fail "$fp: process $p ($(cat /proc/$p/comm \
		    2>/dev/null)) outlived autokittehd by 2 s"
	done
	ok "$fp: the daemon's $(echo $kids | wc -w) processes died with it"
	check_sanitizers
}

# -- RUN{go} sent, its batch not committed --
crash_at early-run-before-commit 1
assert_eq "" "$(cat "$L/ran")" "early-run-before-commit: nothing ran after the kill either"
start_daemon
assert_eq 0 "$(session_count)" "after a restart there is no session: the event was never saved"
stop_daemon
assert_eq "" "$(cat "$L/ran")" "and nothing of the project ever ran"

# -- committed, GO not sent --
crash_at after-commit-before-go 2
assert_eq "" "$(cat "$L/ran")" "after-commit-before-go: nothing had run at the death"
start_daemon
completed() {
	[ "$(session_count -s completed)" = 1 ]
}
wait_until 30 completed ||
    fail "the committed session did not complete after the restart: $(ak session list)"
ses=$(ak session list -j | jq -r '.sessions[0].session_id')
assert_eq "imported
ran 2" "$(cat "$L/ran")" "recovery ran the project once, on a new worker"
assert_eq 2 "$(session_result "$ses")" "the session's result is its event's n"
assert_eq 1 "$(session_count)" "one session in all"

# -- and without a failpoint the early start runs the handler once --
wait_until 20 ready_workers || fail "no worker became READY within 20 s"
hook_start_url() {
	hook POST "$url" -H 'Content-Type: application/json' -d '{"n": 3}'
	[ "$CODE" = 202 ] || fail "POST answered $CODE: $BODY"
}
hook_start_url
ran3() {
	grep -qx "ran 3" "$L/ran"
}
wait_until 20 ran3 || fail "the handler did not run for n=3"
assert_eq "imported
ran 2
imported
ran 3" "$(cat "$L/ran")" "a normal webhook runs its project once"
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"
