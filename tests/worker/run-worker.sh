#!/bin/sh
# run-worker.sh: exercise autokitteh-worker through a stand-in controller.
#
# usage: tests/worker/run-worker.sh [BUILDDIR]   (make check sets top_builddir)
# Needs autokitteh-worker and tests/worker/driver built in BUILDDIR.
# Run as root to exercise the uid drop (workers run as nobody, 65534).
# Prints "ok"/"FAIL" per check; exits 1 if any check failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${top_srcdir:-$(cd "$here/../.." && pwd)}
build=${1:-${top_builddir:-.}}
W=$build/autokitteh-worker
P=$top/workers/python
D=$build/tests/worker/driver
[ -x "$D" ] || { echo "run-worker: $D is not built" >&2; exit 1; }
progs=$here/programs
out=$(mktemp)
hist=$(mktemp -d)
failed=0
trap 'rm -f "$out"; rm -rf "$hist"' EXIT

# check NAME PATTERN: the last driver output must match the extended regex.
check() {
	if grep -Eq -- "$2" "$out"; then
		echo "ok   $1"
	else
		echo "FAIL $1 (wanted /$2/)"; sed 's/^/     | /' "$out"; failed=1
	fi
}
# nocheck NAME PATTERN: the last driver output must not match.
nocheck() {
	if grep -Eq -- "$2" "$out"; then
		echo "FAIL $1 (unwanted /$2/)"; sed 's/^/     | /' "$out"; failed=1
	else
		echo "ok   $1"
	fi
}
# count NAME N PATTERN: exactly N lines match.
count() {
	n=$(grep -Ec -- "$3" "$out")
	if [ "$n" = "$2" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1 ($n lines, wanted $2: /$3/)"; sed 's/^/     | /' "$out"; failed=1
	fi
}
# alive PID: running and not a zombie (init may be slow to reap).
alive() {
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
drive() { "$D" "$@" "$W" "$P" >"$out" 2>&1; }
drive_prog() { d=$1; shift; "$D" "$W" "$P" "$progs/$d" "$@" >"$out" 2>&1; }

drive_prog hello program.py:on_hook \
    '{"data":{"x":1},"event_id":"e1","event_type":"post","session_id":"s1"}'
check "zygote handshake" '^zygote HELLO version=5 role="zygote"'
check "worker handshake" '^worker HELLO version=5 role="worker"'
check "build exports" 'BUILT ok=true artifact=<[0-9]+ bytes> exports=\[\{"file": "helper.py", "name": "greet", "line": 1\}'
check "print to PRINT" '^worker PRINT text="hello post 1"$'
check "stderr to PRINT" '^worker PRINT text="to stderr"$'
check "env is clean" "PRINT text=\"env \\['HOME', 'LANG', 'PATH', 'TMPDIR'\\] /tmp/akdriver-[0-9-]+ $(test "$(id -u)" = 0 && echo 65534 || id -u)\""
check "only fds 0-3 (4 = listdir)" "PRINT text=\"fds \\['0', '1', '2', '3', '4'\\]\""
check "return value" 'DONE ok=true value="\{\\"greeting\\": \\"hi world\\", \\"sid\\": \\"s1\\"\}"'
check "exit code 0" 'EXITED pid=[0-9]+ code=0 signal=0'
check "zygote exits on EOF" '^zygote exit status 0x0$'
grep '^TIME' "$out"

# With the namespaces, tmpfs, Landlock and seccomp (-N: SPAWN's sandbox
# bits, FRAME_SANDBOX_* 0x1df: all but the network namespace), where the
# kernel lets an unprivileged uid make them.
as_worker=
[ "$(id -u)" != 0 ] || as_worker="setpriv --reuid 65534 --regid 65534 --clear-groups"
if $as_worker unshare --user --map-current-user --pid --mount --fork true 2>/dev/null; then
	drive_prog hello -N 0x1df program.py:with_sid
	check "namespaced worker" 'DONE ok=true value="\\"ses_1\\""'
fi
drive_prog hello program.py:with_sid;	check "session_id kwarg" 'DONE ok=true value="\\"ses_1\\""'
drive_prog hello program.py:coro;	check "async handler" 'DONE ok=true value="42"'
drive_prog hello program.py:obj;	check "repr of unserializable" 'DONE ok=true value="\\"<object object at'
drive_prog hello program.py:nope;	check "missing function" 'DONE ok=false error="program.py has no function nope"$'
drive_prog hello nothere.py:f;		check "missing file" 'DONE ok=false error="nothere.py is not in the build"$'
# RUN with go: true prepares, sends nothing and runs no project code until
# GO (a webhook's session, started before its commit); a wrong frame instead
# of GO ends the worker before any of it runs.
"$D" -G "$W" "$P" "$progs/hello" program.py:on_hook \
    '{"data":{"x":1},"event_id":"e1","event_type":"post","session_id":"s1"}' \
    >"$out" 2>&1
nocheck "nothing before GO" '^EARLY$'
check "runs after GO" '^worker PRINT text="hello post 1"$'
check "done after GO" 'DONE ok=true'
"$D" -G -X "$W" "$P" "$progs/hello" program.py:on_hook \
    '{"data":{"x":1},"event_id":"e1","event_type":"post","session_id":"s1"}' \
    >"$out" 2>&1
nocheck "no code without GO" 'PRINT|DONE'
check "exit 1 without GO" 'EXITED pid=[0-9]+ code=1 signal=0'

drive_prog hello program.py:info
check "Debian python3" '\\"exe\\": \\"/usr/bin/python3\\", \\"prefix\\": \\"/usr\\"'
check "dist-packages on path" '/usr/lib/python3/dist-packages'

drive_prog syn
check "syntax errors" 'BUILT ok=false exports=\[.*\] errors=\["other.py:1:5: invalid syntax", "program.py:2:12: unmatched '"'"'\)'"'"'"\]'

drive_prog bad program.py:on_hook
check "error line" 'DONE ok=false error="KeyError: '"'b'"'" traceback="Traceback \(most recent call last\):\\n  File \\"program.py\\", line 6, in on_hook\\n.*File \\"lib.py\\", line 2, in boom\\n.*KeyError: '"'b'"'\\n"$'
if grep -q 'ak_runner\|importlib' "$out"; then echo "FAIL traceback filtered"; failed=1; else echo "ok   traceback filtered"; fi
drive_prog bad program.py:exits;	check "SystemExit is an error" 'DONE ok=false error="SystemExit: 3"'
drive_prog bad program.py:custom;	check "one-line error" 'DONE ok=false error="program.MyErr: multi line"'
drive_prog bad program.py:importerr;	check "error at import" 'File \\"lib2.py\\", line 1, in <module>'

drive_prog misc program.py:webhook \
    '{"data":{"body":{"bytes":"aGVsbG8="}},"event_id":"evt_9","event_type":"post","session_id":"s"}'
check "webhook body bytes" 'DONE ok=true value="\[\\"bytes\\", \\"hello\\", \\"to buf\\\\n\\", \\"evt_9\\", \\"post\\"\]"'
check "partial lines" 'PRINT text="partial".*' 
"$D" -e hook__webhook_url=http://x/w "$W" "$P" "$progs/misc" program.py:sdk >"$out" 2>&1
check "SDK stubs" '\\"outcome\\": \\"outcome is not supported yet; use http_outcome\\".*\\"publish_value\\": \\"publish_value is not supported yet\\".*\\"hook\\": \\"http://x/w\\".*\\"all_ok\\": true'

drive_prog sec program.py:syscalls
for s in ptrace mount io_uring_setup bpf unshare keyctl perf_event_open userfaultfd tiocsti tiocsti_hi; do
	check "seccomp $s" "\\\\\"$s\\\\\": \\\\\"Operation not permitted\\\\\""
done
check "plain syscalls work" '\\"getpid_ok\\": \\"ok\\"'
if [ "$(id -u)" = 0 ]; then
	check "no root again" '\\"setuid0\\": \\"Operation not permitted\\"'
	check "no /etc/shadow" '\\"shadow\\": \\"Permission denied\\"'
fi
drive_prog sec program.py:x32;	check "x32 ABI killed" 'EXITED pid=[0-9]+ code=-1 signal=31'
drive_prog sec program.py:i386;	check "i386 ABI killed" 'EXITED pid=[0-9]+ code=-1 signal=31'

"$D" -c 1 "$W" "$P" "$progs/limits" program.py:spin >"$out" 2>&1
check "CPU limit: SIGXCPU" 'EXITED pid=[0-9]+ code=-1 signal=24'
if ldd "$W" | grep -q libasan; then
	# ASan reserves terabytes of shadow address space: the worker
	# leaves RLIMIT_AS unset in such builds (see sandbox-rlimit.c).
	echo "skip memory limit: MemoryError (ASan build)"
else
	"$D" -m $((512 << 20)) "$W" "$P" "$progs/limits" program.py:bomb >"$out" 2>&1
	check "memory limit: MemoryError" 'DONE ok=false error="MemoryError" traceback=".*line 8, in bomb'
fi
"$D" "$W" "$P" "$progs/limits" program.py:files >"$out" 2>&1
check "tempfile in the session dir" 'DONE ok=true value="\[\\"/tmp/akdriver-[0-9-]+/tmp'

# Durable sessions: the driver acts as the controller (-D), ACKs every
# RESULT, answers every SYSCALL (or SUSPENDs it, -S), records the history
# (-R) and sends one (-H).
dur() { e=$1; shift; "$D" -D "$@" "$W" "$P" "$progs/durable" "program.py:$e" >"$out" 2>&1; }
done_line() { grep '^worker DONE' "$out"; }

dur main -R "$hist/main"
check "activity: random.random" '^worker CALL seq=1 name="random.Random.random" args=""$'
check "activity: result pickled" '^worker RESULT seq=1 name="random.Random.random" summary="0\.[0-9]+" value=<[0-9]+ bytes>$'
check "activity: time.time" '^worker CALL seq=2 name="time.time" args=""$'
check "@activity: one call" '^worker CALL seq=3 name="program.roll" args="3"$'
count "no CALL for helpers, json, len, inside @activity or @inhibit_activities" 3 '^worker CALL '
check "time.sleep: sleep syscall" '^worker SYSCALL seq=4 name="sleep" args="\{\\"seconds\\": 1\}"$'
check "durable: prints live" '^worker PRINT text="start"$'
check "durable: done" '^worker DONE ok=true value=.*\\"h\\": 42, \\"n\\": 8, .*\\"q\\": true'
first=$(done_line)

dur main -H "$hist/main"
count "replay: no CALL, RESULT or SYSCALL" 0 '^worker (CALL|RESULT|SYSCALL) '
nocheck "replay: prints not re-sent" '^worker PRINT text="start"$'
check "replay: prints after the history are live" '^worker PRINT text="end 42 8"$'
if [ -n "$first" ] && [ "$(done_line)" = "$first" ]; then
	echo "ok   replay: same return value"
else
	echo "FAIL replay: same return value"; echo "     | $first"; sed 's/^/     | /' "$out"; failed=1
fi

dur other -H "$hist/main"
check "nondeterminism" '^worker DONE ok=false error="nondeterminism at call #1: history has random.Random.random, code called time.time" traceback=".*line 38, in other'

dur unpicklable
check "unpicklable generator" 'DONE ok=false error="the result of program.gen \(a generator\) cannot be pickled: .*; wrap the code that makes and uses it in one function decorated with @autokitteh.activity"'
dur lam
check "unpicklable lambda" 'DONE ok=false error="the result of program.make_lambda \(a function\) cannot be pickled: '
dur too_big -M 100
check "max_result_size" 'DONE ok=false error="the result of program.big is [0-9]+ bytes, over workers.max_result_size \(100 bytes\)"'

dur errors -R "$hist/errors"
check "activity error: pickled" '^worker RESULT seq=1 name="program.fails" summary="ValueError: nope" error=<[0-9]+ bytes>$'
check "activity error: re-raised" 'DONE ok=true value="\\"caught nope\\""'
dur errors -H "$hist/errors"
count "activity error: replayed" 0 '^worker (CALL|RESULT) '
check "activity error: raised again" 'DONE ok=true value="\\"caught nope\\""'

dur boom
check "traceback: user frames, right lines" 'DONE ok=false error="KeyError: '"'b'"'" traceback="Traceback \(most recent call last\):\\n  File \\"program.py\\", line 83, in boom\\n.*File \\"helper.py\\", line 7, in fail\\n.*KeyError: '"'b'"'\\n"$'
nocheck "traceback: no runtime frames" 'ak_runner|_ak_call'
dur amain
check "async activity" '^worker CALL seq=1 name="program.fetch" args="41"$'
check "async activity value" 'DONE ok=true value="42"'
dur methods
count "methods, super(), builtins: no CALL" 0 '^worker CALL '
check "methods, super(), builtins" 'DONE ok=true value="\[\\"child\+base\\", \[\\"a\\", \\"b\\"\], \[\[\\"x\\", 1\], \[\\"y\\", 2\]\], \\"ses_1\\"\]"'

dur whole
count "@activity handler: one activity" 1 '^worker CALL seq=1 name="program.whole"'
count "@activity handler: nothing else" 1 '^worker CALL '
check "@activity handler: value" 'DONE ok=true value="\[true, true\]"'

dur main -S -R "$hist/suspend"
check "suspend: the sleep syscall" '^worker SYSCALL seq=4 name="sleep"'
nocheck "suspend: no DONE" '^worker DONE'
check "suspend: exit 0" 'EXITED pid=[0-9]+ code=0 signal=0'
dur main -H "$hist/suspend"
count "resume: replayed to the sleep" 0 '^worker (CALL|RESULT|SYSCALL) '
check "resume: done" '^worker PRINT text="end 42 8"$'
check "resume: done" 'DONE ok=true'

# Malformed histories: the worker refuses the RUN (exit 1, no DONE).
# {seq: 1, name: "x", value: bin 0x00, result: "null"}
printf '\204\243seq\001\244name\241x\245value\304\001\000\246result\244null' >"$hist/two"
dur main -H "$hist/two"
check "history: exactly one of value/error/result" 'EXITED pid=[0-9]+ code=1 signal=0'
nocheck "history: exactly one of value/error/result (no DONE)" '^worker DONE'
# {seq: 2, name: "x", result: "null"} as the first entry
printf '\203\243seq\002\244name\241x\246result\244null' >"$hist/seq"
dur main -H "$hist/seq"
check "history: seq must be 1, 2, ..." 'EXITED pid=[0-9]+ code=1 signal=0'

# The SDK's syscalls: the driver answers each SYSCALL with the -Y result
# for its name ({"value": null} without one).
sdk() { e=$1; shift; "$D" "$@" "$W" "$P" "$progs/sdk" "program.py:$e" >"$out" 2>&1; }
# sys_line NAME SEQ SYSCALL ARGS: the SYSCALL frame, ARGS exactly (C-escaped
# as the driver prints it, then regex-escaped).
sys_line() { check "$1" "^worker SYSCALL seq=$2 name=\"$3\" args=\"$(printf '%s' "$4" | sed 's/[\\"]/\\&/g; s/[][\\.*^$+?(){}|]/\\&/g')\"\$"; }
ev2='{"value":{"data":{"body":{"bytes":"aGk="},"n":1},"event_id":"evt_2","event_type":"post"}}'
ev3='{"value":{"data":{"n":2},"event_id":"evt_3","event_type":"get"}}'
sdk events -D -R "$hist/events" -Y subscribe='{"value":"sub_1"}' -Y next_event="$ev2" \
    -Y next_event="$ev3" -Y next_event='{"value":null}'
sys_line "subscribe: frame" 1 subscribe '{"source": "conn", "filter": "data.x > 1"}'
sys_line "next_event: timedelta timeout" 2 next_event '{"ids": ["sub_1"], "timeout": 1.5}'
sys_line "next_event: ids, no timeout" 3 next_event '{"ids": ["sub_1", "sub_2"], "timeout": null}'
sys_line "next_event: seconds timeout" 4 next_event '{"ids": ["sub_1"], "timeout": 2.0}'
sys_line "unsubscribe: frame" 5 unsubscribe '{"id": "sub_1"}'
check "next_event: AttrDict (bytes decoded), Event with full=True, None on timeout" \
    'DONE ok=true value="\[\\"sub_1\\", \\"AttrDict\\", \\"hi\\", 1, \\"Event\\", \\"evt_3\\", \\"get\\", 2, \\"ses_1\\", null\]"$'
first=$(done_line)
sdk events -D -H "$hist/events"
count "syscall replay: no SYSCALL" 0 '^worker (CALL|RESULT|SYSCALL) '
if [ -n "$first" ] && [ "$(done_line)" = "$first" ]; then
	echo "ok   syscall replay: same return values"
else
	echo "FAIL syscall replay: same return values"; echo "     | $first"; sed 's/^/     | /' "$out"; failed=1
fi
sdk act_first -D -H "$hist/events"
check "nondeterminism: syscall recorded, activity called" 'DONE ok=false error="nondeterminism at call #1: history has subscribe, code called random.Random.random"'
sdk sys_first -D -H "$hist/main"
check "nondeterminism: activity recorded, syscall called" 'DONE ok=false error="nondeterminism at call #1: history has random.Random.random, code called subscribe"'
count "nondeterminism: no SYSCALL" 0 '^worker SYSCALL '

sdk sessions -D -Y start='{"value":"ses_child"}' \
    -Y next_signal='{"value":{"name":"done","payload":{"ok":true}}}' -Y next_signal='{"value":null}'
sys_line "start: frame" 1 start '{"loc": "program.py:child", "data": {"a": 1}, "memo": {"m": "x"}, "project": ""}'
sys_line "signal: frame" 2 signal '{"session_id": "ses_child", "name": "go", "payload": {"p": [1, 2]}}'
sys_line "next_signal: frame" 3 next_signal '{"names": ["done"], "timeout": 5.0}'
sys_line "next_signal: names" 4 next_signal '{"names": ["a", "b"], "timeout": null}'
check "start, Signal, None on timeout" 'DONE ok=true value="\[\\"ses_child\\", \\"Signal\\", \\"done\\", \{\\"ok\\": true\}, null\]"$'

n='{"value":null}' l='{"value":["n","z"]}'
sdk values -D -Y store="$n" -Y store='{"value":{"a":[1]}}' -Y store='{"value":5}' \
    -Y store='{"value":true}' -Y store='{"value":"new"}' -Y store="$n" -Y store="$l" \
    -Y store='{"value":5}' -Y store="$n" -Y store="$l" -Y store="$l" -Y store="$l" \
    -Y store="$n" -Y store="$n" -Y store="$n" -Y store='{"error":"the value of big is over 64 KiB"}'
sys_line "set_value: frame" 1 store '{"op": "set", "key": "k", "args": [{"a": [1]}]}'
sys_line "get_value: frame" 2 store '{"op": "get", "key": "k", "args": []}'
sys_line "add_values: frame" 3 store '{"op": "add", "key": "n", "args": [2]}'
sys_line "check_and_set_value: frame" 4 store '{"op": "check_and_set", "key": "k", "args": [{"a": [1]}, "new"]}'
sys_line "mutate_value: frame" 5 store '{"op": "mutate", "key": "k", "args": ["get"]}'
sys_line "del_value: frame" 6 store '{"op": "del", "key": "k", "args": []}'
sys_line "list_values_keys: frame" 7 store '{"op": "list", "key": "", "args": []}'
sys_line "store[k]: get" 9 store '{"op": "get", "key": "missing", "args": []}'
sys_line "k in store: list" 10 store '{"op": "list", "key": "", "args": []}'
sys_line "store[k] = v: set" 13 store '{"op": "set", "key": "w", "args": [1]}'
sys_line "del store[k]: del" 14 store '{"op": "del", "key": "w", "args": []}'
count "store: one SYSCALL per access" 16 '^worker SYSCALL '
check "store: values, KeyError, in, len, iter, get, AutoKittehError" 'DONE ok=true value="\[null, \{\\"a\\": \[1\]\}, 5, true, \\"new\\", null, \[\\"n\\", \\"z\\"\], 5, \\"KeyError '"'missing'"'\\", true, 2, \[\\"n\\", \\"z\\"\], \\"dflt\\", \\"AutoKittehError the value of big is over 64 KiB\\"\]"$'

sdk outcomes -D
sys_line "http_outcome: str body, headers, more" 1 outcome '{"status_code": 201, "body": "hi", "headers": {"X-A": "b"}, "more": true, "event_id": null}'
sys_line "http_outcome: bytes body" 2 outcome '{"status_code": 200, "body": null, "body_b64": "AAE=", "headers": {}, "more": false, "event_id": null}'
sys_line "http_outcome: json=None, event_id" 3 outcome '{"status_code": 200, "body": null, "json": null, "json_set": true, "headers": {}, "more": false, "event_id": "evt_1"}'
sys_line "http_outcome: json" 4 outcome '{"status_code": 200, "body": null, "json": {"a": 1}, "json_set": true, "headers": {}, "more": false, "event_id": null}'
sys_line "http_outcome: dict body as JSON text" 5 outcome '{"status_code": 200, "body": "{\"k\": [1]}", "headers": {}, "more": false, "event_id": null}'
check "http_outcome: body and json; outcome" 'DONE ok=true value="\[\\"http_outcome: body and json cannot be used together\\", \\"outcome is not supported yet; use http_outcome\\"\]"$'

sdk errors -D -R "$hist/err" -Y subscribe='{"error":"no connection or trigger named nope"}'
check "{error}: AutoKittehError" 'DONE ok=true value="\\"AutoKittehError: no connection or trigger named nope\\""$'
sdk errors -D -H "$hist/err"
count "{error}: replayed" 0 '^worker SYSCALL '
check "{error}: raised again" 'DONE ok=true value="\\"AutoKittehError: no connection or trigger named nope\\""$'
sdk sys_first -D -Y subscribe='[1]'
check "malformed result ends the session" 'DONE ok=false error="the result of syscall #1 \(subscribe\) is malformed: '"'\[1\]'"'"'

sdk in_activity -D
count "inside an activity: no SYSCALL" 0 '^worker SYSCALL '
check "inside an activity: refused" 'DONE ok=true value="\[\\"subscribe cannot be called inside an activity\\", \\"get_value cannot be called inside an activity\\", \\"next_signal cannot be called inside an activity\\", \\"http_outcome cannot be called inside an activity\\"\]"$'
sdk not_json -D
count "not JSON: no SYSCALL" 0 '^worker SYSCALL '
check "not JSON: TypeError" 'DONE ok=true value="\[\\"set_value: the value must be JSON-serialisable \(Object of type object is not JSON serializable\)\\", \\"signal: payload must be JSON-serialisable \(.*\)\\", \\"start: data must be JSON-serialisable \(.*\)\\", \\"http_outcome: json must be JSON-serialisable \(.*\)\\"\]"$'

sdk nondurable -Y subscribe='{"value":"sub_9"}'
sys_line "non-durable: live syscall" 1 subscribe '{"source": "conn", "filter": ""}'
check "non-durable: next_signal refused" 'DONE ok=true value="\[\\"sub_9\\", \\"next_signal needs a durable session\\"\]"$'

sdk sleeper -D -R "$hist/sleep"
sys_line "sleep: frame" 1 sleep '{"seconds": 0.01}'
sdk sleeper -D -H "$hist/sleep"
count "sleep {value: null}: replayed" 0 '^worker SYSCALL '
check "sleep {value: null}: done" 'DONE ok=true value="\\"slept\\""$'
# {seq: 1, name: "sleep", result: "null"}: a history from before {"value": null}
printf '\203\243seq\001\244name\245sleep\246result\244null' >"$hist/oldsleep"
sdk sleeper -D -H "$hist/oldsleep"
count "sleep null (old history): replayed" 0 '^worker SYSCALL '
check "sleep null (old history): done" 'DONE ok=true value="\\"slept\\""$'

drive_prog durable program.py:main
count "non-durable: no CALL or SYSCALL" 0 '^worker (CALL|RESULT|SYSCALL) '
check "non-durable: done" 'DONE ok=true'

# The controller dies (SIGKILL) while a session runs: everything goes.
"$D" "$W" "$P" "$progs/hello" program.py:sleep >"$out" 2>&1 &
dpid=$!
# Until the session's worker (after the build's) said HELLO: a loaded
# machine may take more than a second to start the zygote.
for i in $(seq 1 200); do
	[ "$(grep -c '^worker HELLO' "$out")" -ge 2 ] && break
	sleep 0.1
done
sleep 0.2
zpid=$(sed -n 's/^zygote HELLO.* pid=\([0-9]*\)$/\1/p' "$out")
wpid=$(sed -n 's/^worker HELLO.* pid=\([0-9]*\)$/\1/p' "$out" | tail -1)
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
sleep 0.3
if [ -n "$zpid" ] && [ -n "$wpid" ] && ! alive "$zpid" && ! alive "$wpid"; then
	echo "ok   zygote and worker die with the controller"
else
	echo "FAIL zygote ($zpid) or worker ($wpid) survived the controller"; failed=1
fi
# Only the temp dirs of drivers that are gone: another run may be going on.
for d in /tmp/akdriver-*; do
	p=${d#/tmp/akdriver-}
	[ -e "$d" ] && ! alive "${p%%-*}" && rm -rf "$d"
done
exit $failed
