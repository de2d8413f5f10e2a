#!/usr/bin/env bash
# allowed.sh: what the sandbox must still let a session do. The seccomp
# filter is an allow-list, so this is the other half of the escape suite:
# a workout of what automations use from Python's standard library
# (threads, asyncio with a local TCP server, HTTP to the daemon, HTTPS
# through urllib to a local TLS server, name lookups, files, sqlite3, mmap,
# select/epoll, signals, timers, compression, hashing, logging, rlimits)
# must all work, and the filter must deny nothing on the way (no line in
# the daemon's log). Making a process, and chmod or chown by path, are
# refused by design (PermissionError, and a line in the daemon's log).
. "$top_srcdir/tests/sandbox/lib.sh"

command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1 ||
    skip "openssl cannot make a test certificate"

attempt_code <<'EOF2'
import asyncio
import concurrent.futures
import datetime
import gzip
import hashlib
import hmac
import http.server
import locale
import logging
import mmap
import resource
import secrets
import select
import shutil
import socket
import sqlite3
import ssl
import subprocess
import tarfile
import tempfile
import threading
import urllib.request
import uuid
import zipfile
import zlib
import zoneinfo


def t_threads():
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        return sum(ex.map(lambda x: x * x, range(100))) == 328350


def t_asyncio():
    async def handle(r, w):
        w.write((await r.readline()).upper())
        await w.drain()
        w.close()

    async def main():
        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"ping\n")
        await w.drain()
        line = await r.readline()
        w.close()
        srv.close()
        await srv.wait_closed()
        await asyncio.sleep(0.01)
        return line == b"PING\n"
    return asyncio.run(main())


def t_http():
    url = "http://127.0.0.1:%s/healthz" % os.environ["PORT"]
    return urllib.request.urlopen(url, timeout=10).status == 200


def t_https(cert, key):
    with open("cert.pem", "w") as f:
        f.write(cert)
    with open("key.pem", "w") as f:
        f.write(key)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"secure hello")

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain("cert.pem", "key.pem")
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.handle_request, daemon=True).start()
    cctx = ssl.create_default_context(cafile="cert.pem")
    url = "https://localhost:%d/" % srv.server_address[1]
    body = urllib.request.urlopen(url, context=cctx, timeout=10).read()
    srv.server_close()
    return body == b"secure hello"


def t_system_cas():
    return ssl.create_default_context().cert_store_stats()["x509_ca"] >= 0


def t_names():
    return any(a[4][0] == "127.0.0.1"
               for a in socket.getaddrinfo("localhost", 80))


def t_udp_ipv6():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b.sendto(b"dgram", a.getsockname())
    socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    return a.recvfrom(16)[0] == b"dgram"


def t_files():
    d = tempfile.mkdtemp()
    p = os.path.join(d, "a.txt")
    with open(p, "w") as f:
        f.write("data")
    shutil.copyfile(p, p + ".copy")
    os.rename(p + ".copy", p + ".moved")
    os.symlink(p, p + ".link")
    os.utime(p, (0, 0))
    with open(p) as f:
        os.fchmod(f.fileno(), 0o600)
    ok = open(p + ".link").read() == "data" and os.stat(p).st_mtime == 0
    with tempfile.NamedTemporaryFile() as t:
        t.write(b"x")
    shutil.rmtree(d)
    return ok and not os.path.exists(d)


def t_sqlite():
    c = sqlite3.connect("db.sqlite")
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("CREATE TABLE t (x)")
    c.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    c.commit()
    return c.execute("SELECT sum(x) FROM t").fetchone()[0] == 4950


def t_mmap():
    with open("m.bin", "wb") as f:
        f.write(b"\0" * 4096)
    with open("m.bin", "r+b") as f:
        m = mmap.mmap(f.fileno(), 4096)
        m[0:5] = b"hello"
        m.flush()
        m.close()
    return open("m.bin", "rb").read(5) == b"hello"


def t_select():
    a, b = socket.socketpair()
    b.send(b"x")
    ep = select.epoll()
    ep.register(a, select.EPOLLIN)
    p = select.poll()
    p.register(a, select.POLLIN)
    return (ep.poll(1) != [] and p.poll(1000) != [] and
            select.select([a], [], [], 1)[0] == [a])


def t_signals():
    got = []
    signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.raise_signal(signal.SIGUSR1)
    signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
    signal.setitimer(signal.ITIMER_REAL, 0.01)
    time.sleep(0.2)
    return got == [signal.SIGUSR1, signal.SIGUSR1, signal.SIGALRM]


def t_time():
    t0 = time.monotonic()
    time.sleep(0.01)
    paris = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Paris"))
    return time.monotonic() - t0 >= 0.01 and paris.tzinfo is not None


def t_compression():
    data = b"automation " * 1000
    with gzip.open("x.gz", "wb") as f:
        f.write(data)
    with tarfile.open("x.tar", "w") as t:
        t.add("x.gz")
    with zipfile.ZipFile("x.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write("x.tar")
    with zipfile.ZipFile("x.zip") as z:
        z.extractall("out")
    with tarfile.open("out/x.tar") as t:
        t.extractall("out2")
    return (gzip.open("out2/x.gz").read() == data and
            zlib.decompress(zlib.compress(data)) == data)


def t_hashing():
    return (len(hashlib.sha256(b"x").hexdigest()) == 64 and
            hmac.compare_digest(b"a", b"a") and len(secrets.token_hex(8)) == 16
            and len(os.urandom(16)) == 16 and uuid.uuid4().version == 4 and
            uuid.uuid1().version == 1)


def t_logging():
    log = logging.getLogger("workout")
    h = logging.FileHandler("workout.log")
    log.addHandler(h)
    log.warning("logged")
    h.close()
    return "logged" in open("workout.log").read()


def t_system():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft - 1, hard))
    locale.setlocale(locale.LC_ALL, "C.UTF-8")
    return (os.cpu_count() > 0 and len(os.sched_getaffinity(0)) > 0 and
            os.getloadavg() is not None and os.uname().sysname == "Linux"
            and shutil.disk_usage(".").total > 0 and
            os.path.expanduser("~") == os.getcwd())


def t_refused():
    # By design: no processes, no chmod or chown by path.
    refused = 0
    for fn, a in ((subprocess.run, (["/bin/true"],)),
                  (os.chmod, ("workout.log", 0o600)),
                  (shutil.copy, ("workout.log", "copy.log")),
                  (os.chown, ("workout.log", os.getuid(), os.getgid()))):
        try:
            fn(*a)
        except PermissionError:
            refused += 1
    return refused == 4


def attempt(event):
    a = args(event)
    checks = {}
    for name, fn in sorted(globals().items()):
        if not name.startswith("t_"):
            continue
        try:
            r = fn(a["cert"], a["key"]) if name == "t_https" else fn()
            checks[name[2:]] = "ok" if r is True else "wrong: %r" % (r,)
        except Exception as e:
            checks[name[2:]] = "%s: %s" % (type(e).__name__, e)
        print("%s: %s" % (name[2:], checks[name[2:]]))
    return checks
EOF2
escape_deploy
attempt "$(jq -n --rawfile c "$T/cert.pem" --rawfile k "$T/key.pem" '{cert: $c, key: $k}')" 60
assert_eq completed "$STATE" "the workout completed"
for c in threads asyncio http https system_cas names udp_ipv6 \
    files sqlite mmap select signals time compression hashing logging system \
    refused; do
	assert_eq ok "$(jget "$RESULT" ".$c")" "$c works"
done
assert_eq 18 "$(jget "$RESULT" 'length')" "eighteen checks ran"
pid=$(worker_pid "$ATTEMPT_SES")
[ -n "$pid" ] || fail "the daemon's log does not name the workout's worker"
denied=$(grep -F "autokitteh-worker[$pid] warning: seccomp" "$LOG" || true)
assert_match "$denied" "seccomp: denied chmod\(" "the refused chmod is logged"
assert_eq "" "$(printf '%s\n' "$denied" | grep -Ev 'seccomp: denied (chmod|chown)\(' || true)" \
    "the filter denied nothing else the workout did"
escape_finish
