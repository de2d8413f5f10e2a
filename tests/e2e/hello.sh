#!/usr/bin/env bash
# hello.sh: the first automation end to end: akctl deploy of examples/hello,
# a webhook request, the session it starts, and what akctl shows of it.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

start_daemon

P=$T/hello
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: hello
  vars:
    - name: GREETING
      value: hi
  triggers:
    - name: hook
      type: webhook
      call: program.py:on_hook
EOF
cat >"$P/program.py" <<'EOF'
import os


def on_hook(event):
    print(os.getenv("GREETING"), event.data.body.json["name"])
    return {"ok": True}
EOF
# The test's copy is the example's, so the example stays what it says.
if [ -f "$top_srcdir/examples/hello/program.py" ]; then
	cmp -s "$P/program.py" "$top_srcdir/examples/hello/program.py" ||
	    fail "examples/hello/program.py differs from the test's copy"
	cmp -s "$P/autokitteh.yaml" "$top_srcdir/examples/hello/autokitteh.yaml" ||
	    fail "examples/hello/autokitteh.yaml differs from the test's copy"
	ok "the project is examples/hello"
fi

# -- akctl deploy --
deploy "$P"
assert_status 0 "$RC" "akctl deploy exits 0"
assert_match "$OUT" '^project +prj_[0-9a-z]{26}$' "deploy prints the project"
assert_match "$OUT" '^build +bld_[0-9a-z]{26}$' "deploy prints the build"
assert_match "$OUT" '^deployment +dep_[0-9a-z]{26} \(active\)$' \
    "deploy prints the active deployment"
assert_match "$OUT" "^webhook +hook +http://127\\.0\\.0\\.1:$PORT/webhooks/[0-9a-z]{26}\$" \
    "deploy prints the webhook's URL"
assert_contains "$OUT" "create project hello" "deploy prints the manifest's log"
url=$(webhook_url hook)
slug=${url##*/}
dep=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')

# -- the webhook --
hook POST "$url" -H 'Content-Type: application/json' -d '{"name":"cat"}'
assert_eq 202 "$CODE" "POST to the webhook answers 202"
assert_match "$EVENT_ID" '^evt_[0-9a-z]{26}$' "202 has AutoKitteh-Event-ID evt_ + 26 characters"
evt=$EVENT_ID
ses=$(session_of "$evt")
assert_match "$ses" '^ses_[0-9a-z]{26}$' "the event started a session"

run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "session watch exits 0"
assert_eq "$ses completed" "$OUT" "session watch prints the ID and completed"

# -- session list --
run ak session list -p hello
assert_status 0 "$RC" "session list -p hello exits 0"
assert_eq 2 "$(printf '%s\n' "$OUT" | wc -l)" "session list: a header and one session"
assert_match "$OUT" '^ID +STATE +ENTRYPOINT +CREATED$' "session list: header"
assert_match "$OUT" "^$ses +completed +program\\.py:on_hook +[0-9]{4}-" \
    "session list: the session is completed"
run ak session list -p hello -j
assert_eq SESSION_STATE_TYPE_COMPLETED "$(jget "$OUT" '.sessions[0].state')" \
    "session list -j: SESSION_STATE_TYPE_COMPLETED"

# -- session log and prints --
run ak session log "$ses"
assert_status 0 "$RC" "session log exits 0"
assert_match "$OUT" '^[0-9TZ:.-]+ +PRINT +hi cat$' "session log has PRINT hi cat"
assert_match "$OUT" '^[0-9TZ:.-]+ +STATE +completed: return value \{"ok": ?true\}$' \
    "session log has the return value {\"ok\":true}"
assert_match "$OUT" '^[0-9TZ:.-]+ +STATE +running$' "session log has STATE running"
run ak session prints "$ses"
assert_status 0 "$RC" "session prints exits 0"
assert_eq "hi cat" "$OUT" "session prints prints exactly hi cat"
# A project's name stands for its latest session.
run ak session prints hello
assert_eq "hi cat" "$OUT" "session prints hello (the project's latest session)"

# -- the event --
run ak event get "$evt"
assert_status 0 "$RC" "event get exits 0"
assert_match "$OUT" '^type +post$' "event get: type post"
assert_match "$OUT" "^id +$evt\$" "event get: its ID"
assert_contains "$OUT" '"method": "POST"' "event get: data.method"
assert_contains "$OUT" '"name": "cat"' "event get: data.body.json"
run ak event list -p hello
assert_match "$OUT" "^$evt +post +trg_" "event list: the event, type post"

# -- triggers --
run ak trigger list -p hello
assert_status 0 "$RC" "trigger list exits 0"
assert_match "$OUT" "^trg_[0-9a-z]{26} +hook +webhook +program\\.py:on_hook +$slug +$url\$" \
    "trigger list shows the slug and URL"

# -- status --
run ak status -j
assert_eq 1 "$(jget "$OUT" .sessions.completed)" "status -j: one completed session"
assert_eq 0 "$(jget "$OUT" '.sessions.error + .sessions.running + .sessions.created + .sessions.stopped')" \
    "status -j: no other sessions"
assert_eq 1 "$(jget "$OUT" .deployments.active)" "status -j: one active deployment"
assert_eq 1 "$(jget "$OUT" .projects)" "status -j: one project"

# -- a second function: path suffix and event type --
cat >>"$P/program.py" <<'EOF'


def on_echo(event):
    return {"suffix": event.data.url.path_suffix, "type": event.event_type,
            "query": event.data.url.query}
EOF
cat >>"$P/autokitteh.yaml" <<'EOF'
    - name: echo
      type: webhook
      call: program.py:on_echo
EOF
deploy "$P"
assert_status 0 "$RC" "redeploy with a second trigger exits 0"
assert_eq "$url" "$(webhook_url hook)" "redeploy keeps the hook trigger's URL"
echo_url=$(webhook_url echo)
assert_match "$echo_url" '/webhooks/[0-9a-z]{26}$' "redeploy prints the echo webhook"
run ak deployment list -p hello
assert_match "$OUT" "^$dep +prj_[0-9a-z]+ +bld_[0-9a-z]+ +inactive " \
    "the first deployment is inactive"

hook POST "$echo_url/a/b" -d ''
assert_eq 202 "$CODE" "POST to the webhook's sub-path /a/b answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the sub-path session completes"
assert_eq '{"suffix":"/a/b","type":"post","query":{}}' \
    "$(session_result "$ses" | jq -c .)" "the session sees path_suffix /a/b"

hook GET "$echo_url?x=1"
assert_eq 202 "$CODE" "GET to the webhook answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the GET session completes"
assert_eq '{"suffix":"","type":"get","query":{"x":"1"}}' \
    "$(session_result "$ses" | jq -c .)" "the session sees event_type get"
run ak event get "$EVENT_ID"
assert_match "$OUT" '^type +get$' "event get: type get"

run ak status -j
assert_eq 3 "$(jget "$OUT" .sessions.completed)" "status -j: three completed sessions"
assert_eq 1 "$(jget "$OUT" .deployments.active)" "status -j: still one active deployment"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
