#!/usr/bin/env bash
# http-limits.sh: the [http] limits (413, 431, 408, 503) and the connect
# protocol's error answers (404, 405, 415, 400).
. "$top_srcdir/tests/e2e/lib.sh"

CONF_EXTRA='[http]
max_body_size = 4KiB
max_header_size = 2KiB
request_timeout = 2s
max_connections = 8'
pick_port
write_config
start_daemon

run ak token create --name limits
secret=$(printf '%s\n' "$OUT" | sed -n 's/^secret[[:space:]]*//p')
[ -n "$secret" ] || fail "no secret in: $OUT"
AUTH=(-H "Authorization: Bearer $secret")
STATUS=/autokitteh.system.v1.SystemService/Status

# A JSON object of about N bytes.
big_json() {
	printf '{"name": "%s"}' "$(head -c "$1" /dev/zero | tr '\0' x)"
}

# -- body size --
big_json 8000 >"$T/big.json"
http POST "$(tcp_url $STATUS)" "${AUTH[@]}" -H 'Content-Type: application/json' \
    --data-binary @"$T/big.json"
assert_eq 413 "$CODE" "a body over max_body_size (Content-Length): 413"
http POST "$(tcp_url $STATUS)" "${AUTH[@]}" -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json"
assert_eq 413 "$CODE" "a chunked body over max_body_size: 413"
http POST http://localhost$STATUS --unix-socket "$SOCK" \
    -H 'Content-Type: application/json' --data-binary @"$T/big.json"
assert_eq 413 "$CODE" "a body over max_body_size on the Unix socket: 413"
big_json 3000 >"$T/ok.json"
http POST "$(tcp_url $STATUS)" "${AUTH[@]}" -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked' --data-binary @"$T/ok.json"
[ "$CODE" != 413 ] || fail "a chunked body under max_body_size got 413"
ok "a chunked body under max_body_size is not refused for its size ($CODE)"

# -- header size --
pad=$(head -c 3000 /dev/zero | tr '\0' a)
http GET "$(tcp_url /healthz)" -H "X-Pad: $pad"
assert_eq 431 "$CODE" "headers over max_header_size: 431"
assert_contains "$BODY" "http.max_header_size" "the 431 answer names the option"
pad=$(head -c 1200 /dev/zero | tr '\0' a)
http GET "$(tcp_url /healthz)" -H "X-Pad: $pad"
assert_eq 200 "$CODE" "headers under max_header_size: 200"

# -- a client trickling its headers is cut at request_timeout --
start=$(date +%s%N)
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
(
	printf 'GET /healthz HTTP/1.1\r\n'
	for i in 1 2 3 4 5 6; do
		sleep 1
		printf 'X-Trickle-%d: y\r\n' "$i" || exit 0
	done
) >&3 2>/dev/null &
trickler=$!
EXTRA_PIDS="$EXTRA_PIDS $trickler"
reply=$(timeout 8 cat <&3 || true)
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
exec 3<&- 3>&-
kill "$trickler" 2>/dev/null || true
wait "$trickler" 2>/dev/null || true
EXTRA_PIDS=${EXTRA_PIDS% "$trickler"}
assert_match "$reply" '^HTTP/1\.[01] 408' "a trickling client gets 408"
assert_contains "$reply" "http.request_timeout" "the 408 answer names the option"
[ "$elapsed" -lt 5000 ] || fail "the trickling client was cut after ${elapsed} ms, not ~2 s"
[ "$elapsed" -ge 1500 ] || fail "the trickling client was cut after ${elapsed} ms, before request_timeout"
ok "the trickling client was cut after ${elapsed} ms (request_timeout 2s)"

# -- max_connections --
# Hold 8 idle connections (fds 11-18), then open a ninth.
for fd in 11 12 13 14 15 16 17 18; do
	eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT"
done
sleep 0.2
exec 19<>"/dev/tcp/127.0.0.1/$PORT"
# The daemon may have answered 503 and closed already: write in a
# subshell so that a SIGPIPE cannot kill the test.
(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&19) 2>/dev/null || true
reply=$(timeout 3 cat <&19 2>/dev/null || true)
exec 19<&- 19>&-
case $reply in
*" 200 "*) fail "the connection over max_connections was served:
$reply" ;;
"") ok "the connection over max_connections was closed" ;;
*) assert_match "$reply" '^HTTP/1\.[01] 503' "the connection over max_connections gets 503" ;;
esac
for fd in 11 12 13 14 15 16 17 18; do
	eval "exec $fd<&- $fd>&-"
done
grep -q 'more than http.max_connections (8)' "$LOG" ||
    fail "the log does not mention max_connections"
ok "the log says why a connection was refused"

# -- the daemon is healthy after all that --
sleep 0.3
http GET "$(tcp_url /healthz)"
assert_eq 200 "$CODE" "/healthz is 200 after the limits were hit"
assert_eq ok "$BODY" "/healthz says ok"
run ak status
assert_status 0 "$RC" "akctl status exits 0 after the limits were hit"
# Every connection above is closed: only this one is open.
for i in $(seq 1 40); do
	http GET http://localhost/metrics --unix-socket "$SOCK"
	conns=$(printf '%s\n' "$BODY" | sed -n 's/^autokitteh_http_connections //p')
	[ "$conns" = 1 ] && break
	sleep 0.1
done
assert_eq 1 "$conns" "autokitteh_http_connections is back to 1 (this request)"
# And max_connections really is free again: 8 requests in parallel succeed.
pids=
for i in 1 2 3 4 5 6 7 8; do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$(tcp_url /healthz)" \
	    >"$T/par.$i" &
	pids="$pids $!"
done
wait $pids || true
codes=$(cat "$T"/par.* | sort | uniq -c | tr -s ' ')
assert_eq " 8 200" "$codes" "8 parallel requests after the limit tests all get 200"

# -- connect protocol errors (over the socket: no token needed) --
U=http://localhost
JSON_CT=(-H 'Content-Type: application/json')
http POST "$U/autokitteh.x.v1.S/M" --unix-socket "$SOCK" "${JSON_CT[@]}" -d '{}'
assert_eq 404 "$CODE" "an unknown method: 404"
assert_match "$BODY" '"code": ?"unimplemented"' "an unknown method: code unimplemented"
http POST "$(tcp_url /autokitteh.x.v1.S/M)" "${AUTH[@]}" "${JSON_CT[@]}" -d '{}'
assert_eq 404 "$CODE" "an unknown method over TCP with a token: 404"
http GET "$U$STATUS" --unix-socket "$SOCK"
assert_eq 405 "$CODE" "GET on an API method: 405"
assert_match "$BODY" '"code": ?"unimplemented"' "GET on an API method: code unimplemented"
http POST "$U$STATUS" --unix-socket "$SOCK" -H 'Content-Type: text/plain' -d '{}'
assert_eq 415 "$CODE" "a wrong content type: 415"
assert_match "$BODY" '"code": ?"invalid_argument"' "a wrong content type: code invalid_argument"
http POST "$U$STATUS" --unix-socket "$SOCK" -H 'Content-Type: application/json; charset=utf-8' -d '{}'
assert_eq 200 "$CODE" "application/json; charset=utf-8 is accepted"
http POST "$U$STATUS" --unix-socket "$SOCK" "${JSON_CT[@]}" -d '{"oops'
assert_eq 400 "$CODE" "invalid JSON: 400"
assert_match "$BODY" '"code": ?"invalid_argument"' "invalid JSON: code invalid_argument"
http POST "$U$STATUS" --unix-socket "$SOCK" "${JSON_CT[@]}" -d '[1, 2]'
assert_eq 400 "$CODE" "a JSON array instead of an object: 400"
http POST "$U$STATUS" --unix-socket "$SOCK" "${JSON_CT[@]}" -d '{"frobnicate": 1}'
assert_eq 400 "$CODE" "an unknown field: 400"
assert_match "$BODY" '"code": ?"invalid_argument"' "an unknown field: code invalid_argument"
assert_contains "$BODY" "frobnicate" "an unknown field: the message names it"
http POST "$U/autokitteh.system.v1.TokensService/Create" --unix-socket "$SOCK" \
    "${JSON_CT[@]}" -d '{"name": 42}'
assert_eq 400 "$CODE" "a field of the wrong type: 400"
assert_contains "$BODY" '\"name\"' "a field of the wrong type: the message names it"
http POST "$U/autokitteh.system.v1.TokensService/Revoke" --unix-socket "$SOCK" \
    "${JSON_CT[@]}" -d '{"tokenId": "tok_00000000000000000000000000"}'
assert_eq 404 "$CODE" "the lowerCamelCase field name is accepted (tokenId -> not_found)"
http GET "$U/nowhere" --unix-socket "$SOCK"
assert_eq 404 "$CODE" "an unknown path: 404"

run ak status
assert_status 0 "$RC" "akctl status exits 0 at the end"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
