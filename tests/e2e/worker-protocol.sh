#!/usr/bin/env bash
# worker-protocol.sh: a session's own code writes raw frames to its
# worker's socket (fd 3 is open in the sandbox: that is the attack surface
# a hostile session has) -- every kind of violation the frame unit tests
# (tests/unit/check-frame.c) reject: bad lengths, flags and types, count
# bombs, deep nesting, ext, trailing bytes, bad keys, wrong field types,
# missing and unknown fields, NUL and invalid UTF-8, messages out of
# sequence, a frame cut short. Each time the controller kills the worker,
# ends the session in ERROR at once (no retry) with the cause in its log,
# and goes on serving: sessions started alongside complete, the zygote
# never restarts, no worker is left busy.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

pick_port
CONF_EXTRA='[workers]
max = 8
session_timeout = 30s'
write_config
start_daemon

P=$T/hostile
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<'EOF'
version: v2
project:
  name: hostile
EOF
cat >"$P/program.py" <<'EOF'
"""Write hand-made frames to the worker's socket (fd 3), PROTOCOL.md."""
import os
import struct
import time

HELLO, READY, RUN, PRINT, DONE, CALL, RESULT, SYSCALL = 1, 2, 21, 31, 32, 33, 34, 35


class Raw(bytes):
    """Bytes put into a msgpack body as they are."""


def mp(o):
    if isinstance(o, Raw):
        return bytes(o)
    if isinstance(o, bool):
        return b"\xc3" if o else b"\xc2"
    if isinstance(o, int):
        return bytes([o]) if 0 <= o < 128 else b"\xd3" + struct.pack(">q", o)
    if isinstance(o, str):
        o = o.encode("utf-8")
        return (bytes([0xa0 | len(o)]) if len(o) < 32 else
                b"\xd9" + bytes([len(o)])) + o
    if isinstance(o, bytes):
        return b"\xc4" + bytes([len(o)]) + o
    if isinstance(o, list):
        return bytes([0x90 | len(o)]) + b"".join(mp(v) for v in o)
    if isinstance(o, dict):
        return bytes([0x80 | len(o)]) + b"".join(
            mp(k) + mp(v) for k, v in o.items())
    raise TypeError(o)


def frame(ftype, body, flags=0, length=None):
    if not isinstance(body, bytes) or isinstance(body, Raw):
        body = mp(body)
    n = len(body) if length is None else length
    return struct.pack(">IHHI", n, ftype, flags, 0) + body


def deep(n):
    return Raw(b"\x91" * (n - 1) + b"\x90")


CASES = {
    # the 12-byte header
    "length-zero": frame(PRINT, b""),
    "length-over-limit": frame(PRINT, b"", length=20000000),
    "flags-set": frame(PRINT, {"text": "x"}, flags=1),
    "type-unknown": frame(99, {}),
    # the raw msgpack body
    "top-array": frame(PRINT, b"\x91\x80"),
    "top-nil": frame(PRINT, b"\xc0"),
    "array32-bomb": frame(PRINT, b"\x81\xa1a\xdd\xff\xff\xff\xff\x00\x00\x00"),
    "map32-bomb": frame(PRINT, b"\xdf\xff\xff\xff\xff\xa0\xc0"),
    "str32-bomb": frame(PRINT, b"\x81\xa4text\xdb\xff\xff\xff\xf0x"),
    "bin32-bomb": frame(PRINT, b"\x81\xa1a\xc6\x7f\xff\xff\xff\x01\x02"),
    "deep-nesting": frame(PRINT, {"text": deep(100000)}),
    "ext": frame(PRINT, b"\x81\xa4text\xd4\x01\x00"),
    "never-byte": frame(PRINT, b"\x81\xa4text\xc1"),
    "trailing-bytes": frame(PRINT, mp({"text": "x"}) + b"\x00\x00"),
    "truncated-body": frame(PRINT, b"\x82\xa4text\xa1x\xa1j"),
    "int-key": frame(PRINT, b"\x81\x01\x02"),
    "duplicate-key": frame(PRINT, b"\x82\xa4text\xa1x\xa4text\xa1y"),
    # fields
    "wrong-type": frame(PRINT, {"text": 42}),
    "missing-field": frame(PRINT, {}),
    "unknown-field": frame(PRINT, {"text": "x", "bogus": 1}),
    "nul-in-string": frame(PRINT, {"text": "a\x00b"}),
    "not-utf8": frame(PRINT, Raw(b"\x81\xa4text\xa2\xff\xfe")),
    "done-wrong-type": frame(DONE, {"ok": "yes"}),
    # out of sequence
    "hello-again": frame(HELLO, {"version": 3, "role": "worker", "pid": 1}),
    "ready-again": frame(READY, {}),
    "controller-type": frame(RUN, {}),
    "call-not-durable": frame(CALL, {"seq": 1, "name": "x", "args": ""}),
    "result-unasked": frame(RESULT, {"seq": 1, "name": "x", "summary": "",
                                     "value": b"x"}),
    "syscall-unknown": frame(SYSCALL, {"seq": 1, "name": "reboot",
                                       "args": "{}"}),
}


def attack(event):
    os.write(3, CASES[event.data["case"]])
    time.sleep(5)   # the controller kills us before this ends
    return "survived"


def cut_short(event):
    """Half a frame, then return: the runtime's DONE goes into it."""
    os.write(3, frame(PRINT, {"text": "x" * 40})[:20])
    return "returned"


def durable_call_out_of_order(event):
    os.write(3, frame(CALL, {"seq": 7, "name": "x", "args": ""}))
    time.sleep(5)


def forged_done(event):
    """A DONE the code wrote itself: it could have returned the value as
    well, so it stands; the runtime's own DONE after it is a violation."""
    os.write(3, frame(DONE, {"ok": True, "value": '"forged"'}))
    return "real"


def fd_flood(event):
    """Valid PRINT frames, each carrying 200 descriptors (SCM_RIGHTS): the
    controller reads without a control buffer, so the kernel drops them.
    (The kernel also caps the descriptors in flight at RLIMIT_NOFILE:
    ETOOMANYREFS until the controller has read the earlier ones.)"""
    import errno
    import socket
    sock = socket.socket(fileno=os.dup(3))
    null = os.open("/dev/null", os.O_RDONLY)
    for i in range(20):
        for _ in range(200):
            try:
                socket.send_fds(sock, [frame(PRINT, {"text": "fds %d\n" % i})],
                                [null] * 200)
                break
            except OSError as e:
                if e.errno != errno.ETOOMANYREFS:
                    raise
                time.sleep(0.05)
    return "sent"


def good(event):
    time.sleep(0.2)
    return event.data["n"]
EOF
deploy "$P"
assert_status 0 "$RC" "deploy the hostile project"

# case NAME: start program.py:attack with case=NAME; prints the session id.
start() {	# ENTRYPOINT [KEY=JSON...] [--durable]
	local e=$1

	shift
	ak session start -p hostile -e "program.py:$e" "$@"
}

# The attacks and the expected cause in each session's error.
CASES='length-zero|frame length 0 is not allowed
length-over-limit|frame length 20000000 exceeds the limit of 16777216 bytes
flags-set|frame flags 0x0001 are set but reserved
type-unknown|unknown frame type 99
top-array|the top level is an array, not a map
top-nil|the top level is nil, not a map
array32-bomb|array of 4294967295 elements declared with 3 bytes left
map32-bomb|map of 4294967295 entries declared with 2 bytes left
str32-bomb|string of 4294967280 bytes declared with 1 bytes left
bin32-bomb|binary data of 2147483647 bytes declared with 2 bytes left
deep-nesting|nesting deeper than 32
ext|msgpack ext (type byte 0xd4 at offset 6) is not used
never-byte|byte 0xc1 at offset 6 is never used in msgpack
trailing-bytes|2 bytes after the end of the object
truncated-body|truncated
int-key|map key at offset 1 is an integer, not a string
duplicate-key|duplicate key \"text\"
wrong-type|bad PRINT: field \"text\" must be a string
missing-field|bad PRINT: PRINT message is missing the field \"text\"
unknown-field|bad PRINT: unexpected field \"bogus\" in PRINT
nul-in-string|bad PRINT: field \"text\" contains a NUL byte
not-utf8|a PRINT whose text is not UTF-8
done-wrong-type|bad DONE: field \"ok\" must be a boolean
hello-again|unexpected HELLO from a session worker
ready-again|unexpected READY from a session worker
controller-type|unexpected RUN from a session worker
call-not-durable|bad CALL: CALL #1 out of order (last #0)
result-unasked|bad RESULT: RESULT #1 is not the awaited result
syscall-unknown|bad SYSCALL: SYSCALL reboot #1 is unknown'

t0=$(date +%s)
declare -A SES
while IFS='|' read -r name want; do
	id=$(start attack "case=\"$name\"") || fail "cannot start case $name"
	SES[$name]=$id
done <<<"$CASES"
fds_before=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
flood=$(start fd_flood)
cut=$(start cut_short)
dcall=$(start durable_call_out_of_order --durable)
forged=$(start forged_done)
# Good sessions alongside the attacks.
goods=
for n in 1 2 3 4 5 6; do
	goods="$goods $(start good "n=$n")"
done

# The session's error, from its log: "... STATE error: MESSAGE".
error_of() {
	ak session log "$1" | sed -n 's/.*STATE  *error: //p' | tail -n 1
}

while IFS='|' read -r name want; do
	id=${SES[$name]}
	run ak session watch -t 60s "$id"
	[ "$OUT" = "$id error" ] ||
	    fail "case $name: session $id ended \"$OUT\" ($ERR), not in error"
	err=$(error_of "$id")
	want=${want//\\\"/\"}
	case $err in
	"the worker violated the protocol ("*"$want"*") and was killed") ;;
	*) fail "case $name: the session's error is \"$err\", want the protocol violation \"$want\"" ;;
	esac
	ok "case $name: session in error: $err"
done <<<"$CASES"

run ak session watch -t 60s "$cut"
assert_eq "$cut error" "$OUT" "case cut-short: the session ends in error"
assert_match "$(error_of "$cut")" '^the worker violated the protocol \(it exited [0-9]+ bytes into a frame\)$' \
    "case cut-short: the error says it exited inside a frame"
run ak session watch -t 60s "$dcall"
assert_eq "$dcall error" "$OUT" "case durable-call-out-of-order: the session ends in error"
assert_contains "$(error_of "$dcall")" "bad CALL: CALL #7 out of order" \
    "case durable-call-out-of-order: the error names the CALL"
run ak session watch -t 60s "$forged"
assert_eq "$forged completed" "$OUT" "case forged-done: the forged DONE completes the session"
assert_eq '"forged"' "$(session_result "$forged")" "with the value the code wrote"
wait_until 10 grep -q "violated the protocol: bad DONE: a second DONE\|violated the protocol: a DONE after DONE" "$LOG" ||
    fail "the runtime's own DONE after the forged one was not a violation"
ok "case forged-done: the runtime's DONE after it killed the worker"
run ak session watch -t 60s "$flood"
assert_eq "$flood completed" "$OUT" "case fd-flood: frames carrying 4000 descriptors in all are just prints"
assert_eq 20 "$(ak session prints "$flood" | grep -c '^fds ')" "case fd-flood: all 20 prints arrived"
took=$(( $(date +%s) - t0 ))

# No retries: each attack ran on exactly one worker.
for id in "${SES[@]}" "$cut" "$dcall"; do
	if ak session log "$id" | grep -q "resuming on a new worker"; then
		fail "session $id was retried after a protocol violation"
	fi
done
ok "no attacked session was retried (all $(( ${#SES[@]} + 2 )) ended in ${took}s)"
[ "$(grep -c 'violated the protocol' "$LOG")" -ge $(( ${#SES[@]} + 2 )) ] ||
    fail "the daemon log does not have a violation per attack"
ok "the daemon log has a warning per violation"

for id in $goods; do
	run ak session watch -t 60s "$id"
	assert_eq "$id completed" "$OUT" "a good session started alongside completes"
done
id=$(start good n=7)
run ak session watch -t 30s "$id"
assert_eq "$id completed" "$OUT" "a good session started after all that completes"
assert_eq 7 "$(session_result "$id")" "and returns its value"

run ak status -j
assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" "the zygote never restarted"
fds_after=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
[ "$fds_after" -lt $(( fds_before + 50 )) ] ||
    fail "the daemon has $fds_after descriptors open, $fds_before before the attacks"
ok "the daemon kept none of the passed descriptors ($fds_before open before, $fds_after after)"
none_busy() { test "$(ak status -j | jq .workers.busy)" = 0; }
wait_until 10 none_busy || fail "workers are still busy"
ok "no worker is left busy"
assert_healthy "after the attacks, the daemon"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
