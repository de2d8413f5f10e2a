#!/usr/bin/env bash
# triggers-more.sh: webhook trigger filters in the manifest (CEL: a match
# starts a session, a miss stores the event and starts none); one github
# delivery fanned out to two connection triggers; a deployment that
# drains while its durable session sleeps and goes inactive when it ends;
# graceful and forced session stops (a durable session stops at its next
# call; one in a pure CPU loop only when forced; a forced stop with a
# termination_delay waits for it).
. "$top_srcdir/tests/e2e/lib.sh"
need_jq
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

start_daemon

P=$T/trg
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'YAML'
version: v1
project:
  name: trgmore
  connections:
    - name: gh
      integration: github
      vars:
        - name: webhook_secret
          value: s3cret
          secret: true
  triggers:
    - name: meow
      type: webhook
      filter: data.url.path.endsWith("/meow")
      call: program.py:on_hook
    - name: big
      type: webhook
      filter: data.method == "POST" && has(data.body.json) && data.body.json.n > 3
      call: program.py:on_hook
    - name: sleepy
      type: webhook
      call: program.py:on_sleepy
    - name: busy
      type: webhook
      call: program.py:on_busy
    - name: spin
      type: webhook
      call: program.py:on_spin
    - name: push_a
      connection: gh
      event_type: push
      call: program.py:on_a
    - name: push_b
      connection: gh
      event_type: push
      call: program.py:on_b
YAML
cat >"$P/program.py" <<'PY'
import random
import time


def on_hook(event):
    return event.data.url.path_suffix


def on_a(event):
    return "a " + event.data["ref"]


def on_b(event):
    return "b " + event.data["ref"]


def on_sleepy(event):
    time.sleep(4)
    return "slept"


def spin_a_while():
    # About 0.2 s of pure Python: no call the session records.
    n = 0
    for i in range(1500000):
        n += i
    return n


def on_busy(event):
    for i in range(1000):
        random.random()
        spin_a_while()
    return "unreachable"


def on_spin(event):
    while True:
        pass
PY
deploy "$P"
if [ "$RC" != 0 ] && printf '%s' "$ERR" | grep -q 'not supported'; then
	fail "the manifest's filters are refused as not supported (is src/cel.c in?): $ERR"
fi
assert_status 0 "$RC" "deploy with two filtered webhooks and a github connection exits 0"
deploy_out=$OUT
DEP1=$(ak deployment list -p trgmore -s active -j |
    jq -r '.deployments[0].deployment_id')
assert_match "$DEP1" '^dep_' "the deployment is ACTIVE"

completed() {
	[ "$(session_state "$1")" = completed ]
}
stopped() {
	[ "$(session_state "$1")" = stopped ]
}
event_count() {
	ak event list -j | jq -r '.events | length'
}
url_of() {
	OUT=$deploy_out webhook_url "$1"
}
# start TRIGGER: POST to its webhook; $ses is the session it started.
start() {
	hook POST "$(url_of "$1")"
	[ "$CODE" = 202 ] || fail "POST to the $1 webhook answered $CODE: $BODY"
	ses=$(session_of "$EVENT_ID")
	[ -n "$ses" ] || fail "the $1 webhook started no session"
}

# ---- 1. filters ----
MEOW=$(url_of meow)
BIG=$(url_of big)
[ -n "$MEOW" ] && [ -n "$BIG" ] || fail "no webhook URLs in: $deploy_out"
run ak trigger list -p trgmore -j
assert_eq 'data.url.path.endsWith("/meow")' \
    "$(jget "$OUT" '.triggers[] | select(.name == "meow") | .filter')" \
    "the meow trigger's filter is stored as written"

hook POST "$MEOW/meow"
assert_eq 202 "$CODE" "POST <meow>/meow answers 202"
S=$(session_of "$EVENT_ID")
assert_match "$S" '^ses_' "a path ending in /meow starts a session"
wait_until 30 completed "$S" || fail "session $S did not complete"
assert_eq '"/meow"' "$(session_result "$S")" "the meow session completes with its path suffix"

n_ses=$(session_count)
n_ev=$(event_count)
hook POST "$MEOW/woof"
assert_eq 202 "$CODE" "POST <meow>/woof answers 202"
assert_match "$EVENT_ID" '^evt_' "the /woof event is stored (it has an ID)"
run ak event get "$EVENT_ID"
assert_status 0 "$RC" "akctl event get finds the /woof event"
sleep 0.3
assert_eq "" "$(session_of "$EVENT_ID")" "a path ending in /woof starts no session"
assert_eq "$n_ses" "$(session_count)" "the session count is unchanged after /woof"
assert_eq $((n_ev + 1)) "$(event_count)" "the event count grew by one"

hook POST "$BIG" -H 'Content-Type: application/json' -d '{"n": 5}'
assert_eq 202 "$CODE" "POST {\"n\": 5} answers 202"
S=$(session_of "$EVENT_ID")
assert_match "$S" '^ses_' "a POST of {\"n\": 5} starts a session (n > 3)"
wait_until 30 completed "$S" || fail "session $S did not complete"
ok "and it completes"
n_ses=$(session_count)
hook POST "$BIG" -H 'Content-Type: application/json' -d '{"n": 1}'
assert_eq 202 "$CODE" "POST {\"n\": 1} answers 202"
assert_match "$EVENT_ID" '^evt_' "the {\"n\": 1} event is stored"
sleep 0.3
assert_eq "" "$(session_of "$EVENT_ID")" "a POST of {\"n\": 1} starts no session"
hook POST "$BIG" -H 'Content-Type: text/plain' -d 'n=9'
assert_eq 202 "$CODE" "a POST without a JSON body answers 202"
sleep 0.3
assert_eq "" "$(session_of "$EVENT_ID")" "a POST without a JSON body starts no session (has() is false)"
hook PUT "$BIG" -H 'Content-Type: application/json' -d '{"n": 5}'
sleep 0.3
assert_eq "" "$(session_of "$EVENT_ID")" "a PUT of {\"n\": 5} starts no session (method)"
assert_eq "$n_ses" "$(session_count)" "the session count is unchanged"

# ---- 2. one github delivery, two triggers ----
GH=$(tcp_url /github/webhook)
body='{"ref":"refs/heads/main","repository":{"full_name":"o/r"}}'
sig=sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac s3cret | sed 's/^.*= *//')
hook POST "$GH" -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H 'X-GitHub-Delivery: fan1' -H "X-Hub-Signature-256: $sig" --data-binary "$body"
assert_eq 202 "$CODE" "a signed push answers 202"
assert_match "$EVENT_ID" '^evt_' "the push is one stored event"
assert_eq 2 "$(session_count --event-id "$EVENT_ID")" "the one push started two sessions"
run ak session list -j --event-id "$EVENT_ID"
assert_eq "program.py:on_a program.py:on_b" \
    "$(jget "$OUT" '[.sessions[] | "\(.entrypoint.path):\(.entrypoint.name)"] | sort | join(" ")')" \
    "one session per trigger: on_a and on_b"
results=
for s in $(jget "$OUT" '.sessions[].session_id'); do
	wait_until 30 completed "$s" || fail "push session $s did not complete"
	results="$results$(session_result "$s")"
done
ok "both push sessions complete"
case $results in
'"a refs/heads/main""b refs/heads/main"'|'"b refs/heads/main""a refs/heads/main"')
	ok "they returned a and b with the ref" ;;
*)	fail "unexpected results of the push sessions: $results" ;;
esac

# ---- 3. draining ----
dep_state() {	# DEPLOYMENT: its state column in akctl deployment list
	ak deployment list -p trgmore | awk -v d="$1" '$1 == d { print $4 }'
}
is_inactive() {
	[ "$(dep_state "$1")" = inactive ] ||
	    [ "$(dep_state "$1")" = DEPLOYMENT_STATE_INACTIVE ]
}
start sleepy
SLEEPY=$ses
running() {
	[ "$(session_state "$1")" = running ]
}
wait_until 10 running "$SLEEPY" || fail "the sleepy session is not running"
deploy "$P"
assert_status 0 "$RC" "a second deploy exits 0"
deploy_out=$OUT
DEP2=$(ak deployment list -p trgmore -s active -j |
    jq -r '.deployments[0].deployment_id')
assert_match "$DEP2" '^dep_' "a deployment is ACTIVE"
[ "$DEP2" != "$DEP1" ] || fail "the second deploy did not activate a new deployment"
ok "it is the new deployment"
run ak deployment list -p trgmore
printf '%s\n' "$OUT" | sed 's/^/# /'
assert_match "$(printf '%s\n' "$OUT" | grep -F "$DEP1")" '[Dd][Rr][Aa][Ii][Nn][Ii][Nn][Gg]' \
    "akctl deployment list shows the old deployment draining"
assert_eq "$DEP1" "$(ak deployment list -p trgmore -s draining -j |
    jq -r '.deployments[0].deployment_id')" "deployment list -s draining has the old one"
assert_eq running "$(session_state "$SLEEPY")" "its sleeping session still runs"
wait_until 15 completed "$SLEEPY" || fail "the sleepy session did not complete"
t0=$(date +%s%N)
wait_until 5 is_inactive "$DEP1" ||
    fail "the old deployment is $(dep_state "$DEP1") 5 s after its last session ended"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -le 2000 ] || fail "the old deployment went inactive only after $ms ms"
ok "the old deployment is inactive ${ms} ms after its session ended"
assert_eq '"slept"' "$(session_result "$SLEEPY")" "the drained session completed normally"

# ---- 4a. graceful stop of a durable session between calls ----
activities() {	# SES: how many calls completed
	ak session log "$1" | grep -c CALL_ATTEMPT_COMPLETE || true
}
some_activities() {
	[ "$(activities "$1")" -ge 2 ]
}
start busy
BUSY=$ses
wait_until 15 some_activities "$BUSY" || fail "the busy session made no calls"
run ak session stop -r "enough meowing" "$BUSY"
assert_status 0 "$RC" "akctl session stop exits 0"
assert_eq "stopping $BUSY" "$OUT" "it says stopping"
wait_until 5 stopped "$BUSY" || fail "the busy session is $(session_state "$BUSY") 5 s after a graceful stop"
ok "a graceful stop ends the durable session at its next call"
run ak session log "$BUSY"
log=$OUT
assert_match "$log" 'STOP_REQUEST .*enough meowing' "the log has STOP_REQUEST with the reason"
assert_match "$log" 'STATE +stopped: enough meowing' "the log has STATE stopped with the reason"
assert_not_contains "$log" "[forced]" "a graceful stop is not marked forced"
n1=$(activities "$BUSY")
sleep 1
assert_eq "$n1" "$(activities "$BUSY")" "no call completes after the stop ($n1)"
run ak session watch -t 2s "$BUSY"
assert_status 1 "$RC" "session watch exits 1 for a stopped session"
run ak session stop "$BUSY"
assert_status 1 "$RC" "stopping a stopped session fails"
assert_contains "$ERR" "already stopped" "and says it is already stopped"

# ---- 4b. a pure CPU loop: graceful does nothing, forced ends it ----
start spin
SPIN=$ses
wait_until 10 running "$SPIN" || fail "the spinning session is not running"
sleep 0.5
run ak session stop "$SPIN"
assert_status 0 "$RC" "a graceful stop of a spinning session exits 0"
sleep 2
assert_eq running "$(session_state "$SPIN")" \
    "a durable session with no calls is still running 2 s after a graceful stop"
t0=$(date +%s%N)
run ak session stop --force -r "no more spinning" "$SPIN"
assert_status 0 "$RC" "akctl session stop --force exits 0"
assert_eq "terminating $SPIN" "$OUT" "it says terminating"
wait_until 2 stopped "$SPIN" || fail "the spinning session is $(session_state "$SPIN") after a forced stop"
ok "a forced stop ends it at once ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
run ak session log "$SPIN"
assert_match "$OUT" 'STOP_REQUEST .*\[forced\] no more spinning' \
    "the forced STOP_REQUEST is marked [forced] with its reason"
assert_match "$OUT" 'STATE +stopped: ' "the log has STATE stopped"
assert_eq 0 "$(ak status -j | jq -r .workers.busy)" "no worker is busy after the forced stop"

# ---- 4c. forced with a termination_delay (the API; akctl has no flag) ----
STOP_URL=http://localhost/autokitteh.sessions.v1.SessionsService/Stop
start spin
SPIN=$ses
wait_until 10 running "$SPIN" || fail "the second spinning session is not running"
http POST "$STOP_URL" --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d "{\"session_id\": \"$SPIN\", \"terminate\": true, \"termination_delay\": \"2s\", \"reason\": \"later\"}"
assert_eq 200 "$CODE" "Stop with terminate and termination_delay 2s answers 200 ($BODY)"
t0=$(date +%s%N)
sleep 1
assert_eq running "$(session_state "$SPIN")" "1 s into a 2 s termination delay the session runs"
wait_until 4 stopped "$SPIN" || fail "the session is $(session_state "$SPIN") 4 s after a 2 s delayed force"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 1800 ] || fail "the delayed force took effect after only $ms ms"
ok "the delayed force stopped it after ${ms} ms"
run ak session log "$SPIN"
assert_match "$OUT" 'STATE +stopped: .*later' "the log has STATE stopped with the reason"
http POST "$STOP_URL" --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d "{\"session_id\": \"$SPIN\", \"terminate\": true, \"termination_delay\": \"soon\"}"
assert_eq 400 "$CODE" "a termination_delay that is not a duration answers 400"

assert_healthy "after the stops, the daemon"

# A termination delay still pending when the daemon stops: its timer must
# not outlive the daemon (under ASan, stop_daemon checks for leaks).
start spin
SPIN=$ses
wait_until 10 running "$SPIN" || fail "the third spinning session is not running"
http POST "$STOP_URL" --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d "{\"session_id\": \"$SPIN\", \"terminate\": true, \"termination_delay\": \"60s\"}"
assert_eq 200 "$CODE" "Stop with a 60s termination_delay answers 200"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM with a termination delay pending"
