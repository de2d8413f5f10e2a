#!/usr/bin/env bash
# github-signatures.sh: what POST /github/webhook accepts, beyond github.sh
# (which covers a valid push, a wrong secret, a changed ref, a missing or
# sha1= signature and one repeated delivery): one body byte flipped, a
# signature one hex digit off, cut short, padded or upper-cased, a missing
# X-GitHub-Delivery, replays (the same delivery re-signed over another
# body, and after a secret rotation), secret rotation by akctl var set and
# by redeploying the manifest (the old signature refused, the new one
# accepted), and two connections with different secrets (each delivery
# goes to the connection whose secret signed it, only).
. "$top_srcdir/tests/e2e/lib.sh"
need_jq
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

start_daemon

# manifest DIR PROJECT SECRET: a project with one github connection gh.
manifest() {
	mkdir -p "$1"
	cat >"$1/autokitteh.yaml" <<YAML
version: v2
project:
  name: $2
  connections:
    - name: gh
      integration: github
      vars:
        - name: webhook_secret
          value: $3
          secret: true
YAML
	printf 'def noop(event):\n    return None\n' >"$1/program.py"
}
manifest "$T/a" siga alpha-secret
deploy "$T/a"
assert_status 0 "$RC" "deploy project siga (secret alpha-secret)"
manifest "$T/b" sigb beta-secret
deploy "$T/b"
assert_status 0 "$RC" "deploy project sigb (secret beta-secret)"
conn_of() {
	ak connection list -j | jq -r --arg p "$1" \
	    '.connections[] | select(.project_id == $p) | .connection_id'
}
proj_of() {
	ak project get "$1" -j | jq -r '.project.project_id'
}
conn_a=$(conn_of "$(proj_of siga)")
conn_b=$(conn_of "$(proj_of sigb)")
assert_match "$conn_a" '^con_' "project siga has connection gh"
assert_match "$conn_b" '^con_' "project sigb has connection gh"

URL=$(tcp_url /github/webhook)
sign() {	# SECRET BODY-FILE
	printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "$1" <"$2" |
	    sed 's/^.*= *//')"
}
# post BODY-FILE DELIVERY SIGNATURE ("-" for none)
post() {
	local sigh=() dh=()

	[ "$3" = - ] || sigh=(-H "X-Hub-Signature-256: $3")
	[ "$2" = - ] || dh=(-H "X-GitHub-Delivery: $2")
	hook POST "$URL" -H 'Content-Type: application/json' \
	    -H 'X-GitHub-Event: push' "${dh[@]}" "${sigh[@]}" \
	    --data-binary @"$1"
}
events() {	# how many events the connection got
	ak event list -j | jq --arg c "$1" \
	    '[.events[] | select(.destination_id == $c)] | length'
}

printf '{"ref":"refs/heads/main","after":"0123abcd"}' >"$T/body"
good=$(sign alpha-secret "$T/body")

# -- valid --
post "$T/body" v1 "$good"
assert_eq 202 "$CODE" "a body signed with alpha-secret answers 202"
assert_eq 1 "$(events "$conn_a")" "connection siga/gh got the event"
assert_eq 0 "$(events "$conn_b")" "connection sigb/gh (another secret) did not"

# -- one body byte changed --
# Flip the last byte of the commit id: "0123abcd" -> "0123abce".
sed 's/0123abcd/0123abce/' "$T/body" >"$T/flipped"
cmp -s "$T/body" "$T/flipped" && fail "the flipped body is the same"
[ "$(cmp -l "$T/body" "$T/flipped" | wc -l)" = 1 ] ||
    fail "the flipped body differs in more than one byte"
post "$T/flipped" v2 "$good"
assert_eq 401 "$CODE" "one body byte changed after signing answers 401"
assert_contains "$BODY" "invalid X-Hub-Signature-256" "and says the signature is invalid"

# -- signatures that are almost right --
last=${good: -1}
case $last in
0) other=1 ;;
*) other=0 ;;
esac
post "$T/body" v3 "${good%?}$other"
assert_eq 401 "$CODE" "a signature one hex digit off answers 401"
post "$T/body" v4 "${good%??}"
assert_eq 401 "$CODE" "a signature cut short by one byte answers 401"
post "$T/body" v5 "${good}00"
assert_eq 401 "$CODE" "a signature with a byte appended answers 401"
post "$T/body" v6 "sha256="
assert_eq 401 "$CODE" "an empty sha256= signature answers 401"
post "$T/body" v7 "sha256=$(printf '%s' "${good#sha256=}" | sed 's/../zz/')"
assert_eq 401 "$CODE" "a signature with non-hex digits answers 401"
post "$T/body" v8 "SHA256=${good#sha256=}"
assert_eq 401 "$CODE" "an upper-case SHA256= prefix answers 401"
post "$T/body" v9 "$(sign beta-secret "$T/body")"
assert_eq 202 "$CODE" "the same body signed with beta-secret answers 202"
assert_eq 1 "$(events "$conn_b")" "and goes to connection sigb/gh"
assert_eq 1 "$(events "$conn_a")" "and not to siga/gh"

# -- a signed delivery without X-GitHub-Delivery --
post "$T/body" - "$good"
assert_eq 400 "$CODE" "a signed body without X-GitHub-Delivery answers 400"
assert_contains "$BODY" "X-GitHub-Delivery" "and names the header"
assert_eq 1 "$(events "$conn_a")" "the 400 and 401s stored nothing"

# -- replays --
post "$T/body" v1 "$good"
assert_eq 200 "$CODE" "the first delivery replayed answers 200"
assert_eq "duplicate delivery" "$BODY" "as a duplicate"
printf '{"ref":"refs/heads/evil"}' >"$T/other"
post "$T/other" v1 "$(sign alpha-secret "$T/other")"
assert_eq 200 "$CODE" "its id re-used for another correctly signed body: 200"
assert_eq "duplicate delivery" "$BODY" "also a duplicate: the id is the key"
assert_eq 1 "$(events "$conn_a")" "the replays stored no event"

# -- rotation with akctl var set --
run ak var set --connection "$conn_a" --secret webhook_secret gamma-secret
assert_status 0 "$RC" "rotate siga/gh's webhook_secret to gamma-secret"
post "$T/body" r1 "$good"
assert_eq 401 "$CODE" "after the rotation, the alpha-secret signature answers 401"
new=$(sign gamma-secret "$T/body")
post "$T/body" r1 "$new"
assert_eq 202 "$CODE" "the gamma-secret signature answers 202 (same delivery id as the 401)"
assert_eq 2 "$(events "$conn_a")" "siga/gh has its second event"
post "$T/body" r2 "$good"
assert_eq 401 "$CODE" "the old signature stays refused on a new delivery id"

# -- rotation by redeploying the manifest --
manifest "$T/a" siga delta-secret
deploy "$T/a"
assert_status 0 "$RC" "redeploy siga with webhook_secret delta-secret"
assert_eq "$conn_a" "$(conn_of "$(proj_of siga)")" "the connection is the same one"
post "$T/body" r3 "$new"
assert_eq 401 "$CODE" "after the redeploy, the gamma-secret signature answers 401"
post "$T/body" r3 "$(sign delta-secret "$T/body")"
assert_eq 202 "$CODE" "the delta-secret signature answers 202"
assert_eq 3 "$(events "$conn_a")" "siga/gh has its third event"
assert_eq 1 "$(events "$conn_b")" "sigb/gh still has only its own event"

# -- an empty secret verifies nothing --
run ak var set --connection "$conn_b" --secret webhook_secret ""
assert_status 0 "$RC" "set sigb/gh's webhook_secret to the empty string"
post "$T/body" e1 "sha256=$(openssl dgst -sha256 -hmac "" <"$T/body" |
    sed 's/^.*= *//')"
assert_eq 401 "$CODE" "with sigb/gh's secret empty, an HMAC keyed with \"\" answers 401"

assert_healthy
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"
