# lib.sh: sourced by every escape attempt in tests/sandbox.
#
# Each test is one attempt to break out of the session sandbox, made the
# way a hostile user would make it: as the code of a real session of a
# project deployed on a real autokittehd (tests/e2e/lib.sh starts it).
# A test passes when the attempt is blocked, the block shows in the
# session's log (the session ends in ERROR with the reason) and, for the
# seccomp filter, in the daemon's log, and the daemon is still healthy:
# /healthz answers, the zygote never restarted, and a normal session of
# the same project still completes.
#
# A test writes its attempt as Python (attempt_code <<'EOF' ... EOF: a
# function attempt(event)), then calls escape_deploy, attempt, the
# assertions, and escape_finish. The code gets a prelude (escape_prelude
# below): ctypes' libc, syscall(nr, ...) raising OSError as Python's own
# wrappers do, and probe(label, fn, ...), which runs one try, prints
# "label: blocked: Error: message" or "label: NOT BLOCKED: value" to the
# session log, and verdict(), which re-raises the first block (so the
# session ends in ERROR) or returns "ESCAPED: ..." when a try got through.
#
# The project's variables tell the code where the daemon's secrets are:
# DB (its SQLite database), DATA_DIR, SOCK (the admin socket), DAEMON_PID,
# SDK (the SDK directory), PORT (the HTTP listener). Other pids (the
# zygote's, a sibling's) come in the webhook's JSON body, as the host
# sees them: a worker in a PID namespace of its own has no other view.

. "$top_srcdir/tests/e2e/lib.sh"
need_jq

# The daemon runs as an unprivileged user, as in production (systemd
# starts it as user autokitteh): its workers then share its uid, and only
# Landlock and seccomp stand between a session and the daemon's files and
# processes. Run as root, the tests start it as root with server.user =
# nobody (AK_ESCAPE_USER picks another user; AK_ESCAPE_USER=root keeps
# root, where each worker also gets a uid of its own; tests/e2e/sandbox.sh
# covers that case). Run as another user, the daemon runs as that user.
if [ "$(id -u)" = 0 ] && [ -z "${AK_ESCAPE_USER:-}" ]; then
	AK_ESCAPE_USER=nobody
	if ! command -v runuser >/dev/null 2>&1 ||
	    ! runuser -u nobody -- test -x "$top_builddir/autokitteh-worker" ||
	    ! runuser -u nobody -- test -r "$AUTOKITTEH_PYTHONPATH/ak_runner.py"
	then
		echo "# user nobody cannot run the build here: the daemon runs as root"
		AK_ESCAPE_USER=root
	fi
fi
if [ -n "${AK_ESCAPE_USER:-}" ] && [ "$AK_ESCAPE_USER" != root ]; then
	[ "$(id -u)" = 0 ] || skip "AK_ESCAPE_USER needs root"
	RUN_USER=$AK_ESCAPE_USER
	chmod 0755 "$T"
	mkdir -p "$DATA"
	chown "$RUN_USER" "$DATA"
	chmod 0700 "$DATA"
fi

P=$T/escape
mkdir -p "$P"
: >"$P/attempt.py"

need_x86_64() {
	[ "$(uname -m)" = x86_64 ] ||
	    skip "the system call numbers and machine code here are x86_64's"
}

# Is autokitteh-worker an ASan build (no RLIMIT_AS there, see
# workers/sandbox-rlimit.c)?
worker_is_asan() {
	ldd "$top_builddir/autokitteh-worker" 2>/dev/null | grep -q libasan
}

# need_config WHAT: skip unless this build accepts the configuration
# ($CONF_EXTRA): for attempts that need an option another branch adds.
need_config() {
	pick_port
	write_config
	"$AUTOKITTEHD" -n -f "$CONF" >"$T/config-check" 2>&1 ||
	    skip "this build lacks $1: $(tail -n1 "$T/config-check")"
}

# attempt_code: the attempt's Python, from stdin, appended to program.py.
attempt_code() {
	cat >>"$P/attempt.py"
}

escape_prelude() {
	cat <<'EOF'
import ctypes
import json
import os
import signal
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def syscall(nr, *args):
    """syscall(2) by number; OSError on failure, as os.* functions do."""
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


_blocked = []
_escaped = []


def probe(label, fn, *args, **kwargs):
    try:
        r = fn(*args, **kwargs)
    except Exception as e:
        print("%s: blocked: %s: %s" % (label, type(e).__name__, e))
        _blocked.append(e)
        return None
    print("%s: NOT BLOCKED: %r" % (label, r))
    _escaped.append(label)
    return r


def verdict():
    if _escaped:
        return "ESCAPED: " + ", ".join(_escaped)
    if not _blocked:
        return "nothing was tried"
    raise _blocked[0]


def args(event):
    """The JSON body of the webhook request that started the session."""
    text = event.data.body.text if event.data.body else ""
    return json.loads(text) if text else {}


def read(path, n=64):
    with open(path, "rb") as f:
        return f.read(n)


def write(path, data=b"escaped"):
    with open(path, "wb") as f:
        f.write(data)
    return "wrote %s" % path


def normal(event):
    # A session like any other: a thread, a file, the clock.
    import threading
    out = []
    t = threading.Thread(target=lambda: out.append(sum(range(1000))))
    t.start()
    t.join()
    with open("note.txt", "w") as f:
        f.write("fine")
    return "normal %d %s %d" % (out[0], open("note.txt").read(),
                                time.time() > 0)


def holder(event):
    # A sibling session for the attempts to reach: a file in its temp
    # dir, then it waits until the test sends it SIGUSR1.
    released = []
    signal.signal(signal.SIGUSR1, lambda sig, frame: released.append(sig))
    with open("secret.txt", "w") as f:
        f.write("holder-secret")
    print("holder pid=%d dir=%s" % (os.getpid(), os.getcwd()))
    for _ in range(600):
        if released:
            return "released"
        time.sleep(0.05)
    return "never released"


EOF
}

# escape_deploy: start the daemon (with $CONF_EXTRA) and deploy the project
# (the prelude plus the attempt code); sets URL_ATTEMPT, URL_NORMAL and
# URL_HOLDER.
escape_deploy() {
	pick_port
	write_config
	if [ "$RUN_USER" != "$(id -un)" ]; then
		start_notify
		chmod 0666 "$NOTIFY_SOCK"
	fi
	start_daemon
	{
		escape_prelude
		cat "$P/attempt.py"
	} >"$P/program.py"
	rm -f "$P/attempt.py"
	cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: escape
  vars:
    - name: DB
      value: "$DATA/autokitteh.db"
    - name: DATA_DIR
      value: "$DATA"
    - name: SOCK
      value: "$SOCK"
    - name: DAEMON_PID
      value: "$DAEMON_PID"
    - name: SDK
      value: "$AUTOKITTEH_PYTHONPATH"
    - name: PORT
      value: "$PORT"
  triggers:
    - name: attempt
      type: webhook
      is_durable: false
      call: program.py:attempt
    - name: normal
      type: webhook
      is_durable: false
      call: program.py:normal
    - name: holder
      type: webhook
      is_durable: false
      call: program.py:holder
EOF
	deploy "$P"
	[ "$RC" = 0 ] || fail "deploy failed: $OUT $ERR"
	URL_ATTEMPT=$(webhook_url attempt)
	URL_NORMAL=$(webhook_url normal)
	URL_HOLDER=$(webhook_url holder)
	[ -n "$URL_ATTEMPT" ] && [ -n "$URL_NORMAL" ] && [ -n "$URL_HOLDER" ] ||
	    fail "no webhook URLs in: $OUT"
}

# fire URL [JSON]: start a session through a webhook; sets SES.
fire() {
	local body=${2:-}

	[ -n "$body" ] || body='{}'
	hook POST "$1" -H 'Content-Type: application/json' -d "$body"
	[ "$CODE" = 202 ] || fail "the webhook $1 answered $CODE: $BODY"
	SES=
	wait_until 10 test -n "$(session_of "$EVENT_ID")" ||
	    fail "event $EVENT_ID started no session"
	SES=$(session_of "$EVENT_ID")
}

# wait_session SES [SECONDS]: wait until it ends; sets STATE (completed,
# error, ...), SLOG (its log) and RESULT (the return value's JSON).
wait_session() {
	ak session watch -t "${2:-30}s" "$1" >/dev/null 2>&1 || true
	STATE=$(session_state "$1")
	case $STATE in
	completed|error|stopped) ;;
	*) fail "session $1 did not end within ${2:-30} s (state $STATE)" ;;
	esac
	SLOG=$(ak session log "$1")
	RESULT=$(printf '%s\n' "$SLOG" |
	    sed -n 's/.*STATE  *completed: return value //p')
}

# attempt [JSON] [SECONDS]: run the attempt as a session and wait for it.
attempt() {
	fire "$URL_ATTEMPT" "${1:-}"
	ATTEMPT_SES=$SES
	wait_session "$SES" "${2:-30}"
}

# worker_pid SES: the pid of the worker that ran session SES, as the
# daemon knows it (the worker's own getpid() is 1 in a PID namespace).
worker_pid() {
	sed -n "s/.*session $1 running .* on worker \([0-9]*\)$/\1/p" "$LOG" |
	    head -n1
}

# zygote_pid: the zygote's pid, from the daemon's log.
zygote_pid() {
	sed -n 's/.*pool: started zygote \([0-9]*\) .*/\1/p' "$LOG" | tail -n1
}

# start_holder: a sibling session that waits; sets HOLDER_SES, HOLDER_PID
# and HOLDER_DIR. release_holder lets it finish and checks it completed.
start_holder() {
	fire "$URL_HOLDER"
	HOLDER_SES=$SES
	wait_until 15 sh -c "\"$AKCTL\" --socket \"$SOCK\" session log $SES |
	    grep -q 'holder pid='" || fail "the holder session did not start"
	HOLDER_PID=$(worker_pid "$SES")
	HOLDER_DIR=$(ak session log "$SES" |
	    sed -n 's/.*holder pid=[0-9]* dir=\(.*\)$/\1/p' | head -n1)
	[ -n "$HOLDER_PID" ] && [ -n "$HOLDER_DIR" ] ||
	    fail "cannot tell the holder's pid and directory"
}

# The holder's files as it sees them (its mount namespace, if it has one).
holder_path() {
	echo "/proc/$HOLDER_PID/root$HOLDER_DIR/$1"
}

# release_holder: SIGUSR1 to the process running the holder's Python: the
# worker, or in a PID namespace its pid 1, the child of the worker the
# daemon knows (which waits for it outside the namespace).
release_holder() {
	local target

	target=$(cat /proc/"$HOLDER_PID"/task/*/children 2>/dev/null |
	    tr ' ' '\n' | grep . | head -n1)
	kill -USR1 "${target:-$HOLDER_PID}" || fail "cannot release the holder"
	wait_session "$HOLDER_SES" 20
	assert_eq completed "$STATE" "the sibling session was unharmed and completed"
}

# assert_blocked ERE: the attempt's session ended in ERROR, its STATE line
# matches ERE, and no try got through.
assert_blocked() {
	assert_not_contains "$SLOG" "NOT BLOCKED" "no try got through"
	assert_eq error "$STATE" "the attempt's session ended in error"
	assert_match "$SLOG" "STATE +error: $1" "the session log says why: $1"
}

# assert_probe LABEL ERE: the log line of probe LABEL says it was blocked
# with an error matching ERE.
assert_probe() {
	assert_match "$SLOG" "PRINT +$1: blocked: $2" "$1: blocked ($2)"
}

# assert_seccomp_logged SYSCALL: the daemon's log names the denied call.
assert_seccomp_logged() {
	assert_match "$(cat "$LOG")" \
	    "autokitteh-worker\[[0-9]+\] warning: seccomp: denied $1\(" \
	    "the daemon's log has the seccomp denial of $1"
}

# escape_finish: the daemon survived: a normal session completes, the
# zygote never restarted, /healthz answers; then it stops cleanly.
escape_finish() {
	local pid

	fire "$URL_NORMAL"
	wait_session "$SES"
	assert_eq '"normal 499500 fine 1"' "$RESULT" \
	    "a normal session still runs afterwards"
	pid=$(worker_pid "$SES")
	[ -n "$pid" ] || fail "the daemon's log does not name the worker of $SES"
	assert_not_contains "$(cat "$LOG")" "autokitteh-worker[$pid] warning: seccomp" \
	    "the normal session made no call the filter denies"
	assert_healthy "after the attempt, the daemon"
	run ak status -j
	assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" \
	    "the zygote never restarted"
	stop_daemon
	assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
}
