#!/usr/bin/env bash
# ops.sh: /healthz, /readyz and /metrics.
. "$top_srcdir/tests/e2e/lib.sh"

start_daemon

metrics() {
	http GET http://localhost/metrics --unix-socket "$SOCK"
	[ "$CODE" = 200 ] || fail "/metrics over the socket: $CODE $BODY"
	printf '%s\n' "$BODY"
}

# The value of one sample: metric NAME-WITH-LABELS (exact text before the space).
sample() {
	printf '%s\n' "$2" | awk -v k="$1" '$1 == k { print $2; found = 1 }
	    END { if (!found) print "absent" }'
}

# -- health and readiness --
http GET "$(tcp_url /healthz)"
assert_eq 200 "$CODE" "/healthz: 200"
assert_eq ok "$BODY" "/healthz: ok"
http GET "$(tcp_url /readyz)"
assert_eq 200 "$CODE" "/readyz: 200"
assert_eq ready "$BODY" "/readyz: ready"
http GET http://localhost/healthz --unix-socket "$SOCK"
assert_eq 200 "$CODE" "/healthz on the Unix socket: 200"
http HEAD "$(tcp_url /healthz)" -I
assert_eq 200 "$CODE" "HEAD /healthz: 200"

# -- /metrics --
before=$(metrics)
h0=$(sample 'autokitteh_http_requests_total{route="/healthz",status="200"}' "$before")
[ "$h0" = absent ] && h0=0
n=5
for i in $(seq 1 "$n"); do
	http GET "$(tcp_url /healthz)"
	[ "$CODE" = 200 ] || fail "/healthz call $i: $CODE"
done
m=$(metrics)
c0=$(sample 'autokitteh_store_commits_total{result="ok"}' "$m")
for name in autokitteh_uptime_seconds autokitteh_http_requests_total \
    autokitteh_store_commit_seconds_bucket autokitteh_store_commits_total; do
	assert_match "$m" "^$name[{ ]" "/metrics has $name"
done
assert_match "$m" '^# TYPE autokitteh_http_requests_total counter$' \
    "autokitteh_http_requests_total is typed counter"
assert_match "$m" '^# TYPE autokitteh_store_commit_seconds histogram$' \
    "autokitteh_store_commit_seconds is typed histogram"
assert_match "$m" '^autokitteh_http_requests_total\{route="[^"]+",status="[0-9]{3}"\} [0-9]+$' \
    "autokitteh_http_requests_total has route and status labels"
assert_match "$m" '^autokitteh_store_commit_seconds_bucket\{le="\+Inf"\} [0-9]+$' \
    "the commit histogram has a +Inf bucket"
h1=$(sample 'autokitteh_http_requests_total{route="/healthz",status="200"}' "$m")
[ "$h1" != absent ] || fail "no sample for route=\"/healthz\",status=\"200\":
$m"
[ "$h1" -ge $((h0 + n)) ] ||
    fail "the /healthz 200 counter is $h1, expected at least $((h0 + n))"
ok "the /healthz 200 counter counts our $n calls ($h0 -> $h1)"
[ "$c0" != absent ] || fail "no autokitteh_store_commits_total{result=\"ok\"} sample"

# A write commits a batch: the commit counter goes up.
run ak token create --name ops
assert_status 0 "$RC" "akctl token create exits 0"
m2=$(metrics)
c1=$(sample 'autokitteh_store_commits_total{result="ok"}' "$m2")
[ "$c1" -gt "$c0" ] || fail "autokitteh_store_commits_total{result=\"ok\"} did not increase ($c0 -> $c1)"
ok "a token creation commits: commits_total $c0 -> $c1"
cnt=$(sample autokitteh_store_commit_seconds_count "$m2")
[ "$cnt" != absent ] && [ "$cnt" -ge 1 ] ||
    fail "autokitteh_store_commit_seconds_count is $cnt after a commit"
ok "the commit histogram counted the commit"
inf=$(sample 'autokitteh_store_commit_seconds_bucket{le="+Inf"}' "$m2")
assert_eq "$cnt" "$inf" "the +Inf bucket equals the histogram count"
assert_match "$m2" '^autokitteh_http_requests_total\{route="/autokitteh.system.v1.TokensService/Create",status="200"\} 1$' \
    "the API route is counted under its own label"

# A 401 on TCP is counted with its status.
http GET "$(tcp_url /metrics)"
assert_eq 401 "$CODE" "/metrics on TCP without a token: 401"
m3=$(metrics)
assert_match "$m3" '^autokitteh_http_requests_total\{route="/metrics",status="401"\} [1-9][0-9]*$' \
    "the /metrics 401 is counted with status 401"

# -- the exposition format: every sample line is valid --
bad=$(printf '%s\n' "$m3" | grep -v '^#' | grep -v '^$' |
    grep -Ev '^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$' || true)
[ -z "$bad" ] || fail "invalid Prometheus sample lines:
$bad"
ok "every sample line is valid Prometheus text"
bad=$(printf '%s\n' "$m3" | grep '^#' |
    grep -Ev '^# (HELP [a-z_]+ .+|TYPE [a-z_]+ (counter|gauge|histogram|summary|untyped))$' || true)
[ -z "$bad" ] || fail "invalid Prometheus comment lines:
$bad"
ok "every HELP/TYPE line is valid"
dups=$(printf '%s\n' "$m3" | grep '^# TYPE' | awk '{print $3}' | sort | uniq -d)
[ -z "$dups" ] || fail "metrics with more than one TYPE line: $dups"
ok "each metric has one TYPE line"
http GET http://localhost/metrics --unix-socket "$SOCK" -D "$T/headers"
assert_match "$(cat "$T/headers")" '^[Cc]ontent-[Tt]ype: text/plain; version=0\.0\.4' \
    "/metrics has the Prometheus 0.0.4 content type"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
