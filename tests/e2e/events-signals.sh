#!/usr/bin/env bash
# events-signals.sh: the waiting syscalls of durable sessions
# (docs/DURABILITY.md): subscribe / next_event on a webhook trigger (with
# the wait longer than workers.evict_after, so the event resumes the
# session on a fresh worker), its timeout and its event_type filter; a
# child session signalling its parent when it ends; signal / next_signal
# between two sessions; the error sentences of session-events.c and
# session-signal.c; a session waiting in next_event across a restart.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[workers]
evict_after = 1s
session_timeout = 40s'
write_config
start_daemon

P=$T/events
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: events
  triggers:
    - name: start
      type: webhook
      call: program.py:waiter
    - name: feed
      type: webhook
    - name: short
      type: webhook
      call: program.py:short_wait
    - name: filtered
      type: webhook
      call: program.py:filtered
    - name: parent
      type: webhook
      call: program.py:parent
    - name: ping_wait
      type: webhook
      call: program.py:ping_wait
    - name: ping_send
      type: webhook
      call: program.py:ping_send
    - name: bad_sub
      type: webhook
      call: program.py:bad_sub
    - name: bad_source
      type: webhook
      call: program.py:bad_source
    - name: bad_signal
      type: webhook
      call: program.py:bad_signal
EOF
cat >"$P/program.py" <<'EOF'
import autokitteh


def waiter(event):
    sid = autokitteh.subscribe("feed")
    print("subscribed", sid)
    data = autokitteh.next_event(sid, timeout=20)
    if data is None:
        return "timeout"
    return {"json": data.body.json, "method": data.method}


def short_wait(event):
    sid = autokitteh.subscribe("feed")
    print("subscribed", sid)
    data = autokitteh.next_event(sid, timeout=2)
    return "timeout" if data is None else "event"


def filtered(event):
    sid = autokitteh.subscribe("feed", filter='event_type == "get"')
    print("subscribed", sid)
    ev = autokitteh.next_event(sid, timeout=20, full=True)
    if ev is None:
        return "timeout"
    return {"type": ev.event_type, "query": ev.data.url.query}


def child(event):
    return event.data.x * 21


def parent(event):
    c = autokitteh.start("program.py:child", {"x": 2})
    print("child", c)
    sig = autokitteh.next_signal(c, timeout=30)
    if sig is None:
        return "timeout"
    return sig.payload


def ping_wait(event, session_id):
    print("id", session_id)
    sig = autokitteh.next_signal("ping", timeout=30)
    if sig is None:
        return "timeout"
    return {"name": sig.name, "payload": sig.payload}


def ping_send(event):
    autokitteh.signal(event.data.body.json["id"], "ping", {"k": 1})
    return "sent"


def bad_sub(event):
    return autokitteh.next_event("sub_nosuchsubscription", timeout=1)


def bad_source(event):
    return autokitteh.subscribe("no_such_trigger")


def bad_signal(event):
    autokitteh.signal(event.data.body.json["id"], "ping", {"k": 1})
    return "sent"
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0 (a webhook trigger without call is allowed)"
deploy_out=$OUT
FEED=$(OUT=$deploy_out webhook_url feed)
[ -n "$FEED" ] || fail "the deploy output has no URL for the feed webhook:
$deploy_out"

start() { hook_start "$@"; }	# TRIGGER [curl args...]: sets $ses, $evt

has_prints() {
	[ -n "$(ak session prints "$1")" ]
}

no_busy_worker() {
	[ "$(ak status -j | jq -r .workers.busy)" = 0 ]
}

# Failures that do not stop the test (so that what follows still runs);
# reported, and failing the test, at the end.
LATER=
fail_later() {
	echo "not ok - $*"
	LATER="$LATER
  $*"
}

# check_no_session EVENT_ID: an event of the feed trigger (no call) starts
# no session: it only goes to subscribers.
check_no_session() {
	local s

	s=$(session_of "$1")
	if [ -z "$s" ]; then
		ok "the feed event $1 starts no session (its trigger has no call)"
	else
		fail_later "the feed event $1 started session $s ($(ak session log "$s" |
		    sed -n 's/.*STATE  *//p' | tail -n1)) though its trigger has no call"
	fi
}

# watch [akctl session watch args...]: run it ($RC $OUT $ERR), with its
# standard error shown when it is not 0.
watch() {
	run ak session watch "$@"
	[ "$RC" = 0 ] || echo "# akctl session watch $*: exit $RC: $ERR"
}

ms_since() {
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# -- 1. subscribe + next_event, resumed on a new worker by the event --
start start
w1=$ses
wait_until 15 has_prints "$w1" || fail "the waiter printed nothing"
assert_match "$(ak session prints "$w1")" '^subscribed sub_[0-9a-z]+$' \
    "the waiter printed its subscription id"
sleep 1.5
assert_eq running "$(session_state "$w1")" "the waiter is running, waiting in next_event"
wait_until 5 no_busy_worker ||
    fail "a session waiting longer than evict_after still holds a worker"
ok "status -j: no busy worker while the waiter waits (> evict_after)"
hook POST "$FEED" -H 'Content-Type: application/json' -d '{"n": 7}'
assert_eq 202 "$CODE" "POST to the feed webhook (no call) answers 202"
feed_event=$EVENT_ID
check_no_session "$feed_event"
watch -t 20s "$w1"
assert_status 0 "$RC" "the waiter completes after the event"
assert_eq '{"json":{"n":7},"method":"POST"}' "$(session_result "$w1" | jq -c .)" \
    "the waiter returns the event's JSON body {\"n\": 7}"
run ak session log "$w1"
assert_eq 1 "$(printf '%s\n' "$OUT" | grep -c 'subscribed sub_')" \
    "the replay on the new worker did not print again"

# -- 2. next_event timeout --
t0=$(date +%s%N)
start short
watch -t 20s "$ses"
assert_status 0 "$RC" "the short waiter completes"
el=$(ms_since "$t0")
assert_eq '"timeout"' "$(session_result "$ses")" \
    "next_event(timeout=2) with no event returns None"
[ "$el" -ge 1900 ] && [ "$el" -le 6000 ] ||
    fail "the 2 s timeout ended after $el ms"
ok "the 2 s next_event timeout ended after $el ms"

# -- 3. filter event_type == "get" --
start filtered
f=$ses
wait_until 15 has_prints "$f" || fail "the filtered waiter printed nothing"
hook POST "$FEED" -H 'Content-Type: application/json' -d '{"n": 1}'
assert_eq 202 "$CODE" "POST to feed answers 202"
check_no_session "$EVENT_ID"
sleep 1
assert_eq running "$(session_state "$f")" "a POST is not delivered to a get filter"
hook GET "$FEED?q=yes"
assert_eq 202 "$CODE" "GET to feed answers 202"
check_no_session "$EVENT_ID"
watch -t 20s "$f"
assert_status 0 "$RC" "the filtered waiter completes after the GET"
assert_eq '{"type":"get","query":{"q":"yes"}}' "$(session_result "$f" | jq -c .)" \
    "the filtered waiter got the GET (full=True event)"

# -- 4. child session + its completion signal --
start parent
par=$ses
watch -t 30s "$par"
assert_status 0 "$RC" "the parent completes"
assert_eq '{"completed":true,"value":42}' "$(session_result "$par" | jq -c .)" \
    "the parent's next_signal(child) payload is {completed: true, value: 42}"
child=$(ak session prints "$par" | sed -n 's/^child //p')
[ -n "$child" ] || fail "the parent printed no child id"
ak session list -j >"$T/list.json"
assert_eq "SESSION_STATE_TYPE_COMPLETED $par program.py:child" \
    "$(jq -r --arg c "$child" '.sessions[] | select(.session_id == $c) |
    "\(.state) \(.parent_session_id) \(.entrypoint.path):\(.entrypoint.name)"' "$T/list.json")" \
    "session list: the child $child completed, its parent is $par"
assert_eq 42 "$(session_result "$child")" "the child returned 42"
run ak session log "$par"
assert_eq "start next_signal" \
    "$(printf '%s\n' "$OUT" | awk '$2 == "CALL_SPEC" { printf "%s%s", s, $3; s = " " }')" \
    "the parent's log has the CALL_SPECs of start and next_signal"

# -- 5. signal between sessions --
start ping_wait
a=$ses
wait_until 15 has_prints "$a" || fail "the ping waiter printed nothing"
assert_eq "id $a" "$(ak session prints "$a")" \
    "the ping waiter printed its own id (the session_id keyword argument)"
sleep 1.2
start ping_send -H 'Content-Type: application/json' -d "{\"id\": \"$a\"}"
b=$ses
watch -t 20s "$b"
assert_status 0 "$RC" "the sender completes"
assert_eq '"sent"' "$(session_result "$b")" "the sender returns \"sent\""
watch -t 20s "$a"
assert_status 0 "$RC" "the ping waiter completes after the signal"
assert_eq '{"name":"ping","payload":{"k":1}}' "$(session_result "$a" | jq -c .)" \
    "the ping waiter got the signal ping with payload {\"k\": 1}"

# -- 6. the daemon's error sentences --
# expect_error TRIGGER SENTENCE WHAT [curl args...]: the session the
# trigger starts ends in ERROR with AutoKittehError(SENTENCE).
expect_error() {
	local t=$1 sentence=$2 what=$3

	shift 3
	start "$t" "$@"
	run ak session watch -t 20s "$ses"
	assert_status 1 "$RC" "$what: session watch exits 1"
	assert_eq error "$(session_state "$ses")" "$what: the session is in error"
	run ak session log "$ses"
	[ "$RC" = 0 ] || echo "# akctl session log $ses: exit $RC: $ERR"
	assert_contains "$OUT" "AutoKittehError" "$what: AutoKittehError is raised"
	assert_contains "$OUT" "$sentence" "$what: the error says \"$sentence\""
}
expect_error bad_sub \
    "next_event needs the ids of this session's active subscriptions (from subscribe)" \
    "next_event on an unknown subscription"
expect_error bad_source \
    'the project has no trigger named "no_such_trigger" to subscribe to' \
    "subscribe to a trigger that does not exist"
expect_error bad_signal "signal: session $b has ended" \
    "signal to an ended session" \
    -H 'Content-Type: application/json' -d "{\"id\": \"$b\"}"
expect_error bad_signal "signal: there is no session ses_00000000000000000000000000" \
    "signal to a session that does not exist" \
    -H 'Content-Type: application/json' -d '{"id": "ses_00000000000000000000000000"}'

# -- 7. a session waiting in next_event across a daemon restart --
start start
w7=$ses
wait_until 15 has_prints "$w7" || fail "the waiter printed nothing"
sleep 1.5
wait_until 5 no_busy_worker ||
    fail "a session waiting longer than evict_after still holds a worker"
ok "the waiter holds no worker before the restart"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM while a session waits in next_event"
start_daemon
assert_eq running "$(session_state "$w7")" "after the restart the waiter is still running"
hook POST "$FEED" -H 'Content-Type: application/json' -d '{"n": 8, "after": "restart"}'
assert_eq 202 "$CODE" "POST to feed after the restart answers 202"
check_no_session "$EVENT_ID"
watch -t 20s "$w7"
assert_status 0 "$RC" "the waiter completes after the event that follows the restart"
assert_eq '{"json":{"n":8,"after":"restart"},"method":"POST"}' \
    "$(session_result "$w7" | jq -c .)" \
    "across the restart the waiter returns the event's body"

assert_healthy "at the end, the daemon"
run ak status -j
assert_eq 0 "$(jget "$OUT" .sessions.running)" "status -j: no session is left running"
assert_eq 0 "$(jget "$OUT" .workers.busy)" "status -j: no busy workers"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"

[ -z "$LATER" ] || fail "checks failed along the way:$LATER"
