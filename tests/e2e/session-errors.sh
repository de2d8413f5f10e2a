#!/usr/bin/env bash
# session-errors.sh: sessions that fail: an exception, the CPU limit, the
# session timeout, a worker killed from outside, a stop request; and one
# that prints a lot. The daemon stays healthy through all of them.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[workers]
cpu_limit = 1s
session_timeout = 20s'
write_config
start_daemon

P=$T/errs
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v1
project:
  name: errs
  triggers:
    - name: raise
      type: webhook
      call: program.py:on_raise
    - name: chatty
      type: webhook
      call: program.py:on_chatty
    - name: spin
      type: webhook
      call: program.py:on_spin
    - name: sleep
      type: webhook
      is_durable: false
      call: program.py:on_sleep
EOF
cat >"$P/program.py" <<'EOF'
import os
import time


def divide(a, b):
    return a / b


def on_raise(event):
    return divide(1, 0)


def on_chatty(event):
    for i in range(1, 10001):
        print("line", i)
    return "done"


def on_spin(event):
    while True:
        pass


def on_sleep(event):
    # os.getpid() is 1 in the worker's PID namespace; its temp dir names it.
    print("%d@%s" % (os.getpid(), os.environ["TMPDIR"]), flush=True)
    time.sleep(30)
    return "woke up"
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
deploy_out=$OUT

start() { hook_start "$@"; }	# TRIGGER [curl args...]: sets $ses, $evt

# Conditions for wait_until, which evaluates its arguments once.
prints_at_least() { test "$(ak session prints "$1" | wc -l)" -ge "$2"; }
state_is() { test "$(session_state "$1")" = "$2"; }

# -- an uncaught exception --
start raise
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "session watch exits 1 for a session that raised"
assert_eq "$ses error" "$OUT" "session watch prints error"
assert_eq error "$(session_state "$ses")" "session get: state error"
run ak session log "$ses"
log=$OUT
assert_match "$log" '^[0-9TZ:.-]+ +STATE +error: ZeroDivisionError: division by zero$' \
    "the log has the error ZeroDivisionError: division by zero"
assert_match "$log" '^ +Traceback \(most recent call last\):$' "the log has a traceback"
assert_match "$log" '^ +File "program\.py", line 10, in on_raise$' \
    "the traceback has the handler's frame (program.py line 10, on_raise)"
assert_match "$log" '^ +File "program\.py", line 6, in divide$' \
    "the traceback has the helper's frame (program.py line 6, divide)"
assert_match "$log" '^ +return a / b$' "the traceback quotes the failing line"
[ "$(printf '%s\n' "$log" | grep -c '^ *File ')" = 2 ] ||
    fail "the traceback has other frames than the user's two:
$log"
ok "the traceback has exactly the user's two frames"
assert_not_contains "$log" "ak_runner" "the traceback hides the runner's frames"
assert_not_contains "$log" "workers/python" "the traceback has no runtime path"
run ak session get -j "$ses"
assert_eq SESSION_STATE_TYPE_ERROR "$(jget "$OUT" .session.state)" \
    "session get -j: SESSION_STATE_TYPE_ERROR"

# -- 10,000 printed lines --
start chatty
run ak session watch -t 25s "$ses"
assert_status 0 "$RC" "the session printing 10000 lines completes"
ak session prints "$ses" >"$T/prints"
assert_eq 10000 "$(wc -l <"$T/prints")" "session prints has exactly 10000 lines"
assert_eq "line 1" "$(head -n1 "$T/prints")" "the first printed line"
assert_eq "line 10000" "$(tail -n1 "$T/prints")" "the last printed line"
assert_eq "line 5000" "$(sed -n 5000p "$T/prints")" "the 5000th printed line, in order"
assert_eq '"done"' "$(session_result "$ses")" "the return value follows the prints"

# -- the CPU limit --
start spin
run ak session watch -t 25s "$ses"
assert_status 1 "$RC" "session watch exits 1 for a session over its CPU limit"
assert_eq error "$(session_state "$ses")" "a spinning session ends in error"
run ak session log "$ses"
assert_match "$OUT" 'STATE +error: the worker was killed by signal 24 \(SIGXCPU\): the session used up its CPU limit \(workers\.cpu_limit\)$' \
    "the log says SIGXCPU and the CPU limit"

# -- a worker killed from outside --
start sleep
wait_until 15 prints_at_least "$ses" 1 ||
    fail "the sleeping session printed no pid"
wid=$(ak session prints "$ses")
pid=$(worker_pid "$wid")
case $pid in
''|*[!0-9]*) fail "no process for the worker \"$wid\" the sleeping session printed" ;;
esac
grep -q autokitteh-worker "/proc/$pid/cmdline" 2>/dev/null ||
    fail "pid $pid is not an autokitteh-worker"
if [ "$(id -u)" = 0 ]; then
	wuid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	[ "$wuid" != 0 ] || fail "the worker runs as root"
	ok "the worker runs as a dedicated uid ($wuid), not root"
fi
kill -KILL "$pid"
# A lost worker does not end the session: it starts again (this one is not
# durable, so from the top) on a new worker after a 1 s backoff.
wait_until 15 prints_at_least "$ses" 2 ||
    fail "the killed session did not start again on a new worker"
pid2=$(ak session prints "$ses" | tail -n 1)
[ "$pid2" != "$wid" ] || fail "the restarted session printed the old worker"
ok "the killed worker's session started again on worker $pid2"
assert_eq running "$(session_state "$ses")" "the restarted session is running"
assert_match "$(cat "$LOG")" "session $ses: the worker was killed by signal 9 \\(SIGKILL\\); resuming on a new worker in 1s \\(attempt 2 of 5\\)" \
    "the daemon log names signal 9 (SIGKILL) and the retry"
wait_gone "$pid" 5 || fail "the killed worker $pid is still there"
ak session stop -r "killed test done" "$ses" >/dev/null ||
    fail "stopping the restarted session failed"
wait_until 15 state_is "$ses" stopped ||
    fail "the restarted session did not stop"

# -- akctl session stop --
start sleep
wait_until 15 prints_at_least "$ses" 1 ||
    fail "the sleeping session printed no pid"
wid=$(ak session prints "$ses")
pid=$(worker_pid "$wid")
[ -n "$pid" ] || fail "no process for the worker \"$wid\" the sleeping session printed"
run ak session stop -r "enough now" "$ses"
assert_status 0 "$RC" "session stop exits 0"
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "session watch exits 1 for a stopped session"
assert_eq "$ses stopped" "$OUT" "session watch prints stopped"
assert_eq stopped "$(session_state "$ses")" "the session is stopped"
run ak session log "$ses"
assert_match "$OUT" 'STOP_REQUEST +enough now$' "the log has the stop request's reason"
assert_match "$OUT" 'STATE +stopped: enough now$' "the log has stopped: reason"
wait_gone "$pid" 5 || fail "the stopped session's worker $pid is still there"
ok "the stopped session's worker is gone"
run ak session stop "$ses"
assert_status 1 "$RC" "stopping a stopped session exits 1"
assert_contains "$ERR" "is already stopped" "stopping it again says it is already stopped"

assert_healthy "after the failed sessions, the daemon"
run ak status -j
assert_eq "0 0 2 2 1" "$(jget "$OUT" '[.sessions.created, .sessions.running, .sessions.error, .sessions.stopped, .sessions.completed] | map(tostring) | join(" ")')" \
    "status -j: created 0, running 0, error 2, stopped 2, completed 1"
assert_eq 0 "$(jget "$OUT" .workers.busy)" "status -j: no busy workers"
assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" "status -j: the zygote never restarted"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"

# -- the session timeout (minimum 1s), on a restart with the same data --
sed -i 's/^session_timeout = .*/session_timeout = 2s/' "$CONF"
start_daemon
start sleep
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "session watch exits 1 for a session past its timeout"
assert_eq error "$(session_state "$ses")" "the session past its timeout is in error"
run ak session log "$ses"
assert_match "$OUT" 'STATE +error: timed out after 2s \(workers\.session_timeout\)$' \
    "the log says timed out after 2s"
assert_healthy "after the timeout, the daemon"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
