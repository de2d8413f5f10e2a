#!/usr/bin/env bash
# secrets.sh: secrets at rest. The key file is made 0600 at first start;
# a secret var (akctl), a secret var (manifest) and a connection var reach
# the session but never the database or its WAL in the clear, while a
# non-secret var's marker does (so the grep is proven to look); var get
# masks unless --reveal, and so does the API itself; rotation of the
# master key and of the data key keeps sessions working and makes the old
# key file useless; the daemon refuses (exit 78) a key file open to
# others, of the wrong size, missing, or not the store's; and start-up
# finishes or discards an interrupted rotation. A github connection's
# webhook_secret, which the daemon itself uses to verify deliveries,
# keeps verifying them across rotations.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq
command -v sha256sum >/dev/null 2>&1 || skip "sha256sum is not installed"

marker() {	# a unique plaintext that can appear nowhere by chance
	echo "aksecret-$1-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
}
digest() {
	printf %s "$1" | sha256sum | cut -d' ' -f1
}
M_TOKEN=$(marker token)
M_MSECRET=$(marker manifest)
M_CONN=$(marker conn)
M_PLAIN=$(marker plain)
M_GH=$(marker github)
HAVE_OPENSSL=
command -v openssl >/dev/null 2>&1 && HAVE_OPENSSL=1
KEY=$DATA/secrets.key
DB=$DATA/autokitteh.db

# in_store MARKER: how many of the database and its WAL hold MARKER.
in_store() {
	local n=0 f

	for f in "$DB" "$DB-wal"; do
		[ -f "$f" ] || continue
		if grep -q -a -F -- "$1" "$f"; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}

assert_sealed() {	# WHEN
	assert_eq 0 "$(in_store "$M_TOKEN")" "$1: the akctl secret is not in the store or WAL in clear"
	assert_eq 0 "$(in_store "$M_MSECRET")" "$1: the manifest secret is not in the store or WAL in clear"
	assert_eq 0 "$(in_store "$M_CONN")" "$1: the connection secret is not in the store or WAL in clear"
	assert_eq 0 "$(in_store "$M_GH")" "$1: the webhook secret is not in the store or WAL in clear"
}

# gh_verifies WHAT: a delivery signed with the webhook secret is accepted
# (the daemon decrypted the secret to check it), one signed otherwise not.
GH_N=0
gh_verifies() {
	local body='{"ref":"refs/heads/main"}' sig bad

	if [ -z "$HAVE_OPENSSL" ]; then
		echo "# $1: no openssl, the webhook secret is not checked"
		return 0
	fi
	GH_N=$((GH_N + 1))
	sig=sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac "$M_GH" | sed 's/^.*= *//')
	bad=sha256=$(printf %s "$body" | openssl dgst -sha256 -hmac nope | sed 's/^.*= *//')
	hook POST "$(tcp_url /github/webhook)" -H 'Content-Type: application/json' \
	    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: d$GH_N" \
	    -H "X-Hub-Signature-256: $sig" --data-binary "$body"
	assert_eq 202 "$CODE" "$1: a delivery signed with the sealed webhook_secret is accepted"
	hook POST "$(tcp_url /github/webhook)" -H 'Content-Type: application/json' \
	    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: x$GH_N" \
	    -H "X-Hub-Signature-256: $bad" --data-binary "$body"
	assert_eq 401 "$CODE" "$1: one signed with another secret is refused"
}

# A daemon start that must fail: exit 78 and a message.
refuse() {	# WHAT NEEDLE
	run timeout 20 "$AUTOKITTEHD" -d -f "$CONF"
	assert_status 78 "$RC" "$1: autokittehd refuses to start (exit 78)"
	assert_contains "$ERR" "$2" "$1: and says why"
}

# run_session: fire the webhook, wait, leave the return value in $RESULT.
run_session() {	# WHAT
	hook POST "$HOOK"
	assert_eq 202 "$CODE" "$1: the webhook answers 202"
	ses=$(session_of "$EVENT_ID")
	run ak session watch -t 30s "$ses"
	assert_status 0 "$RC" "$1: the session completes"
	RESULT=$(session_result "$ses")
}

assert_session_sees() {	# WHAT
	gh_verifies "$1"
	run_session "$1"
	assert_eq "$(digest "$M_TOKEN")" "$(jget "$RESULT" .token)" "$1: the session reads the akctl secret"
	assert_eq "$(digest "$M_MSECRET")" "$(jget "$RESULT" .msecret)" "$1: the session reads the manifest secret"
	assert_eq "$(digest "Bearer $M_CONN")" "$(jget "$RESULT" .conn)" "$1: the session reads the connection secret"
	assert_eq "$(digest "$M_PLAIN")" "$(jget "$RESULT" .plain)" "$1: the session reads the plain var"
}

start_daemon

# -- the key file: made at first start, 0600, 32 bytes, ours --
[ -f "$KEY" ] || fail "no key file $KEY after the first start"
assert_eq 600 "$(stat -c %a "$KEY")" "the key file is created mode 0600"
assert_eq 32 "$(stat -c %s "$KEY")" "the key file holds 32 bytes"
assert_eq "$(id -u)" "$(stat -c %u "$KEY")" "the key file belongs to the daemon's user"
run ak secrets status -j
assert_status 0 "$RC" "akctl secrets status exits 0"
assert_eq "$KEY" "$(jget "$OUT" .key_file)" "the default key file is data_dir/secrets.key"
assert_eq AES-256-GCM "$(jget "$OUT" .cipher)" "the cipher is AES-256-GCM"
assert_eq 1 "$(jget "$OUT" .data_key_id)" "the first data key is number 1"

# -- a project with secrets three ways, and a plain var --
P=$T/proj
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<YAML
version: v2
project:
  name: secproj
  vars:
    - name: PLAIN
      value: $M_PLAIN
    - name: MSECRET
      value: $M_MSECRET
      secret: true
  connections:
    - name: api
      integration: http
      vars:
        - name: base_url
          value: http://127.0.0.1:1/
    - name: gh
      integration: github
  triggers:
    - name: hook
      webhook: {}
      call: program.py:on_hook
YAML
# The code must not hold the markers (the store keeps the code), nor
# return them (it keeps return values): it returns their SHA-256.
cat >"$P/program.py" <<'PY'
import hashlib
import os


def digest(name):
    v = os.getenv(name)
    return None if v is None else hashlib.sha256(v.encode()).hexdigest()


def on_hook(event):
    return {"token": digest("TOKEN"), "msecret": digest("MSECRET"),
            "conn": digest("api__auth_header"), "plain": digest("PLAIN")}
PY
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
HOOK=$(webhook_url hook)
run ak var set -p secproj -s TOKEN "$M_TOKEN"
assert_status 0 "$RC" "akctl var set -s exits 0"
run ak connection list -j
conn=$(jget "$OUT" '.connections[] | select(.name == "api") | .connection_id')
ghconn=$(jget "$OUT" '.connections[] | select(.name == "gh") | .connection_id')
assert_match "$conn" '^con_' "the manifest made connection api"
assert_match "$ghconn" '^con_' "the manifest made connection gh"
run ak var set --connection "$conn" -s auth_header "Bearer $M_CONN"
assert_status 0 "$RC" "akctl var set --connection -s exits 0"
# Not flagged secret: a connection's vars are sealed all the same.
run ak var set --connection "$ghconn" webhook_secret "$M_GH"
assert_status 0 "$RC" "akctl var set --connection (not -s) exits 0"
proj=$(ak project list -j | jq -r '.projects[] | select(.name == "secproj") | .project_id')

assert_session_sees "first start"

# -- while the daemon runs, before any checkpoint: the DB and its WAL --
[ -s "$DB-wal" ] || fail "the store has no WAL to grep while running"
ok "the WAL exists while the daemon runs"
assert_eq 1 "$(in_store "$M_PLAIN")" "running: the plain var's marker IS in the store (the grep works)"
assert_sealed "running"
run ak secrets status -j
assert_eq 5 "$(jget "$OUT" .sealed_values)" \
    "running: 5 values are sealed (2 secret vars, 3 connection vars)"
assert_eq 0 "$(jget "$OUT" .cleartext_values)" "running: no secret is in the clear"

# -- var get masks, --reveal reveals; the API masks too --
run ak var get -p secproj TOKEN
assert_status 0 "$RC" "akctl var get exits 0"
assert_contains "$OUT" "********" "var get masks the secret value"
assert_not_contains "$OUT" "$M_TOKEN" "var get does not show the secret"
run ak var get -p secproj -j
assert_eq "********" "$(jget "$OUT" '.vars[] | select(.name == "TOKEN") | .value')" \
    "var get -j masks the secret value"
assert_eq "$M_PLAIN" "$(jget "$OUT" '.vars[] | select(.name == "PLAIN") | .value')" \
    "var get shows a plain value"
run ak var get -p secproj --reveal TOKEN MSECRET
assert_contains "$OUT" "$M_TOKEN" "var get --reveal shows the akctl secret"
assert_contains "$OUT" "$M_MSECRET" "var get --reveal shows the manifest secret"
run ak var get --connection "$conn" --reveal -j
assert_eq "Bearer $M_CONN" "$(jget "$OUT" '.vars[] | select(.name == "auth_header") | .value')" \
    "var get --reveal shows the connection secret"
GET=http://localhost/autokitteh.vars.v1.VarsService/Get
raw=$(curl -sS --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d "{\"scope_id\":\"$proj\",\"names\":[\"TOKEN\"]}" "$GET")
assert_eq "" "$(jget "$raw" '.vars[0].value')" "VarsService.Get answers a secret as \"\" without reveal"
assert_eq true "$(jget "$raw" '.vars[0].is_secret')" "and says it is secret"
assert_not_contains "$raw" "$M_TOKEN" "VarsService.Get without reveal does not send the secret"
raw=$(curl -sS --unix-socket "$SOCK" -H 'Content-Type: application/json' \
    -d "{\"scopeId\":\"$proj\",\"names\":[\"TOKEN\"],\"reveal\":true}" "$GET")
assert_eq "$M_TOKEN" "$(jget "$raw" '.vars[0].value')" "VarsService.Get with reveal sends it"

# -- after a clean stop --
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"
assert_eq 1 "$(in_store "$M_PLAIN")" "stopped: the plain var's marker IS in the store"
assert_sealed "stopped"
for m in "$M_TOKEN" "$M_MSECRET" "$M_CONN" "$M_GH"; do
	grep -q -a -F -- "$m" "$LOG" && fail "the daemon's log holds a secret"
done
ok "the daemon's log holds none of the secrets"

# -- refusals: key file open to others, wrong size, missing, wrong key --
cp -p "$KEY" "$T/key1"
chmod 0644 "$KEY"
refuse "a 0644 key file" "chmod 600 $KEY"
chmod 0640 "$KEY"
refuse "a 0640 key file" "open to its group"
chmod 0600 "$KEY"
head -c 31 "$T/key1" >"$KEY"
refuse "a 31-byte key file" "is 31 bytes long"
rm -f "$KEY"
refuse "a missing key file" "is missing, but the store"
head -c 32 /dev/urandom >"$KEY"
chmod 0600 "$KEY"
refuse "another key" "does not decrypt the data key"
cp -p "$T/key1" "$KEY"

# -- rotation of the master key --
start_daemon
assert_session_sees "restart"
run ak secrets rotate
assert_status 0 "$RC" "akctl secrets rotate exits 0"
assert_contains "$OUT" "$KEY holds the new key" "and says where the new key is"
cmp -s "$KEY" "$T/key1" && fail "the key file did not change"
ok "the key file holds a new key"
assert_eq 600 "$(stat -c %a "$KEY")" "the new key file is mode 0600"
[ ! -e "$KEY.new" ] || fail "rotation left $KEY.new behind"
ok "rotation leaves no .new file"
assert_session_sees "after rotating the master key"
run ak secrets status -j
assert_eq 1 "$(jget "$OUT" .data_key_id)" "a master key rotation keeps data key 1"
assert_sealed "after rotating the master key"

# -- rotation of the data key: every value re-encrypted --
run ak secrets rotate --data-key -j
assert_status 0 "$RC" "akctl secrets rotate --data-key exits 0"
assert_eq 2 "$(jget "$OUT" .data_key_id)" "the new data key is number 2"
assert_eq 5 "$(jget "$OUT" .resealed)" "5 values were re-encrypted"
assert_session_sees "after rotating the data key"
assert_sealed "after rotating the data key"
run ak var get -p secproj --reveal TOKEN
assert_contains "$OUT" "$M_TOKEN" "var get --reveal after the data key rotation"
cp -p "$KEY" "$T/key3"
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly after the rotations"
assert_sealed "stopped after the rotations"

# The old key file no longer opens the store.
cp -p "$T/key1" "$KEY"
refuse "the key file from before the rotations" "does not decrypt the data key"

# -- interrupted rotations --
# Committed, not renamed: the store is wrapped by KEY.new, KEY is stale.
cp -p "$T/key3" "$KEY.new"
start_daemon
cmp -s "$KEY" "$T/key3" || fail "start-up did not move $KEY.new into place"
ok "start-up finishes a rotation that committed but did not rename"
[ ! -e "$KEY.new" ] || fail "$KEY.new is still there"
ok "and no .new file remains"
grep -q "finished an interrupted key rotation" "$LOG" ||
    fail "the log does not say the rotation was finished"
ok "the log says so"
assert_session_sees "after finishing an interrupted rotation"
stop_daemon
# Not committed: a stray KEY.new beside the key that works.
head -c 32 /dev/urandom >"$KEY.new"
chmod 0600 "$KEY.new"
start_daemon
[ ! -e "$KEY.new" ] || fail "start-up kept a stray $KEY.new"
ok "start-up removes the .new of a rotation that did not commit"
cmp -s "$KEY" "$T/key3" || fail "start-up changed the key file"
ok "and keeps the key file"
assert_session_sees "after discarding an interrupted rotation"

# -- [secrets] key_file elsewhere: made there on first start --
stop_daemon
rm -rf "$DATA"
mkdir -p "$T/keys"
chmod 0700 "$T/keys"
CONF_EXTRA="[secrets]
key_file = $T/keys/ak.key" write_config
start_daemon
assert_eq 600 "$(stat -c %a "$T/keys/ak.key")" "a configured key_file is made 0600"
[ ! -e "$DATA/secrets.key" ] || fail "a key was made in data_dir too"
ok "and none in data_dir"
run ak secrets status -j
assert_eq "$T/keys/ak.key" "$(jget "$OUT" .key_file)" "status names the configured key file"
stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"
