#!/usr/bin/env bash
# github.sh: a github connection from the manifest, POST /github/webhook
# with X-Hub-Signature-256, a connection trigger on push, delivery
# de-duplication, bad and missing signatures, other event types;
# ConnectionsService through akctl; connection vars in the session env.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

start_daemon

P=$T/gh
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'YAML'
version: v2
project:
  name: ghproj
  connections:
    - name: gh
      integration: github
      vars:
        - name: webhook_secret
          value: s3cret
          secret: true
  triggers:
    - name: on_push
      connection: gh
      event_type: push
      call: program.py:on_push
YAML
cat >"$P/program.py" <<'PY'
import os


def on_push(event):
    return {"ref": event.data["ref"], "type": event.event_type,
            "conn": os.getenv("gh__connection_id"),
            "secret_seen": os.getenv("gh__webhook_secret") == "s3cret"}
PY
deploy "$P"
assert_status 0 "$RC" "deploy with a github connection and a connection trigger exits 0"

run ak connection list -j
conn=$(jget "$OUT" '.connections[0].connection_id')
assert_match "$conn" '^con_[0-9a-z]{26}$' "the manifest created connection gh"
assert_eq gh "$(jget "$OUT" '.connections[0].name')" "the connection is named gh"
assert_eq github "$(jget "$OUT" '.connections[0].integration_id')" "its integration is github"
assert_eq CODE_OK "$(jget "$OUT" '.connections[0].status.code')" \
    "a github connection with a webhook_secret is OK"
run ak trigger list -j
assert_eq "$conn" "$(jget "$OUT" '.triggers[] | select(.name == "on_push") | .connection_id')" \
    "trigger on_push has the connection's id"

URL=$(tcp_url /github/webhook)
body='{"ref":"refs/heads/main","repository":{"full_name":"o/r"}}'
sig=sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac s3cret | sed 's/^.*= *//')

gh_post() {	# EVENT DELIVERY SIGNATURE-or-"" [BODY]
	local b=${4:-$body}

	if [ -n "$3" ]; then
		hook POST "$URL" -H 'Content-Type: application/json' \
		    -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" \
		    -H "X-Hub-Signature-256: $3" --data-binary "$b"
	else
		hook POST "$URL" -H 'Content-Type: application/json' \
		    -H "X-GitHub-Event: $1" -H "X-GitHub-Delivery: $2" \
		    --data-binary "$b"
	fi
}

# -- a signed push --
gh_post push d1 "$sig"
assert_eq 202 "$CODE" "a correctly signed push answers 202"
assert_match "$EVENT_ID" '^evt_' "202 carries AutoKitteh-Event-ID"
ses=$(session_of "$EVENT_ID")
assert_match "$ses" '^ses_' "the push started a session"
run ak session watch -t 30s "$ses"
assert_status 0 "$RC" "the push session completes"
result=$(session_result "$ses")
assert_eq refs/heads/main "$(jget "$result" .ref)" "the handler returned event.data[\"ref\"]"
assert_eq push "$(jget "$result" .type)" "the event type is X-GitHub-Event"
assert_eq "$conn" "$(jget "$result" .conn)" "the session sees gh__connection_id"
assert_eq true "$(jget "$result" .secret_seen)" "the session sees gh__webhook_secret"
run ak event get "$EVENT_ID" -j
assert_eq "$conn" "$(jget "$OUT" '.event.destination_id')" "the event's destination is the connection"
assert_eq 1 "$(session_count)" "one session so far"

# -- the same delivery again --
gh_post push d1 "$sig"
assert_eq 200 "$CODE" "a repeated X-GitHub-Delivery answers 200"
assert_eq "duplicate delivery" "$BODY" "and says duplicate delivery"
assert_eq "" "$EVENT_ID" "a duplicate has no event"
sleep 0.3
assert_eq 1 "$(session_count)" "a duplicate delivery starts no session"

# -- bad signatures --
bad=sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac wrong | sed 's/^.*= *//')
gh_post push d2 "$bad"
assert_eq 401 "$CODE" "a signature with another secret answers 401"
gh_post push d3 "$sig" '{"ref":"refs/heads/evil","repository":{"full_name":"o/r"}}'
assert_eq 401 "$CODE" "a body changed after signing answers 401"
gh_post push d4 ""
assert_eq 401 "$CODE" "a missing X-Hub-Signature-256 answers 401"
gh_post push d5 "sha1=${sig#sha256=}"
assert_eq 401 "$CODE" "a sha1= signature answers 401"
run ak event list -j
assert_eq 1 "$(jget "$OUT" '.events | length')" "the 401s stored no event"
# A refused delivery id is not remembered: the signed retry goes through.
gh_post push d2 "$sig"
assert_eq 202 "$CODE" "delivery d2, correctly signed after a 401, answers 202"
ses2=$(session_of "$EVENT_ID")
run ak session watch -t 30s "$ses2"
assert_status 0 "$RC" "its session completes"
assert_eq 2 "$(session_count)" "two sessions now"

# -- another event type --
issues='{"action":"opened","issue":{"number":1}}'
isig=sha256=$(printf %s "$issues" | openssl dgst -sha256 -hmac s3cret | sed 's/^.*= *//')
gh_post issues d6 "$isig" "$issues"
assert_eq 202 "$CODE" "a signed issues event answers 202"
assert_match "$EVENT_ID" '^evt_' "the issues event was stored"
sleep 0.3
assert_eq "" "$(session_of "$EVENT_ID")" "issues starts no session for the push trigger"
assert_eq 2 "$(session_count)" "still two sessions"

# -- not a POST, not JSON --
http GET "$URL"
assert_eq 405 "$CODE" "GET /github/webhook answers 405"
notjson='not json'
nsig=sha256=$(printf %s "$notjson" | openssl dgst -sha256 -hmac s3cret | sed 's/^.*= *//')
gh_post push d7 "$nsig" "$notjson"
assert_eq 400 "$CODE" "a signed body that is not a JSON object answers 400"

# -- ConnectionsService through akctl --
run ak connection get "$conn"
assert_status 0 "$RC" "akctl connection get exits 0"
assert_match "$OUT" '^status +ok$' "akctl connection get shows status ok"
run ak connection test "$conn"
assert_status 1 "$RC" "akctl connection test without a pat exits 1"
assert_contains "$OUT" "no pat var" "and says the pat var is missing"
run ak var set --connection "$conn" pat ghp_abcdefghijklmnopqrstuvwxyz0123456789
assert_status 0 "$RC" "akctl var set --connection sets a connection var"
run ak connection test "$conn"
assert_status 0 "$RC" "akctl connection test with a well-formed pat exits 0"
assert_contains "$OUT" "not tried against GitHub" "and says it made no network call"
run ak var set --connection "$conn" pat nope
run ak connection test "$conn"
assert_status 1 "$RC" "a malformed pat fails the test"

run ak connection create other -p ghproj -i github
assert_status 0 "$RC" "akctl connection create exits 0"
other=$OUT
run ak connection status "$other"
assert_contains "$OUT" "init required" "a connection without vars needs init"
run ak connection create other -p ghproj -i github
assert_status 1 "$RC" "a second connection named other is refused"
run ak connection create x -p ghproj -i slack
assert_status 1 "$RC" "an integration not in the registry is refused"
assert_contains "$ERR" "no integration" "and says so"
run ak connection create bad-name -p ghproj -i http
assert_status 1 "$RC" "a connection name that is not ^\\w+\$ is refused"

# Redeploying deletes the connection the manifest does not declare and
# keeps gh, its id, and its pat set outside the manifest.
deploy "$P"
assert_status 0 "$RC" "redeploy exits 0"
run ak connection list -j
assert_eq "$conn" "$(jget "$OUT" '[.connections[].connection_id] | join(" ")')" \
    "redeploy deleted connection other and kept gh"
run ak var get --connection "$conn" --reveal -j
assert_eq nope "$(jget "$OUT" '.vars[] | select(.name == "pat") | .value')" \
    "a connection var set outside the manifest is kept"

# -- a manifest with an unknown integration or connection --
Q=$T/bad
mkdir -p "$Q"
cp "$P/program.py" "$Q/"
sed 's/integration: github/integration: nosuch/' "$P/autokitteh.yaml" >"$Q/autokitteh.yaml"
deploy "$Q"
assert_status 1 "$RC" "a manifest naming an unknown integration is refused"
assert_contains "$ERR" 'no integration "nosuch"' "and says which"
sed 's/connection: gh/connection: nope/' "$P/autokitteh.yaml" >"$Q/autokitteh.yaml"
deploy "$Q"
assert_status 1 "$RC" "a trigger naming an undeclared connection is refused"

run ak connection delete "$conn"
assert_status 0 "$RC" "akctl connection delete exits 0"
run ak trigger list -j
assert_eq 0 "$(jget "$OUT" '[.triggers[] | select(.name == "on_push")] | length')" \
    "deleting the connection deleted its trigger"
gh_post push d8 "$sig"
assert_eq 401 "$CODE" "with the connection gone, its secret verifies nothing"

# -- an http connection: base_url and auth_header reach http_client --
H=$T/api
mkdir -p "$H"
cat >"$H/autokitteh.yaml" <<YAML
version: v2
project:
  name: httpproj
  connections:
    - name: api
      integration: http
      vars:
        - name: base_url
          value: http://127.0.0.1:$PORT/
        - name: auth_header
          value: Bearer t0ken
  triggers:
    - name: hook
      webhook: {}
      call: program.py:on_hook
YAML
cat >"$H/program.py" <<'PY'
import autokitteh


def on_hook(event):
    client = autokitteh.http.http_client("api")
    r = client.get("/healthz")
    return {"url": client.url("/x", {"a": 1}), "auth": client.auth_header,
            "status": r.status}
PY
deploy "$H"
assert_status 0 "$RC" "deploy with an http connection exits 0"
hook POST "$(webhook_url hook)"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 30s "$ses"
assert_status 0 "$RC" "the http_client session completes"
result=$(session_result "$ses")
assert_eq "http://127.0.0.1:$PORT/x?a=1" "$(jget "$result" .url)" \
    "http_client builds URLs from <conn>__base_url"
assert_eq "Bearer t0ken" "$(jget "$result" .auth)" "http_client has <conn>__auth_header"
assert_eq 200 "$(jget "$result" .status)" "client.get reached the server"

assert_healthy
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"
