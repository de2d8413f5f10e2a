#!/usr/bin/env bash
# webhooks.sh: /webhooks/SLUG: unknown and malformed slugs, the body limit,
# a trigger's event_type, forms, deactivation, and the zygote's recovery.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[webhooks]
max_body_size = 1KiB'
write_config
start_daemon

P=$T/hooks
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: hooks
  triggers:
    - name: any
      webhook: {}
      call: program.py:on_any
    - name: getonly
      type: webhook
      event_type: get
      call: program.py:on_any
EOF
cat >"$P/program.py" <<'EOF'
def on_any(event):
    form = event.data.body.form
    return {"type": event.event_type,
            "x": form.x if form is not None else None,
            "len": len(event.data.body.bytes or b"")}
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
url=$(webhook_url any)
get_url=$(webhook_url getonly)
dep=$(printf '%s\n' "$OUT" | awk '$1 == "deployment" { print $2 }')
slug=${url##*/}
base=${url%/*}

# -- unknown and malformed slugs --
unknown=abcdefghijklmnopqrstuvwxyz
[ "$unknown" != "$slug" ] || unknown=zyxwvutsrqponmlkjihgfedcba
hook POST "$base/$unknown"
assert_eq 404 "$CODE" "an unknown slug (26 valid characters) answers 404"
assert_eq "no active deployment has a webhook trigger at this address" "$BODY" \
    "404 for an unknown slug says why"
assert_eq "" "$EVENT_ID" "404 has no AutoKitteh-Event-ID"
for bad in short ABCDEFGHIJKLMNOPQRSTUVWXYZ "${slug}x" "${slug%?}_" "${slug%?}-"; do
	hook POST "$base/$bad"
	assert_eq 404 "$CODE" "a malformed slug ($bad) answers 404"
	assert_eq "no such webhook" "$BODY" "404 for $bad says no such webhook"
done
hook GET "$base/"
assert_eq 404 "$CODE" "an empty slug answers 404"
run ak event list
assert_eq "no events" "$OUT" "the 404s stored no event"

# -- the body limit --
head -c 1025 /dev/zero | tr '\0' a >"$T/big"
hook POST "$url" --data-binary @"$T/big"
assert_eq 413 "$CODE" "a body of 1025 bytes over max_body_size = 1KiB answers 413"
assert_contains "$BODY" "webhooks.max_body_size (1KiB)" "413 names webhooks.max_body_size"
assert_eq "" "$EVENT_ID" "413 has no AutoKitteh-Event-ID"
run ak event list
assert_eq "no events" "$OUT" "the 413 stored no event"
assert_eq 0 "$(session_count)" "the 413 started no session"
head -c 1024 /dev/zero | tr '\0' a >"$T/fits"
hook POST "$url" --data-binary @"$T/fits"
assert_eq 202 "$CODE" "a body of exactly 1KiB answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the 1KiB session completes"
assert_eq 1024 "$(session_result "$ses" | jq -r .len)" "the session got all 1024 bytes"

# -- a trigger with event_type: get --
before=$(session_count -p hooks)
hook POST "$get_url" -d 'x=1'
assert_eq 202 "$CODE" "POST to the get-only trigger still answers 202"
post_evt=$EVENT_ID
assert_match "$post_evt" '^evt_[0-9a-z]{26}$' "the POST made an event"
assert_eq "" "$(session_of "$post_evt")" "the POST started no session"
assert_eq "$before" "$(session_count -p hooks)" "the session count is unchanged after the POST"
run ak event get "$post_evt"
assert_match "$OUT" '^type +post$' "the POST's event is stored, type post"
hook GET "$get_url"
assert_eq 202 "$CODE" "GET to the get-only trigger answers 202"
ses=$(session_of "$EVENT_ID")
[ -n "$ses" ] || fail "the GET started no session"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the GET session completes"
assert_eq get "$(session_result "$ses" | jq -r .type)" "the GET session saw event_type get"
assert_eq $((before + 1)) "$(session_count -p hooks)" "exactly one session more after the GET"

# -- a form --
hook POST "$url" -d 'x=meow&y=2'
assert_eq 202 "$CODE" "a form POST answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the form session completes"
assert_eq meow "$(session_result "$ses" | jq -r .x)" "the session read event.data.body.form.x"
run ak event get "$EVENT_ID"
assert_contains "$OUT" '"x": "meow"' "event get shows the form"

# -- zygote crash recovery --
run ak status -j
zpid=$(jget "$OUT" .workers.zygote_pid)
assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" "no zygote restart yet"
case $zpid in
''|*[!0-9]*|0) fail "status -j has no zygote pid: $OUT" ;;
esac
grep -q autokitteh-worker "/proc/$zpid/cmdline" 2>/dev/null ||
    fail "the zygote pid $zpid is not an autokitteh-worker"
# The zygote's children: its warm pool of workers.
kids=$(ps -o pid= --ppid "$zpid" | xargs)
[ -n "${kids// /}" ] || fail "the zygote $zpid has no workers"
kill -KILL "$zpid"
zygote_replaced() {
	local j

	j=$(ak status -j) || return 1
	[ "$(jget "$j" .workers.zygote_restarts)" = 1 ] &&
	[ "$(jget "$j" .workers.zygote_ready)" = true ] &&
	[ "$(jget "$j" .workers.zygote_pid)" != "$zpid" ] &&
	[ "$(jget "$j" .workers.zygote_pid)" -gt 0 ]
}
wait_until 10 zygote_replaced ||
    fail "no new ready zygote within 10 s: $(ak status -j)"
ok "a new zygote is ready, zygote_restarts 1"
run ak status -j
assert_match "$(jget "$OUT" .workers.zygote_pid)" '^[1-9][0-9]*$' "status -j: the new zygote's pid"
wait_gone "$zpid" 5 || fail "the killed zygote $zpid is still there"
for k in $kids; do
	wait_gone "$k" 5 || fail "worker $k of the killed zygote is still there"
done
ok "the killed zygote's warm workers ($kids) are gone"
hook POST "$url" -d 'x=again'
assert_eq 202 "$CODE" "a webhook after the zygote restart answers 202"
ses=$(session_of "$EVENT_ID")
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "a session after the zygote restart completes"
assert_eq again "$(session_result "$ses" | jq -r .x)" "and returns its value"

# -- deactivating the deployment: the webhook answers 404 --
n=$(session_count)
run ak deployment deactivate "$dep"
assert_status 0 "$RC" "deployment deactivate exits 0"
hook POST "$url" -d 'x=1'
assert_eq 404 "$CODE" "the webhook answers 404 right after deactivation"
assert_eq "no active deployment has a webhook trigger at this address" "$BODY" \
    "the 404 says there is no active deployment"
hook GET "$get_url"
assert_eq 404 "$CODE" "the get-only webhook answers 404 too"
wait_until 10 sh -c "\"$AKCTL\" --socket \"$SOCK\" deployment get $dep | grep -Eq '^state +inactive'" ||
    fail "the deployment did not become inactive: $(ak deployment get "$dep")"
ok "the deployment is inactive"
hook POST "$url" -d 'x=1'
assert_eq 404 "$CODE" "the webhook of the inactive deployment answers 404"
assert_eq "$n" "$(session_count)" "no session started after deactivation"

# -- event list: each filter agrees with filtering the whole list here --
full=$(ak event list -j -n 1000 -o desc | jq -c '.events')
[ "$(printf '%s' "$full" | jq length)" -ge 5 ] || fail "too few events to compare filters"
check_events() {	# WHAT JQ-CONDITION AKCTL-ARGS...
	local what=$1 cond=$2 want got

	shift 2
	want=$(printf '%s' "$full" | jq -c "[.[] | select($cond) | .event_id]")
	got=$(ak event list -j -n 1000 "$@" | jq -c '[.events[].event_id]')
	assert_eq "$want" "$got" "event list $what: the same events, in the same order"
}
trg=$(printf '%s' "$full" | jq -r '[.[] | select(.event_type == "get")][0].destination_id')
check_events "-t" ".destination_id == \"$trg\"" -t "$trg" -o desc
check_events "-e post" '.event_type == "post"' -e post -o desc
check_events "-p hooks" true -p hooks -o desc	# the only project
check_events "-t -e get" ".destination_id == \"$trg\" and .event_type == \"get\"" \
    -t "$trg" -e get -o desc
want=$(printf '%s' "$full" | jq -c '[.[] | select(.event_type == "post") | .event_id] | reverse')
got=$(ak event list -j -n 1000 -e post -o asc | jq -c '[.events[].event_id]')
assert_eq "$want" "$got" "event list -e post -o asc: oldest first"
got=$(ak event list -j -n 2 -e post -o desc | jq -c '[.events[].event_id]')
assert_eq "$(printf '%s' "$full" | jq -c '[.[] | select(.event_type == "post") | .event_id][:2]')" \
    "$got" "event list -n 2: the newest two"

assert_healthy "after the webhooks, the daemon"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
