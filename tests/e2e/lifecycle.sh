#!/usr/bin/env bash
# lifecycle.sh: SIGTERM, restart on the same data, SIGHUP, graceful stop
# with a connection open, detaching, and the crash handler.
. "$top_srcdir/tests/e2e/lib.sh"

CONF_EXTRA='[http]
request_timeout = 2s'
pick_port
write_config
start_daemon

# -- running: ready, SIGHUP --
http GET "$(tcp_url /readyz)"
assert_eq 200 "$CODE" "/readyz is 200 while running"
assert_eq ready "$BODY" "/readyz says ready"
run ak token create --name lifecycle
assert_status 0 "$RC" "akctl token create exits 0"
secret=$(printf '%s\n' "$OUT" | sed -n 's/^secret[[:space:]]*//p')
[ -n "$secret" ] || fail "no secret in: $OUT"

pid=$DAEMON_PID
kill -HUP "$pid"
for i in $(seq 1 100); do
	grep -q 'SIGHUP: logs reopened' "$LOG" && break
	sleep 0.05
done
grep -q 'SIGHUP: logs reopened' "$LOG" || fail "no 'SIGHUP: logs reopened' in the log"
ok "SIGHUP: the log says logs reopened"
kill -0 "$pid" 2>/dev/null || fail "the daemon died on SIGHUP"
ok "SIGHUP keeps the daemon running"
run ak status
assert_status 0 "$RC" "akctl status exits 0 after SIGHUP"
assert_contains "$OUT" "pid $pid," "same daemon after SIGHUP"

# -- SIGTERM: STOPPING=1, exit 0, socket removed --
stop_daemon TERM
assert_status 0 "$STOP_STATUS" "SIGTERM: autokittehd exits 0"
wait_notify STOPPING=1 1 2 || fail "no STOPPING=1 on NOTIFY_SOCKET"
ok "SIGTERM: STOPPING=1 arrived on NOTIFY_SOCKET"
[ ! -e "$SOCK" ] || fail "the socket file $SOCK is still there after exit"
ok "SIGTERM: the socket file is removed"
grep -q 'SIGTERM: stopping' "$LOG" || fail "the log does not say 'SIGTERM: stopping'"
ok "SIGTERM: the log says stopping"
run ak status
assert_status 2 "$RC" "akctl status exits 2 once the daemon is gone"

# -- restart on the same data directory --
start_daemon
ok "restart on the same data_dir: READY=1 again"
assert_eq 2 "$(notify_count READY=1)" "two READY=1 in all"
run ak status
assert_status 0 "$RC" "akctl status exits 0 after the restart"
assert_match "$OUT" "schema [1-9][0-9]*," "the schema is preserved"
if grep -q 'migrated from version 0' "$LOG" &&
    [ "$(grep -c 'migrated from version' "$LOG")" != 1 ]; then
	fail "the restart migrated the schema again"
fi
ok "the restart did not migrate again"
http POST "$(tcp_url /autokitteh.system.v1.SystemService/Status)" \
    -H 'Content-Type: application/json' -d '{}' -H "Authorization: Bearer $secret"
assert_eq 200 "$CODE" "a token created before the restart works after it"
run ak token list
assert_match "$OUT" ' lifecycle ' "the token is listed after the restart"

# -- SIGINT stops gracefully too --
stop_daemon INT
assert_status 0 "$STOP_STATUS" "SIGINT: autokittehd exits 0"
grep -q 'SIGINT: stopping' "$LOG" || fail "the log does not say 'SIGINT: stopping'"
ok "SIGINT: the log says stopping"

# -- graceful stop with a connection whose request is incomplete --
start_daemon
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /healthz HTTP/1.1\r\n' >&3
sleep 0.2
printf 'Host: x\r\n' >&3
start=$(date +%s%N)
stop_daemon TERM
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
exec 3<&- 3>&-
assert_status 0 "$STOP_STATUS" "SIGTERM with an incomplete request open: exit 0"
[ "$elapsed" -lt 4000 ] ||
    fail "stopping took ${elapsed} ms, more than request_timeout (2s) + 2 s"
ok "stopped within request_timeout + 2 s (${elapsed} ms)"

# -- detaching: the parent returns once the daemon is ready --
run timeout 15 "$AUTOKITTEHD" -f "$CONF"
assert_status 0 "$RC" "autokittehd without -d exits 0"
run ak status
assert_status 0 "$RC" "akctl status succeeds right after the parent returns"
dpid=$(head -n1 "$DATA/autokittehd.lock")
case $dpid in ''|*[!0-9]*) fail "no pid in $DATA/autokittehd.lock: '$dpid'" ;; esac
ok "the lock file holds the detached daemon's pid ($dpid)"
assert_contains "$OUT" "pid $dpid," "akctl status shows the same pid"
run ak status -j
assert_contains "$OUT" "\"pid\": $dpid," "akctl status -j shows the same pid"
sid=$(ps -o sid= -p "$dpid" | tr -d ' ')
assert_eq "$dpid" "$sid" "the detached daemon leads its own session"
kill -TERM "$dpid"
wait_gone "$dpid" 10 || fail "the detached daemon did not stop on SIGTERM"
ok "the detached daemon stops on SIGTERM"
[ ! -e "$SOCK" ] || fail "the detached daemon left its socket behind"
ok "the detached daemon removed its socket"

# -- the crash handler --
start_daemon
kill -SEGV "$DAEMON_PID"
STOP_STATUS=0
wait "$DAEMON_PID" 2>/dev/null || STOP_STATUS=$?
DAEMON_PID=
assert_status 139 "$STOP_STATUS" "SIGSEGV: the process dies by signal 11"
grep -q 'crashed: signal 11' "$LOG" || fail "no 'crashed: signal 11' in the log"
ok "SIGSEGV: the log says crashed: signal 11"
grep -q 'backtrace' "$LOG" || fail "no backtrace in the log"
ok "SIGSEGV: the log has a backtrace"
grep -q "autokittehd $("$AUTOKITTEHD" -V | cut -d' ' -f2) crashed" "$LOG" ||
    fail "the crash report does not carry the version"
ok "SIGSEGV: the crash report carries the version"

# After a crash the stale socket and the lock do not stop a restart.
start_daemon
ok "restart after a crash: READY=1"
run ak status
assert_status 0 "$RC" "akctl status exits 0 after restarting from a crash"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
