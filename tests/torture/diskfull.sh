#!/usr/bin/env bash
# diskfull.sh: the disk holding the store fills up while durable sessions
# run and API writes and webhooks arrive (docs/RELIABILITY.md, "Disk
# full"). The data directory is a small tmpfs; a filler file takes the
# rest of it. Required: writes fail cleanly (the API answers 503 naming the
# full disk, webhooks 503), /readyz and akctl status say "disk full", the
# sessions wait (still running, no attempt counted, nothing acknowledged
# that was not saved), the daemon does not crash; once the filler is
# deleted the waiting sessions complete, new requests succeed, and the
# store passes PRAGMA integrity_check. Needs root (mount -t tmpfs).
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import sqlite3, pickle' 2>/dev/null ||
    skip "$PY with the sqlite3 module is needed to check the store"

mkdir -p "$DATA"
if ! mount -t tmpfs -o size=6m,mode=0700 tmpfs "$DATA" 2>"$T/mount.err"; then
	skip "cannot mount a tmpfs for the data directory (needs root): $(cat "$T/mount.err")"
fi
# Unmount before lib.sh removes $T: stop the daemon first.
trap 'rc=$?; set +e
	[ -n "$DAEMON_PID" ] && kill -KILL "$DAEMON_PID" 2>/dev/null &&
	    wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	umount "$DATA" 2>/dev/null || umount -l "$DATA"
	(exit $rc); cleanup' EXIT

pick_port
# The sessions tick until the test creates $G/open (after the disk full
# part): let them see that directory.
G=$T/gate
CONF_EXTRA="[workers]
session_timeout = 300s
writable_paths = $G"
write_config
start_daemon
chmod 0711 "$T"
mkdir -p "$G"
chmod 0755 "$G"

P=$T/ticks
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: ticks
  vars:
    - name: GATE
      value: "$G/open"
  triggers:
    - name: run
      type: webhook
      call: program.py:on_run
EOF
cat >"$P/program.py" <<'EOF'
import os
import random
import time

import autokitteh


@autokitteh.activity
def tick(i):
    time.sleep(0.1)
    return [i, random.random(), os.path.exists(os.environ["GATE"])]


def on_run(event):
    out = []
    for i in range(3000):
        v = tick(i)
        print("tick", i, v[1])
        out.append(v)
        if v[2]:
            break
    return out
EOF
deploy "$P"
assert_status 0 "$RC" "deploy of the durable project exits 0"
run_url=$(webhook_url run)

sessions=
for i in 1 2 3; do
	hook POST "$run_url"
	assert_eq 202 "$CODE" "webhook $i starts a session"
	wait_until 10 session_of "$EVENT_ID" ||
	    fail "webhook $i: no session for event $EVENT_ID"
	sessions="$sessions $(session_of "$EVENT_ID")"
done

# has_ticks SES N: SES printed at least N ticks.
has_ticks() {
	[ "$(ak session prints "$1" | grep -c '^tick')" -ge "$2" ]
}
for s in $sessions; do
	wait_until 20 has_ticks "$s" 3 || fail "session $s does not tick"
done
ok "three durable sessions are ticking"

# Fill the disk.
dd if=/dev/zero of="$DATA/filler" bs=64k 2>/dev/null || true
echo "# data dir: $(df -k "$DATA" | tail -n1)"

# API writes until the store refuses one (the WAL may take a few first).
big=$(head -c 8000 /dev/zero | tr '\0' x)
refused=
for i in $(seq 1 300); do
	run ak var set -p ticks "v$i" "$big"
	if [ "$RC" != 0 ]; then
		refused=$i
		break
	fi
done
[ -n "$refused" ] || fail "300 large var writes succeeded on a full disk"
ok "the store refused API write $refused on the full disk"
assert_contains "$ERR" "disk holding the store is full" \
    "akctl's error names the full disk"
http POST "$(tcp_url /autokitteh.vars.v1.VarsService/Set)" \
    -H 'Content-Type: application/json' --unix-socket "$SOCK" \
    -d "{\"vars\": [{\"scope_id\": \"$(ak project get ticks -j | jq -r '.project.project_id // .project_id')\", \"name\": \"w\", \"value\": \"$big\"}]}"
assert_eq 503 "$CODE" "the API answers 503 on a full disk"
assert_contains "$BODY" "disk holding the store is full" \
    "the 503 body names the full disk"

hook POST "$run_url"
assert_eq 503 "$CODE" "a webhook answers 503 on a full disk"
assert_contains "$BODY" "disk holding the store is full" \
    "the webhook's 503 names the full disk"

http GET "$(tcp_url /readyz)"
assert_eq 503 "$CODE" "/readyz is 503 while the disk is full"
assert_contains "$BODY" "disk full" "/readyz says disk full"
http GET "$(tcp_url /healthz)"
assert_eq 200 "$CODE" "/healthz is still 200 (the daemon is alive)"
run ak status
assert_status 1 "$RC" "akctl status exits 1 (not ready)"
assert_contains "$OUT" "DISK FULL" "akctl status shows DISK FULL"
http GET "$(tcp_url /metrics)" --unix-socket "$SOCK"
assert_contains "$BODY" "autokitteh_store_disk_full 1" \
    "/metrics: autokitteh_store_disk_full 1"
assert_match "$BODY" '^autokitteh_store_disk_full_errors_total [1-9]' \
    "/metrics counts the disk-full errors"
assert_contains "$(cat "$NOTIFY_OUT")" "STATUS=disk full" \
    "sd_notify STATUS says disk full"

# The sessions wait: no progress, none ended, for a few seconds.
sleep 1
before=
for s in $sessions; do
	before="$before $(ak session prints "$s" | grep -c '^tick')"
done
sleep 3
after=
for s in $sessions; do
	after="$after $(ak session prints "$s" | grep -c '^tick')"
	assert_eq running "$(session_state "$s")" "session $s is still running"
done
assert_eq "$before" "$after" "no session made recorded progress on the full disk"
kill -0 "$DAEMON_PID" || fail "autokittehd died on the full disk"
ok "autokittehd is alive on the full disk"
assert_contains "$(cat "$LOG")" "waits and resumes when space is freed" \
    "the log says the sessions wait"

# Space comes back.
rm -f "$DATA/filler"
wait_until 15 sh -c "curl -sf $(tcp_url /readyz) >/dev/null" ||
    fail "/readyz did not come back after the filler was deleted"
ok "/readyz is 200 again once space is freed"
read -r -a ticks_full <<<"$before"
i=0
for s in $sessions; do
	wait_until 60 has_ticks "$s" $((ticks_full[i] + 3)) ||
	    fail "session $s does not tick again after space came back"
	i=$((i + 1))
done
ok "the sessions tick again"
: >"$G/open"
chmod 0644 "$G/open"
for s in $sessions; do
	wait_until 60 sh -c "[ \"\$($AKCTL --socket $SOCK session get $s |
	    awk '\$1 == \"state\" { print \$2; exit }')\" = completed ]" ||
	    fail "session $s did not complete after space came back: $(ak session get "$s")"
	ok "session $s completed after space came back"
done
run ak var set -p ticks after "$big"
assert_status 0 "$RC" "an API write succeeds again"
hook POST "$run_url"
assert_eq 202 "$CODE" "a webhook is accepted again"
run ak status
assert_status 0 "$RC" "akctl status exits 0 (ready)"
assert_not_contains "$OUT" "DISK FULL" "akctl status no longer shows DISK FULL"
http GET "$(tcp_url /metrics)" --unix-socket "$SOCK"
assert_contains "$BODY" "autokitteh_store_disk_full 0" \
    "/metrics: autokitteh_store_disk_full 0"

stop_daemon
assert_eq 0 "$STOP_STATUS" "autokittehd stops cleanly"

# The store: intact, and each session's result is exactly its recorded
# history (every value the program went on with had been saved), with no
# attempt counted against the sessions.
run "$PY" - "$DATA/autokitteh.db" $sessions <<'EOF'
import json, pickle, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("integrity_check", db.execute("PRAGMA integrity_check").fetchone()[0])
for sid in sys.argv[2:]:
    state, result, attempts = db.execute(
        "SELECT state, result, attempts FROM sessions WHERE session_id = ?",
        (sid,)).fetchone()
    history = [pickle.loads(v) for (v,) in db.execute(
        "SELECT value FROM session_calls WHERE session_id = ? AND "
        "kind = 'activity' AND state = 'completed' ORDER BY seq", (sid,))]
    same = json.loads(result) == history and len(history) > 3
    print(sid, state, "attempts", attempts,
          "result==history" if same else "result!=history")
EOF
assert_status 0 "$RC" "the store can be read: $ERR"
echo "$OUT" | sed 's/^/# /'
assert_contains "$OUT" "integrity_check ok" "PRAGMA integrity_check is ok"
for s in $sessions; do
	assert_contains "$OUT" "$s completed attempts 0 result==history" \
	    "session $s: completed, no attempt counted, result == saved history"
done
check_sanitizers
