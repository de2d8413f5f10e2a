# lib.sh: sourced by every end-to-end test in tests/e2e.
#
# Each test starts its own autokittehd in a private temporary directory,
# with its own TCP port, Unix socket, data directory and fake systemd
# NOTIFY_SOCKET (notify-listen), and drives it with the real akctl and with
# curl. Tests run in parallel under `make -j`, so nothing here is shared
# between tests. The exit status follows automake: 0 pass, 1 fail, 77 skip.
#
# Variables a test may use after sourcing:
#   AUTOKITTEHD AKCTL    the binaries under test
#   T                    the private directory (removed on exit)
#   PORT CONF SOCK DATA LOG NOTIFY_OUT
#   DAEMON_PID           the daemon started by start_daemon
# Set AK_E2E_KEEP=1 to keep $T for a post-mortem.

set -eu

: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"

AUTOKITTEHD=$top_builddir/autokittehd
AKCTL=$top_builddir/akctl
NOTIFY_LISTEN=$top_builddir/tests/e2e/notify-listen
TEST_NAME=$(basename "$0" .sh)

skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

for _bin in "$AUTOKITTEHD" "$AKCTL" "$NOTIFY_LISTEN"; do
	[ -x "$_bin" ] || skip "$_bin is not built"
done
for _tool in curl mktemp grep sed timeout; do
	command -v "$_tool" >/dev/null 2>&1 || skip "$_tool is not installed"
done
unset _bin _tool

# Nothing from the caller's environment may point akctl elsewhere.
unset AKCTL_SOCKET AKCTL_URL AKCTL_TOKEN NOTIFY_SOCKET WATCHDOG_USEC \
    WATCHDOG_PID JOURNAL_STREAM

T=$(mktemp -d /tmp/ak-e2e-"$TEST_NAME".XXXXXX)
chmod 0700 "$T"
CONF=$T/autokitteh.conf
SOCK=$T/api.sock
DATA=$T/data
LOG=$T/daemon.log
NOTIFY_SOCK=$T/notify.sock
NOTIFY_OUT=$T/notify.out
DAEMON_PID=
NOTIFY_PID=
EXTRA_PIDS=
: >"$LOG"

if [ "$(id -u)" = 0 ]; then
	RUN_USER=root
else
	# privilege.c ignores server.user when not started as root, but the
	# value must still be a valid user name.
	RUN_USER=$(id -un)
fi

cleanup() {
	local rc=$?

	set +e
	# Only our own children: a pid we already waited for may since have
	# been reused by another test's process.
	for _p in $DAEMON_PID $EXTRA_PIDS; do
		[ "$(awk '{ print $4 }' "/proc/$_p/stat" 2>/dev/null)" = "$$" ] &&
		    kill -KILL "$_p" 2>/dev/null
	done
	if [ -n "$NOTIFY_PID" ]; then
		kill -TERM "$NOTIFY_PID" 2>/dev/null
		wait "$NOTIFY_PID" 2>/dev/null
	fi
	# A daemon detached by lifecycle.sh: the lock file has its pid.
	if [ -s "$DATA/autokittehd.lock" ]; then
		_p=$(head -n1 "$DATA/autokittehd.lock" 2>/dev/null)
		case $_p in
		''|*[!0-9]*) ;;
		*) if grep -q autokittehd "/proc/$_p/cmdline" 2>/dev/null &&
		    grep -qF -- "$T" "/proc/$_p/cmdline" 2>/dev/null; then
			kill -KILL "$_p" 2>/dev/null
		   fi ;;
		esac
	fi
	if [ -n "${AK_E2E_KEEP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
	echo "ok - $*"
}

fail() {
	echo "FAIL: $TEST_NAME: $*"
	if [ -s "$LOG" ]; then
		echo "--- last 50 lines of the daemon log ($LOG) ---"
		tail -n 50 "$LOG"
		echo "---"
	fi
	exit 1
}

assert_eq() {	# EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "$3: expected \"$1\", got \"$2\""
	ok "$3"
}

assert_contains() {	# HAYSTACK NEEDLE WHAT
	case $1 in
	*"$2"*) ok "$3" ;;
	*) fail "$3: \"$2\" not found in:
$1" ;;
	esac
}

assert_not_contains() {	# HAYSTACK NEEDLE WHAT
	case $1 in
	*"$2"*) fail "$3: \"$2\" unexpectedly found in:
$1" ;;
	*) ok "$3" ;;
	esac
}

assert_match() {	# TEXT ERE WHAT
	printf '%s\n' "$1" | grep -Eq -- "$2" ||
	    fail "$3: no line matches /$2/ in:
$1"
	ok "$3"
}

assert_status() {	# EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] || fail "$3: expected exit status $1, got $2"
	ok "$3"
}

# Run a command, capturing its stdout in $OUT, stderr in $ERR and its exit
# status in $RC, without tripping set -e.
run() {
	local o=$T/run.out e=$T/run.err

	RC=0
	"$@" >"$o" 2>"$e" || RC=$?
	OUT=$(cat "$o")
	ERR=$(cat "$e")
}

ak() {
	"$AKCTL" --socket "$SOCK" "$@"
}

# HTTP: http METHOD URL [curl args...]; sets $CODE and $BODY.
http() {
	local method=$1 url=$2 b=$T/http.body

	shift 2
	CODE=$(curl -sS -o "$b" -w '%{http_code}' --max-time 10 -X "$method" \
	    "$@" "$url") || CODE=${CODE:-000}
	BODY=$(cat "$b" 2>/dev/null || true)
}

tcp_url() {
	echo "http://127.0.0.1:$PORT$1"
}

# Is something listening on 127.0.0.1:$1?
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local i p

	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! port_in_use "$p"; then
			PORT=$p
			return 0
		fi
	done
	fail "cannot find a free TCP port"
}

# write_config [FILE]: a config for this test's private paths, then the
# lines of $CONF_EXTRA (other sections: [http], [store], [log]).
write_config() {
	local f=${1:-$CONF}

	{
		echo "# written by tests/e2e/lib.sh for $TEST_NAME"
		echo "[server]"
		echo "listen = 127.0.0.1:$PORT"
		echo "socket = $SOCK"
		echo "data_dir = $DATA"
		echo "user = $RUN_USER"
		if [ -n "${CONF_EXTRA:-}" ]; then
			echo
			printf '%s\n' "$CONF_EXTRA"
		fi
	} >"$f"
}

start_notify() {
	[ -z "$NOTIFY_PID" ] || return 0
	"$NOTIFY_LISTEN" "$NOTIFY_SOCK" "$NOTIFY_OUT" &
	NOTIFY_PID=$!
	for _i in $(seq 1 100); do
		[ -e "$NOTIFY_OUT" ] && [ -S "$NOTIFY_SOCK" ] && return 0
		sleep 0.05
	done
	fail "notify-listen did not start"
}

notify_count() {	# how many times line $1 arrived
	grep -cx -- "$1" "$NOTIFY_OUT" 2>/dev/null || true
}

# wait_notify LINE COUNT SECONDS: wait until LINE arrived COUNT times.
wait_notify() {
	local n=$(( $3 * 20 )) i

	for i in $(seq 1 "$n"); do
		[ "$(notify_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# start_daemon [autokittehd args...]: start autokittehd -d -f $CONF in the
# background with our fake NOTIFY_SOCKET and wait up to 10 s for READY=1.
# If the port was taken meanwhile (tests run in parallel), pick another.
start_daemon() {
	local ready attempt i

	start_notify
	[ -n "${PORT:-}" ] || pick_port
	[ -f "$CONF" ] || write_config
	for attempt in 1 2 3; do
		ready=$(( $(notify_count READY=1) + 1 ))
		echo "# $(date +%T) start autokittehd -d -f $CONF $*" >>"$LOG"
		NOTIFY_SOCKET=$NOTIFY_SOCK "$AUTOKITTEHD" -d -f "$CONF" "$@" \
		    >>"$LOG" 2>&1 &
		DAEMON_PID=$!
		for i in $(seq 1 200); do
			if [ "$(notify_count READY=1)" -ge "$ready" ]; then
				return 0
			fi
			if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
				break
			fi
			sleep 0.05
		done
		if kill -0 "$DAEMON_PID" 2>/dev/null; then
			fail "autokittehd sent no READY=1 within 10 s"
		fi
		wait "$DAEMON_PID" 2>/dev/null || true
		DAEMON_PID=
		if tail -n 5 "$LOG" | grep -q "cannot listen on 127.0.0.1:$PORT.*in use"; then
			pick_port
			sed -i "s/^listen = 127\.0\.0\.1:.*/listen = 127.0.0.1:$PORT/" "$CONF"
			continue
		fi
		fail "autokittehd exited before it was ready"
	done
	fail "autokittehd could not find a free port"
}

# stop_daemon [SIGNAL]: send SIGNAL (default TERM), wait up to 15 s, set
# $STOP_STATUS to the exit status (128+n when killed by signal n). Fails
# if sanitizers reported anything in the log.
stop_daemon() {
	local sig=${1:-TERM} i

	[ -n "$DAEMON_PID" ] || fail "stop_daemon: no daemon running"
	kill -"$sig" "$DAEMON_PID"
	for i in $(seq 1 300); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		# A zombie counts as stopped.
		case $(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' \
		    "/proc/$DAEMON_PID/status" 2>/dev/null) in
		Z|'') break ;;
		esac
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$DAEMON_PID/status" 2>/dev/null; then
		fail "autokittehd did not stop within 15 s of SIG$sig"
	fi
	STOP_STATUS=0
	wait "$DAEMON_PID" 2>/dev/null || STOP_STATUS=$?
	DAEMON_PID=
	check_sanitizers
	return 0
}

# Fail if ASan/LSan/UBSan wrote a report into the daemon log.
check_sanitizers() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LOG"; then
		fail "a sanitizer reported an error (see the log)"
	fi
}

# Wait until a pid is gone (not a child of ours): wait_gone PID SECONDS.
# A zombie counts as gone: its reaper may be a pid 1 that never reaps.
wait_gone() {
	local n=$(( $2 * 20 )) i

	for i in $(seq 1 "$n"); do
		kill -0 "$1" 2>/dev/null || return 0
		grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null &&
		    return 0
		sleep 0.05
	done
	return 1
}

# Session workers have a PID namespace of their own, where os.getpid() is
# 1: test programs name their worker "<pid>@<temp dir>" (a worker_id()
# function in their Python returns it), and these find its process on the
# host by its cwd, the temp dir (unique per worker).
# worker_pid WID: the worker's host pid; empty when it is gone.
worker_pid() {
	local pid=${1%%@*} dir=${1#*@} p

	if [ "$pid" != 1 ]; then	# no PID namespace: the pid is the host's
		kill -0 "$pid" 2>/dev/null && echo "$pid"
		return 0
	fi
	for p in $(find /proc -mindepth 2 -maxdepth 2 -path '/proc/[0-9]*/cwd' \
	    -lname "$dir" 2>/dev/null); do
		p=${p%/cwd}
		[ "$(awk '/^NSpid:/ { print $NF }' "$p/status" 2>/dev/null)" = 1 ] ||
		    continue
		echo "${p#/proc/}"
		return 0
	done
}

# wait_worker_gone WID SECONDS: wait until that worker has no process left.
wait_worker_gone() {
	local n=$(( $2 * 20 )) i

	for i in $(seq 1 "$n"); do
		[ -n "$(worker_pid "$1")" ] || return 0
		sleep 0.05
	done
	return 1
}

# ---- projects, webhooks and sessions (hello.sh, build-errors.sh, ...) ----
#
# These need jq: need_jq skips the test when it is missing.

need_jq() {
	command -v jq >/dev/null 2>&1 || skip "jq is not installed"
}

# jget JSON FILTER: print jq -r FILTER of JSON.
jget() {
	printf '%s' "$1" | jq -r "$2"
}

# deploy DIR [akctl deploy args...]: cd DIR && akctl deploy, through run
# ($RC $OUT $ERR).
deploy() {
	local d=$1

	shift
	run_in "$d" ak deploy "$@"
}

# run_in DIR CMD...: run CMD in DIR, as run does.
run_in() {
	local d=$1 o=$T/run.out e=$T/run.err

	shift
	RC=0
	(cd "$d" && "$@") >"$o" 2>"$e" || RC=$?
	OUT=$(cat "$o")
	ERR=$(cat "$e")
}

# webhook_url NAME: the URL of webhook NAME in the text output of the last
# akctl deploy ($OUT).
webhook_url() {
	printf '%s\n' "$OUT" | awk -v n="$1" '$1 == "webhook" && $2 == n {
	    print $3; exit }'
}

# hook METHOD URL [curl args...]: an HTTP request to a webhook; sets $CODE,
# $BODY and $EVENT_ID (the AutoKitteh-Event-ID header, or empty).
hook() {
	local method=$1 url=$2 b=$T/hook.body h=$T/hook.head

	shift 2
	: >"$h"
	CODE=$(curl -sS -o "$b" -D "$h" -w '%{http_code}' --max-time 10 \
	    -X "$method" "$@" "$url") || CODE=${CODE:-000}
	BODY=$(cat "$b" 2>/dev/null || true)
	EVENT_ID=$(sed -n 's/^[Aa]uto[Kk]itteh-[Ee]vent-I[Dd]: *\([^[:space:]]*\).*/\1/p' \
	    "$h" | head -n1)
}

# hook_start TRIGGER [curl args...]: POST to the webhook of TRIGGER (named
# in $deploy_out, deploy's output), which must answer 202 and start a
# session: sets $ses and $evt.
hook_start() {
	local t=$1

	shift
	hook POST "$(OUT=$deploy_out webhook_url "$t")" "$@"
	[ "$CODE" = 202 ] || fail "POST to the $t webhook answered $CODE: $BODY"
	evt=$EVENT_ID
	ses=$(session_of "$EVENT_ID")
	[ -n "$ses" ] || fail "the $t webhook started no session"
}

# session_of EVENT_ID: the ID of the session the event started, if any.
session_of() {
	ak session list -j | jq -r --arg e "$1" \
	    '[.sessions[] | select(.event_id == $e) | .session_id][0] // empty'
}

# session_state ID: its state in lower case (created, running, ...).
session_state() {
	ak session get "$1" | awk '$1 == "state" { print $2; exit }'
}

# session_count [akctl session list args...]: how many sessions match.
session_count() {
	local n

	n=$(ak session list -j "$@" | jq -r '.sessions | length')
	echo "${n:-0}"
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local n=$(( $1 * 10 )) i

	shift
	for i in $(seq 1 "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# session_result ID: the JSON text of a completed session's return value,
# from its log ("completed: return value JSON").
session_result() {
	ak session log "$1" | sed -n 's/.*STATE  *completed: return value //p'
}

# assert_healthy: the daemon answers akctl status and /healthz.
assert_healthy() {
	run ak status
	assert_status 0 "$RC" "${1:-the daemon} is healthy: akctl status exits 0"
	http GET "$(tcp_url /healthz)"
	assert_eq 200 "$CODE" "${1:-the daemon} is healthy: /healthz answers 200"
}

# The daemon's workers import the SDK from AUTOKITTEH_PYTHONPATH, which
# make check exports; default it to the source tree's for a test run by
# hand, where an unset path would leave builds waiting for a zygote that
# cannot start.
: "${AUTOKITTEH_PYTHONPATH:=$top_srcdir/workers/python}"
export AUTOKITTEH_PYTHONPATH

# session_probe URL WHAT TIMEOUT: POST to URL/WHAT, whose session must
# complete within TIMEOUT (akctl session watch -t); $result is the JSON of
# its return value.
session_probe() {
	local ses

	hook POST "$1/$2"
	[ "$CODE" = 202 ] || fail "probe $2: the webhook answered $CODE"
	ses=$(session_of "$EVENT_ID")
	run ak session watch -t "$3" "$ses"
	[ "$RC" = 0 ] || fail "probe $2: the session did not complete:
$(ak session log "$ses")"
	result=$(session_result "$ses")
}
