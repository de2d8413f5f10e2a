#!/usr/bin/env bash
# retention.sh: [sessions] retention (session-prune.c). With a retention
# of 3 s, finished sessions (completed, error, stopped) and their events
# disappear from akctl session list / get and event get a few seconds after
# they end, while a durable session sleeping through several prune passes is
# untouched and completes afterwards; it goes in its turn once it has been
# finished for the retention, not since it was created. Status, /metrics
# and the log report the passes. A bad retention value is refused.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

# -- bad values are refused with FILE:LINE: reason --
pick_port
CONF_EXTRA='[sessions]
retention = 30 days'
write_config
run "$AUTOKITTEHD" -n -f "$CONF"
assert_status 78 "$RC" "retention = 30 days is a configuration error"
assert_contains "$ERR" "$CONF:9: invalid value \"30 days\" for sessions.retention: expected a duration such as 12h, 30d or 1d12h, or off" \
    "the error names the line, the value and the syntax"

CONF_EXTRA='[workers]
evict_after = 1s
session_timeout = 60s

[sessions]
retention = 3s'
write_config
start_daemon

run ak config
assert_match "$OUT" '^retention = 3s$' "akctl config shows sessions.retention = 3s"
run ak status
assert_match "$OUT" '^retention +3s, [0-9]+ sessions and [0-9]+ events pruned since start' \
    "akctl status has a retention line"

P=$T/retention
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: retention
  triggers:
    - name: quick
      type: webhook
      call: program.py:on_quick
    - name: failing
      type: webhook
      call: program.py:on_failing
    - name: sleepy
      type: webhook
      call: program.py:on_sleepy
EOF
cat >"$P/program.py" <<'EOF'
import time


def on_quick(event):
    return "quick"


def on_failing(event):
    raise RuntimeError("failing on purpose")


def on_sleepy(event):
    time.sleep(15)
    return "slept"
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
deploy_out=$OUT

start() { hook_start "$@"; }	# TRIGGER [curl args...]: sets $ses, $evt

is_state() {	# ID STATE
	[ "$(session_state "$1")" = "$2" ]
}

is_gone() {	# SESSION_ID
	! ak session get "$1" >/dev/null 2>&1
}

# -- a durable session sleeps through the passes --
start sleepy
sleeper=$ses
sleeper_evt=$evt
wait_until 15 is_state "$sleeper" running ||
    fail "the sleepy session is not running: $(session_state "$sleeper")"

# -- finished sessions go, with their events --
finished=()
finished_evts=()
for i in 1 2 3 4 5; do
	start quick
	finished+=("$ses")
	finished_evts+=("$evt")
done
start failing
finished+=("$ses")
finished_evts+=("$evt")
start sleepy
wait_until 15 is_state "$ses" running ||
    fail "the second sleepy session is not running: $(session_state "$ses")"
run ak session stop -r "retention test" "$ses"
assert_status 0 "$RC" "akctl session stop of a sleeping session exits 0"
finished+=("$ses")
finished_evts+=("$evt")
for s in "${finished[@]::5}"; do
	run ak session watch -t 30s "$s"
	assert_status 0 "$RC" "quick session $s completes (akctl session watch)"
done
run ak session watch -t 30s "${finished[5]}"
[ "$RC" != 0 ] || fail "the failing session's watch exited 0"
ok "seven sessions ran (five complete, one fails, one is stopped)"

for s in "${finished[@]}"; do
	wait_until 20 is_gone "$s" ||
	    fail "session $s ($(session_state "$s")) was not pruned within 20 s"
done
ok "the seven finished sessions are pruned after the retention"
run ak session get "${finished[0]}"
assert_status 1 "$RC" "akctl session get of a pruned session exits 1"
for e in "${finished_evts[@]}"; do
	run ak event get "$e"
	[ "$RC" != 0 ] || fail "event $e of a pruned session is still there"
done
ok "their events are pruned too"
left=$(ak session list -j | jq -r --argjson ids \
    "$(printf '%s\n' "${finished[@]}" | jq -R . | jq -s .)" \
    '[.sessions[] | select(.session_id as $s | $ids | index($s))] | length')
assert_eq 0 "$left" "akctl session list lists none of them"

# The sleeper, older than the retention, has been through passes.
is_state "$sleeper" running ||
    fail "the sleeping session is $(session_state "$sleeper") after the prune (sleeps 15 s)"
ok "the sleeping durable session is untouched by the passes"
run ak event get "$sleeper_evt"
assert_status 0 "$RC" "the sleeping session's event is kept"
run ak session prints "$sleeper"
assert_status 0 "$RC" "the sleeping session's log is readable"

run ak session watch -t 40s "$sleeper"
assert_status 0 "$RC" "the sleeping session completes after the passes"
run ak session get -j "$sleeper"
assert_status 0 "$RC" "a just-finished session is still there"
assert_eq SESSION_STATE_TYPE_COMPLETED "$(jget "$OUT" .session.state)" \
    "the sleeping session completed"
assert_eq '"slept"' "$(session_result "$sleeper")" "its return value is intact"
wait_until 20 is_gone "$sleeper" ||
    fail "the finished sleeper was not pruned within 20 s of its end"
ok "the sleeper goes once it has been finished for the retention"

# -- operators see the passes --
run ak status -j
pruned=$(jget "$OUT" .retention.pruned_sessions)
[ "$pruned" -ge 8 ] || fail "status says $pruned sessions pruned, not at least 8"
ok "akctl status -j counts $pruned pruned sessions"
[ "$(jget "$OUT" .retention.pruned_events)" -ge 8 ] ||
    fail "status counts $(jget "$OUT" .retention.pruned_events) pruned events"
assert_match "$(jget "$OUT" .retention.last_pass_at)" '^20[0-9-]+T' \
    "status says when the last pass ran"
run ak status
assert_match "$OUT" "^retention +3s, $pruned sessions and [0-9]+ events pruned since start, last pass 20" \
    "akctl status prints the totals and the last pass"
http GET http://localhost/metrics --unix-socket "$SOCK"
assert_match "$BODY" "^autokitteh_sessions_pruned_total $pruned\$" \
    "/metrics has autokitteh_sessions_pruned_total"
assert_match "$BODY" '^autokitteh_prune_last_pass_timestamp_seconds [1-9][0-9]+$' \
    "/metrics has the last pass's time"
grep -qE 'info: session retention: deleted [0-9]+ sessions, [0-9]+ events and 0 deliveries older than 3s in [0-9]+ writes' "$LOG" ||
    fail "no info line for a prune pass in the log"
ok "the log has one info line per pass that deleted something"

assert_healthy
stop_daemon
assert_eq 0 "$STOP_STATUS" "the daemon stops cleanly"
