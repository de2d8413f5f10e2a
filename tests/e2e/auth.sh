#!/usr/bin/env bash
# auth.sh: bearer tokens on TCP, peer credentials on the Unix socket.
. "$top_srcdir/tests/e2e/lib.sh"

start_daemon
STATUS_URL=$(tcp_url /autokitteh.system.v1.SystemService/Status)
JSON=(-H 'Content-Type: application/json' -d '{}')

# -- no token, garbage token --
http POST "$STATUS_URL" "${JSON[@]}"
assert_eq 401 "$CODE" "TCP API call without a token: 401"
assert_match "$BODY" '"code": ?"unauthenticated"' "401 body has code unauthenticated"
assert_contains "$BODY" "akctl token create" "401 message says how to get a token"
http POST "$STATUS_URL" "${JSON[@]}" -H 'Authorization: Bearer akt_garbage'
assert_eq 401 "$CODE" "TCP API call with a garbage token: 401"
assert_match "$BODY" '"code": ?"unauthenticated"' "garbage token: code unauthenticated"
http POST "$STATUS_URL" "${JSON[@]}" -H 'Authorization: Basic Zm9vOmJhcg=='
assert_eq 401 "$CODE" "TCP API call with Basic auth: 401"
run "$AKCTL" --url "$(tcp_url '')" status
assert_status 1 "$RC" "akctl --url without a token exits 1"
assert_contains "$ERR" "akctl token create" "akctl relays the token hint"

# -- create a token over the socket --
run ak token create --name e2e
assert_status 0 "$RC" "akctl token create exits 0"
secret=$(printf '%s\n' "$OUT" | sed -n 's/^secret[[:space:]]*//p')
token_id=$(printf '%s\n' "$OUT" | sed -n 's/^token[[:space:]]*//p')
assert_match "$secret" '^akt_[A-Za-z0-9_-]{20,}$' "token create prints a secret"
assert_match "$token_id" '^tok_[0-9a-z]{26}$' "token create prints a token id"
assert_match "$OUT" '^name[[:space:]]+e2e$' "token create prints the name"

# -- use it --
http POST "$STATUS_URL" "${JSON[@]}" -H "Authorization: Bearer $secret"
assert_eq 200 "$CODE" "TCP API call with the token: 200"
assert_contains "$BODY" '"ready"' "TCP Status answer is the status"
run "$AKCTL" --url "$(tcp_url '')" --token "$secret" status
assert_status 0 "$RC" "akctl --url --token status exits 0"
assert_match "$OUT" "^autokittehd .*pid $DAEMON_PID" "akctl over TCP shows the daemon"
run env AKCTL_URL="$(tcp_url '')" AKCTL_TOKEN="$secret" "$AKCTL" status
assert_status 0 "$RC" "AKCTL_URL + AKCTL_TOKEN status exits 0"

# A second token, created over TCP with the first.
run "$AKCTL" --url "$(tcp_url '')" --token "$secret" token create --name second
assert_status 0 "$RC" "akctl token create over TCP with a token exits 0"
second_id=$(printf '%s\n' "$OUT" | sed -n 's/^token[[:space:]]*//p')

# -- list --
run ak token list
assert_status 0 "$RC" "akctl token list exits 0"
assert_match "$OUT" '^ID +NAME +CREATED' "token list has a header"
assert_match "$OUT" "^$token_id +e2e +[0-9]{4}-[0-9]{2}-[0-9]{2}T" "token list shows the e2e token"
assert_match "$OUT" "^$second_id +second " "token list shows the second token"
assert_not_contains "$OUT" "$secret" "token list does not show the secret"

# -- the secret is stored hashed --
sync
n=$(cat "$DATA"/autokitteh.db* | grep -c -a -F -- "$secret" || true)
assert_eq 0 "$n" "the secret is not in the database or WAL in clear"
n=$(cat "$DATA"/autokitteh.db* | grep -c -a -F -- "$token_id" || true)
[ "$n" -gt 0 ] || fail "the token id is not in the database files at all (grep is blind?)"
ok "the token id is in the database files (the grep can see)"

# -- revoke --
run ak token revoke "$token_id"
assert_status 0 "$RC" "akctl token revoke exits 0"
http POST "$STATUS_URL" "${JSON[@]}" -H "Authorization: Bearer $secret"
assert_eq 401 "$CODE" "a revoked token gets 401"
assert_match "$BODY" '"code": ?"unauthenticated"' "revoked token: code unauthenticated"
run ak token list
assert_not_contains "$OUT" "$token_id" "a revoked token is not listed"
run ak token revoke "$token_id"
assert_status 1 "$RC" "revoking it again exits 1"
run ak token revoke tok_00000000000000000000000000
assert_status 1 "$RC" "revoking an unknown well-formed id exits 1"
assert_contains "$ERR" "tok_00000000000000000000000000" "the not-found message names the id"
assert_match "$ERR" 'no live token|not found|no such token' "the message says it was not found"
run ak token revoke not-a-token
assert_status 1 "$RC" "revoking a malformed id exits 1"
assert_contains "$ERR" "is not a token id" "a malformed id is explained"
http POST "$(tcp_url /autokitteh.system.v1.TokensService/Revoke)" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $(
	"$AKCTL" --socket "$SOCK" token create --name third |
	sed -n 's/^secret[[:space:]]*//p')" \
    -d '{"token_id": "tok_00000000000000000000000000"}'
assert_eq 404 "$CODE" "Revoke of an unknown id over HTTP: 404"
assert_match "$BODY" '"code": ?"not_found"' "Revoke of an unknown id: code not_found"

# -- operational routes --
http GET "$(tcp_url /healthz)"
assert_eq 200 "$CODE" "/healthz needs no token"
http GET "$(tcp_url /readyz)"
assert_eq 200 "$CODE" "/readyz needs no token"
http GET "$(tcp_url /metrics)"
assert_eq 401 "$CODE" "/metrics on TCP without a token: 401"
run ak token create --name metrics
msecret=$(printf '%s\n' "$OUT" | sed -n 's/^secret[[:space:]]*//p')
http GET "$(tcp_url /metrics)" -H "Authorization: Bearer $msecret"
assert_eq 200 "$CODE" "/metrics on TCP with a token: 200"
assert_contains "$BODY" "autokitteh_uptime_seconds" "/metrics on TCP answers metrics"
http GET http://localhost/metrics --unix-socket "$SOCK"
assert_eq 200 "$CODE" "/metrics on the Unix socket needs no token"
http POST http://localhost/autokitteh.system.v1.SystemService/Status \
    --unix-socket "$SOCK" "${JSON[@]}"
assert_eq 200 "$CODE" "API on the Unix socket needs no token"

# -- the socket file mode --
mode=$(stat -c %a "$SOCK")
assert_eq 660 "$mode" "the Unix socket is mode 0660"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
