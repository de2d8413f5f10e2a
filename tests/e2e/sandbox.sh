#!/usr/bin/env bash
# sandbox.sh: a session cannot ptrace, mount, set up io_uring, or read the
# daemon's database, and runs in a private temporary directory.
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

[ "$(uname -m)" = x86_64 ] || skip "the syscall numbers here are x86_64's"

start_daemon

P=$T/sandbox
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<EOF
version: v1
project:
  name: sandbox
  vars:
    - name: DB
      value: "$DATA/autokitteh.db"
    - name: DATA_DIR
      value: "$DATA"
    - name: READABLE
      value: "$T/open/readable.txt"
  triggers:
    - name: probe
      type: webhook
      call: program.py:probe
EOF
cat >"$P/program.py" <<'EOF'
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]


def errno_of(r):
    # 0 when the call succeeded, else the errno it failed with.
    return ctypes.get_errno() if r < 0 else 0


def syscall(nr, *args):
    ctypes.set_errno(0)
    return errno_of(libc.syscall(ctypes.c_long(nr),
                                 *[ctypes.c_long(a) for a in args]))


def probe(event):
    what = event.data.url.path_suffix.lstrip("/")
    if what == "ptrace":           # ptrace(PTRACE_TRACEME, 0, 0, 0)
        ctypes.set_errno(0)
        return errno_of(libc.ptrace(0, 0, None, None))
    if what == "ptrace_syscall":   # syscall 101
        return syscall(101, 0, 0, 0, 0)
    if what == "mount":            # mount("none", cwd, "tmpfs", 0, NULL)
        ctypes.set_errno(0)
        return errno_of(libc.mount(b"none", os.getcwd().encode(), b"tmpfs",
                                   0, None))
    if what == "mount_syscall":    # syscall 165
        return syscall(165, 0, 0, 0, 0, 0)
    if what == "io_uring_setup":   # syscall 425
        return syscall(425, 1, 0)
    if what == "getpid":           # an allowed call, for comparison
        return syscall(39)
    if what == "db":
        try:
            with open(os.environ["DB"], "rb") as f:
                return "read %d bytes" % len(f.read(16))
        except PermissionError as e:
            return "PermissionError: %s" % e.strerror
        except OSError as e:
            return "%s: %s" % (type(e).__name__, e.strerror)
    if what == "readable":         # world-readable, outside the sandbox
        try:
            with open(os.environ["READABLE"]) as f:
                return "read: " + f.read().strip()
        except OSError as e:
            return "%s: %s" % (type(e).__name__, e.strerror)
    if what == "cwd":
        return {"cwd": os.getcwd(), "home": os.environ.get("HOME"),
                "tmpdir": os.environ.get("TMPDIR")}
    if what == "status":
        fields = {}
        for line in open("/proc/self/status"):
            k, _, v = line.partition(":")
            if k in ("NoNewPrivs", "Seccomp", "Uid"):
                fields[k] = v.split()[0]
        return fields
    raise ValueError("unknown probe " + what)
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
url=$(webhook_url probe)

# probe WHAT: run the probe; $result is its return value's JSON.
probe() { session_probe "$url" "$1" 20s; }

# With a mount namespace the data dir and /tmp are covered (the files are
# not there at all); without one, Landlock and the uid refuse them.
run ak status -j
if [ "$(jget "$OUT" '.sandbox.mechanisms[] | select(.name == "mount_namespace") | .state')" = enforced ]; then
	out_of_reach='"FileNotFoundError: No such file or directory"'
else
	out_of_reach='"PermissionError: Permission denied"'
fi

probe getpid
assert_eq 0 "$result" "an allowed system call (getpid) succeeds"
probe ptrace
assert_eq 1 "$result" "ptrace(PTRACE_TRACEME) fails with EPERM"
probe ptrace_syscall
assert_eq 1 "$result" "syscall 101 (ptrace) fails with EPERM"
probe mount
assert_eq 1 "$result" "mount(2) fails with EPERM"
probe mount_syscall
assert_eq 1 "$result" "syscall 165 (mount) fails with EPERM"
probe io_uring_setup
assert_eq 1 "$result" "syscall 425 (io_uring_setup) fails with EPERM"

probe status
assert_eq 1 "$(printf '%s' "$result" | jq -r .NoNewPrivs)" "the worker has no_new_privs"
assert_eq 2 "$(printf '%s' "$result" | jq -r .Seccomp)" "the worker has a seccomp filter"

if [ "$(id -u)" = 0 ]; then
	[ -f "$DATA/autokitteh.db" ] || fail "no database at $DATA/autokitteh.db"
	assert_match "$(printf '%s' "$result" | jq -r .Uid)" '^[1-9][0-9]*$' \
	    "the worker runs as a non-root uid"
	probe db
	assert_eq "$out_of_reach" "$result" \
	    "reading the daemon's database fails with $out_of_reach"
else
	echo "# not root: the database check needs workers with their own uid"
fi

# Landlock: a file anyone may read, outside the session's temp dir and the
# system directories, is out of reach whatever the worker's uid.
mkdir -p "$T/open"
chmod 0711 "$T"
chmod 0755 "$T/open"
echo "hello" >"$T/open/readable.txt"
chmod 0644 "$T/open/readable.txt"
probe readable
# landlock_create_ruleset(NULL, 0, VERSION): the ABI, or -1 without it.
abi=$(/usr/bin/python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))' 2>/dev/null || echo -1)
if [ "$abi" -ge 1 ] 2>/dev/null; then
	assert_eq "$out_of_reach" "$result" \
	    "a world-readable file outside the sandbox cannot be read"
else
	echo "# no Landlock in this kernel: $result"
fi

probe cwd
cwd=$(printf '%s' "$result" | jq -r .cwd)
assert_match "$cwd" '^/tmp/autokitteh-' "the worker's cwd starts with /tmp/autokitteh-"
case $cwd in
"$DATA"|"$DATA"/*) fail "the worker's cwd $cwd is in the data dir" ;;
esac
ok "the worker's cwd is not in the data dir"
assert_eq "$cwd" "$(printf '%s' "$result" | jq -r .home)" "HOME is the cwd"
assert_eq "$cwd" "$(printf '%s' "$result" | jq -r .tmpdir)" "TMPDIR is the cwd"
probe cwd
[ "$(printf '%s' "$result" | jq -r .cwd)" != "$cwd" ] ||
    fail "two sessions shared the working directory $cwd"
ok "each session has its own working directory"
wait_until 5 test ! -e "$cwd" ||
    fail "the finished session's directory $cwd is still there"
ok "the finished session's directory was removed"

assert_healthy "after the sandbox probes, the daemon"
run ak status -j
assert_eq 0 "$(jget "$OUT" .sessions.error)" "status -j: no session ended in error"
assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" "status -j: the zygote never restarted"

stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
