#!/usr/bin/env bash
# status.sh: readiness on NOTIFY_SOCKET, and akctl status, version and config.
. "$top_srcdir/tests/e2e/lib.sh"

start_daemon

# -- sd_notify: STATUS= progress lines, then READY=1 --
notes=$(cat "$NOTIFY_OUT")
assert_contains "$notes" "READY=1" "READY=1 arrived on NOTIFY_SOCKET"
first_status=$(grep -n '^STATUS=' "$NOTIFY_OUT" | head -n1 | cut -d: -f1)
ready_line=$(grep -n '^READY=1$' "$NOTIFY_OUT" | head -n1 | cut -d: -f1)
[ -n "$first_status" ] && [ "$first_status" -lt "$ready_line" ] ||
    fail "no STATUS= line before READY=1:
$notes"
ok "STATUS= lines arrive before READY=1"
assert_contains "$notes" "STATUS=opening and checking the store" \
    "STATUS= reports the store check"

# -- akctl status: text --
run ak status
assert_status 0 "$RC" "akctl status exits 0 when ready"
line() { printf '%s\n' "$OUT" | grep -E "^$1[[:space:]]" || true; }
l=$(line autokittehd)
assert_contains "$l" "pid $DAEMON_PID," "status: autokittehd line has the daemon's pid"
assert_contains "$l" "ready" "status: autokittehd line says ready"
assert_match "$l" '^autokittehd +[0-9]+\.[0-9]+\.[0-9]+' "status: autokittehd line has a version"
l=$(line store)
assert_contains "$l" "$DATA/autokitteh.db" "status: store line has the data dir path"
assert_match "$l" "schema [1-9][0-9]*," "status: store line has a schema version"
assert_contains "$l" "synchronous full" "status: store line has synchronous full"
l=$(line listeners)
assert_contains "$l" "tcp 127.0.0.1:$PORT" "status: listeners line has the TCP listener"
assert_contains "$l" "unix $SOCK" "status: listeners line has the Unix socket"
l=$(line sessions)
assert_match "$l" '^sessions +created 0, running 0, completed 0, error 0, stopped 0$' \
    "status: sessions line counts zero sessions"
assert_match "$OUT" '^projects +0$' "status: projects line"
assert_match "$OUT" '^deployments +active 0, testing 0, draining 0, inactive 0$' \
    "status: deployments line"

# -- akctl status -j: JSON --
run ak status -j
assert_status 0 "$RC" "akctl status -j exits 0"
json=$OUT
if command -v jq >/dev/null 2>&1; then
	printf '%s' "$json" | jq -e . >/dev/null || fail "status -j is not JSON: $json"
	keys=$(printf '%s' "$json" | jq -r 'keys_unsorted | join(" ")')
	assert_eq "version pid uptime_seconds ready store listeners projects deployments sessions workers sandbox retention" \
	    "$keys" "status -j has exactly the documented keys, in order"
	assert_eq "$DAEMON_PID" "$(printf '%s' "$json" | jq -r .pid)" "status -j pid"
	assert_eq "true" "$(printf '%s' "$json" | jq -r .ready)" "status -j ready"
	assert_match "$(printf '%s' "$json" | jq -r .store.schema_version)" \
	    '^[1-9][0-9]*$' "status -j store.schema_version"
	assert_eq "tcp 127.0.0.1:$PORT unix $SOCK" \
	    "$(printf '%s' "$json" | jq -r '[.listeners[] | .kind, .address] | join(" ")')" \
	    "status -j listeners"
	assert_eq "best-effort on" "$(printf '%s' "$json" | jq -r '"\(.sandbox.mode) \(.sandbox.network)"')" \
	    "status -j sandbox: mode best-effort, network on"
	assert_eq "user_namespace pid_namespace mount_namespace ipc_namespace uts_namespace network_namespace tmpfs_tmpdir landlock seccomp cgroup_pids cgroup_memory" \
	    "$(printf '%s' "$json" | jq -r '[.sandbox.mechanisms[] | .name] | join(" ")')" \
	    "status -j sandbox: every mechanism, in order"
	assert_eq 0 "$(printf '%s' "$json" | jq '[.sandbox.mechanisms[] | select(.state | IN("enforced", "missing", "off") | not)] | length')" \
	    "status -j sandbox: each is enforced, missing or off"
	assert_eq "30d 0" "$(printf '%s' "$json" | jq -r '"\(.retention.retention) \(.retention.pruned_sessions)"')" \
	    "status -j retention: the default 30d, nothing pruned yet"
elif [ -x /usr/bin/python3 ]; then
	printf '%s' "$json" | /usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)' ||
	    fail "status -j is not JSON: $json"
	ok "status -j parses as JSON"
fi
assert_contains "$json" '"ready": true' "status -j: \"ready\": true"
assert_match "$json" '"uptime_seconds": [0-9]+' "status -j: uptime_seconds is a number"
assert_contains "$json" "\"pid\": $DAEMON_PID," "status -j: pid"
for k in version pid uptime_seconds ready store listeners projects \
    deployments sessions workers sandbox retention; do
	case $json in
	*"\"$k\":"*) ;;
	*) fail "status -j lacks the key \"$k\": $json" ;;
	esac
done
ok "status -j has every documented key"
# -j is also accepted before the command.
run "$AKCTL" -j --socket "$SOCK" status
assert_status 0 "$RC" "akctl -j status (option first) exits 0"
assert_contains "$OUT" '"ready": true' "akctl -j status prints JSON"

# -- akctl version --
run ak version
assert_status 0 "$RC" "akctl version exits 0"
assert_match "$OUT" '^akctl [0-9]+\.[0-9]+\.[0-9]+' "akctl version prints akctl's version"
assert_match "$OUT" '^autokittehd [0-9]+\.[0-9]+\.[0-9]+' "akctl version prints the daemon's version"
daemon_v=$("$AUTOKITTEHD" -V)
assert_contains "$OUT" "$daemon_v" "akctl version matches autokittehd -V"

# -- akctl config --
run ak config
assert_status 0 "$RC" "akctl config exits 0"
assert_contains "$OUT" "$CONF" "akctl config names the config file"
assert_match "$OUT" "^listen = 127\\.0\\.0\\.1:$PORT\$" "akctl config: listen = 127.0.0.1:$PORT"
assert_match "$OUT" "^data_dir = $DATA\$" "akctl config: data_dir"
assert_match "$OUT" '^\[http\]$' "akctl config: [http] section"
assert_match "$OUT" '^# [(]default[)] request_timeout = 30s$' "akctl config: request_timeout default, commented out"
effective=$OUT

# -- a missing socket --
run "$AKCTL" --socket "$T/nope.sock" status
assert_status 2 "$RC" "akctl status against a missing socket exits 2"
assert_eq "akctl: autokittehd is not running (no socket at $T/nope.sock)" "$ERR" \
    "akctl names the missing socket"
run env AKCTL_SOCKET="$T/nope.sock" "$AKCTL" version
assert_status 2 "$RC" "akctl version with AKCTL_SOCKET missing exits 2"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"

# -- akctl config prints "key = value lines in the format of
# autokitteh.conf(5)" (akctl(1)): the daemon must accept it back. --
printf '%s\n' "$effective" >"$T/effective.conf"
run "$AUTOKITTEHD" -n -f "$T/effective.conf"
[ "$RC" = 0 ] || fail "the output of akctl config is not a valid configuration file: $ERR"
ok "akctl config output is a valid configuration file"
