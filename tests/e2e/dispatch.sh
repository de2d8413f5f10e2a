#!/usr/bin/env bash
# dispatch.sh: events dispatched by hand (DispatcherService, akctl event
# dispatch|redispatch|save), TESTING deployments that get only the events
# that name them, trigger filters, manual session start and restart with
# inputs, akctl trigger create|delete and akctl event verify-filter.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

start_daemon

P=$T/dispatch
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: dispatch
  triggers:
    - name: hook
      type: webhook
      call: program.py:on_event
EOF
cat >"$P/program.py" <<'EOF'
def on_event(event):
    return dict(event.data)


def manual(event):
    print("name", event.data.name)
    return event.data.name
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
DEP_A=$(ak deployment list -p dispatch -s active -j |
    jq -r '.deployments[0].deployment_id')
BUILD=$(ak deployment list -p dispatch -s active -j |
    jq -r '.deployments[0].build_id')
TRG=$(ak trigger list -p dispatch -j |
    jq -r '.triggers[] | select(.name == "hook") | .trigger_id')
[ -n "$TRG" ] && [ "$DEP_A" != null ] || fail "no trigger or deployment"

# session_dep ID: the deployment a session runs on.
session_dep() {
	ak session get -j "$1" | jq -r '.session.deployment_id'
}
completed() {
	[ "$(session_state "$1")" = completed ]
}

# -- Dispatch to a trigger: one session --
run ak event dispatch -t "$TRG" -e custom -d k=1
assert_status 0 "$RC" "akctl event dispatch exits 0"
EV1=$OUT
assert_match "$EV1" '^evt_[0-9a-z]{26}$' "dispatch prints the event ID"
assert_eq 1 "$(session_count --event-id "$EV1")" "the dispatch started one session"
S1=$(session_of "$EV1")
wait_until 30 completed "$S1" || fail "session $S1 did not complete"
assert_eq '{"k":1}' "$(session_result "$S1")" \
    "the handler sees the dispatched data"
assert_eq "$DEP_A" "$(session_dep "$S1")" "the session runs on the ACTIVE deployment"
run ak event get "$EV1"
assert_contains "$OUT" "custom" "the dispatched event is stored with its type"

run ak event dispatch -t "$TRG" -e custom k=2 who='"cat"'
S=$(session_of "$OUT")
wait_until 30 completed "$S" || fail "session $S did not complete"
assert_eq '{"k":2,"who":"cat"}' "$(session_result "$S")" \
    "KEY=VALUE arguments add data fields"

# -- Redispatch: a new event, a new session --
run ak event redispatch "$EV1"
assert_status 0 "$RC" "akctl event redispatch exits 0"
EV2=$OUT
[ "$EV2" != "$EV1" ] || fail "redispatch reused the event ID"
ok "redispatch makes a new event ID"
S2=$(session_of "$EV2")
[ -n "$S2" ] && [ "$S2" != "$S1" ] || fail "redispatch started no new session"
ok "redispatch starts a new session"
wait_until 30 completed "$S2" || fail "session $S2 did not complete"
assert_eq '{"k":1}' "$(session_result "$S2")" "the redispatched event has the same data"

# -- Save: stored, not dispatched --
run ak event save -t "$TRG" -e saved -d x=1
assert_status 0 "$RC" "akctl event save exits 0"
sleep 0.3
assert_eq 0 "$(session_count --event-id "$OUT")" "a saved event starts no session"

# -- TESTING deployments get only the events that name them --
run ak deployment create -p dispatch -b "$BUILD"
assert_status 0 "$RC" "a second deployment of the same build"
DEP_B=$(printf '%s\n' "$OUT" | grep -o 'dep_[0-9a-z]*' | head -n1)
run ak deployment test "$DEP_B"
assert_status 0 "$RC" "deployment B goes TESTING"
run ak event dispatch -t "$TRG" -e custom -d k=3
EV=$OUT
assert_eq 1 "$(session_count --event-id "$EV")" "an unnamed dispatch starts one session"
assert_eq "$DEP_A" "$(session_dep "$(session_of "$EV")")" \
    "an unnamed dispatch goes to the ACTIVE deployment, not the TESTING one"
run ak event dispatch -t "$TRG" -e custom -d k=4 --deployment "$DEP_B"
assert_status 0 "$RC" "a dispatch naming the TESTING deployment exits 0"
EV=$OUT
assert_eq 1 "$(session_count --event-id "$EV")" "a named dispatch starts one session"
S=$(session_of "$EV")
assert_eq "$DEP_B" "$(session_dep "$S")" "a named dispatch goes to the TESTING deployment only"
wait_until 30 completed "$S" || fail "session $S on B did not complete"
run ak deployment deactivate "$DEP_B"
run ak event dispatch -t "$TRG" -e custom --deployment "$DEP_B"
assert_status 1 "$RC" "a dispatch naming an inactive deployment fails"
assert_contains "$ERR" "ACTIVE or TESTING" "the error says which deployments take events"

# -- trigger create / delete, filters --
run ak trigger create -p dispatch -n filt -l program.py:on_event -w -f 'data.k == 2'
assert_status 0 "$RC" "akctl trigger create exits 0"
FILT=$(printf '%s\n' "$OUT" | head -n1)
assert_match "$FILT" '^trg_[0-9a-z]{26}$' "trigger create prints the ID"
assert_contains "$OUT" "/webhooks/" "and the webhook's URL"
run ak trigger get "$FILT"
assert_contains "$OUT" "data.k == 2" "the filter is stored"
run ak event dispatch -t "$FILT" -e custom -d k=1
assert_eq 0 "$(session_count --event-id "$OUT")" "a false filter starts no session"
run ak event dispatch -t "$FILT" -e custom -d k=2
assert_eq 1 "$(session_count --event-id "$OUT")" "a true filter starts a session"
run ak trigger create -p dispatch -n filt -l program.py:on_event -w
assert_status 1 "$RC" "a second trigger of the same name is refused"
assert_contains "$ERR" "already has a trigger named filt" "and says why"
run ak trigger create -p dispatch -n bad -l program.py:on_event -w -f 'data.k =='
assert_status 1 "$RC" "a trigger with a filter that does not parse is refused"
run ak trigger create -p dispatch -n typed -l program.py:on_event -w -E post
assert_status 0 "$RC" "a trigger with an event type"
TYPED=$(printf '%s\n' "$OUT" | head -n1)
run ak event dispatch -t "$TYPED" -e get
assert_eq 0 "$(session_count --event-id "$OUT")" "another event type starts no session"
run ak trigger delete "$FILT"
assert_status 0 "$RC" "akctl trigger delete exits 0"
run ak trigger get "$FILT"
assert_status 1 "$RC" "the deleted trigger is gone"
run ak event dispatch -t "$FILT" -e custom
assert_status 1 "$RC" "a dispatch to a deleted trigger fails (not_found)"
ak trigger delete "$TYPED" >/dev/null

# -- verify-filter --
run ak event verify-filter 'data.k == 1 && event_type == "post"'
assert_status 0 "$RC" "verify-filter accepts a good filter"
assert_eq ok "$OUT" "and prints ok"
run ak event verify-filter 'data.k =='
assert_status 1 "$RC" "verify-filter refuses a bad filter"
[ -n "$ERR" ] || fail "verify-filter printed no reason"
ok "verify-filter says why"

# -- session start / restart --
run ak session start -p dispatch -e program.py:manual -I name='"cat"' -w
assert_status 0 "$RC" "akctl session start -w exits 0 when it completes"
M1=$(printf '%s\n' "$OUT" | head -n1)
assert_match "$M1" '^ses_[0-9a-z]{26}$' "session start prints the session ID"
assert_contains "$OUT" "completed" "and, with -w, its final state"
assert_eq '"cat"' "$(session_result "$M1")" "the handler sees event.data.name"
run ak session prints "$M1"
assert_eq "name cat" "$OUT" "the handler printed the input"
run ak session start -p dispatch -e program.py:nope
assert_status 1 "$RC" "starting a function the build lacks fails"
assert_contains "$ERR" "no function nope" "and says why"
run ak session start -p dispatch -e program.py:manual -I name=cat
assert_status 64 "$RC" "an input that is not JSON is a usage error"

run ak session restart "$M1" -w
assert_status 0 "$RC" "akctl session restart -w exits 0"
M2=$(printf '%s\n' "$OUT" | head -n1)
[ -n "$M2" ] && [ "$M2" != "$M1" ] || fail "restart made no new session"
ok "restart starts a new session"
assert_eq "program.py:manual" "$(ak session get -j "$M2" |
    jq -r '.session.entrypoint | "\(.path):\(.name)"')" "with the same entry point"
assert_eq '"cat"' "$(session_result "$M2")" "and the same inputs"

# -- session list paging and watch --end-state --
run ak session list --page-size 2
assert_status 0 "$RC" "session list --page-size exits 0"
assert_eq 3 "$(printf '%s\n' "$OUT" | wc -l)" "one page: a header and 2 sessions"
TOKEN=$(printf '%s\n' "$ERR" | sed -n 's/.*--next-page-token //p')
[ -n "$TOKEN" ] || fail "no next page token: $ERR"
run ak session list --next-page-token "$TOKEN" --page-size 2
assert_status 0 "$RC" "the next page"
ALL=$(ak session list -j | jq '.sessions | length')
TOTAL=$(ak session list -j --page-size 1000 | jq -r '.count')
assert_eq "$TOTAL" "$ALL" "session list without paging flags follows every page"
# Each filter the daemon applies agrees with filtering the whole list
# here: the same sessions, newest first, and the count of them.
full=$(ak session list -j | jq -c '.sessions')
check_filter() {	# WHAT JQ-CONDITION AKCTL-ARGS...
	local what=$1 cond=$2 want got n

	shift 2
	want=$(printf '%s' "$full" | jq -c "[.[] | select($cond) | .session_id]")
	got=$(ak session list -j "$@" | jq -c '[.sessions[].session_id]')
	n=$(ak session list -j --page-size 1000 "$@" | jq -r '.count')
	assert_eq "$want" "$got" "session list $what: the same sessions, in the same order"
	assert_eq "$(printf '%s' "$want" | jq length)" "$n" "session list $what: their count"
}
prj=$(printf '%s' "$full" | jq -r '.[0].project_id')
dep=$(printf '%s' "$full" | jq -r '.[0].deployment_id')
evt=$(printf '%s' "$full" | jq -r '[.[] | select(.event_id != null)][0].event_id')
check_filter "-s completed" '.state == "SESSION_STATE_TYPE_COMPLETED"' -s completed
check_filter "-s error" '.state == "SESSION_STATE_TYPE_ERROR"' -s error
check_filter "-p" ".project_id == \"$prj\"" -p "$prj"
check_filter "-p -s completed" ".project_id == \"$prj\" and .state == \"SESSION_STATE_TYPE_COMPLETED\"" \
    -p "$prj" -s completed
check_filter "-d" ".deployment_id == \"$dep\"" -d "$dep"
check_filter "-d -s completed" ".deployment_id == \"$dep\" and .state == \"SESSION_STATE_TYPE_COMPLETED\"" \
    -d "$dep" -s completed
check_filter "--event-id" ".event_id == \"$evt\"" --event-id "$evt"
[ "$(printf '%s' "$full" | jq length)" -ge 3 ] || fail "too few sessions to compare filters"
run ak session watch "$M2" --end-state completed
assert_status 0 "$RC" "watch --end-state completed of a completed session exits 0"
run ak session watch "$M2" --end-state running -t 1s
assert_status 1 "$RC" "watch --end-state running of a completed session exits 1"

# -- webhooks still start their session through dispatch --
URL=$(ak trigger get -j "$TRG" | jq -r '.trigger.webhook_url')
hook POST "$URL" -d '{}'
assert_eq 202 "$CODE" "the webhook answers 202"
assert_eq 1 "$(session_count --event-id "$EVENT_ID")" "the webhook event started one session"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
