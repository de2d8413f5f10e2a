#!/usr/bin/env bash
# durable.sh: durable sessions (docs/DURABILITY.md): a durable sleep longer
# than workers.evict_after holds no worker and resumes with the recorded
# results, also across a daemon restart; code that takes another path on
# replay ends in nondeterminism; an activity result that cannot be pickled
# ends the session with advice; deterministic calls are not activities.
# Worker kills and daemon crashes are in durable-crash.sh.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[workers]
evict_after = 1s
session_timeout = 30s'
write_config
start_daemon

P=$T/durable
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: durable
  triggers:
    - name: sleepy
      type: webhook
      call: program.py:on_sleepy
    - name: boundary
      type: webhook
      call: program.py:on_boundary
    - name: nondet
      type: webhook
      call: program.py:on_nondet
    - name: unpicklable
      type: webhook
      call: program.py:on_unpicklable
    - name: pure
      type: webhook
      call: program.py:on_pure
EOF
cat >"$P/program.py" <<'EOF'
import json
import os
import random
import time
import uuid

import autokitteh


def worker_id():
    # os.getpid() is 1 in the worker's PID namespace; its temp dir names it.
    return "%d@%s" % (os.getpid(), os.environ["TMPDIR"])


def on_sleepy(event):
    x = random.random()
    print("x", repr(x), "pid", worker_id())
    time.sleep(3)
    return repr(x)


def on_boundary(event):
    # get_tmp() names the worker and, being an activity, replays the first
    # worker's name after a resume.
    before = get_tmp()
    time.sleep(float(event.data.url.path_suffix.lstrip("/")))
    return [before, get_tmp()]


@autokitteh.activity
def get_tmp():
    return os.environ["TMPDIR"]


def on_nondet(event):
    # TMPDIR names the worker (/tmp/autokitteh-<pid>-w<N>): a fresh worker
    # has another one, while get_tmp() replays the first worker's.
    first = get_tmp()
    if os.environ["TMPDIR"] == first:
        random.random()
    else:
        uuid.uuid4()
    time.sleep(2)
    return "unreachable"


@autokitteh.activity
def gen():
    return (i for i in range(3))


def on_unpicklable(event):
    return list(gen())


def shout(s):
    return s.upper() + "!"


def on_pure(event):
    s = json.dumps({"b": [1, 2], "a": "x"}, sort_keys=True)
    t = shout("hello").lower().replace("l", "L")
    parts = ",".join(["p", "q"]).split(",")
    r = random.random()
    back = json.loads(s)
    return {"s": s, "n": len(s), "t": t, "parts": parts,
            "keys": sorted(back.keys()), "r": 0 <= r < 1}
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
deploy_out=$OUT

start() { hook_start "$@"; }	# TRIGGER [curl args...]: sets $ses, $evt

# has_prints SES: the session printed something (for wait_until).
has_prints() {
	[ -n "$(ak session prints "$1")" ]
}

busy_workers() {
	ak status -j | jq -r .workers.busy
}

# -- a durable sleep longer than evict_after holds no worker --
t0=$(date +%s%N)
start sleepy
wait_until 15 has_prints "$ses" ||
    fail "the sleeping session printed nothing"
printed=$(ak session prints "$ses")
assert_match "$printed" '^x [0-9.e-]+ pid [0-9]+@/[^ ]+$' "the session printed x and its worker"
x=$(printf '%s\n' "$printed" | awk '{ print $2 }')
pid=$(printf '%s\n' "$printed" | awk '{ print $4 }')
wait_worker_gone "$pid" 5 || fail "the worker $pid is still there during a 3 s sleep"
ok "the worker ($pid) exits during a 3 s sleep (evict_after = 1s)"
sleep 1
assert_eq running "$(session_state "$ses")" "the sleeping session is running"
assert_eq 0 "$(busy_workers)" "status -j: no busy worker during the sleep"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the sleeping session completes"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 2900 ] ||
    fail "the session completed after $(( (t1 - t0) / 1000000 )) ms, before its 3 s sleep"
ok "the session completed after its 3 s sleep ($(( (t1 - t0) / 1000000 )) ms)"
assert_eq "\"$x\"" "$(session_result "$ses")" \
    "the return value is the random value drawn before the sleep"
run ak session log "$ses"
log=$OUT
# random.random, os.getpid and the sleep; the two activities ran once each.
assert_eq "random.Random.random posix.getpid sleep" \
    "$(printf '%s\n' "$log" | awk '$2 == "CALL_SPEC" { printf "%s%s", s, $3; s = " " }')" \
    "the log has the CALL_SPECs of random.random, os.getpid and sleep"
assert_eq "1 1" \
    "$(printf '%s\n' "$log" | awk '$2 == "CALL_ATTEMPT_START" { printf "%s%s", s, $4; s = " " }')" \
    "the log has one CALL_ATTEMPT_START (attempt 1) for each: random.random ran once"
assert_eq "returned $x" \
    "$(printf '%s\n' "$log" | awk '$2 == "CALL_ATTEMPT_COMPLETE" { print $3, $4; exit }')" \
    "CALL_ATTEMPT_COMPLETE has the value random.random returned"
assert_eq "$printed" "$(ak session prints "$ses")" \
    "the print before the sleep is not repeated by the replay"

# -- the same, with the daemon restarted during the sleep --
t0=$(date +%s%N)
start sleepy
wait_until 15 has_prints "$ses" ||
    fail "the sleeping session printed nothing"
printed=$(ak session prints "$ses")
x=$(printf '%s\n' "$printed" | awk '{ print $2 }')
pid=$(printf '%s\n' "$printed" | awk '{ print $4 }')
wait_worker_gone "$pid" 5 || fail "the worker $pid is still there during a 3 s sleep"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM during a durable sleep"
start_daemon
run ak session get "$ses"
assert_match "$OUT" '^state +running$' "after the restart the sleeping session is still running"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the session sleeping across a restart completes"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 2900 ] ||
    fail "the session completed after $(( (t1 - t0) / 1000000 )) ms, before its 3 s sleep"
ok "it completed after its 3 s sleep ($(( (t1 - t0) / 1000000 )) ms)"
assert_eq "\"$x\"" "$(session_result "$ses")" \
    "across the restart the return value is the value drawn before the sleep"
run ak session log "$ses"
assert_eq "1 1" \
    "$(printf '%s\n' "$OUT" | awk '$2 == "CALL_ATTEMPT_START" { printf "%s%s", s, $4; s = " " }')" \
    "across the restart random.random and os.getpid ran once"

# -- nondeterminism: another call on replay --
start nondet
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "session watch exits 1 for a nondeterministic session"
assert_eq error "$(session_state "$ses")" "the nondeterministic session is in error"
run ak session log "$ses"
log=$OUT
assert_match "$log" 'STATE +error: nondeterminism at call #2: history has [A-Za-z_.]*random, code called uuid\.uuid4$' \
    "the error is nondeterminism at call #2: history has random, code called uuid.uuid4"
assert_eq 3 "$(printf '%s\n' "$log" | grep -c 'CALL_SPEC')" \
    "the log has the three calls of the first run (get_tmp, random, sleep)"

# -- an activity result that cannot be pickled --
start unpicklable
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "session watch exits 1 for an unpicklable result"
assert_eq error "$(session_state "$ses")" "the session with an unpicklable result is in error"
run ak session log "$ses"
err=$(printf '%s\n' "$OUT" | sed -n 's/.*STATE  *error: //p' | head -n1)
echo "# the error: $err"
assert_contains "$err" "gen" "the error names the function gen"
assert_contains "$err" "generator" "the error names the type generator"
assert_contains "$err" "cannot be pickled" "the error says it cannot be pickled"
assert_contains "$err" "@autokitteh.activity" "the error suggests @autokitteh.activity"

# -- deterministic calls are not activities --
start pure
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the session of deterministic calls completes"
assert_eq '{"s":"{\"a\": \"x\", \"b\": [1, 2]}","n":23,"t":"heLLo!","parts":["p","q"],"keys":["a","b"],"r":true}' \
    "$(session_result "$ses" | jq -c .)" "its return value"
run ak session log "$ses"
log=$OUT
assert_eq 1 "$(printf '%s\n' "$log" | grep -c 'CALL_SPEC')" \
    "json, len, str methods and its own helper are not activities: one CALL_SPEC"
assert_match "$log" 'CALL_SPEC +.*random' "the one CALL_SPEC is random.random"
assert_eq 1 "$(printf '%s\n' "$log" | grep -c 'CALL_ATTEMPT_COMPLETE')" \
    "the log has one CALL_ATTEMPT_COMPLETE"

assert_healthy "after the durable sessions, the daemon"
run ak status -j
assert_eq "0 0 2 3" "$(jget "$OUT" '[.sessions.created, .sessions.running, .sessions.error, .sessions.completed] | map(tostring) | join(" ")')" \
    "status -j: created 0, running 0, error 2, completed 3"
assert_eq 0 "$(jget "$OUT" .workers.busy)" "status -j: no busy workers"

# -- a sleep shorter than evict_after keeps the worker, a longer one not --
# get_tmp() after the sleep is a live call on the worker that goes on.
# (Exactly evict_after races the wake timer against eviction: not tested.)
for nap in 0.3 1.5; do
	hook POST "$(OUT=$deploy_out webhook_url boundary)/$nap"
	[ "$CODE" = 202 ] || fail "POST to the boundary webhook answered $CODE: $BODY"
	ses=$(session_of "$EVENT_ID")
	run ak session watch -t 20s "$ses"
	assert_status 0 "$RC" "the session sleeping ${nap}s completes"
	pids=$(session_result "$ses" | jq -c .)
	case $nap in
	0.3) assert_eq true "$(printf '%s' "$pids" | jq '.[0] == .[1]')" \
	    "a ${nap}s sleep keeps its worker: the same pid after it ($pids)" ;;
	*) assert_eq true "$(printf '%s' "$pids" | jq '.[0] != .[1]')" \
	    "a ${nap}s sleep ends its worker: another pid after it ($pids)" ;;
	esac
done
assert_healthy "at the end, the daemon"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
