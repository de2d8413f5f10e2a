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
failed=0
trap 'rm -f "$out"' EXIT

# check NAME PATTERN: the last driver output must match the extended regex.
check() {
	if grep -Eq -- "$2" "$out"; then
		echo "ok   $1"
	else
		echo "FAIL $1 (wanted /$2/)"; sed 's/^/     | /' "$out"; failed=1
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
check "zygote handshake" '^zygote HELLO version=1 role="zygote"'
check "worker handshake" '^worker HELLO version=1 role="worker"'
check "build exports" 'BUILT ok=true artifact=<[0-9]+ bytes> exports=\[\{"file": "helper.py", "name": "greet", "line": 1\}'
check "print to PRINT" '^worker PRINT text="hello post 1"$'
check "stderr to PRINT" '^worker PRINT text="to stderr"$'
check "env is clean" "PRINT text=\"env \\['HOME', 'LANG', 'PATH', 'TMPDIR'\\] /tmp/akdriver-[0-9-]+ $(test "$(id -u)" = 0 && echo 65534 || id -u)\""
check "only fds 0-3 (4 = listdir)" "PRINT text=\"fds \\['0', '1', '2', '3', '4'\\]\""
check "return value" 'DONE ok=true value="\{\\"greeting\\": \\"hi world\\", \\"sid\\": \\"s1\\"\}"'
check "exit code 0" 'EXITED pid=[0-9]+ code=0 signal=0'
check "zygote exits on EOF" '^zygote exit status 0x0$'
grep '^TIME' "$out"

drive_prog hello program.py:with_sid;	check "session_id kwarg" 'DONE ok=true value="\\"ses_1\\""'
drive_prog hello program.py:coro;	check "async handler" 'DONE ok=true value="42"'
drive_prog hello program.py:obj;	check "repr of unserializable" 'DONE ok=true value="\\"<object object at'
drive_prog hello program.py:nope;	check "missing function" 'DONE ok=false error="program.py has no function nope"$'
drive_prog hello nothere.py:f;		check "missing file" 'DONE ok=false error="nothere.py is not in the build"$'
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
check "SDK stubs" '\\"subscribe\\": \\"subscribe is not supported yet\\".*\\"hook\\": \\"http://x/w\\".*\\"all_ok\\": true'

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

# The controller dies (SIGKILL) while a session runs: everything goes.
"$D" "$W" "$P" "$progs/hello" program.py:sleep >"$out" 2>&1 &
dpid=$!
sleep 1
zpid=$(sed -n 's/^zygote HELLO.* pid=\([0-9]*\)$/\1/p' "$out")
wpid=$(sed -n 's/^worker HELLO.* pid=\([0-9]*\)$/\1/p' "$out" | tail -1)
kill -9 "$dpid"; wait "$dpid" 2>/dev/null
sleep 0.3
if [ -n "$zpid" ] && [ -n "$wpid" ] && ! alive "$zpid" && ! alive "$wpid"; then
	echo "ok   zygote and worker die with the controller"
else
	echo "FAIL zygote ($zpid) or worker ($wpid) survived the controller"; failed=1
fi
rm -rf /tmp/akdriver-*
exit $failed
