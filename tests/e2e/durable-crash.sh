#!/usr/bin/env bash
# durable-crash.sh: a durable session survives kill -9 of its worker and of
# autokittehd (docs/DURABILITY.md): it resumes on a fresh worker, replays
# the committed activities without running them again, and re-runs at
# most the one activity in flight; a non-durable session starts again from
# the top.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
# The ledgers live outside the sessions' temp dirs: let them write there.
CONF_EXTRA="[workers]
session_timeout = 40s
writable_paths = $T/ledgers"
write_config
start_daemon

# Workers run as unprivileged uids when the daemon is root, another uid
# for each worker: the ledgers are world-writable files we create in a
# directory they can reach (not sticky: fs.protected_regular).
chmod 0711 "$T"
L=$T/ledgers
mkdir -p "$L"
chmod 0755 "$L"
for _f in worker daemon restart doomed; do
	: >"$L/$_f"
	chmod 0666 "$L/$_f"
done

P=$T/crash
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: crash
  vars:
    - name: LEDGERS
      value: "$L"
  triggers:
    - name: steps
      type: webhook
      call: program.py:on_steps
    - name: nap
      type: webhook
      call: program.py:on_nap
    - name: doomed
      type: webhook
      call: program.py:on_doomed
EOF
cat >"$P/program.py" <<'EOF'
import os
import random
import time

import autokitteh


def worker_id():
    # os.getpid() is 1 in the worker's PID namespace; its temp dir names it.
    return "%d@%s" % (os.getpid(), os.environ["TMPDIR"])


@autokitteh.activity
def step(ledger, i):
    # One line per run of the activity, appended, then a real sleep.
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"{i} {worker_id()}\n".encode())
    finally:
        os.close(fd)
    time.sleep(0.5)
    return [i, worker_id()]


def on_steps(event):
    print("start")
    ledger = os.environ["LEDGERS"] + event.data.url.path_suffix
    return [step(ledger, i) for i in range(1, 7)]


@autokitteh.activity
def pid():
    return worker_id()


def on_nap(event):
    # A durable sleep shorter than evict_after: the worker waits.
    x = random.random()
    print(x, pid())
    time.sleep(3)
    return [x, pid()]


@autokitteh.activity
def hang(ledger):
    fd = os.open(ledger, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"{worker_id()}\n".encode())
    finally:
        os.close(fd)
    time.sleep(60)


def on_doomed(event):
    hang(os.environ["LEDGERS"] + "/doomed")
    return "unreachable"
EOF
deploy "$P"
assert_status 0 "$RC" "deploy of the durable project exits 0"
steps_url=$(webhook_url steps)
crash_out=$OUT

webhook_url_of() {	# webhook_url_of NAME: a crash project webhook's URL
	OUT=$crash_out webhook_url "$1"
}

# has_prints SES: the session printed something (for wait_until).
has_prints() {
	[ -n "$(ak session prints "$1")" ]
}

R=$T/restart
mkdir -p "$R"
cat >"$R/autokitteh.yaml" <<EOF
version: v2
project:
  name: restart
  vars:
    - name: LEDGER
      value: "$L/restart"
  triggers:
    - name: top
      type: webhook
      call: program.py:on_top
EOF
cat >"$R/program.py" <<'EOF'
import os
import time


def worker_id():
    # os.getpid() is 1 in the worker's PID namespace; its temp dir names it.
    return "%d@%s" % (os.getpid(), os.environ["TMPDIR"])


def on_top(event):
    fd = os.open(os.environ["LEDGER"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, f"start {worker_id()}\n".encode())
    finally:
        os.close(fd)
    time.sleep(2)
    return "done"
EOF
deploy "$R"
assert_status 0 "$RC" "deploy of the non-durable (v2) project exits 0"
top_url=$(webhook_url top)

lines() {	# lines FILE: how many lines FILE has (0 if it is missing)
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# has_lines FILE N: FILE has at least N lines (for wait_until).
has_lines() {
	[ "$(lines "$1")" -ge "$2" ]
}

# is_worker WID: set $pid to the host pid of worker WID (lib.sh
# worker_pid); fail unless it is an autokitteh-worker.
is_worker() {
	local i

	for i in 1 2 3 4 5; do
		pid=$(worker_pid "$1")
		[ -z "$pid" ] || break
		sleep 0.2
	done
	grep -q autokitteh-worker "/proc/$pid/cmdline" 2>/dev/null ||
	    fail "worker $1 (pid $pid) is not an autokitteh-worker: $(ls -l /proc/*/cwd 2>/dev/null | grep "${1#*@}")"
}

# check_ledger FILE RESULT: each of the six steps ran once, except at most
# one (the one in flight at the crash) that ran twice; the value recorded
# for each step is the one of its last run; two workers ran the steps.
check_ledger() {
	local f=$1 result=$2 i n twice=0 last got

	echo "# ledger: $(tr '\n' ' ' <"$f")"
	[ "$(awk 'NF != 2 || $1 !~ /^[1-6]$/' "$f")" = "" ] ||
	    fail "the ledger has unexpected lines: $(cat "$f")"
	for i in 1 2 3 4 5 6; do
		n=$(awk -v i=$i '$1 == i' "$f" | wc -l)
		case $n in
		1) ;;
		2) twice=$((twice + 1)) ;;
		*) fail "step $i ran $n times: $(cat "$f")" ;;
		esac
		last=$(awk -v i=$i '$1 == i { p = $2 } END { print p }' "$f")
		got=$(printf '%s' "$result" | jq -r --argjson i $i '.[$i - 1] | "\(.[0]) \(.[1])"')
		[ "$got" = "$i $last" ] ||
		    fail "step $i returned \"$got\", its last run in the ledger was \"$i $last\""
	done
	[ $twice -le 1 ] || fail "$twice steps ran twice: $(cat "$f")"
	ok "every step ran once, except $(awk '{ print $1 }' "$f" | sort | uniq -d |
	    sed 's/^/step /; s/$/ that ran twice (in flight)/; q' | grep . || echo none)"
	ok "each step's recorded value is the one of its last run"
	assert_eq 2 "$(awk '{ print $2 }' "$f" | sort -u | wc -l)" \
	    "two workers ran the steps"
	[ "$(awk '{ print $2 }' "$f" | uniq | wc -l)" = 2 ] ||
	    fail "the two workers' steps interleave: $(cat "$f")"
	ok "the second worker took over where the first stopped"
}

# start_steps NAME: POST to the steps webhook with path suffix /NAME (the
# ledger's name); $ses is the session, $ledger the ledger file.
start_steps() {
	ledger=$L/$1
	hook POST "$steps_url/$1"
	[ "$CODE" = 202 ] || fail "POST to the steps webhook answered $CODE: $BODY"
	ses=$(session_of "$EVENT_ID")
	[ -n "$ses" ] || fail "the steps webhook started no session"
	wait_until 15 has_lines "$ledger" 3 ||
	    fail "the session ran fewer than 3 steps in 15 s: $(cat "$ledger" 2>/dev/null)"
	wid=$(tail -n1 "$ledger" | awk '{ print $2 }')
	is_worker "$wid"
}

# -- kill -9 of the worker in the middle of a durable session --
start_steps worker
kill -KILL "$pid"
ok "killed the worker $pid after $(lines "$ledger") steps"
run ak session watch -t 30s "$ses"
assert_status 0 "$RC" "the session whose worker was killed completes"
result=$(session_result "$ses")
assert_eq "1 2 3 4 5 6" "$(printf '%s' "$result" | jq -r 'map(.[0]) | join(" ")')" \
    "it returns the six steps"
check_ledger "$ledger" "$result"
assert_eq "$wid" "$(printf '%s' "$result" | jq -r '.[0][1]')" \
    "step 1's value is the killed worker's, from history"
run ak session log "$ses"
log=$OUT
assert_eq 6 "$(printf '%s\n' "$log" | awk '$2 == "CALL_SPEC"' | wc -l)" \
    "the log has six CALL_SPECs"
n2=$(printf '%s\n' "$log" | awk '$2 == "CALL_ATTEMPT_START" && $4 == 2' | wc -l)
[ "$n2" -le 1 ] || fail "$n2 calls have a second attempt:
$log"
ok "at most one call has a second attempt ($n2)"
assert_eq 0 "$(printf '%s\n' "$log" | awk '$2 == "CALL_ATTEMPT_START" && $4 > 2' | wc -l)" \
    "no call has a third attempt"
assert_eq "$(awk '{ print $1 }' "$ledger" | sort | uniq -d | wc -l)" "$n2" \
    "the second attempts in the log are the steps that ran twice"
assert_eq 6 "$(printf '%s\n' "$log" | awk '$2 == "CALL_ATTEMPT_COMPLETE"' | wc -l)" \
    "the log has six CALL_ATTEMPT_COMPLETEs"
n=$(printf '%s\n' "$log" | awk '$2 == "STATE" && $3 == "running"' | wc -l)
[ "$n" -ge 2 ] || fail "the log has $n STATE running records, not a second one for the resume:
$log"
ok "the log has STATE running again for the resume"
assert_match "$(cat "$LOG")" "session $ses: the worker was killed by signal 9 \(SIGKILL\); resuming on a new worker in 1s \(attempt 2 of 5\)" \
    "the daemon logs the kill and the resume in 1s (attempt 2 of 5)"
assert_eq start "$(ak session prints "$ses")" "the replay did not print start again"
wait_gone "$pid" 5 || fail "the killed worker $pid is still there"

# -- kill -9 of autokittehd in the middle of a durable session --
start_steps daemon
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
ok "killed autokittehd after $(lines "$ledger") steps"
wait_gone "$pid" 5 || fail "the worker $pid outlived autokittehd"
ok "the worker $pid died with autokittehd"
# start_logging TEXT WHAT: start the daemon, whose new log lines must
# contain TEXT.
start_logging() {
	local from

	from=$(wc -l <"$LOG")
	start_daemon
	assert_contains "$(tail -n +"$from" "$LOG")" "$1" "$2"
}
start_logging "store: the last stop was not clean (a -wal file was left): quick_check ok in" \
    "after kill -9 the restart checks the store"
ok "autokittehd restarted on the same data directory"
run ak session watch -t 30s "$ses"
assert_status 0 "$RC" "the session survives kill -9 of autokittehd and completes"
result=$(session_result "$ses")
assert_eq "1 2 3 4 5 6" "$(printf '%s' "$result" | jq -r 'map(.[0]) | join(" ")')" \
    "it returns the six steps"
check_ledger "$ledger" "$result"
run ak session log "$ses"
assert_eq 0 "$(printf '%s\n' "$OUT" | awk '$2 == "CALL_ATTEMPT_START" && $4 > 2' | wc -l)" \
    "no call has a third attempt"
assert_eq start "$(ak session prints "$ses")" "the replay did not print start again"

# -- a non-durable session starts again from the top --
hook POST "$top_url"
[ "$CODE" = 202 ] || fail "POST to the top webhook answered $CODE: $BODY"
ses=$(session_of "$EVENT_ID")
wait_until 15 has_lines "$L/restart" 1 ||
    fail "the non-durable session wrote no ledger line"
wid=$(awk '{ print $2; exit }' "$L/restart")
is_worker "$wid"
kill -KILL "$pid"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the non-durable session whose worker was killed completes"
assert_eq '"done"' "$(session_result "$ses")" "it returns done"
assert_eq "start start" "$(awk '{ printf "%s%s", s, $1; s = " " }' "$L/restart")" \
    "it ran again from the top: the ledger has start twice"
assert_eq 2 "$(awk '{ print $2 }' "$L/restart" | sort -u | wc -l)" \
    "the two runs were on two workers"
run ak session log "$ses"
assert_eq 0 "$(printf '%s\n' "$OUT" | grep -c 'CALL_')" \
    "a non-durable session has no CALL records"

# -- kill -9 of the worker during a short durable sleep (the worker waits) --
t0=$(date +%s%N)
hook POST "$(webhook_url_of nap)"
[ "$CODE" = 202 ] || fail "POST to the nap webhook answered $CODE: $BODY"
ses=$(session_of "$EVENT_ID")
wait_until 15 has_prints "$ses" || fail "the napping session printed nothing"
printed=$(ak session prints "$ses")
x=$(printf '%s\n' "$printed" | awk '{ print $1 }')
wid=$(printf '%s\n' "$printed" | awk '{ print $2 }')
is_worker "$wid"
kill -KILL "$pid"
run ak session watch -t 20s "$ses"
assert_status 0 "$RC" "the session whose worker was killed during a sleep completes"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 2900 ] ||
    fail "it completed after $(( (t1 - t0) / 1000000 )) ms, before its 3 s sleep"
ok "it completed after its 3 s sleep ($(( (t1 - t0) / 1000000 )) ms)"
result=$(session_result "$ses")
assert_eq "$x" "$(printf '%s' "$result" | jq -r '.[0]')" \
    "the random value drawn before the kill is the one replayed"
[ "$(printf '%s' "$result" | jq -r '.[1]')" != "$wid" ] ||
    fail "the pid after the sleep is the killed worker's: $result"
ok "the call after the sleep ran live on the new worker"
assert_eq "$printed" "$(ak session prints "$ses")" "the replay did not print again"
run ak session log "$ses"
assert_eq 0 "$(printf '%s\n' "$OUT" | awk '$2 == "CALL_ATTEMPT_START" && $4 > 1' | wc -l)" \
    "no call ran twice"

# -- a worker killed again and again: at most 5 attempts --
hook POST "$(webhook_url_of doomed)"
[ "$CODE" = 202 ] || fail "POST to the doomed webhook answered $CODE: $BODY"
ses=$(session_of "$EVENT_ID")
for i in 1 2 3 4 5; do
	wait_until 15 has_lines "$L/doomed" $i ||
	    fail "attempt $i of the doomed session did not start"
	wid=$(sed -n "${i}p" "$L/doomed")
	is_worker "$wid"
	kill -KILL "$pid"
done
ok "killed the doomed session's worker 5 times"
run ak session watch -t 20s "$ses"
assert_status 1 "$RC" "after 5 attempts the session ends"
assert_eq error "$(session_state "$ses")" "after 5 attempts the session is in error"
run ak session log "$ses"
assert_match "$OUT" 'STATE +error: the worker was killed by signal 9 \(SIGKILL\).*gave up after 5 attempts$' \
    "the error names SIGKILL and gives up after 5 attempts"
assert_eq 5 "$(lines "$L/doomed")" "the activity ran 5 times, no more"
run ak session log "$ses"
assert_eq "1 2 3 4 5" "$(printf '%s\n' "$OUT" | awk '$2 == "CALL_ATTEMPT_START" { printf "%s%s", s, $4; s = " " }')" \
    "the log has attempts 1 to 5 of the activity"

assert_healthy "after the crashes, the daemon"
run ak status -j
assert_eq "0 0 1 4" "$(jget "$OUT" '[.sessions.created, .sessions.running, .sessions.error, .sessions.completed] | map(tostring) | join(" ")')" \
    "status -j: created 0, running 0, error 1, completed 4"
assert_eq 0 "$(jget "$OUT" .workers.busy)" "status -j: no busy workers"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
[ ! -e "$DATA/autokitteh.db-wal" ] || fail "a clean stop left autokitteh.db-wal"
ok "a clean stop leaves no autokitteh.db-wal"
start_logging "store: the last stop was clean (no -wal file left): not checked" \
    "after a clean stop the restart does not read the whole store"
stop_daemon
CONF_EXTRA="$CONF_EXTRA
[store]
check = always"
write_config
start_logging "store: [store] check = always: quick_check ok in" \
    "with check = always it checks after a clean stop too"
stop_daemon
