#!/usr/bin/env bash
# sandbox-ns.sh: each session has its own user, PID, mount, IPC and UTS
# namespaces (and with [workers] network = off a network namespace with
# only loopback), a size-limited tmpfs temp dir, and a cgroup (or rlimit)
# cap on its processes and memory; the daemon survives a session that
# fork-bombs, eats memory or fills its disk; `akctl status` says what is
# enforced; and [workers] sandbox = strict refuses to start without a
# mechanism (taken away with the test-only AUTOKITTEH_SANDBOX_DISABLE).
. "$top_srcdir/tests/e2e/lib.sh"
need_jq

# Does the kernel let an unprivileged uid make the namespaces at all?
as_worker=
[ "$(id -u)" != 0 ] || as_worker="setpriv --reuid 65534 --regid 65534 --clear-groups"
if ! $as_worker unshare --user --map-current-user --pid --mount --ipc --uts \
    --net --fork true 2>/dev/null; then
	skip "unprivileged user namespaces are not available here"
fi

# A TCP listener on the host's loopback, which a session with the network
# off must not reach: it answers one line to whoever connects.
pick_port
LISTEN_PORT=$PORT
PORT=
/usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    c.sendall(b"host listener\n")
    c.close()
' "$LISTEN_PORT" &
EXTRA_PIDS="$EXTRA_PIDS $!"

CONF_EXTRA="[workers]
network = off
tmp_size = 4MiB
pids_max = 32
memory_limit = 256MiB
pool_size = 2"
start_daemon

P=$T/ns
mkdir -p "$P"
cat >"$P/autokitteh.yaml" <<EOF
version: v2
project:
  name: ns
  vars:
    - name: LISTEN_PORT
      value: "$LISTEN_PORT"
    - name: DATA_DIR
      value: "$DATA"
    - name: SOCK
      value: "$SOCK"
  triggers:
    - name: probe
      type: webhook
      call: program.py:probe
EOF
cat >"$P/program.py" <<'EOF'
import errno
import os
import socket
import time


def connect(port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", port))
        return "connected: " + s.recv(64).decode().strip()
    except OSError as e:
        return "%s: %s" % (type(e).__name__, errno.errorcode.get(e.errno, e.errno))
    finally:
        s.close()


def loopback():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=3)
    a, _ = srv.accept()
    a.sendall(b"inside")
    got = c.recv(16).decode()
    for s in (a, c, srv):
        s.close()
    return got


def thread_bomb():
    # The seccomp filter refuses fork (sandbox-seccomp.c), so a bomb is
    # made of threads: start them until the kernel says no (pids.max, or
    # RLIMIT_NPROC in the user namespace: both count threads).
    import ctypes
    import threading
    # Small stacks and one malloc arena, so the address-space limit
    # (memory_limit) is not what stops the bomb: pids_max must.
    ctypes.CDLL(None).mallopt(-8, 1)    # M_ARENA_MAX
    threading.stack_size(256 << 10)
    stop, n, err = threading.Event(), 0, None
    try:
        while n < 1000:
            threading.Thread(target=stop.wait, daemon=True).start()
            n += 1
    except RuntimeError as e:
        err = str(e)
    stop.set()
    return {"threads": n, "error": err}


def eat_memory():
    # One allocation past the session's memory limit fails in the worker
    # (RLIMIT_AS; the memory cgroup caps what the address space does not).
    try:
        b = bytearray(384 << 20)
        for i in range(0, len(b), 4096):
            b[i] = 1
    except MemoryError:
        return {"error": "MemoryError"}
    return {"error": None}


def fill_tmp():
    written, err = 0, None
    try:
        with open(os.path.join(os.environ["TMPDIR"], "fill"), "wb") as f:
            while written < (64 << 20):
                f.write(b"x" * 65536)
                f.flush()
                written += 65536
    except OSError as e:
        err = errno.errorcode.get(e.errno, e.errno)
    return {"written": written, "error": err}


def listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError as e:
        return "%s: %s" % (type(e).__name__, errno.errorcode.get(e.errno, e.errno))


def probe(event):
    what = event.data.url.path_suffix.lstrip("/")
    if what == "pid":
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        return {"pid": os.getpid(), "procs": pids}
    if what == "hostname":
        return socket.gethostname()
    if what == "egress":
        return connect(int(os.environ["LISTEN_PORT"]))
    if what == "loopback":
        return loopback()
    if what == "threadbomb":
        return thread_bomb()
    if what == "memory":
        return eat_memory()
    if what == "filltmp":
        return fill_tmp()
    if what == "hidden":
        # Other workers' temp dirs are /tmp/autokitteh-<daemon>-w<n> too;
        # stat(2) is not something Landlock refuses.
        own = os.environ["TMPDIR"]
        prefix = own[:own.rindex("-w") + 2]
        return {"data": listdir(os.environ["DATA_DIR"]),
                "sockdir": listdir(os.path.dirname(os.environ["SOCK"])),
                "seen": [prefix + str(n) for n in range(1, 200)
                         if os.path.exists(prefix + str(n))],
                "tmpdir": own}
    if what == "ids":
        return {"uid": os.getuid(), "map": open("/proc/self/uid_map").read().split()}
    raise ValueError("unknown probe " + what)
EOF
deploy "$P"
assert_status 0 "$RC" "deploy exits 0"
url=$(webhook_url probe)

# probe WHAT: run the probe; $result is its return value's JSON.
probe() { session_probe "$url" "$1" 40s; }

# What the daemon says it enforces.
run ak status -j
assert_status 0 "$RC" "akctl status -j exits 0"
status=$OUT
state_of() {	# state_of MECHANISM
	jget "$status" ".sandbox.mechanisms[] | select(.name == \"$1\") | .state"
}
assert_eq best-effort "$(jget "$status" .sandbox.mode)" "status: the mode is best-effort"
assert_eq off "$(jget "$status" .sandbox.network)" "status: the network is off"
for m in user_namespace pid_namespace mount_namespace ipc_namespace \
    uts_namespace network_namespace tmpfs_tmpdir; do
	assert_eq enforced "$(state_of $m)" "status: $m is enforced"
done
run ak status
assert_match "$OUT" "sandbox +best-effort, network off" "akctl status prints the sandbox mode"
assert_match "$OUT" "pid_namespace +enforced" "akctl status lists pid_namespace as enforced"

probe pid
assert_eq 1 "$(jget "$result" .pid)" "the session is pid 1 of its own PID namespace"
assert_eq 1 "$(jget "$result" '.procs | length')" "its /proc lists itself only"
case " $(jget "$result" '.procs | map(tostring) | join(" ")') " in
*" $DAEMON_PID "*) fail "the session sees the daemon's pid $DAEMON_PID" ;;
esac
ok "the session does not see the daemon in /proc"

probe hostname
assert_eq '"autokitteh"' "$result" "the session has its own host name"
[ "$(hostname)" != autokitteh ] || fail "the host's name changed"
ok "the host's name is untouched"

probe ids
uid=$(jget "$result" .uid)
assert_eq "$uid $uid 1" "$(jget "$result" '.map | join(" ")')" \
    "the user namespace maps the worker's uid ($uid) to itself only"

probe egress
assert_match "$result" '^"OSError: ENETUNREACH"$|^"ConnectionRefusedError: ECONNREFUSED"$' \
    "with network = off, the host's listener on 127.0.0.1 is out of reach"
[ "$(/usr/bin/python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 3); print(s.recv(64).decode().strip())' "$LISTEN_PORT")" = "host listener" ] ||
    fail "the host listener does not answer the host"
ok "the host listener answers the host"
probe loopback
assert_eq '"inside"' "$result" "loopback inside the session works"

probe hidden
tmpdir=$(jget "$result" .tmpdir)
# Covered by an empty tmpfs, or not there at all when under /tmp (here).
assert_match "$(jget "$result" '.data | tojson')" '^(\[\]|"FileNotFoundError: ENOENT")$' \
    "the data directory is empty or absent"
assert_match "$(jget "$result" '.sockdir | tojson')" '^(\[\]|"FileNotFoundError: ENOENT")$' \
    "the admin socket's directory is empty or absent"
assert_eq "[\"$tmpdir\"]" "$(jget "$result" '.seen | tojson')" \
    "of the workers' temp dirs the session sees its own only"
n=$(ls -d "${tmpdir%-w*}"-w* | wc -l)
[ "$n" -ge 2 ] || fail "only $n workers' temp dirs on the host: nothing to hide"
ok "while the host has $n of them"

probe filltmp
assert_eq ENOSPC "$(jget "$result" .error)" "filling the temp dir fails with ENOSPC"
written=$(jget "$result" .written)
[ "$written" -le $((4 << 20)) ] || fail "it wrote $written bytes into a 4 MiB temp dir"
ok "it stopped at the 4 MiB tmp_size ($written bytes)"
assert_healthy "after a session filled its temp dir, the daemon"

probe threadbomb
assert_eq "can't start new thread" "$(jget "$result" .error)" "a thread bomb stops"
started=$(jget "$result" .threads)
[ "$started" -lt 32 ] || fail "the thread bomb made $started threads with pids_max = 32"
[ "$started" -ge 16 ] || fail "the thread bomb stopped at $started threads: something other than pids_max = 32 stopped it"
ok "the thread bomb made $started threads, stopped by pids_max = 32"
assert_healthy "after a thread bomb, the daemon"

if ldd "$top_builddir/autokitteh-worker" 2>/dev/null | grep -q libasan; then
	# ASan reserves terabytes of address space: no RLIMIT_AS there
	# (workers/sandbox-rlimit.c), so the allocation would succeed.
	echo "# ASan build: no address-space limit to check"
else
	probe memory
	assert_eq MemoryError "$(jget "$result" .error)" "an allocation past memory_limit fails"
	assert_healthy "after a session ran out of memory, the daemon"
fi

run ak status -j
assert_eq 0 "$(jget "$OUT" .workers.zygote_restarts)" "the zygote never restarted"
assert_eq 0 "$(jget "$OUT" .sessions.error)" "no session ended in error"
cgroup_dirs=$(jget "$status" '.sandbox.mechanisms[] | select(.name | startswith("cgroup_")) | select(.state == "enforced") | .detail | sub("^cgroup v[12], "; "")')
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
for d in $cgroup_dirs; do
	[ ! -e "$d" ] || fail "the daemon's cgroup $d is still there after it stopped: $(ls "$d")"
	ok "the daemon removed its cgroup $d"
done

# strict: a mechanism taken away stops the start with a configuration error.
rm -f "$CONF"
CONF_EXTRA="[workers]
sandbox = strict"
write_config
run env AUTOKITTEH_SANDBOX_DISABLE=landlock timeout 30 "$AUTOKITTEHD" -d -f "$CONF"
assert_status 78 "$RC" "sandbox = strict without Landlock: autokittehd exits 78"
assert_match "$ERR$OUT" "sandbox = strict, but these sandbox mechanisms are not available: landlock \(disabled by AUTOKITTEH_SANDBOX_DISABLE" \
    "the error names the missing mechanism"

# strict on a host that has everything (as the first daemon found): it starts.
if [ "$(jget "$status" '[.sandbox.mechanisms[] | select(.state == "missing")] | length')" = 0 ]; then
	start_daemon
	run ak status -j
	assert_eq strict "$(jget "$OUT" .sandbox.mode)" \
	    "sandbox = strict starts when nothing is missing"
	stop_daemon
	assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
else
	echo "# not every mechanism is here; strict cannot start: $(jget "$status" '[.sandbox.mechanisms[] | select(.state == "missing") | .name] | join(", ")')"
fi

# best-effort: the same starts, with one warning per missing mechanism.
rm -f "$CONF"
CONF_EXTRA=
write_config
: >"$LOG"
AUTOKITTEH_SANDBOX_DISABLE=landlock,pid_namespace start_daemon
assert_eq 1 "$(grep -c 'warning: sandbox: landlock is missing' "$LOG")" \
    "best-effort warns once that landlock is missing"
assert_eq 1 "$(grep -c 'warning: sandbox: pid_namespace is missing' "$LOG")" \
    "best-effort warns once that pid_namespace is missing"
run ak status -j
assert_eq missing "$(jget "$OUT" '.sandbox.mechanisms[] | select(.name == "landlock") | .state')" \
    "status: landlock is missing"
assert_eq off "$(jget "$OUT" '.sandbox.mechanisms[] | select(.name == "network_namespace") | .state')" \
    "status: the network namespace is off with network = on"
probe pid
[ "$(jget "$result" .pid)" != 1 ] || fail "without the PID namespace the session is still pid 1"
ok "without the PID namespace the session has a host pid"
probe egress
assert_eq '"connected: host listener"' "$result" "with network = on, the session reaches the host"
stop_daemon
assert_status 0 "$STOP_STATUS" "autokittehd exits 0 on SIGTERM"
