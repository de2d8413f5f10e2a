#!/usr/bin/env bash
# sync-webhooks.sh: synchronous webhooks (is_sync: true): the session's
# autokitteh.http_outcome is the HTTP answer (status, headers, JSON, raw
# str and bytes bodies, streamed chunks); a session that ends without one
# answers 200 (completed) or 502 (error); a request that starts no session
# answers 502; webhooks.sync_timeout answers 504; outcomes nobody waits for
# are ignored; clients that go away and a daemon shutdown are survived.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[webhooks]
sync_timeout = 2s'
write_config
start_daemon

P=$T/sync
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: sync
  triggers:
    - {name: json, webhook: {}, is_sync: true, call: program.py:on_json}
    - {name: durable, webhook: {}, is_sync: true, is_durable: true,
       call: program.py:on_json}
    - {name: text, webhook: {}, is_sync: true, call: program.py:on_text}
    - {name: raw, webhook: {}, is_sync: true, call: program.py:on_bytes}
    - {name: stream, webhook: {}, is_sync: true, call: program.py:on_stream}
    - {name: silent, webhook: {}, is_sync: true, call: program.py:on_silent}
    - {name: raises, webhook: {}, is_sync: true, call: program.py:on_raise}
    - {name: slow, webhook: {}, is_sync: true, is_durable: false,
       call: program.py:on_slow}
    - {name: slowstream, webhook: {}, is_sync: true,
       call: program.py:on_slow_stream}
    - name: getonly
      type: webhook
      event_type: get
      is_sync: true
      call: program.py:on_json
    - {name: async, webhook: {}, call: program.py:on_async}
EOF
cat >"$P/program.py" <<'EOF'
import time

import autokitteh


def on_json(event):
    autokitteh.http_outcome(201, json={"a": 1}, headers={"X-Test": "yes"})
    return "answered"


def on_text(event):
    autokitteh.http_outcome(202, "plain words", headers={"Content-Type": "text/x-test"})
    # A second outcome: the request is answered already, so it is ignored.
    autokitteh.http_outcome(500, "ignored")
    return "twice"


def on_bytes(event):
    autokitteh.http_outcome(body=b"\x00\x01\xfe\xff")


def on_stream(event):
    autokitteh.http_outcome(200, "one\n", more=True)
    time.sleep(0.3)
    autokitteh.http_outcome(body="two\n", more=True)
    autokitteh.http_outcome(body="three\n")


def on_silent(event):
    return "no outcome"


def on_raise(event):
    raise RuntimeError("boom")


def on_slow(event):
    time.sleep(5)
    autokitteh.http_outcome(200, "too late")
    return "late"


def on_slow_stream(event):
    autokitteh.http_outcome(200, "first\n", more=True)
    time.sleep(1.5)
    autokitteh.http_outcome(body="second\n", more=True)
    autokitteh.http_outcome(body="last\n")
    return "streamed"


def on_async(event):
    autokitteh.http_outcome(200, "nobody listens")
    return "async"
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
for n in json durable text raw stream silent raises slow slowstream getonly async; do
	eval "url_$n=\$(webhook_url $n)"
	[ -n "$(eval echo "\$url_$n")" ] || fail "no webhook URL for $n"
done

H=$T/hook.head
header() {	# header NAME: its value in the last hook's response
	sed -n "s/^$1: *\\([^[:space:]]*\\).*/\\1/Ip" "$H" | tr -d '\r' | head -n1
}

# -- json=, headers --
hook POST "$url_json" -d 'x=1'
assert_eq 201 "$CODE" "http_outcome(201, json=...) answers 201"
assert_eq yes "$(header X-Test)" "the outcome's header X-Test is sent"
assert_eq application/json "$(header Content-Type)" \
    "json= sets Content-Type: application/json"
assert_eq '{"a":1}' "$(jget "$BODY" 'tojson')" "the body is the JSON {\"a\": 1}"
[ -n "$EVENT_ID" ] || fail "the sync answer has no AutoKitteh-Event-ID"
ok "the sync answer has AutoKitteh-Event-ID"
ses=$(header AutoKitteh-Session-ID)
assert_eq "$(session_of "$EVENT_ID")" "$ses" \
    "AutoKitteh-Session-ID names the event's session"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the json session completes"
assert_eq '"answered"' "$(session_result "$ses")" "the session returns after its outcome"

# The same from a durable session: the outcome is a recorded syscall.
hook POST "$url_durable"
assert_eq 201 "$CODE" "a durable session's outcome answers 201"
assert_eq '{"a":1}' "$(jget "$BODY" 'tojson')" "the durable session's body is {\"a\": 1}"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the durable json session completes"

# -- a str body is raw; a second outcome is ignored --
hook POST "$url_text"
assert_eq 202 "$CODE" "http_outcome(202, str) answers 202"
assert_eq "plain words" "$BODY" "a str body is sent raw"
assert_eq text/x-test "$(header Content-Type)" "a given Content-Type is kept"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "a second outcome does not fail the session"
assert_eq '"twice"' "$(session_result "$ses")" "the session went on past the ignored outcome"

# -- bytes --
CODE=$(curl -sS -o "$T/raw.out" -w '%{http_code}' --max-time 10 -X POST "$url_raw") ||
    CODE=000
assert_eq 200 "$CODE" "http_outcome(body=bytes) answers 200 (the default)"
assert_eq 0001feff "$(od -An -tx1 "$T/raw.out" | tr -d ' \n')" "a bytes body is sent raw"

# -- streaming --
hook POST "$url_stream"
assert_eq 200 "$CODE" "a streamed answer is 200"
assert_eq "$(printf 'one\ntwo\nthree')" "$BODY" "the three chunks arrive in order"
assert_eq chunked "$(header Transfer-Encoding)" "more=True streams a chunked reply"

# -- no outcome: completed 200 empty, error 502 --
hook POST "$url_silent"
assert_eq 200 "$CODE" "a session that completes without an outcome answers 200"
assert_eq "" "$BODY" "... with an empty body"
hook POST "$url_raises"
assert_eq 502 "$CODE" "a session that raises answers 502"
assert_contains "$BODY" "the session ended in ERROR" "502 says the session ended in ERROR"

# -- no session --
hook POST "$url_getonly"
assert_eq 502 "$CODE" "a POST to a GET-only sync trigger answers 502"
assert_eq "No session was created for event" "$BODY" "502 says no session was created"
[ -z "$(session_of "$EVENT_ID")" ] || fail "the POST to a GET-only trigger started a session"
hook GET "$url_getonly"
assert_eq 201 "$CODE" "a GET to the GET-only sync trigger is answered by its session"

# -- the timeout --
t0=$(date +%s%N)
hook POST "$url_slow"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
assert_eq 504 "$CODE" "a session slower than sync_timeout = 2s answers 504"
assert_contains "$BODY" "webhooks.sync_timeout (2s)" "504 names webhooks.sync_timeout"
[ "$ms" -ge 1800 ] && [ "$ms" -lt 4500 ] ||
    fail "the 504 came after $ms ms, not about 2 s"
ok "the 504 came after $ms ms"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the late outcome is ignored: the slow session completes"
assert_eq '"late"' "$(session_result "$ses")" "the slow session returned after its late outcome"

# -- an outcome nobody waits for --
hook POST "$url_async"
assert_eq 202 "$CODE" "an async trigger still answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "http_outcome in an async session is ignored, not an error"
assert_eq '"async"' "$(session_result "$ses")" "the async session returned"

# -- clients that go away --
curl -sS -o /dev/null --max-time 1 -X POST "$url_slow" 2>/dev/null || true
curl -sS -o "$T/gone.out" --max-time 1 -X POST "$url_slowstream" 2>/dev/null || true
assert_eq "first" "$(cat "$T/gone.out")" "the streaming client got the first chunk before leaving"
sleep 2.5
assert_healthy "after clients left mid-answer, the daemon"
hook POST "$url_json"
assert_eq 201 "$CODE" "sync webhooks still answer after clients left"

# -- shutdown --
curl -sS -o "$T/stop.out" -w '%{http_code}' --max-time 10 -X POST "$url_slow" \
    >"$T/stop.code" 2>/dev/null &
cpid=$!
sleep 0.7
stop_daemon
wait "$cpid" || true
assert_eq 503 "$(cat "$T/stop.code")" "a request waiting at shutdown answers 503"
assert_contains "$(cat "$T/stop.out")" "shutting down" "503 says the daemon is shutting down"
assert_eq 0 "$STOP_STATUS" "the daemon stops cleanly with a sync request waiting"
