#!/usr/bin/env bash
# schedules.sh: schedule triggers (sched.c, cron.c): "@every 1s" starts a
# session a second with a "tick" event while the project has an active
# deployment and none once it is deactivated; an invalid cron expression
# in the manifest is refused by akctl manifest validate with its position.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
write_config
start_daemon

P=$T/sched
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: sched
  triggers:
    - name: every_second
      schedule: "@every 1s"
      call: program.py:on_tick
EOF
cat >"$P/program.py" <<'EOF'
def on_tick(event):
    print("tick")
    return event.event_type
EOF

run_in "$P" ak manifest validate
assert_status 0 "$RC" "a manifest with a schedule trigger is valid"
assert_eq "autokitteh.yaml: valid" "$OUT" "validate says the manifest is valid"

deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
dep=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
[ -n "$dep" ] || fail "deploy printed no deployment: $OUT"

# -- ticks: at least two completed sessions within 3.5 s --
completed() {
	session_count -p sched -s completed
}
n=0
for _ in $(seq 1 35); do
	n=$(completed)
	[ "$n" -ge 2 ] && break
	sleep 0.1
done
[ "$n" -ge 2 ] && ok "two tick sessions completed within 3.5 s ($n)" ||
    fail "only $n tick sessions completed within 3.5 s: $(ak session list)"

ids=$(ak session list -j -p sched -s completed | jq -r '.sessions[].session_id')
for s in $ids; do
	assert_eq '"tick"' "$(session_result "$s")" "session $s returned \"tick\""
	assert_contains "$(ak session prints "$s")" tick "session $s printed tick"
done
first=$(printf '%s\n' $ids | head -n1)
ev=$(ak session get "$first" -j | jq -r '.session.event_id // .event_id // empty')
if [ -n "$ev" ]; then
	run ak event get "$ev" -j
	assert_status 0 "$RC" "akctl event get of the tick exits 0"
	assert_eq tick "$(jget "$OUT" '.event.event_type // .event_type')" \
	    "the event's type is tick"
	assert_eq 0 "$(jget "$OUT" '(.event.data // .data // {}) | length')" \
	    "the tick's data is empty"
fi

# -- no active deployment: ticks are skipped --
run ak deployment deactivate "$dep"
assert_status 0 "$RC" "deployment deactivate exits 0"
wait_until 10 sh -c "\"$AKCTL\" --socket \"$SOCK\" deployment get $dep | grep -Eq '^state +inactive'" ||
    fail "the deployment did not become inactive: $(ak deployment get "$dep")"
before=$(session_count -p sched)
sleep 2
assert_eq "$before" "$(session_count -p sched)" \
    "no session starts in the 2 s after deactivation"
assert_eq 0 "$(session_count -p sched -s running)" "no tick session is running"

# -- a bad cron expression is refused with its position --
B=$T/bad
mkdir -p "$B"
cat >"$B/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: badsched
  triggers:
    - name: nightly
      schedule: "61 6 * * *"
      call: program.py:on_tick
EOF
cp "$P/program.py" "$B/"
run_in "$B" ak manifest validate
assert_status 1 "$RC" "validate of a bad cron expression exits 1"
assert_contains "$ERR" "autokitteh.yaml:5:7: project.triggers[0].schedule: trigger nightly: invalid schedule \"61 6 * * *\": minute field: 61 is out of range 0-59" \
    "validate names the trigger, its position and the field"
for bad in '* * * *|expected 5 fields, got 4' \
    '@every|@every needs a duration such as 15m or 1h30m' \
    '0 0 * * FUN|day-of-week field: "FUN" is not a number or a day name (SUN-SAT)'; do
	expr=${bad%%|*}
	want=${bad#*|}
	sed -i "s/schedule: .*/schedule: \"$expr\"/" "$B/autokitteh.yaml"
	run_in "$B" ak manifest validate
	assert_status 1 "$RC" "validate of \"$expr\" exits 1"
	assert_contains "$ERR" "$want" "validate of \"$expr\" says why"
done
run ak project get badsched
[ "$RC" -ne 0 ] && ok "the invalid manifest created no project" ||
    fail "validate created project badsched"

assert_healthy "at the end, the daemon"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
